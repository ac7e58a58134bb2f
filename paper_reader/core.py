"""The library entry point: one paper in, one note out. The CLI is a thin layer over this."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from .cache import CachedLLM
from .document import Paper
from .errors import OutputError
from .llm import LLM, LiteLLM
from .pipeline import Notes, Progress, make_notes
from .reader import read_paper
from .render import note_filename, render_notes, write_atomic
from .settings import Settings, find_repo_config
from .template import load_questions


@dataclass
class ReadResult:
    notes: Notes
    markdown: str
    path: Path | None  # None when the note went to stdout


def open_model(settings: Settings) -> LLM:
    """The configured model, behind the on-disk cache unless caching is off."""
    model: LLM = LiteLLM(settings.model, context_window=settings.context_window, timeout=settings.timeout,
                         deployments=list(settings.deployments) or None)
    return CachedLLM(model, settings.cache_path()) if settings.cache else model


def note_path(paper: Paper, output: str) -> Path | None:
    """Where the note goes: a folder (named by title), an explicit .md file, or None for stdout."""
    if output == "-":
        return None
    out = Path(output)
    if out.suffix.lower() == ".md":
        return out
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a folder. Give a folder or a .md file with -o.")
    return out / note_filename(paper.title)


def open_paper(source: str | Path, settings: Settings) -> Paper:
    """A local PDF, an arXiv ID or URL, or a PDF URL -> Paper, with arXiv's metadata where known."""
    from .arxiv import fetch

    fetched = fetch(str(source), cache_dir=settings.download_path(), api_url=settings.arxiv_api,
                    pdf_url=settings.arxiv_pdf, min_interval=settings.arxiv_interval)
    paper = read_paper(fetched.path, max_pages=settings.max_pages)
    meta = fetched.metadata
    if fetched.url:
        paper.source = fetched.url
    if meta is not None:
        paper.title = meta.title or paper.title
        paper.authors = list(meta.authors) or paper.authors
        paper.arxiv_id = meta.id + (meta.version or "")
        paper.year = int(meta.published[:4]) if meta.published[:4].isdigit() else paper.year
        paper.abstract = meta.abstract or paper.abstract
    return paper


@dataclass(frozen=True)
class Target:
    """Where a note goes: a file (None = stdout), and the notes repository it belongs to, if any."""

    path: Path | None
    root: Path | None = None


def repo_root(settings: Settings) -> Path | None:
    """The notes repository notes go into: the nearest paper-reader.yaml's folder, unless -o is given."""
    repo = find_repo_config()
    return repo.parent if repo is not None and settings.output == "." else None


def target_for(paper: Paper, settings: Settings, topic: str | None = None) -> Target:
    """Inside a notes repository (and with no -o) notes follow its notes_path; elsewhere, -o."""
    from .repo import note_relpath

    root = repo_root(settings)
    if root is not None:
        return Target(root / note_relpath(settings.notes_path, paper.title, topic), root)
    return Target(note_path(paper, settings.output))


def note_images(paper: Paper, target: Target, settings: Settings) -> list[tuple[str, Path]]:
    """With `figures` on, PNGs of page 1 and of Figure 1's page in assets/<note name>/ beside the note."""
    if not settings.figures or target.path is None:
        return []
    from .figures import render_figures

    return render_figures(paper.local_path, paper, target.path.parent / "assets" / target.path.stem)


def render_for(notes, target: Target, images: list[tuple[str, Path]], settings: Settings) -> str:
    base = target.path.parent if target.path is not None else Path(".")
    relative = [(label, p.relative_to(base).as_posix()) for label, p in images]
    return render_notes(notes, settings.note_template, relative)


def save_note(markdown: str, target: Target, paper: Paper, settings: Settings, force: bool,
              assets: list[Path] = ()) -> Path:
    """Write the note (keeping the old one's hand-owned sections), then update the index and commit."""
    from .notes_index import write_index
    from .notes_merge import merge_note
    from .repo import commit_files, commit_message

    path = target.path
    old = path.read_text("utf-8") if path.exists() else None
    if old is not None and not force:
        raise OutputError(f"{path} already exists. Pass --force to replace it.")
    write_atomic(path, merge_note(markdown, old, force=True), force=True)
    if target.root is not None:
        readme = write_index(target.root)
        if settings.commit:
            message = commit_message("update" if old else "add", paper.arxiv_id, paper.title)
            commit_files(target.root, [path, *assets, readme], message)
    return path


def read(source: str | Path, settings: Settings, model: LLM | None = None,
         progress: Progress | None = None, force: bool = False, topic: str | None = None) -> ReadResult:
    """Read a paper and write its note; `model` is injectable (tests pass a fake)."""
    from .repo import repo_lock

    report = progress or (lambda *a: None)
    questions = load_questions(settings.template)
    report("read", str(source), 0, 1)
    paper = open_paper(source, settings)
    report("read", paper.title, 1, 1)
    target = target_for(paper, settings, topic)
    if target.path is not None and target.path.exists() and not force:
        raise OutputError(f"{target.path} already exists. Pass --force to replace it.")
    notes = make_notes(paper, questions, model or open_model(settings), lang=settings.lang,
                       concurrency=settings.concurrency, progress=progress)
    images = note_images(paper, target, settings)
    markdown = render_for(notes, target, images, settings)
    if target.path is None:
        return ReadResult(notes, markdown, None)
    with repo_lock(target.root, wait=60) if target.root is not None else nullcontext():
        path = save_note(markdown, target, paper, settings, force, [p for _, p in images])
    return ReadResult(notes, markdown, path)


class AskSession:
    """Questions about one paper, keeping the conversation; answers are saved to its note if any."""

    def __init__(self, paper: Paper, model: LLM, lang: str, note_path: Path | None):
        self.paper, self.model, self.lang, self.note_path = paper, model, lang, note_path
        self.history: list[dict] = []
        self.asked = 0

    def ask(self, question: str) -> str:
        from .ask import answer_question, append_qa

        answer = answer_question(self.paper, question, self.model, self.lang, self.history[-8:])
        self.history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        if self.note_path is not None:
            text = append_qa(self.note_path.read_text("utf-8"), question, answer, self.lang)
            write_atomic(self.note_path, text, force=True)
        self.asked += 1
        return answer


def ask_session(source: str | Path, settings: Settings, model: LLM | None = None,
                save: bool = True) -> AskSession:
    """Open a paper (or the paper behind a note) for questions."""
    from .ask import note_source
    from .errors import InputError

    source = Path(source)
    note: Path | None = None
    if source.suffix.lower() == ".md":
        if not source.is_file():
            raise InputError(f"{source}: no such note.")
        note, origin = source, note_source(source.read_text("utf-8"))
        if not origin:
            raise InputError(f"{source} has no 'source:' in its front matter: pass the PDF instead.")
        source = Path(origin) if Path(origin).is_absolute() or Path(origin).exists() else note.parent / origin
    paper = open_paper(source, settings)
    if note is None:
        candidate = note_path(paper, settings.output)
        note = candidate if candidate is not None and candidate.is_file() else None
    return AskSession(paper, model or open_model(settings), settings.lang, note if save else None)
