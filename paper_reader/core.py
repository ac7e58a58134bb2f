"""The library entry point: one paper in, one note out. The CLI is a thin layer over this."""

from __future__ import annotations

import os
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

from paper_reader.models.cache import CachedLLM
from paper_reader.types import Paper
from paper_reader.errors import OutputError
from paper_reader.models.llm import LLM, LiteLLM
from paper_reader.types import Notes, QuestionSet
from paper_reader.writing.pipeline import Progress, make_notes
from paper_reader.reading.reader import read_paper
from paper_reader.writing.render import link_citations, pdf_link, render_notes
from paper_reader.library.placement import (Target, distinct_target, old_note, repo_root, save_note,
                                           secure_edits, target_for)
from paper_reader.settings import Settings
from paper_reader.writing.questions import load_questions


@dataclass
class ReadResult:
    notes: Notes
    markdown: str
    path: Path | None  # None when the note went to stdout
    kept_edits: str = ""  # the hand-edited parts carried over into the new note, named


def open_model(settings: Settings) -> LLM:
    """The configured model, behind the on-disk cache unless caching is off."""
    from paper_reader.models.gguf import GgufLLM, is_gguf

    if is_gguf(settings.model):  # a local GGUF file, run in-process like the embedded default
        model: LLM = GgufLLM(settings.model, context_window=settings.context_window)
    else:
        model = LiteLLM(settings.model, context_window=settings.context_window, timeout=settings.timeout,
                        deployments=list(settings.deployments) or None)
    return CachedLLM(model, settings.cache_path()) if settings.cache else model


def check_note_template(settings: Settings, questions: QuestionSet) -> None:
    """Before any model call, everything that would make the paid-for work fail at the end: the
    user's note template (rendered on a placeholder note), and with --commit in a notes repository, git and an identity."""
    if settings.note_template:
        from paper_reader.writing.render import check_template_renders

        check_template_renders(settings.note_template, questions, settings.lang)
    root = repo_root(settings)
    if settings.commit and root is not None:
        from paper_reader.library.repo import check_can_commit

        check_can_commit(root)


def open_paper(source: str | Path, settings: Settings) -> Paper:
    """A local PDF, an arXiv ID or URL, or a PDF URL -> Paper, with arXiv's metadata where known."""
    from paper_reader.sources.arxiv import fetch
    from paper_reader.sources.http import redact
    from paper_reader.errors import InputError
    from paper_reader.files import file_kind, is_regular

    local = Path(str(source))
    if os.path.lexists(local) and local.exists() and not is_regular(local):  # a FIFO would hang the read
        raise InputError(f"{local} is {file_kind(local)}, not a PDF file. Pass the PDF itself.")
    fetched = fetch(str(source), cache_dir=settings.download_path(), api_url=settings.arxiv_api,
                    pdf_url=settings.arxiv_pdf, min_interval=settings.arxiv_interval,
                    max_bytes=settings.max_download_mb * 2**20, deadline=settings.download_deadline)
    from paper_reader.library.store import check

    check(fetched.path)  # a PDF in a notes repository (a reading list's entry) that a symlink leads out of
    paper = read_paper(fetched.path, max_pages=settings.max_pages)
    meta = fetched.metadata or _looked_up(paper, settings)
    if fetched.url:
        paper.source = redact(fetched.url)  # never a password or a signed query in a note
    if meta is not None:
        paper.title = meta.title or paper.title
        paper.authors = list(meta.authors) or paper.authors
        paper.arxiv_id = meta.id + (meta.version or "")
        if fetched.metadata is not None or paper.year is None:  # a printed venue year beats arXiv's v1 date
            paper.year = int(meta.published[:4]) if meta.published[:4].isdigit() else paper.year
        paper.doi = paper.doi or meta.doi
        paper.abstract = meta.abstract or paper.abstract
    return paper


def _looked_up(paper: Paper, settings: Settings):
    """With `lookup` on, the arXiv record of a local PDF whose page 1 carries an arXiv stamp
    (cached; a failed lookup keeps what the PDF says and says so)."""
    if not settings.lookup or not paper.arxiv_id:
        return None
    from paper_reader.sources.arxiv import FetchError, cached_metadata

    try:
        return cached_metadata(paper.arxiv_id, cache_dir=settings.download_path(), api_url=settings.arxiv_api,
                               min_interval=settings.arxiv_interval, timeout=30, retries=1)
    except FetchError as exc:
        paper.warnings.append(f"arXiv lookup of {paper.arxiv_id} failed ({exc}); kept what the PDF says")
        return None


