"""Commands that look into one paper: sections and ask."""

from __future__ import annotations

from typing import Optional

import typer
from rich.console import Console

from paper_reader.cli.common import _errors, _injected_model, check_lang, err, plain, shown


SECTIONS_HELP = """Show the section tree with page ranges and the references found.

[b]Examples[/b]

  paper-reader sections paper.pdf

  paper-reader sections paper.pdf --json | jq '.sections[].title'
"""


def sections(
    paper: str = typer.Argument(..., help="The paper: a PDF file, an arXiv ID or URL, or a PDF URL."),
    as_json: bool = typer.Option(False, "--json", help="Print what was read as JSON for scripts: title, "
                                 "authors, year, arxiv_id, doi, pages, language, sections, references."),
    no_outline: bool = typer.Option(False, "--no-outline", help="Ignore the PDF outline; detect headings."),
    lookup: bool = typer.Option(False, "--lookup", help="Fill title, authors and DOI from arXiv when page 1 "
                                "has an arXiv stamp (network; cached)."),
):
    from paper_reader.sources.arxiv import parse_source
    from paper_reader.core import open_paper
    from paper_reader.reading.reader import read_paper
    from paper_reader.settings import load_settings
    from paper_reader.cli.show import paper_json, section_tree

    with _errors():
        settings = load_settings({"lookup": True if lookup else None})
        if no_outline and parse_source(paper).kind == "path" and not lookup:
            from paper_reader.library.store import check

            check(paper)  # a PDF in a notes repository that a symlink leads out of, as open_paper refuses it
            doc = read_paper(paper, use_outline=False, max_pages=settings.max_pages)
        else:
            doc = open_paper(paper, settings)
    for warning in doc.warnings:
        err.print(f"Warning: {shown(warning)}", style="yellow", soft_wrap=True)
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


def ask(
    ctx: typer.Context,
    paper: str = typer.Argument(..., help="A PDF, an arXiv ID or URL, or a note made by paper-reader."),
    question: Optional[str] = typer.Argument(None, help="The question; none for an interactive session."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Any litellm model string."),
    lang: Optional[str] = typer.Option(None, "--lang", "-l", callback=check_lang,
                                       help="Language of the answer: en or zh."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Folder where the paper's note is."),
    no_save: bool = typer.Option(False, "--no-save", help="Do not append to the note."),
    commit: bool = typer.Option(False, "--commit", help="Commit the note's new Q&A (notes repository)."),
):
    from paper_reader.session import ask_session, commit_qa
    from paper_reader.settings import load_settings

    with _errors():
        settings = load_settings(dict(model=model, lang=lang, output=output, commit=True if commit else None))
        session = ask_session(paper, settings, model=_injected_model(ctx, settings), save=not no_save)
        try:
            if question:
                typer.echo(plain(session.ask(question)))
            else:
                _interactive(session)
        finally:
            if session.note_path and session.asked:
                err.print(f"[dim]Added {session.asked} question(s) to {shown(str(session.note_path))}[/dim]")
                if settings.commit:
                    commit_qa(session)


def _interactive(session) -> None:
    from rich.markdown import Markdown
    from rich.prompt import Prompt

    from paper_reader.session import PartMissing

    console = Console()
    paper = session.paper
    console.print(f"[bold]{shown(paper.title)}[/bold] [dim]({paper.page_count} pages, {len(paper.sections)} sections"
                  f"{', answers go to ' + shown(str(session.note_path)) if session.note_path else ''})[/dim]\n"
                  "[dim]Ask about the paper, a page (\"what is on page 2?\") or a section (\"summarize section 3\"); "
                  "an empty line or Ctrl-D ends.[/dim]")
    while True:
        try:
            question = Prompt.ask("[bold]?[/bold]", console=console, default="", show_default=False)
        except (EOFError, KeyboardInterrupt):
            break
        if not question.strip():
            break
        try:
            with console.status("[dim]thinking…[/dim]"):
                answer = session.ask(question)
        except PartMissing as exc:
            console.print(f"[yellow]{shown(str(exc))}[/yellow]")
            continue
        console.print(Markdown(answer))


def register(app: typer.Typer) -> None:
    app.command(help=SECTIONS_HELP)(sections)
    app.command(help=ASK_HELP)(ask)
