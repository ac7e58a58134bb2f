"""Whole-file-or-nothing writes, shared by notes, the index, the call cache and downloads."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Callable, Iterable


def atomic_write(path: Path, data: bytes | Iterable[bytes], check: Callable[[Path], None] | None = None) -> Path:
    """Write to a temp file beside `path`, optionally check it, then rename it into place.

    A failure (or an interrupt) never leaves a partial file. An existing file keeps its permissions;
    a new one gets the usual 0666 minus the umask (mkstemp's 0600 would hide a note from others).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    keep = path.stat().st_mode & 0o7777 if path.exists() else None
    tmp = path.with_name(f".{path.name[:60]}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as fh:
            for chunk in [data] if isinstance(data, bytes) else data:
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        if check:
            check(tmp)
        if keep is not None:
            os.chmod(tmp, keep)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
