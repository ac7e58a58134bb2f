"""Showing what was read: the section tree (rich) and a JSON view for scripts."""

from __future__ import annotations

import json

from rich.tree import Tree

from .document import Paper


def section_tree(paper: Paper) -> Tree:
    """The sections as a rich tree with page ranges, and a line on the references."""
    root = Tree(f"[bold]{paper.title}[/bold] [dim]({paper.page_count} pages, "
                f"sections from the {'PDF outline' if paper.section_source == 'outline' else 'text'})[/dim]")
    stack: list[tuple[int, Tree]] = [(0, root)]
    for s in paper.sections:
        while stack[-1][0] >= s.level:
            stack.pop()
        label = f"{s.number} {s.title}" if s.number else s.title
        node = stack[-1][1].add(f"{label} [dim]{s.pages}[/dim]")
        stack.append((s.level, node))
    refs = paper.references
    root.add(f"[dim]{len(refs)} references ({sum(bool(r.arxiv) for r in refs)} with arXiv IDs, "
             f"{sum(bool(r.doi) for r in refs)} with DOIs)[/dim]")
    return root


def paper_json(paper: Paper) -> str:
    """title, authors, pages, sections (flat, reading order) and references, as JSON."""
    return json.dumps({
        "title": paper.title,
        "authors": paper.authors,
        "pages": paper.page_count,
        "section_source": paper.section_source,
        "sections": [{"number": s.number, "title": s.title, "level": s.level,
                      "first_page": s.first_page, "last_page": s.last_page} for s in paper.sections],
        "references": [{"text": r.text, "arxiv": r.arxiv, "doi": r.doi} for r in paper.references],
    }, ensure_ascii=False, indent=2)
