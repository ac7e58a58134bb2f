"""Pictures for a note, as the reference notes open with: page 1 and the page with Figure 1, as PNG."""

from __future__ import annotations

import re
from pathlib import Path

from paper_reader.types import Paper
from paper_reader.errors import InputError

_FIGURE_ONE = re.compile(r"\b(?:Figure|Fig\.)\s*1\s*[.:|]|图\s*1")


def figure_pages(paper: Paper) -> list[tuple[str, int]]:
    """(label, page) for the first page and the page whose text captions Figure 1, if another."""
    pages = [("Page 1", 1)]
    for number, text in enumerate(paper.pages, start=1):
        if _FIGURE_ONE.search(text):
            if number != 1:
                pages.append(("Figure 1", number))
            break
    return pages


def render_figures(pdf_path: str | Path, paper: Paper, folder: Path, scale: float = 1.5) -> list[tuple[str, Path]]:
    """Render the figure pages into `folder` as page-N.png; returns (label, path) pairs."""
    import pypdfium2 as pdfium

    try:
        import PIL  # noqa: F401  (pypdfium2 renders to PIL images)
    except ImportError as exc:
        raise InputError("Pictures need the 'figures' extra: pip install 'paper-reader[figures]'.") from exc
    from paper_reader.reading.pdf import PDFIUM_LOCK

    with PDFIUM_LOCK:  # PDFium is not thread-safe
        return _render(pdfium.PdfDocument(str(pdf_path)), paper, folder, scale)


def _render(pdf, paper: Paper, folder: Path, scale: float) -> list[tuple[str, Path]]:
    """Each picture written whole or not at all, through files.atomic_write: in a notes repository a
    picture folder (or picture) that is a symlink out of it is refused, never written through."""
    import io

    from paper_reader.files import atomic_write
    from paper_reader.library.store import check

    out = []
    try:
        for label, number in figure_pages(paper):
            path = folder / f"page-{number}.png"
            if not check(path).exists():
                image = pdf[number - 1].render(scale=scale).to_pil()
                png = io.BytesIO()
                image.save(png, format="PNG", optimize=True)
                atomic_write(path, png.getvalue())
            out.append((label, path))
    finally:
        pdf.close()
    return out
