"""The command line: parse options, call one core function, show progress, map errors to exit codes."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from . import __version__
from .errors import PaperReaderError

app = typer.Typer(
    help="Turn a research paper (PDF) into structured, cited reading notes.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # a traceback must never print an API key
    add_completion=False,
    rich_markup_mode="rich",
)
err = Console(stderr=True, highlight=False)

READ_HELP = """Read one paper and write its ten-question notes (Markdown). Prints the note's path.

[b]Examples[/b]

  paper-reader read examples/epigenetic_smoking_cc_by.pdf

  paper-reader read 1706.03762 -o notes/

  paper-reader read https://arxiv.org/abs/2112.11446v2 --model gpt-4o-mini --lang zh

  OPENAI_API_BASE=http://127.0.0.1:8000/v1 paper-reader read paper.pdf --model openai/my-model

  paper-reader read paper.pdf -o - > note.md
"""


def check_lang(value: Optional[str]) -> Optional[str]:
    """--lang is en or zh: anything else is a usage error (exit 2), before any work."""
    if value is not None and value not in ("en", "zh"):
        raise typer.BadParameter(f"'{value}' is not supported: use en or zh.")
    return value


def _version(value: bool):
    if value:
        typer.echo(f"paper-reader {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Show the version and exit."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show library logs on stderr (anywhere on the line)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the result and errors (anywhere on the line)."),
):
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    err.quiet = quiet  # progress, warnings and summaries go; errors are printed by _errors regardless


@app.command(help=READ_HELP)
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
    from .core import read as core_read
    from .settings import load_settings

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
            from .dryrun import dry_run as estimate

            typer.echo(estimate(paper, settings, model=_injected_model(ctx, settings)).line())
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
        err.print(f"Warning: {warning}", style="yellow", soft_wrap=True, markup=False)
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

    from .errors import InputError
    from .files import atomic_write

    limit = settings.max_download_mb * 2**20
    data = sys.stdin.buffer.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"The PDF on stdin is larger than {settings.max_download_mb} MB (max_download_mb).")
    if not data.lstrip()[:5] == b"%PDF-":
        raise InputError("stdin does not hold a PDF (it does not start with %PDF-). Pipe the PDF file itself.")
    path = settings.download_path() / "stdin" / (hashlib.sha256(data).hexdigest()[:16] + ".pdf")
    return path if path.is_file() else atomic_write(path, data)


def _injected_model(ctx: typer.Context, settings):
    """A model passed in by the caller (`app(obj={"open_model": ...})`), e.g. a fake in tests."""
    factory = (ctx.obj or {}).get("open_model") if isinstance(ctx.obj, dict) else None
    return factory(settings) if factory else None


def _warn_if_embedded(model: str) -> None:
    from .llm import EMBEDDED_MODEL

    if model == EMBEDDED_MODEL:
        err.print("[yellow]Using the embedded SmolLM2-135M model (offline, tiny): the notes will be rough. "
                  "For real notes choose a model, e.g. --model gpt-4o-mini with OPENAI_API_KEY set, "
                  "or --model ollama/llama3.1.[/yellow]")


class _errors:
    """Turn a PaperReaderError into one red line on stderr and exit 1; Ctrl-C exits 130."""

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if isinstance(exc, (PaperReaderError, KeyboardInterrupt)):
            err.quiet = False  # --quiet keeps errors
        if isinstance(exc, PaperReaderError):
            from rich.markup import escape

            from .files import redact_urls

            err.print(f"[red]Error: {escape(redact_urls(str(exc)))}[/red]", soft_wrap=True)
            raise typer.Exit(1)
        if isinstance(exc, KeyboardInterrupt):
            err.print(f"[red]{interrupt_message()}[/red]", soft_wrap=True)
            raise typer.Exit(130)
        return False


class _progress:
    """A rich progress display on stderr fed by the pipeline's (stage, detail, done, total) reports."""

    def __enter__(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(TextColumn("{task.description:<8}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), TextColumn("[dim]{task.fields[detail]}"),
                             console=err, transient=True)
        self._bar.__enter__()
        self._tasks: dict[str, int] = {}
        return self

    def __call__(self, stage: str, detail: str, done: int, total: int) -> None:
        from .files import redact_urls

        detail = redact_urls(detail)  # the paper argument may be a URL with a password or signature
        if stage not in self._tasks:
            self._tasks[stage] = self._bar.add_task(stage, total=total, detail=detail)
        self._bar.update(self._tasks[stage], completed=done, total=total, detail=detail[:50])

    def __exit__(self, *exc):
        self._bar.__exit__(*exc)
        return False


def interrupt_message() -> str:
    """What an interrupt kept, said truthfully (the cache's own count of answers stored this run)."""
    from .cache import stats

    text = "Interrupted: model calls in flight were cancelled; no half-written note was left"
    if stats.failed:
        return text + "; the cache could not be written, so a re-run repeats the model calls."
    if stats.enabled:
        n = stats.stored
        kept = f"{n} model answer{'s' if n != 1 else ''} from this run {'are' if n != 1 else 'is'} kept in the cache"
        return text + f"; {kept}, so re-running resumes" + (" (finished notes are kept too)." if n else ".")
    return text + "."


def _on_signal(signum, frame):
    """Ctrl-C and SIGTERM (what `timeout`, CI and service managers send): abandon model calls in
    flight at once (not after their retries), remove temp files, then take the Ctrl-C path."""
    import signal

    from .files import remove_pending
    from .llm import cancel_calls

    cancel_calls()
    if signum == signal.SIGTERM:
        remove_pending()  # the process may be killed next: leave no temp file behind
    raise KeyboardInterrupt


_on_sigterm = _on_signal  # the name the SIGTERM handler had


GLOBAL_FLAGS = ("-v", "--verbose", "-q", "--quiet")


def global_flags_first(argv: list[str]) -> list[str]:
    """`paper-reader read x.pdf -v` means what `paper-reader -v read x.pdf` means."""
    flags = [a for a in argv if a in GLOBAL_FLAGS]
    if "--" in argv:  # nothing after -- is an option
        cut = argv.index("--")
        flags = [a for a in argv[:cut] if a in GLOBAL_FLAGS]
        return flags + [a for a in argv[:cut] if a not in GLOBAL_FLAGS] + argv[cut:]
    return flags + [a for a in argv if a not in GLOBAL_FLAGS]


def main():
    import signal

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    app(args=global_flags_first(sys.argv[1:]), prog_name="paper-reader")


# the other commands register themselves on `app`
from . import cli_ask, cli_notes  # noqa: E402,F401
