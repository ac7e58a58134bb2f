"""The library entry point: one paper in, one note out. The CLI is a thin layer over this."""

from __future__ import annotations

import os
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

from paper_reader.models.cache import CachedLLM
from paper_reader.types import Paper
from paper_reader.errors import InputError, OutputError, PaperReaderError
from paper_reader.models.llm import LLM, LiteLLM
from paper_reader.types import Notes
from paper_reader.writing.pipeline import Progress, make_notes
from paper_reader.reading.reader import read_paper
from paper_reader.writing.render import note_filename, render_notes, write_atomic
from paper_reader.settings import Settings, find_repo_config
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


def note_path(paper: Paper, output: str) -> Path | None:
    """Where the note goes: a folder (named by title), an explicit .md file, or None for stdout."""
    if output == "-":
        return None
    out = Path(output)
    if out.suffix.lower() == ".md" and not out.is_dir():  # an existing folder named x.md is a folder
        return out
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a folder. Give a folder or a .md file with -o.")
    return out / note_filename(paper.title)


def check_note_template(settings: Settings) -> None:
    """Before any model call, everything that would make the paid-for work fail at the end: the
    user's note template (compiled), and with --commit in a notes repository, git and an identity."""
    if settings.note_template:
        from paper_reader.writing.prompts import load_file

        load_file(settings.note_template)
    root = repo_root(settings)
    if settings.commit and root is not None:
        from paper_reader.library.repo import check_can_commit

        check_can_commit(root)


def open_paper(source: str | Path, settings: Settings) -> Paper:
    """A local PDF, an arXiv ID or URL, or a PDF URL -> Paper, with arXiv's metadata where known."""
    from paper_reader.sources.arxiv import fetch, redact
    from paper_reader.errors import InputError
    from paper_reader.files import file_kind, is_regular

    local = Path(str(source))
    if os.path.lexists(local) and local.exists() and not is_regular(local):  # a FIFO would hang the read
        raise InputError(f"{local} is {file_kind(local)}, not a PDF file. Pass the PDF itself.")
    fetched = fetch(str(source), cache_dir=settings.download_path(), api_url=settings.arxiv_api,
                    pdf_url=settings.arxiv_pdf, min_interval=settings.arxiv_interval,
                    max_bytes=settings.max_download_mb * 2**20, deadline=settings.download_deadline)
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
    from paper_reader.library.repo import note_relpath

    root = repo_root(settings)
    if root is not None:
        return Target(root / note_relpath(settings.notes_path, paper.title, topic), root)
    return Target(note_path(paper, settings.output))


def _arxiv_base(value) -> str:
    import re

    return re.sub(r"v\d+$", "", str(value or "").strip())


def _same_source(a: str, b: str) -> bool:
    if a == b:
        return True
    if "://" in a or "://" in b:
        return False
    try:
        return Path(a).resolve() == Path(b).resolve() or Path(a).name == Path(b).name
    except (OSError, ValueError):
        return False


def is_same_paper(note_text: str, paper: Paper) -> bool:
    """Whether a note was made from this paper (its arXiv ID, else its source); a note that says
    neither (written by hand) counts as this paper's, as before."""
    from paper_reader.library.merge import front_matter_data

    data = front_matter_data(note_text)
    if data.get("arxiv") and paper.arxiv_id:
        return _arxiv_base(data["arxiv"]) == _arxiv_base(paper.arxiv_id)
    if data.get("source") and paper.source:
        return _same_source(str(data["source"]), str(paper.source))
    return not (data.get("arxiv") or data.get("source"))


def distinct_target(target: Target, paper: Paper, taken: dict[Path, str] | None = None) -> Target:
    """The target, or one with the arXiv ID (else a short hash) added to the name when another paper
    with the same title already has that note, or (`taken`: claimed by a batch) is about to."""
    import hashlib

    if target.path is None:
        return target
    ident = f"arxiv:{_arxiv_base(paper.arxiv_id)}" if paper.arxiv_id else f"source:{paper.source}"
    short = hashlib.sha256(ident.encode("utf-8")).hexdigest()[:8]
    stem, suffix = target.path.stem, target.path.suffix
    tags = [None, (paper.arxiv_id or "").replace("/", "_") or short, short]
    for tag in dict.fromkeys(tags):
        path = target.path if tag is None else target.path.with_name(f"{stem} ({tag}){suffix}")
        owner = (taken or {}).get(path)
        if owner is not None and owner != ident:
            continue
        if owner is None and os.path.lexists(path):
            try:
                old = _old_note(path)
            except PaperReaderError:
                old = None  # a folder or FIFO there: save_note names it
            if old is not None and not is_same_paper(old, paper):
                continue
        if taken is not None:
            taken[path] = ident
        return Target(path, target.root)
    raise OutputError(f"{target.path}: other papers with the same title already have notes here; "
                      "give this one its own -o file.")


def note_images(paper: Paper, target: Target, settings: Settings) -> list[tuple[str, Path]]:
    """With `figures` on, PNGs of page 1 and of Figure 1's page in assets/<note name>/ beside the note."""
    if not settings.figures or target.path is None:
        return []
    from paper_reader.writing.figures import render_figures

    return render_figures(paper.local_path, paper, target.path.parent / "assets" / target.path.stem)