def note_images(paper: Paper, target: Target, settings: Settings) -> list[tuple[str, Path]]:
    """With `figures` on, PNGs of page 1 and of Figure 1's page in assets/<note name>/ beside the note."""
    if not settings.figures or target.path is None:
        return []
    from paper_reader.writing.figures import render_figures

    return render_figures(paper.local_path, paper, target.path.parent / "assets" / target.path.stem)


def render_for(notes, target: Target, images: list[tuple[str, Path]], settings: Settings) -> str:
    base = target.path.parent if target.path is not None else Path(".")
    relative = [(label, p.relative_to(base).as_posix()) for label, p in images]
    markdown = render_notes(notes, settings.note_template, relative)
    return link_citations(markdown, pdf_link(notes.paper, target.path.parent if target.path is not None else None))


@dataclass(frozen=True)
class Job:
    """One paper to turn into a note: what `read` is given, or one entry of a reading list."""

    source: str
    topic: str | None = None
    tags: tuple[str, ...] = ()
    lang: str | None = None  # overrides the settings' language for this paper


class NoteExists(OutputError):
    """The paper already has a note and --force was not given (batch: the paper is skipped)."""

    def __init__(self, path: Path, paper: Paper):
        super().__init__(f"{path} already exists. Pass --force to replace it.")
        self.path, self.paper = path, paper


def read(source: str | Path, settings: Settings, model: LLM | None = None,
         progress: Progress | None = None, force: bool = False, topic: str | None = None,
         discard_edits: bool = False) -> ReadResult:
    """Read a paper and write its note; `model` is injectable (tests pass a fake)."""
    questions = load_questions(settings.template)
    check_note_template(settings, questions)
    return read_job(Job(str(source), topic), settings, model or open_model(settings), questions,
                    progress=progress, force=force, discard_edits=discard_edits)


def read_job(job: Job, settings: Settings, model: LLM, questions: QuestionSet, *,
             progress: Progress | None = None, force: bool = False, discard_edits: bool = False,
             claims: dict[Path, str] | None = None, save_guard=None) -> ReadResult:
    """The one read path, for `read` and for each paper of a batch: open the paper, find where its
    note goes, refuse early what would fail at the end, write the notes, save them.

    Raises NoteExists when the note exists and `force` is off (a batch skips the paper). `claims`
    reserves note paths across a batch's papers; `save_guard(target)` is the lock held while saving
    (default: the notes repository's lock).
    """
    from paper_reader.library.repo import repo_lock

    report = progress or (lambda *a: None)
    local = replace(settings, lang=job.lang or settings.lang)  # checked once by the caller: check_note_template
    report("read", str(job.source), 0, 1)
    paper = open_paper(job.source, local)
    paper.tags = list(job.tags)  # a reading list's tags reach the note and the index
    report("read", paper.title, 1, 1)
    target = target_for(paper, local, job.topic)
    if claims is not None or target.root is not None or local.output in (".", "") or Path(local.output).is_dir():
        target = distinct_target(target, paper, claims)  # a note named by title: another paper may have it
    if target.path is not None and target.path.exists() and not force:
        raise NoteExists(target.path, paper)
    _refuse_early(target, paper, local, discard_edits)
    notes = make_notes(paper, questions, model, lang=local.lang, concurrency=local.concurrency, progress=progress)
    images = note_images(paper, target, local)
    markdown = render_for(notes, target, images, local)
    if target.path is None:
        return ReadResult(notes, markdown, None)
    report("write", paper.title, 0, 1)
    kept: list[str] = []
    guard = save_guard(target) if save_guard else (
        repo_lock(target.root, wait=60) if target.root is not None else nullcontext())
    with guard:
        path = save_note(markdown, target, paper, local, force, [p for _, p in images],
                         discard_edits=discard_edits, kept=kept)
    return ReadResult(notes, markdown, path, "; ".join(kept))


def _refuse_early(target: Target, paper: Paper, settings: Settings, discard_edits: bool) -> None:
    """What would refuse the save refuses it before any model call (hand edits, uncommitted edits)."""
    if target.path is None:
        return
    old = old_note(target.path)
    if old is None:
        return
    from paper_reader.library.merge import is_hand_edited, merge_note

    merge_note(old, old, force=True, discard_edits=discard_edits, name=f"The note {target.path}")
    if discard_edits and target.root is not None and is_hand_edited(old) and not settings.commit:
        secure_edits(target.root, target.path, paper, settings)
