"""Whole-file-or-nothing writes and bounded reads, shared by notes, the index, the call cache and
downloads; both keep the notes repository rule of library/store.py."""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path
from typing import Callable, Iterable

_pending: set[Path] = set()  # temp files being written now, removed by remove_pending() on a signal
_pending_lock = threading.Lock()


def remove_pending() -> None:
    """Delete every temp file still being written (a SIGTERM handler calls this before exiting)."""
    with _pending_lock:
        paths = list(_pending)
    for tmp in paths:
        try:
            tmp.unlink()
        except OSError:
            pass


def atomic_write(path: Path, data: bytes | Iterable[bytes], check: Callable[[Path], None] | None = None) -> Path:
    """Write to a temp file beside `path`, optionally check it, then rename it into place.

    A failure (or an interrupt) never leaves a partial file. An existing file keeps its permissions;
    a new one gets the usual 0666 minus the umask (mkstemp's 0600 would hide a note from others).
    The notes repository rule (library.store) comes first: a path in a repository that a symlink
    leads out of is refused before any folder is made; the temp file is created with O_EXCL and
    O_NOFOLLOW in the folder's real path, and the rename replaces a symlink, never follows it.
    """
    from paper_reader.library.store import check as in_repository, make_dirs

    path = Path(path)
    in_repository(path)
    folder = make_dirs(path.parent)
    target = folder / path.name
    keep = target.stat().st_mode & 0o7777 if target.exists() else None
    tmp = folder / f".{path.name[:60]}.{secrets.token_hex(4)}.tmp"
    with _pending_lock:
        _pending.add(tmp)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
        with os.fdopen(fd, "wb") as fh:
            for chunk in [data] if isinstance(data, bytes) else data:
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        if check:
            check(tmp)
        if keep is not None:
            os.chmod(tmp, keep)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        with _pending_lock:
            _pending.discard(tmp)
    return path


def is_regular(path: Path) -> bool:
    """A regular file (after symlinks): not a FIFO, device, socket or folder. Never blocks."""
    import stat

    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def file_kind(path: Path) -> str:
    """'a folder', 'a FIFO (named pipe)', 'a device', ... for a message about a path that is not a file."""
    import stat

    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return "missing"
    if stat.S_ISREG(mode):
        return "a file"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_limited(path: Path, limit: int) -> bytes | None:
    """At most `limit` bytes of a regular file; None if it is not one (a FIFO, /dev/zero, a folder).

    A file in a notes repository must really be inside it (library.store); it is opened by its real
    path with O_NOFOLLOW, and without blocking, so a FIFO that appears between the check and the
    open cannot hang us.
    """
    from paper_reader.library.store import check as in_repository

    real = in_repository(path)  # a file in a notes repository that a symlink leads out of: refused
    if not is_regular(real):
        return None
    fd = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
    try:
        import stat

        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks, left = [], limit
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


_URL = None


def redact_urls(text: str) -> str:
    """Text fit to show or store: every URL in it without user:password or query (arxiv.redact)."""
    global _URL
    import re

    from paper_reader.sources.http import redact

    if "://" not in text:
        return text
    if _URL is None:
        _URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>()\[\]{}]+")

    def one(match) -> str:
        url = match.group(0)
        core = url.rstrip(".,;:!?")  # the sentence's punctuation is not part of the URL
        return redact(core) + url[len(core):]

    return _URL.sub(one, text)


def read_small_file(path: Path, *, what: str, limit: int, error: type[Exception]) -> bytes:
    """The bytes of a small file the user names (a config, a template, a reading list), or `error`
    with one line naming it: missing, not a regular file, unreadable, or larger than `limit`."""
    try:
        raw = read_limited(path, limit + 1)
    except OSError as exc:
        raise error(f"{what} {path}: cannot read it ({exc.strerror or exc}).") from exc
    if raw is None:
        kind = file_kind(path)
        raise error(f"{what} {path}: no such file." if kind == "missing" else f"{what} {path}: is {kind}, not a file.")
    if len(raw) > limit:
        size = f"{limit // 2**20} MB" if limit >= 2**20 else f"{limit // 1000} kB"
        raise error(f"{what} {path}: larger than {size}; is it the right file?")
    return raw


def decode_utf8(raw: bytes, path: Path, *, what: str, error: type[Exception]) -> str:
    """UTF-8 text (a BOM allowed), or `error` saying to save the file as UTF-8."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{what} {path}: not UTF-8 text (byte {exc.start}). Save it as UTF-8.") from exc