def render_for(notes, target: Target, images: list[tuple[str, Path]], settings: Settings) -> str:
    base = target.path.parent if target.path is not None else Path(".")
    relative = [(label, p.relative_to(base).as_posix()) for label, p in images]
    return render_notes(notes, settings.note_template, relative)


def save_note(markdown: str, target: Target, paper: Paper, settings: Settings, force: bool,
              assets: list[Path] = (), discard_edits: bool = False, kept: list[str] | None = None) -> Path:
    """Write the note (keeping the old one's hand-owned sections and hand edits), then update the
    index and commit. Edits are dropped only with `discard_edits`, and in a notes repository only
    once git has them."""
    from paper_reader.library.index import write_index
    from paper_reader.library.merge import describe_parts, edited_parts, is_hand_edited, merge_note
    from paper_reader.library.repo import commit_files, commit_message

    path = target.path
    old = _old_note(path)
    if old is not None and not force:
        raise OutputError(f"{path} already exists. Pass --force to replace it.")
    if old is not None and discard_edits and target.root is not None and is_hand_edited(old):
        _secure_edits(target.root, path, paper, settings)
    merged = merge_note(markdown, old, force=True, discard_edits=discard_edits, name=f"The note {path}")
    write_atomic(path, merged, force=True)
    if old is not None and not discard_edits and kept is not None:
        parts = edited_parts(old)
        if parts:
            kept.append(describe_parts(parts))
    if target.root is not None:
        readme = write_index(target.root)
        if settings.commit:
            message = commit_message("update" if old else "add", paper.arxiv_id, paper.title)
            commit_files(target.root, [path, *assets, readme], message)
    return path


def _old_note(path: Path) -> str | None:
    """The note already at `path` (None if none), read with a limit; a folder, FIFO or device there
    is refused rather than read forever or replaced."""
    from paper_reader.files import file_kind, is_regular
    from paper_reader.library.index import read_file

    if not os.path.lexists(path):
        return None
    if not is_regular(path):
        raise OutputError(f"{path} is {file_kind(path)}, not a note: move it away or choose another -o.")
    try:
        return read_file(path)
    except PaperReaderError as exc:
        raise OutputError(str(exc)) from exc


def _secure_edits(root: Path, path: Path, paper: Paper, settings: Settings) -> None:
    """Hand edits about to be discarded: committed first (with --commit), refused if git lacks them."""
    from paper_reader.library.repo import _git, commit_files

    inside = _git(root, "rev-parse", "--is-inside-work-tree", check=False)
    if inside.returncode or inside.stdout.strip() != "true":
        return  # no git: the user asked for --discard-edits outside version control
    rel = os.path.relpath(path, root)
    status = _git(root, "status", "--porcelain", "--", rel, check=False).stdout.strip()
    if not status:
        return  # the edits are committed: the previous version stays in git
    if not settings.commit:
        raise OutputError(f"{path} has hand edits git does not have yet: commit them (or pass --commit "
                          "to have them committed first) before --discard-edits replaces them.")
    commit_files(root, [path], f"notes: hand edits to {' '.join(paper.title.split())} before regenerating")


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
    return read_job(Job(str(source), topic), settings, model or open_model(settings), progress=progress,
                    force=force, discard_edits=discard_edits)


def read_job(job: Job, settings: Settings, model: LLM, *, progress: Progress | None = None,
             force: bool = False, discard_edits: bool = False, claims: dict[Path, str] | None = None,
             save_guard=None) -> ReadResult:
    """The one read path, for `read` and for each paper of a batch: open the paper, find where its
    note goes, refuse early what would fail at the end, write the notes, save them.

    Raises NoteExists when the note exists and `force` is off (a batch skips the paper). `claims`
    reserves note paths across a batch's papers; `save_guard(target)` is the lock held while saving
    (default: the notes repository's lock).
    """
    from paper_reader.library.repo import repo_lock

    report = progress or (lambda *a: None)
    local = replace(settings, lang=job.lang or settings.lang)
    questions = load_questions(local.template)
    check_note_template(local)
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
    old = _old_note(target.path)
    if old is None:
        return
    from paper_reader.library.merge import is_hand_edited, merge_note

    merge_note(old, old, force=True, discard_edits=discard_edits, name=f"The note {target.path}")
    if discard_edits and target.root is not None and is_hand_edited(old) and not settings.commit:
        _secure_edits(target.root, target.path, paper, settings)


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
        note = self.note_path.read_text("utf-8") if self.note_path is not None and self.note_path.is_file() else None
        answer = answer_question(self.paper, question, self.model, self.lang, self.history[-8:], note=note)
        self.history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        if self.note_path is not None:
            text = append_qa(self.note_path.read_text("utf-8"), question, answer, self.lang)
            write_atomic(self.note_path, text, force=True)
        self.asked += 1
        return answer


def ask_session(source: str | Path, settings: Settings, model: LLM | None = None,
                save: bool = True) -> AskSession:
    """Open a paper (or the paper behind a note) for questions."""
    from paper_reader.writing.ask import note_source
    from paper_reader.errors import InputError

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
