"""Commands for a notes repository: init and batch."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from paper_reader.cli.common import _errors, _injected_model, _warn_if_embedded, check_lang, err, plain, shown


INIT_HELP = """Create a notes repository (or adopt an existing one): config, index README, .gitignore, git.

Existing notes and README lines are left as they are; the index goes into a marked block.

[b]Examples[/b]

  paper-reader init notes && cd notes && paper-reader batch ../reading-list.txt --commit

  paper-reader init . --model gpt-4o-mini --lang zh
"""


def init(
    folder: Path = typer.Argument(Path("."), help="The repository folder (created if missing)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model to write into the config."),
    lang: str = typer.Option("en", "--lang", "-l", callback=check_lang,
                             help="Language to write into the config: en or zh."),
):
    from paper_reader.library.repo import init_repo

    with _errors():
        created = init_repo(folder, model=model, lang=lang)
    for path in created:
        err.print(f"[green]created[/green] {shown(path)}")
    typer.echo(str(folder.resolve()))


BATCH_HELP = """Read every paper of a reading list into notes; re-running resumes and skips finished ones.

LIST is a text file (one PDF path, arXiv ID or URL per line; # comments; optional "topic: X" and
"tags: a, b" after the entry), a YAML list, or a BibTeX file (eprint, url or Zotero file fields).

[b]Examples[/b]

  paper-reader batch reading-list.txt

  paper-reader batch library.bib --commit -j 8 --model gpt-4o-mini
"""


def _dry_run(entries, settings, model) -> None:
    """One line per paper (calls, tokens, estimated cost) and a total; no model is called."""
    from dataclasses import replace

    from paper_reader.batch import redact_source
    from paper_reader.sources.readinglist import check_entry
    from paper_reader.writing.dryrun import dry_run
    from paper_reader.errors import PaperReaderError

    total, unknown, failed = 0.0, False, False
    for e in entries:
        try:
            check_entry(e)
            est = dry_run(e.source, replace(settings, lang=e.lang or settings.lang), model=model)
        except PaperReaderError as exc:
            err.print(f"[red]failed[/red] {shown(redact_source(e.source))}: {shown(str(exc))}", soft_wrap=True)
            failed = True
            continue
        typer.echo(plain(est.line()))
        total += est.cost or 0.0
        unknown = unknown or est.cost is None
    typer.echo(f"total: ~${total:.4f}" + (" (some models have no known price)" if unknown else ""))
    if failed:
        raise typer.Exit(1)


def _result_json(r, source: str) -> str:
    import json

    return json.dumps({"source": source, "status": r.status, "title": r.title,
                       "note": str(r.path) if r.path else None, "seconds": round(r.seconds, 2),
                       "calls": r.calls, "cached_calls": r.cached, "tokens": r.tokens, "cost_usd": round(r.cost, 6),
                       "error": r.error or None}, ensure_ascii=False)


def batch(
    ctx: typer.Context,
    reading_list: Path = typer.Argument(..., metavar="LIST", help="Reading list: .txt, .yaml or .bib."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Folder for the notes (outside a notes repo)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Any litellm model string."),
    lang: Optional[str] = typer.Option(None, "--lang", "-l", callback=check_lang, help="Default language: en or zh."),
    template: Optional[Path] = typer.Option(None, "--template", "-t", help="Your own question set (YAML)."),
    topic: Optional[str] = typer.Option(None, "--topic", help="Topic folder for entries that name none (notes repo)."),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="Seconds per model call. \\[default: 300]"),
    context_window: Optional[int] = typer.Option(None, "--context-window", min=512,
                                                 help="Override the model's context size in tokens."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per paper (status, note, usage) for scripts."),
    concurrency: Optional[int] = typer.Option(None, "--concurrency", "-j", min=1,
                                              help="Model calls in flight at once, across all papers. \\[default: 4]"),
    papers: Optional[int] = typer.Option(None, "--papers", min=1, help="Papers worked on at once. \\[default: 2]"),
    commit: bool = typer.Option(False, "--commit", help="Commit each note and the index (notes repo)."),
    figures: bool = typer.Option(False, "--figures", help="Put PNGs of page 1 and Figure 1 at the top."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not reuse or store model answers."),
    max_pages: Optional[int] = typer.Option(None, "--max-pages", min=1, help="Refuse longer PDFs. \\[default: 300]"),
    force: bool = typer.Option(False, "--force", "-f",
                               help="Redo papers that already have a note, keeping hand edits."),
    discard_edits: bool = typer.Option(False, "--discard-edits",
                                       help="With --force: replace hand-edited answers too."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print each paper's calls, tokens and estimated cost; call no model."),
):
    from dataclasses import replace

    from paper_reader.batch import BatchInterrupted, redact_source, run_batch
    from paper_reader.sources.readinglist import load_list
    from paper_reader.settings import load_settings
    from paper_reader.cli.show import BatchDisplay, batch_table

    with _errors():
        settings = load_settings(dict(output=output, model=model, lang=lang, concurrency=concurrency,
                                      commit=True if commit else None, cache=False if no_cache else None,
                                      max_pages=max_pages, figures=True if figures else None,
                                      template=str(template) if template else None, timeout=timeout,
                                      papers=papers,
                                      context_window=context_window))
        entries = load_list(reading_list)
        if topic:
            entries = [e if e.topic else replace(e, topic=topic) for e in entries]
        injected = _injected_model(ctx, settings)
        if dry_run:
            return _dry_run(entries, settings, injected)
        if injected is None:
            _warn_if_embedded(settings.model)
        listed = [replace(e, source=redact_source(e.source)) for e in entries]  # no secrets in URLs shown
        try:
            with BatchDisplay(err, listed) as display:
                results = run_batch(entries, settings, model=injected, force=force or discard_edits,
                                    progress=display, discard_edits=discard_edits)
        except BatchInterrupted as stopped:  # the summary of what was done is not lost to Ctrl-C
            err.print(batch_table([replace(r, entry=listed[i]) for i, r in enumerate(stopped.results)]))
            raise KeyboardInterrupt from None
    err.print(batch_table([replace(r, entry=listed[i]) for i, r in enumerate(results)]))
    failed = [(i, r) for i, r in enumerate(results) if r.status == "failed"]
    for i, r in failed:
        err.print(f"[red]failed[/red] {shown(listed[i].source)}: {shown(r.error)}", soft_wrap=True)
    for r in results:
        if as_json:
            typer.echo(_result_json(r, listed[results.index(r)].source))
        elif r.status == "done" and r.path:
            typer.echo(str(r.path))
    if failed:
        raise typer.Exit(1)


CONFIG_HELP = """Show the effective settings and where each came from (flag, environment, config file, default).

[b]Examples[/b]

  paper-reader config

  paper-reader config --json
"""


def config_command(as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts.")):
    from rich.table import Table

    from paper_reader.settings import describe, resolve_settings

    with _errors():
        rows = describe(*resolve_settings())
    if as_json:
        import json

        typer.echo(json.dumps({name: {"value": value, "from": origin} for name, value, origin in rows}, indent=2))
        return
    table = Table(title="paper-reader settings (highest first: flag > environment > notes repo > user > default)")
    for column in ("setting", "value", "from"):
        table.add_column(column)
    for name, value, origin in rows:
        table.add_row(name, shown(value), shown(origin) if origin != "default" else "[dim]default[/dim]")
    from rich.console import Console

    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command(help=INIT_HELP)(init)
    app.command(help=BATCH_HELP)(batch)
    app.command(name='config', help=CONFIG_HELP)(config_command)
