"""Where a note goes and how it is saved: a folder or file, or a notes repository's layout; papers
that share a title kept apart; hand edits carried over; the index and git updated."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from paper_reader.errors import OutputError, PaperReaderError
from paper_reader.settings import Settings, find_repo_config
from paper_reader.types import Paper
from paper_reader.writing.render import note_filename, write_atomic


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

    from paper_reader.library.store import inside

    root = repo_root(settings)
    if root is not None:
        path = root / note_relpath(settings.notes_path, paper.title, topic)
        inside(root, path)  # before any model call: a topic folder that is a symlink out is refused now
        return Target(path, root)
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
                old = old_note(path)
            except PaperReaderError:
                old = None  # a folder or FIFO there: save_note names it
            if old is not None and not is_same_paper(old, paper):
                continue
        if taken is not None:
            taken[path] = ident
        return Target(path, target.root)
    raise OutputError(f"{target.path}: other papers with the same title already have notes here; "
                      "give this one its own -o file.")


def save_note(markdown: str, target: Target, paper: Paper, settings: Settings, force: bool,
              assets: list[Path] = (), discard_edits: bool = False, kept: list[str] | None = None) -> Path:
    """Write the note (keeping the old one's hand-owned sections and hand edits), then update the
    index and commit. Edits are dropped only with `discard_edits`, and in a notes repository only
    once git has them."""
    from paper_reader.library.index import write_index
    from paper_reader.library.merge import describe_parts, edited_parts, is_hand_edited, merge_note
    from paper_reader.library.repo import commit_files, commit_message

    from paper_reader.library.store import inside

    path = target.path
    if target.root is not None:
        inside(target.root, path)
    old = old_note(path)
    if old is not None and not force:
        raise OutputError(f"{path} already exists. Pass --force to replace it.")
    if old is not None and discard_edits and target.root is not None and is_hand_edited(old):
        secure_edits(target.root, path, paper, settings)
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


def old_note(path: Path) -> str | None:
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


def secure_edits(root: Path, path: Path, paper: Paper, settings: Settings) -> None:
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


