"""Read a PDF into visual lines with page numbers, font sizes and weights (the only pypdf user)."""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .document import Line
from .errors import InputError, PdfUnreadable

# pypdf logs a warning for every odd font; none of it is actionable for a reader of notes.
logging.getLogger("pypdf").setLevel(logging.ERROR)

_BOLD = re.compile(r"bold|black|heavy|semibold|medi|demi|[-,+]b[dx]?$|黑体|粗", re.I)


@dataclass
class RawPdf:
    """What pypdf gives us before any cleaning."""

    path: Path
    lines: list[Line]
    page_count: int
    metadata: dict[str, str] = field(default_factory=dict)
    outline: list[tuple[int, str, int]] = field(default_factory=list)  # (depth, title, page)


def read_pdf(path: str | Path, max_pages: int | None = None) -> RawPdf:
    """Open a PDF and rebuild its lines; raise a clear error for anything unreadable."""
    path = Path(path)
    reader = _open(path)
    if max_pages and len(reader.pages) > max_pages:
        raise PdfUnreadable(
            f"{path} has {len(reader.pages)} pages, more than the {max_pages} allowed: it looks like a book "
            f"or proceedings. Pass --max-pages {len(reader.pages)} to read it anyway, or split it."
        )
    count = len(reader.pages)
    workers = min(os.cpu_count() or 1, 4)
    # forking while other threads run (a batch, an HTTP pool) can deadlock the child: only when alone
    if count >= PARALLEL_FROM and workers > 1 and threading.active_count() == 1:
        lines = _lines_in_parallel(path, count, workers)
    else:
        lines = _lines(reader, path, 0, count)
    return RawPdf(
        path=path,
        lines=lines,
        page_count=len(reader.pages),
        metadata=_metadata(reader),
        outline=_outline(reader),
    )


PARALLEL_FROM = 12  # pages; below this a second process costs more than it saves


def _lines(reader, path: Path, start: int, end: int) -> list[Line]:
    lines: list[Line] = []
    for index in range(start, end):
        try:
            lines.extend(_page_lines(reader.pages[index], index + 1))
        except Exception as exc:  # pypdf raises many types on broken content streams
            logging.getLogger(__name__).warning("page %d of %s unreadable: %s", index + 1, path, exc)
    return lines


def _lines_of_range(path: str, start: int, end: int) -> list[Line]:
    """In a worker process: the lines of pages [start, end) of an already validated PDF."""
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    return _lines(_open(Path(path)), Path(path), start, end)


def _lines_in_parallel(path: Path, count: int, workers: int) -> list[Line]:
    """Extract page ranges in worker processes (pypdf is pure Python: one core per process)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    step = -(-count // workers)
    ranges = [(i, min(i + step, count)) for i in range(0, count, step)]
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(max_workers=len(ranges), mp_context=context) as pool:
        parts = pool.map(_lines_of_range, [str(path)] * len(ranges), *zip(*ranges))
        return [line for part in parts for line in part]


def _open(path: Path):
    import pypdf
    from pypdf.errors import PdfReadError

    if not path.exists():
        raise InputError(f"{path}: no such file.")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a PDF file.")
    try:
        with path.open("rb") as fh:
            head = fh.read(1024)
    except OSError as exc:
        raise InputError(f"Could not open {path}: {exc.strerror}.") from exc
    if b"%PDF-" not in head:
        raise PdfUnreadable(f"{path} is not a PDF (it does not start with %PDF-).")
    try:
        reader = pypdf.PdfReader(str(path))
        if reader.is_encrypted and not _decrypt_empty(reader):
            raise PdfUnreadable(
                f"Could not read {path}: it is encrypted. Decrypt it first, e.g. with "
                f"`qpdf --decrypt --password=... {path.name} decrypted.pdf`."
            )
        count = len(reader.pages)
    except PdfUnreadable:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AttributeError) as exc:
        raise PdfUnreadable(
            f"Could not read {path}: the file is damaged or cut short ({exc}). Download it again."
        ) from exc
    if count == 0:
        raise PdfUnreadable(f"{path} has no pages.")
    return reader


def _decrypt_empty(reader) -> bool:
    """Many 'encrypted' PDFs only restrict printing and open with an empty password."""
    try:
        return bool(reader.decrypt(""))
    except Exception:  # missing crypto backend or unsupported algorithm: treat as locked
        return False


def _page_lines(page, number: int) -> list[Line]:
    """Group pypdf's text runs into lines by baseline; keep the largest font and boldness."""
    runs: list[tuple[float, float, str, str]] = []  # (y, size, font name, text)

    def visit(text, cm, tm, font, size):
        if not text:
            return
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = (tm[2] ** 2 + tm[3] ** 2) ** 0.5 * (cm[2] ** 2 + cm[3] ** 2) ** 0.5
        name = str((font or {}).get("/BaseFont", "")) if hasattr(font, "get") else ""
        runs.append((y, size * (scale or 1.0), name, text))

    _drop_textless_forms(page)
    page.extract_text(visitor_text=visit)
    return _group_runs(runs, number)


