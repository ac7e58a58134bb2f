"""The read command: one paper in, one note out."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Optional

import typer

from paper_reader.cli.common import _errors, _injected_model, _progress, _warn_if_embedded, check_lang, err, plain, shown

READ_HELP = """Read one paper and write its ten-question notes (Markdown). Prints the note's path.

[b]Examples[/b]

  paper-reader read examples/epigenetic_smoking_cc_by.pdf

  paper-reader read 1706.03762 -o notes/

  paper-reader read https://arxiv.org/abs/2112.11446v2 --model gpt-4o-mini --lang zh

  OPENAI_API_BASE=http://127.0.0.1:8000/v1 paper-reader read paper.pdf --model openai/my-model

  paper-reader read paper.pdf -o - > note.md
"""



def read(
    ctx: typer.Context,
    paper: str = typer.Argument(..., help="The paper: a PDF file, an arXiv ID or URL, or a PDF URL."),
    output: Optional[str] = typer.Option(None, "--output", "-o",
                                         help="Folder for the note, a .md file, or - for stdout. \\[default: .]"),
    model: Optional[str] = typer.Option(None, "--model", "-m",
                                        help="Any litellm model string, e.g. gpt-4o-mini, ollama/llama3.1. "
                                             "\\[default: the embedded SmolLM2-135M, offline]"),
    lang: Optional[str] = typer.Option(None, "--lang", "-l", callback=check_lang,
                                       help="Language of headings and answers: en or zh."),
    template: Optional[Path] = typer.Option(None, "--template", "-t", help="Your own question set (YAML)."),
    note_template: Optional[Path] = typer.Option(None, "--note-template",
                                                 help="Your own Markdown template (jinja2)."),
    concurrency: Optional[int] = typer.Option(None, "--concurrency", "-j", min=1,
                                              help="Model calls in flight at once. \\[default: 4]"),
    context_window: Optional[int] = typer.Option(None, "--context-window", min=512,
                                                 help="Override the model's context size in tokens."),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="Seconds per model call. \\[default: 300]"),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not reuse or store model answers."),
    max_pages: Optional[int] = typer.Option(None, "--max-pages", min=1, help="Refuse longer PDFs. \\[default: 300]"),
    topic: Optional[str] = typer.Option(None, "--topic", help="Topic folder in a notes repository."),
    commit: bool = typer.Option(False, "--commit", help="Commit the note and the index (notes repository)."),
    figures: bool = typer.Option(False, "--figures", help="Put PNGs of page 1 and Figure 1 at the top."),
    force: bool = typer.Option(False, "--force", "-f",
                               help="Regenerate an existing note, keeping your hand edits, '## My notes' and Q&A."),
    discard_edits: bool = typer.Option(False, "--discard-edits",
                                       help="With --force: replace hand-edited answers too (My notes and Q&A stay)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the calls, tokens and estimated cost; call no model."),
    lookup: bool = typer.Option(False, "--lookup", help="Fill title, authors and DOI from arXiv when page 1 "
                                "has an arXiv stamp (network; cached)."),
    as_json: bool = typer.Option(False, "--json", help="Print the note's path, the paper's metadata and the usage "
                                 "as JSON (for scripts)."),
):
    from paper_reader.core import read as core_read
    from paper_reader.settings import load_settings

    flags = dict(output=output, model=model, lang=lang, concurrency=concurrency,
                 context_window=context_window, timeout=timeout, max_pages=max_pages,
                 template=str(template) if template else None,
                 note_template=str(note_template) if note_template else None,
                 cache=False if no_cache else None, commit=True if commit else None,
                 figures=True if figures else None, lookup=True if lookup else None)
    started = time.monotonic()
    with _errors():
        settings = load_settings(flags)
        if paper == "-":
            paper = str(_stdin_pdf(settings))
        if dry_run:
            from paper_reader.writing.dryrun import dry_run as estimate

            typer.echo(plain(estimate(paper, settings, model=_injected_model(ctx, settings)).line()))
            return
        if not ctx.obj:
            _warn_if_embedded(settings.model)
        with _progress() as progress:
            result = core_read(paper, settings, model=_injected_model(ctx, settings),
                               progress=progress, force=force or discard_edits, topic=topic,
                               discard_edits=discard_edits)
    u = result.notes.usage
    err.print(f"[dim]{time.monotonic() - started:.1f}s, {u.calls} model calls ({u.cached} cached), "
              f"{u.input_tokens:,} tokens in ({u.cached_input_tokens:,} from the provider's cache), "
              f"{u.output_tokens:,} out, ${u.cost:.4f}[/dim]")
    for warning in result.notes.paper.warnings:
        err.print(f"Warning: {shown(warning)}", style="yellow", soft_wrap=True)
    if result.kept_edits:
        err.print(f"[yellow]Kept your hand edits to {result.kept_edits} in place of the regenerated text "
                  "(--discard-edits replaces them).[/yellow]", soft_wrap=True)
    if as_json:
        typer.echo(_read_json(result))
    elif result.path is None:
        sys.stdout.write(result.markdown)
    else:
        typer.echo(str(result.path))


def _read_json(result) -> str:
    import json

    p, u = result.notes.paper, result.notes.usage
    return json.dumps({
        "note": str(result.path) if result.path else None, "title": p.title, "authors": p.authors, "year": p.year,
        "arxiv_id": p.arxiv_id, "doi": p.doi, "pages": p.page_count, "source": p.source,
        "usage": {"calls": u.calls, "cached_calls": u.cached, "input_tokens": u.input_tokens,
                  "cached_input_tokens": u.cached_input_tokens, "output_tokens": u.output_tokens,
                  "cost_usd": round(u.cost, 6)},
        "warnings": p.warnings,
    }, ensure_ascii=False)


def _stdin_pdf(settings) -> Path:
    """`read -`: the PDF piped in, kept (by content hash) beside the downloads."""
    import hashlib

    from paper_reader.errors import InputError
    from paper_reader.files import atomic_write

    limit = settings.max_download_mb * 2**20
    data = sys.stdin.buffer.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"The PDF on stdin is larger than {settings.max_download_mb} MB (max_download_mb).")
    if not data.lstrip()[:5] == b"%PDF-":
        raise InputError("stdin does not hold a PDF (it does not start with %PDF-). Pipe the PDF file itself.")
    path = settings.download_path() / "stdin" / (hashlib.sha256(data).hexdigest()[:16] + ".pdf")
    return path if path.is_file() else atomic_write(path, data)


def register(app: typer.Typer) -> None:
    app.command(help=READ_HELP)(read)
