"""Questions about one paper after its note: a session that keeps the conversation and appends
each answer to the note's Q&A section."""

from __future__ import annotations

from pathlib import Path

from paper_reader.core import open_model, open_paper
from paper_reader.library.index import read_file  # limited, and inside its notes repository
from paper_reader.library.placement import note_path
from paper_reader.errors import InputError, OutputError
from paper_reader.models.llm import LLM
from paper_reader.settings import Settings, find_repo_config
from paper_reader.types import Paper
from paper_reader.writing.render import write_atomic


def commit_qa(session: "AskSession") -> None:
    """Commit the note a session added questions to, when it lies in a notes repository."""
    from paper_reader.library.repo import commit_files

    note = session.note_path.resolve()
    repo = find_repo_config(note.parent)
    if repo is None:
        raise OutputError(f"{note} is not in a notes repository (no paper-reader.yaml above it): nothing to commit.")
    commit_files(repo.parent, [note], f"notes: Q&A on {session.paper.title[:60]}")


class PartMissing(InputError):
    """A question names a page or section the paper does not have."""


class AskSession:
    """Questions about one paper, keeping the conversation; answers are saved to its note if any."""

    def __init__(self, paper: Paper, model: LLM, lang: str, note_path: Path | None):
        self.paper, self.model, self.lang, self.note_path = paper, model, lang, note_path
        self.history: list[dict] = []
        self.asked = 0

    def ask(self, question: str) -> str:
        """The answer, appended to the note; a page or section the paper lacks raises PartMissing
        (nothing is asked of the model and nothing is written)."""
        from paper_reader.writing.ask import answer_question, append_qa, route

        probe = route(question, self.paper)
        if probe.kind == "missing":
            raise PartMissing(probe.reply)
        note = read_file(self.note_path) if self.note_path is not None and self.note_path.is_file() else None
        answer = answer_question(self.paper, question, self.model, self.lang, self.history[-8:], note=note)
        self.history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        if self.note_path is not None:
            text = append_qa(read_file(self.note_path) or "", question, answer, self.lang)
            write_atomic(self.note_path, text, force=True)
        self.asked += 1
        return answer


def ask_session(source: str | Path, settings: Settings, model: LLM | None = None,
                save: bool = True) -> AskSession:
    """Open a paper (a PDF, an arXiv ID or URL, a PDF URL, or the note made from one) for questions."""
    from paper_reader.sources.arxiv import SourceKind, parse_source

    note: Path | None = None
    if parse_source(str(source)).kind is SourceKind.PATH:  # an arXiv ID or a URL is fetched, as `read` does
        source = Path(source)
        if source.suffix.lower() == ".md":
            note, source = source, _paper_of_note(source)
    paper = open_paper(source, settings)
    if note is None:
        candidate = note_path(paper, settings.output)
        note = candidate if candidate is not None and candidate.is_file() else None
    return AskSession(paper, model or open_model(settings), settings.lang, note if save else None)


def _paper_of_note(note: Path) -> str | Path:
    from paper_reader.sources.arxiv import SourceKind, parse_source
    from paper_reader.writing.ask import note_source

    if not note.is_file():
        raise InputError(f"{note}: no such note.")
    origin = note_source(read_file(note) or "")
    if not origin:
        raise InputError(f"{note} has no 'source:' in its front matter: pass the PDF instead.")
    paper = origin if parse_source(origin).kind is not SourceKind.PATH else \
        Path(origin) if Path(origin).is_absolute() or Path(origin).exists() else note.parent / origin
    from paper_reader.library.store import foreign_source

    refusal = foreign_source(str(paper), note)  # a cloned note may not point at the user's files
    if refusal:
        raise InputError(refusal)
    return paper  # the PDF, or the arXiv record or URL, the note was made from