def _drop_textless_forms(page) -> None:
    """Skip vector figures with no text, or only axis labels, in them: pypdf would parse every path
    operator (a physics paper's plots hold ~10^6 of them: seconds per page for figure debris that
    cleaning drops anyway). A form counts as a plot when it has under one text operator per 2 KB."""
    try:
        forms = page["/Resources"]["/XObject"]
    except (KeyError, TypeError):
        return
    for name in list(forms.keys()):
        try:
            obj = forms[name].get_object()
            if obj.get("/Subtype") == "/Form":
                data = obj.get_data()
                texts = data.count(b"Tj") + data.count(b"TJ")
                if (b"BT" not in data and b"Do" not in data) or (len(data) > 200_000 and texts * 2048 < len(data)):
                    del forms[name]
        except Exception:  # an odd or broken form: leave it to pypdf
            continue


def _group_runs(runs, number: int) -> list[Line]:
    lines: list[Line] = []
    parts: list[str] = []
    size = 0.0
    bold = False
    line_y: float | None = None
    soft_break = False

    def flush():
        nonlocal parts, size, bold, line_y
        text = "".join(parts).strip()
        if text:
            lines.append(Line(number, text, round(size, 1), bold))
        parts, size, bold, line_y = [], 0.0, False, None

    for y, run_size, font, text in runs:
        pieces = text.split("\n")
        for i, piece in enumerate(pieces):
            if i > 0:  # an explicit newline inside a run: a hard break, unless it ends the run
                flush() if i < len(pieces) - 1 or piece else None
                soft_break = i == len(pieces) - 1 and not piece
                if soft_break:
                    continue
            if not piece:
                continue
            # pypdf breaks lines at every font change; only a new baseline ends a visual line
            tolerance = 0.5 * max(run_size, 1.0)
            if line_y is not None and (abs(y - line_y) > tolerance) and (soft_break or parts):
                flush()
            if line_y is None:
                line_y = y
            if parts and soft_break and _needs_space(parts[-1], piece):
                parts.append(" ")
            parts.append(piece)
            soft_break = False
            if piece.strip():
                size = max(size, run_size)
                bold = bold or bool(_BOLD.search(font.split("+")[-1]))
    flush()
    return lines


def _needs_space(left: str, right: str) -> bool:
    a, b = left[-1:], right[:1]
    if not a or not b or a.isspace() or b.isspace():
        return False
    return a.isalnum() and b.isalnum() and a.isascii() and b.isascii()


def _metadata(reader) -> dict[str, str]:
    try:
        meta = reader.metadata or {}
        return {str(k).lstrip("/"): str(v) for k, v in meta.items() if v}
    except Exception:
        return {}


def _outline(reader) -> list[tuple[int, str, int]]:
    out: list[tuple[int, str, int]] = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
                continue
            try:
                page = reader.get_destination_page_number(item) + 1
            except Exception:
                continue
            if page > 0:
                out.append((depth, str(item.title), page))

    try:
        walk(reader.outline, 0)
    except Exception:
        return []
    return out
