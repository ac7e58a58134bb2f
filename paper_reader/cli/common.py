"""What every command shares: the typer app, the error mapper, progress, language check, signals."""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from typing import Optional

import click
import typer
from rich.console import Console

from paper_reader import __version__
from paper_reader.errors import PaperReaderError

app = typer.Typer(
    help="Turn a research paper (PDF) into structured, cited reading notes.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # a traceback must never print an API key
    add_completion=False,
    rich_markup_mode="rich",
)
err = Console(stderr=True, highlight=False)

# Control characters (ESC starts a terminal command: set the title, clear the screen, rewrite what
# was printed) and bidirectional overrides (text shown in another order than it reads) may sit in a
# file name, a PDF's title or a note of a cloned repository: shown as \x1b, never sent raw.
_UNSHOWN = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x09), *range(0x0b, 0x20), 0x7f, *range(0x80, 0xa0))}
_UNSHOWN.update({c: f"\\u{c:04x}" for c in (*range(0x202a, 0x202f), *range(0x2066, 0x206a))})


def plain(text) -> str:
    """Text from outside (a title, a model's answer) for the terminal: control characters made visible."""
    return str(text).translate(_UNSHOWN)


def shown(text) -> str:
    """Text from outside (a path, a title, an error naming them) as rich markup that prints as it
    is: markup escaped, control characters made visible."""
    from rich.markup import escape

    return escape(plain(text))

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
    err.verbose = verbose  # a bug's traceback is shown under -v


def _injected_model(ctx: typer.Context, settings):
    """A model passed in by the caller (`app(obj={"open_model": ...})`), e.g. a fake in tests."""
    factory = (ctx.obj or {}).get("open_model") if isinstance(ctx.obj, dict) else None
    return factory(settings) if factory else None


def _warn_if_embedded(model: str) -> None:
    from paper_reader.models.llm import EMBEDDED_MODEL

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
            from paper_reader.files import redact_urls

            err.print(f"[red]Error: {shown(redact_urls(str(exc)))}[/red]", soft_wrap=True)
            raise typer.Exit(1)
        if isinstance(exc, KeyboardInterrupt):
            err.print(f"[red]{interrupt_message()}[/red]", soft_wrap=True)
            raise typer.Exit(130)
        if isinstance(exc, Exception) and not isinstance(exc, (click.exceptions.Exit, typer.Exit, click.ClickException,
                                                                click.exceptions.Abort)):
            # a bug of this program: its real cause in one line, the traceback under -v; never retried
            err.quiet = False
            if getattr(err, "verbose", False):
                err.print_exception()
            where = traceback.extract_tb(tb)[-1] if tb else None
            place = f" at {Path(where.filename).name}:{where.lineno}" if where else ""
            err.print(f"[red]Error: internal error{place}: {shown(type(exc).__name__)}: {shown(str(exc)[:300])} "
                      "(a bug in paper-reader; -v shows the traceback)[/red]", soft_wrap=True)
            raise typer.Exit(1)
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
        from paper_reader.files import redact_urls

        detail = shown(redact_urls(detail)[:50])  # a URL may hold a password or signature; a title, ESC
        if stage not in self._tasks:
            self._tasks[stage] = self._bar.add_task(stage, total=total, detail=detail)
        self._bar.update(self._tasks[stage], completed=done, total=total, detail=detail)

    def __exit__(self, *exc):
        self._bar.__exit__(*exc)
        return False


def interrupt_message() -> str:
    """What an interrupt kept, said truthfully (the cache's own count of answers stored this run)."""
    from paper_reader.models.cache import stats

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

    from paper_reader.files import remove_pending
    from paper_reader.models.llm import cancel_calls

    cancel_calls()
    if signum == signal.SIGTERM:
        remove_pending()  # the process may be killed next: leave no temp file behind
    raise KeyboardInterrupt




GLOBAL_FLAGS = ("-v", "--verbose", "-q", "--quiet")


def global_flags_first(argv: list[str]) -> list[str]:
    """`paper-reader read x.pdf -v` means what `paper-reader -v read x.pdf` means."""
    flags = [a for a in argv if a in GLOBAL_FLAGS]
    if "--" in argv:  # nothing after -- is an option
        cut = argv.index("--")
        flags = [a for a in argv[:cut] if a in GLOBAL_FLAGS]
        return flags + [a for a in argv[:cut] if a not in GLOBAL_FLAGS] + argv[cut:]
    return flags + [a for a in argv if a not in GLOBAL_FLAGS]
