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


def _version(value: bool):
    if value:
        typer.echo(f"paper-reader {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Show the version and exit."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show library logs on stderr."),
):
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")


@app.command(help=READ_HELP)
def read(
    ctx: typer.Context,
    paper: str = typer.Argument(..., help="The paper: a PDF file, an arXiv ID or URL, or a PDF URL."),
    output: Optional[str] = typer.Option(None, "--output", "-o",
                                         help="Folder for the note, a .md file, or - for stdout. [default: .]"),
    model: Optional[str] = typer.Option(None, "--model", "-m",
                                        help="Any litellm model string, e.g. gpt-4o-mini, ollama/llama3.1. "
                                             "[default: the embedded SmolLM2-135M, offline]"),
    lang: Optional[str] = typer.Option(None, "--lang", "-l", help="Language of headings and answers: en or zh."),
    template: Optional[Path] = typer.Option(None, "--template", "-t", help="Your own question set (YAML)."),
    note_template: Optional[Path] = typer.Option(None, "--note-template",
                                                 help="Your own Markdown template (jinja2)."),
    concurrency: Optional[int] = typer.Option(None, "--concurrency", "-j", min=1,
                                              help="Model calls in flight at once. [default: 4]"),
    context_window: Optional[int] = typer.Option(None, "--context-window", min=512,
                                                 help="Override the model's context size in tokens."),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="Seconds per model call. [default: 300]"),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not reuse or store model answers."),
    max_pages: Optional[int] = typer.Option(None, "--max-pages", min=1, help="Refuse longer PDFs. [default: 300]"),
    topic: Optional[str] = typer.Option(None, "--topic", help="Topic folder in a notes repository."),
    commit: bool = typer.Option(False, "--commit", help="Commit the note and the index (notes repository)."),
    figures: bool = typer.Option(False, "--figures", help="Put PNGs of page 1 and Figure 1 at the top."),
    force: bool = typer.Option(False, "--force", "-f", help="Replace an existing note (keeps '## My notes' and Q&A)."),
):
    from .core import read as core_read
    from .settings import load_settings

    flags = dict(output=output, model=model, lang=lang, concurrency=concurrency,
                 context_window=context_window, timeout=timeout, max_pages=max_pages,
                 template=str(template) if template else None,
                 note_template=str(note_template) if note_template else None,
                 cache=False if no_cache else None, commit=True if commit else None,
                 figures=True if figures else None)
    started = time.monotonic()
    with _errors():
        settings = load_settings(flags)
        if not ctx.obj:
            _warn_if_embedded(settings.model)
        with _progress() as progress:
            result = core_read(paper, settings, model=_injected_model(ctx, settings),
                               progress=progress, force=force, topic=topic)
    u = result.notes.usage
    err.print(f"[dim]{time.monotonic() - started:.1f}s, {u.calls} model calls ({u.cached} cached), "
              f"{u.input_tokens:,} tokens in, {u.output_tokens:,} out, ${u.cost:.4f}[/dim]")
    if result.path is None:
        sys.stdout.write(result.markdown)
    else:
        typer.echo(str(result.path))


SECTIONS_HELP = """Show the section tree with page ranges and the references found.

[b]Examples[/b]

  paper-reader sections paper.pdf

  paper-reader sections paper.pdf --json | jq '.sections[].title'
"""


