"""pypdf's reading of a page: the second opinion for pages whose PDFium text is garbled."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from paper_reader.reading.pdf import valid_text
from paper_reader.types import Line

log = logging.getLogger(__name__)
logging.getLogger("pypdf").setLevel(logging.ERROR)  # a warning per odd font, none actionable
_BOLD = re.compile(r"bold|black|heavy|semibold|medi|demi|[-,+]b[dx]?$|黑体|粗", re.I)



def pypdf_lines(path: Path, indexes: list[int]) -> dict[int, list[Line]]:
    """Lines of some pages (0-based indexes) rebuilt from pypdf's text runs, keyed by page number."""
    import pypdf

    try:
        reader = pypdf.PdfReader(str(path))
        if reader.is_encrypted:
            reader.decrypt("")
    except Exception as exc:  # PDFium read it; keep PDFium's text
        log.warning("pypdf cannot open %s (%s); keeping PDFium's text", path, exc)
        return {}
    out: dict[int, list[Line]] = {}
    for index in indexes:
        try:
            out[index + 1] = _pypdf_page_lines(reader.pages[index], index + 1)
        except Exception as exc:  # pypdf raises many types on broken content streams
            log.warning("page %d of %s unreadable by pypdf: %s", index + 1, path, exc)
    return out


def _pypdf_page_lines(page, number: int) -> list[Line]:
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
        text = valid_text("".join(parts).strip())
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
