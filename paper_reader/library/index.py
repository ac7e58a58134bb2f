"""The notes index: read every note's title and metadata, keep a table of them in README.md."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from paper_reader.files import atomic_write, file_kind, is_regular, read_limited
from paper_reader.library.store import inside
from paper_reader.library.merge import RepoError, front_matter_data, headings, is_numbered, section_kind, split_front_matter

INDEX_START = "<!-- paper-reader:index:start -->"
INDEX_END = "<!-- paper-reader:index:end -->"
_ARXIV = re.compile(r"\d{4}\.\d{4,5}(?:v\d+)?|[a-z][a-z.-]*(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?")
MAX_NOTE_BYTES = 8 * 2**20  # a note (or README) larger than this is not one: /dev/zero, a stray dump
_README_HEAD = ("# Reading notes\n\nOne Markdown note per paper, in topic folders. paper-reader keeps the\n"
                "index below up to date; write anything you like outside it.\n\n")


@dataclass(frozen=True)
class NoteEntry:
    """One note, as the index shows it."""

    title: str
    path: Path  # relative to the repository root
    topic: str  # first folder under the root; "" for a note at the top level
    authors: tuple[str, ...] = ()
    year: str | None = None
    arxiv: str | None = None
    tags: tuple[str, ...] = ()
    date_read: str = ""  # ISO date: front matter `generated` or `date`, else the file's mtime


def scan_notes(root: Path) -> list[NoteEntry]:
    """Every Markdown note under root (not README.md, not hidden folders), sorted by topic and title."""
    root, found = Path(root), []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(folder) / name
            if name.lower().endswith(".md") and not name.startswith(".") and name.lower() != "readme.md" \
                    and is_regular(path):  # a FIFO or a /dev/zero symlink named *.md would hang the scan
                inside(root, path)  # a note that is a symlink out of the repository is refused, not indexed
                found.append(_entry(root, path))
    return sorted(found, key=lambda e: (e.topic.casefold(), e.title.casefold(), e.path.as_posix()))


def _entry(root: Path, path: Path) -> NoteEntry:
    """What the index shows about one note; malformed front matter falls back to the file name."""
    try:
        text = (read_limited(path, MAX_NOTE_BYTES) or b"").decode("utf-8", "replace")
    except OSError:
        text = ""
    data, rel = front_matter_data(text), path.relative_to(root)
    arxiv = _ARXIV.search(_raw_value(text, "arxiv") or str(data.get("arxiv") or ""))
    year = data.get("year")
    return NoteEntry(
        title=" ".join(str(data.get("title") or "").split()) or _heading_title(text) or path.stem,
        path=rel, topic=rel.parts[0] if len(rel.parts) > 1 else "",
        authors=_as_list(data.get("authors"), r"\s*;\s*|\s*,\s*|\s+and\s+"),
        year=str(year) if year not in (None, "") else None, arxiv=arxiv.group(0) if arxiv else None,
        tags=tuple(t.lstrip("#") for t in _as_list(data.get("tags"), r"\s*,\s*")),
        date_read=_date(data.get("generated") or data.get("date")) or _mtime_date(path),
    )


def _raw_value(text: str, key: str) -> str | None:
    """A front-matter value as written: YAML reads arxiv: 1706.03760 as a float and drops the 0."""
    header = split_front_matter(text)[0]
    match = re.search(rf"^{key}:[ \t]*['\"]?([^'\"\s#]+)", header, re.M)
    return match.group(1) if match else None


def _heading_title(text: str) -> str | None:
    """The first top-level heading, unless it is a numbered question or a user section."""
    body = split_front_matter(text)[1]
    top = [title for _, level, title in headings(body) if level == 1]
    if top and not is_numbered(top[0]) and section_kind(1, top[0]) is None:
        return top[0]
    return None


def _as_list(value, separators: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else re.split(separators, str(value)) if value else []
    return tuple(" ".join(str(item).split()) for item in items if item not in (None, ""))


def _date(value) -> str | None:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = " ".join(str(value or "").split())
    iso = re.match(r"\d{4}-\d{2}-\d{2}", text)  # "2026-11-23T10:00:00" -> "2026-11-23"
    return iso.group(0) if iso else text[:32] or None


def _mtime_date(path: Path) -> str:
    try:
        return dt.date.fromtimestamp(path.stat().st_mtime).isoformat()
    except OSError:
        return ""


def write_index(root: Path) -> Path:
    """Regenerate the index block in README.md (created if absent); nothing outside the block changes."""
    readme = Path(root) / "README.md"
    old = read_file(readme, root)
    new = _with_block(old, _index_block(scan_notes(Path(root))), readme)
    if new != old:
        write_file(readme, new, root)
    return readme


def _with_block(old: str | None, block: str, readme: Path) -> str:
    """`old` with its index block replaced, or the block appended when it has none."""
    if old is None:
        return _README_HEAD + block
    start = re.search(rf"^{re.escape(INDEX_START)}", old, re.M)
    if not start:
        gap = "" if not old or old.endswith("\n\n") else "\n" if old.endswith("\n") else "\n\n"
        return old + gap + block
    end = re.compile(rf"^{re.escape(INDEX_END)}[^\n]*\n?", re.M).search(old, start.end())
    if not end:
        raise RepoError(f"{readme} has the line {INDEX_START} but no {INDEX_END} after it: "
                        "add the end line after the index, or delete the start line.")
    return old[:start.start()] + block + old[end.end():]


def _index_block(entries: list[NoteEntry]) -> str:
    """The index: a table of notes under a `### topic` heading per topic folder."""
    lines = [INDEX_START, "<!-- Written by paper-reader: edits inside this block are replaced. -->", ""]
    groups: dict[str, list[NoteEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.topic, []).append(entry)
    for topic in sorted(groups, key=lambda t: (t == "", t.casefold())):
        lines += [f"### {topic or '(top level)'}", "", "| Title | Authors | Year | arXiv | Tags | Read |",
                  "|---|---|---|---|---|---|", *map(_row, groups[topic]), ""]
    if not entries:
        lines += ["_No notes yet._", ""]
    return "\n".join([*lines, INDEX_END]) + "\n"


def _cell(text: str, label: bool = False) -> str:
    text = " ".join(text.split()).replace("\\", "\\\\").replace("|", "\\|")
    return text.replace("[", "\\[").replace("]", "\\]") if label else text


def _row(e: NoteEntry) -> str:
    authors = ", ".join(e.authors[:3]) + (" et al." if len(e.authors) > 3 else "")
    arxiv = f"[{e.arxiv}](https://arxiv.org/abs/{e.arxiv})" if e.arxiv else ""
    cells = [f"[{_cell(e.title, label=True)}]({quote(e.path.as_posix(), safe='/')})", _cell(authors),
             _cell(e.year or ""), arxiv, _cell(", ".join(e.tags)), _cell(e.date_read)]
    return "| " + " | ".join(cells) + " |"


def read_file(path: Path, root: Path | None = None) -> str | None:
    """A text file's content (None if absent); bytes that are not UTF-8 survive a later write_file.

    With `root`, the file must lie in that notes repository (library.store), symlinks followed.
    """
    if root is not None:
        inside(root, path)
    if not os.path.lexists(path) or (path.is_symlink() and not path.exists()):
        return None
    try:
        data = read_limited(path, MAX_NOTE_BYTES + 1)
    except OSError as exc:
        raise RepoError(f"Cannot read {path}: {exc.strerror or exc}. Check its permissions.") from exc
    if data is None:
        raise RepoError(f"{path} is {file_kind(path)}, not a text file: move it away and try again.")
    if len(data) > MAX_NOTE_BYTES:
        raise RepoError(f"{path} is larger than {MAX_NOTE_BYTES // 2**20} MB: is it the right file?")
    return data.decode("utf-8", "surrogateescape")


def write_file(path: Path, text: str, root: Path | None = None) -> Path:
    """Write the whole file or nothing, keeping an existing file's permissions and non-UTF-8 bytes
    (with `root`, only inside that notes repository)."""
    if root is not None:
        inside(root, path)
    try:
        return atomic_write(path, text.encode("utf-8", "surrogateescape"))
    except OSError as exc:
        raise RepoError(f"Cannot write {path}: {exc.strerror or exc}. Check the folder is writable.") from exc