@app.command(help=SECTIONS_HELP)
def sections(
    paper: Path = typer.Argument(..., help="The paper: a PDF file."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
    no_outline: bool = typer.Option(False, "--no-outline", help="Ignore the PDF outline; detect headings."),
):
    from .reader import read_paper
    from .show import paper_json, section_tree

    with _errors():
        doc = read_paper(paper, use_outline=not no_outline)
    if as_json:
        typer.echo(paper_json(doc))
    else:
        Console().print(section_tree(doc))


ASK_HELP = """Ask one question about a paper, answered from the part it is about, with citations.

Questions naming a page ("what is on page 2?"), a section ("summarize section 4", "第四章") or a
named section ("summarize the Related Work section") are answered from exactly that part. Given a
note (or a paper whose note exists in --output), the answer is appended to the note's Q&A section.
With no question, asks interactively until an empty line or Ctrl-D.

[b]Examples[/b]

  paper-reader ask paper.pdf "what is on page 2?"

  paper-reader ask "notes/Attention Is All You Need.md" "summarize section 3.2" -m gpt-4o-mini
"""


@app.command(help=ASK_HELP)
def ask(
    ctx: typer.Context,
    paper: str = typer.Argument(..., help="A PDF, an arXiv ID or URL, or a note made by paper-reader."),
    question: Optional[str] = typer.Argument(None, help="The question; none for an interactive session."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Any litellm model string."),
    lang: Optional[str] = typer.Option(None, "--lang", "-l", help="Language of the answer: en or zh."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Folder where the paper's note is."),
    no_save: bool = typer.Option(False, "--no-save", help="Do not append to the note."),
):
    from .core import ask_session
    from .settings import load_settings

    with _errors():
        settings = load_settings(dict(model=model, lang=lang, output=output))
        session = ask_session(paper, settings, model=_injected_model(ctx, settings), save=not no_save)
        if question:
            typer.echo(session.ask(question))
        else:
            _interactive(session)
    if session.note_path and session.asked:
        err.print(f"[dim]Added {session.asked} question(s) to {session.note_path}[/dim]")


def _interactive(session) -> None:
    from rich.prompt import Prompt

    console = Console()
    while True:
        try:
            question = Prompt.ask("[bold]?[/bold]", console=console, default="", show_default=False)
        except (EOFError, KeyboardInterrupt):
            break
        if not question.strip():
            break
        console.print(session.ask(question))


INIT_HELP = """Create a notes repository (or adopt an existing one): config, index README, .gitignore, git.

Existing notes and README lines are left as they are; the index goes into a marked block.

[b]Examples[/b]

  paper-reader init notes && cd notes && paper-reader batch ../reading-list.txt --commit

  paper-reader init . --model gpt-4o-mini --lang zh
"""


@app.command(help=INIT_HELP)
def init(
    folder: Path = typer.Argument(Path("."), help="The repository folder (created if missing)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model to write into the config."),
    lang: str = typer.Option("en", "--lang", "-l", help="Language to write into the config: en or zh."),
):
    from .repo import init_repo

    with _errors():
        created = init_repo(folder, model=model, lang=lang)
    for path in created:
        err.print(f"[green]created[/green] {path}")
    typer.echo(str(folder.resolve()))


BATCH_HELP = """Read every paper of a reading list into notes; re-running resumes and skips finished ones.

LIST is a text file (one PDF path, arXiv ID or URL per line; # comments; optional "topic: X" and
"tags: a, b" after the entry), a YAML list, or a BibTeX file (eprint, url or Zotero file fields).

[b]Examples[/b]

  paper-reader batch reading-list.txt

  paper-reader batch library.bib --commit -j 8 --model gpt-4o-mini
"""


@app.command(help=BATCH_HELP)
def batch(
    ctx: typer.Context,
    reading_list: Path = typer.Argument(..., metavar="LIST", help="Reading list: .txt, .yaml or .bib."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Folder for the notes (outside a notes repo)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Any litellm model string."),
    lang: Optional[str] = typer.Option(None, "--lang", "-l", help="Default language: en or zh."),
    concurrency: Optional[int] = typer.Option(None, "--concurrency", "-j", min=1,
                                              help="Papers (and calls per paper) in flight at once."),
    commit: bool = typer.Option(False, "--commit", help="Commit each note and the index (notes repo)."),
    figures: bool = typer.Option(False, "--figures", help="Put PNGs of page 1 and Figure 1 at the top."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not reuse or store model answers."),
    max_pages: Optional[int] = typer.Option(None, "--max-pages", min=1, help="Refuse longer PDFs. [default: 300]"),
    force: bool = typer.Option(False, "--force", "-f", help="Redo papers that already have a note."),
):
    from .batch import run_batch
    from .readinglist import load_list
    from .settings import load_settings
    from .show import BatchDisplay, batch_table

    with _errors():
        settings = load_settings(dict(output=output, model=model, lang=lang, concurrency=concurrency,
                                      commit=True if commit else None, cache=False if no_cache else None,
                                      max_pages=max_pages, figures=True if figures else None))
        entries = load_list(reading_list)
        injected = _injected_model(ctx, settings)
        if injected is None:
            _warn_if_embedded(settings.model)
        with BatchDisplay(err, entries) as display:
            results = run_batch(entries, settings, model=injected, force=force, progress=display)
    err.print(batch_table(results))
    failed = [r for r in results if r.status == "failed"]
    for r in failed:
        err.print(f"[red]failed[/red] {r.entry.source}: {r.error}", soft_wrap=True)
    for r in results:
        if r.status == "done" and r.path:
            typer.echo(str(r.path))
    if failed:
        raise typer.Exit(1)


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
        if isinstance(exc, PaperReaderError):
            err.print(f"[red]Error: {exc}[/red]", soft_wrap=True)
            raise typer.Exit(1)
        if isinstance(exc, KeyboardInterrupt):
            err.print("[red]Interrupted: nothing was written.[/red]")
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
        if stage not in self._tasks:
            self._tasks[stage] = self._bar.add_task(stage, total=total, detail=detail)
        self._bar.update(self._tasks[stage], completed=done, total=total, detail=detail[:50])

    def __exit__(self, *exc):
        self._bar.__exit__(*exc)
        return False


def main():
    app()
