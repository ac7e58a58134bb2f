"""Showing what was read: the section tree (rich) and a JSON view for scripts."""

from __future__ import annotations

import json
import re

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.tree import Tree

from paper_reader.cli.common import shown
from paper_reader.types import Paper


def section_tree(paper: Paper) -> Tree:
    """The sections as a rich tree with page ranges, and a line on the references."""
    root = Tree(f"[bold]{shown(paper.title)}[/bold] [dim]({paper.page_count} pages, "
                f"sections from the {'PDF outline' if paper.section_source == 'outline' else 'text'})[/dim]")
    stack: list[tuple[int, Tree]] = [(0, root)]
    for s in paper.sections:
        while stack[-1][0] >= s.level:
            stack.pop()
        label = f"{s.number} {s.title}" if s.number else s.title
        node = stack[-1][1].add(f"{shown(label)} [dim]{s.pages}[/dim]")
        stack.append((s.level, node))
    refs = paper.references
    root.add(f"[dim]{len(refs)} references ({sum(bool(r.arxiv) for r in refs)} with arXiv IDs, "
             f"{sum(bool(r.doi) for r in refs)} with DOIs)[/dim]")
    return root


def paper_json(paper: Paper) -> str:
    """What the reader found, for scripts: metadata, sections (flat, reading order), references."""
    return json.dumps({
        "title": paper.title,
        "authors": paper.authors,
        "year": paper.year,
        "arxiv_id": paper.arxiv_id,
        "doi": paper.doi,
        "pages": paper.page_count,
        "language": paper.language,
        "section_source": paper.section_source,
        "sections": [{"number": s.number, "title": s.title, "level": s.level, "kind": s.kind,
                      "first_page": s.first_page, "last_page": s.last_page} for s in paper.sections],
        "references": [{"key": r.key, "text": r.text, "arxiv": r.arxiv, "doi": r.doi} for r in paper.references],
        "warnings": paper.warnings,
    }, ensure_ascii=False, indent=2)


class BatchDisplay:
    """Live batch progress on stderr: an overall bar whose ETA moves with every model call, and one
    line per paper in flight with its own calls done out of its total."""

    def __init__(self, console, entries):
        self.entries = entries
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True)
        self.rows: dict[int, int] = {}
        self.finished = 0
        self.fraction: dict[int, float] = {}  # papers in flight: share of their calls done

    def __enter__(self):
        self.progress.__enter__()
        self.overall = self.progress.add_task("[bold]papers", total=len(self.entries))
        return self

    def __call__(self, i: int, stage: str, detail: str) -> None:
        name = shown(short_name(self.entries[i].source))
        if stage in ("done", "skipped", "failed", "interrupted"):
            if i in self.rows:
                self.progress.remove_task(self.rows.pop(i))
            self.fraction.pop(i, None)
            self.finished += 1
        else:
            counts = re.fullmatch(r"(\d+)/(\d+)", detail)
            if i not in self.rows:
                self.rows[i] = self.progress.add_task(f"  {name}", total=None)
            if counts:  # "3/12": the paper's calls of this stage
                done, total = int(counts.group(1)), max(int(counts.group(2)), 1)
                self.progress.update(self.rows[i], completed=done, total=total,
                                     description=f"  {name} [dim]{stage}[/dim]")
                self.fraction[i] = 0.1 + 0.9 * done / total if stage != "digest" else 0.1 + 0.4 * done / total
            else:
                self.progress.update(self.rows[i], description=f"  {name} [dim]{stage}[/dim]")
        # fractional progress: the ETA is known from the first calls, not the first finished paper
        self.progress.update(self.overall, completed=self.finished + sum(self.fraction.values()))

    def __exit__(self, *exc):
        self.progress.__exit__(*exc)
        return False


def short_name(source: str, width: int = 36) -> str:
    """A paper's argument as a short label: a file's name, an ID or URL as given, cut at the end."""
    name = source if "://" in source or "/" not in source.strip("/") else source.rstrip("/").rsplit("/", 1)[-1]
    return name if len(name) <= width else name[: width - 1] + "…"


def batch_table(results) -> Table:
    """Paper, status, seconds, calls, tokens and cost per paper, with totals."""
    table = Table(title="paper-reader batch", show_footer=True)
    done = [r for r in results if r.status == "done"]
    table.add_column("paper", footer=f"{len(done)} done, {sum(r.status == 'skipped' for r in results)} skipped, "
                                     f"{sum(r.status == 'failed' for r in results)} failed")
    table.add_column("status")
    table.add_column("s", justify="right", footer=f"{sum(r.seconds for r in results):.0f}")
    table.add_column("calls", justify="right", footer=str(sum(r.calls for r in results)))
    table.add_column("tokens", justify="right", footer=f"{sum(r.tokens for r in results):,}")
    table.add_column("cost", justify="right", footer=f"${sum(r.cost for r in results):.4f}")
    colour = {"done": "green", "skipped": "dim", "failed": "red", "interrupted": "yellow"}
    for r in results:
        table.add_row(shown((r.title or r.entry.source)[:60]), f"[{colour.get(r.status, 'white')}]{r.status}[/]",
                      f"{r.seconds:.1f}", str(r.calls), f"{r.tokens:,}", f"${r.cost:.4f}")
    return table
