"""PDF file -> Paper: extraction, cleaning, sections, references and metadata in one call."""

from __future__ import annotations

import re
from pathlib import Path

from .clean import clean_lines, garbage_ratio, join_lines, normalize
from .document import Line, Paper
from .errors import PdfUnreadable
from .pdf import RawPdf, read_pdf
from .references import ARXIV, split_references
from .sections import body_size, build_sections, find_headings, kind_of

_STAMP = re.compile(r"arXiv:\s?(\d{4}\.\d{4,5})(?:v\d+)?\s*\[[^\]]+\]\s*\d{1,2}\s+[A-Z][a-z]{2}\s+(\d{4})")


def read_paper(path: str | Path, use_outline: bool = True, max_pages: int | None = None) -> Paper:
    """Read a PDF into a Paper; raise PdfUnreadable with a clear reason when it has no usable text.

    `use_outline=False` ignores the PDF's own outline (to measure heading detection against it).
    """
    raw = read_pdf(path, max_pages=max_pages)
    lines = clean_lines(raw.lines, raw.page_count)
    _check_text(raw, lines)
    title = _title(raw, lines)
    headings, source = find_headings(raw.outline if use_outline else [], lines)
    sections = build_sections(lines, headings)
    ref_lines = _reference_lines(lines, headings)
    arxiv_id, stamp_year = _arxiv_stamp(raw)
    abstract = _abstract(sections)
    if not abstract:
        abstract = _abstract_from_front(sections)
    return Paper(
        source=str(path),
        title=title,
        authors=_authors(raw, lines, title),
        year=stamp_year or _year(raw),
        abstract=abstract,
        arxiv_id=arxiv_id,
        pages=[join_lines([ln.text for ln in lines if ln.page == p]) for p in range(1, raw.page_count + 1)],
        sections=sections,
        references=split_references(ref_lines),
        section_source=source,
        local_path=str(path),
    )


def _check_text(raw: RawPdf, lines: list[Line]) -> None:
    text = "".join(ln.text for ln in lines)
    chars = len(re.sub(r"\s", "", text))
    if chars < 80 * raw.page_count and chars < 2000:
        raise PdfUnreadable(
            f"{raw.path} has no text layer (it looks scanned: {chars} characters on "
            f"{raw.page_count} pages). Run OCR first, e.g. `ocrmypdf {raw.path.name} ocr.pdf`."
        )
    if garbage_ratio(text) > 0.3:
        raise PdfUnreadable(
            f"{raw.path}: the extracted text is garbled (a font without a Unicode map). "
            "Run OCR on it first, e.g. `ocrmypdf --force-ocr`."
        )


def _plausible_meta_title(title: str) -> bool:
    t = title.strip().lower()
    return (
        len(t) >= 8
        and not re.search(r"\.(dvi|pdf|docx?|tex|ps)$|^untitled|^microsoft word|^slide|^arxiv:", t)
        and len(t.split()) <= 30
    )


def _title(raw: RawPdf, lines: list[Line]) -> str:
    first = [ln for ln in lines if ln.page == 1][:20]
    meta = normalize(raw.metadata.get("Title", ""))
    if _plausible_meta_title(meta) and _squash(meta)[:30] in _squash(" ".join(ln.text for ln in first)):
        return meta
    candidates = [ln for ln in first if len(ln.text) > 3 and not ln.text.isdigit()]
    if not candidates:
        return raw.path.stem.replace("_", " ")
    top = max(ln.size for ln in candidates)
    body = body_size(lines)
    picked: list[str] = []
    subtitle: list[str] = []
    for ln in first:
        if ln.size == top and len(ln.text) > 1 and not subtitle:
            picked.append(ln.text)
        elif picked and ln.bold and body + 1.5 < ln.size < top:  # a bold subtitle, set smaller
            subtitle.append(ln.text)
        elif picked:
            break
    title = join_lines(picked)
    if subtitle:
        title = f"{title.rstrip(':')}: {join_lines(subtitle)}"
    return title[:300] or raw.path.stem


def _authors(raw: RawPdf, lines: list[Line], title: str) -> list[str]:
    meta = normalize(raw.metadata.get("Author", ""))
    page_one = _squash(" ".join(ln.text for ln in lines if ln.page == 1))
    if meta and _squash(meta.split(",")[0])[:12] in page_one and len(meta) > 3:
        return [a.strip() for a in re.split(r";|,| and ", meta) if a.strip()][:30]
    first = [ln for ln in lines if ln.page == 1][:25]
    squashed_title = re.sub(r"\W", "", title.lower())
    body = body_size(lines)
    for ln in first:
        text = ln.text
        plain = re.sub(r"\W", "", text.lower())
        if not plain or plain in squashed_title or ln.size < body - 0.5:
            continue
        if re.search(r"@|universit|institut|research|abstract|department|laborator|大学|摘", text, re.I):
            break
        names = [re.sub(r"[\d*†‡§¶∗,]+$", "", n).strip() for n in re.split(r",|;| and |\s{2,}|，", text)]
        return [n for n in names if 2 < len(n) < 60][:30]
    return []


def _squash(text: str) -> str:
    return re.sub(r"\W+", "", text.lower())


def _year(raw: RawPdf) -> int | None:
    m = re.search(r"(19|20)\d\d", raw.metadata.get("CreationDate", ""))
    return int(m.group(0)) if m else None


def _arxiv_stamp(raw: RawPdf) -> tuple[str | None, int | None]:
    for ln in raw.lines[:80]:
        m = _STAMP.search(normalize(ln.text))
        if m:
            return m.group(1), int(m.group(2))
    m = ARXIV.search(raw.path.name) or re.search(r"(\d{4}\.\d{4,5})", raw.path.name)
    return (m.group(1), None) if m else (None, None)


def _reference_lines(lines: list[Line], headings) -> list[str]:
    ordered = sorted(headings, key=lambda h: h.index)
    for n, h in enumerate(ordered):
        if kind_of(h.title) == "references":
            end = len(lines)
            for later in ordered[n + 1 :]:
                if later.level <= h.level:
                    end = later.index
                    break
            return [ln.text for ln in lines[h.index + 1 : end]]
    return []


def _abstract(sections) -> str:
    """The abstract section's text, with its parts when it has sub-headings (Background:, ...)."""
    for i, sec in enumerate(sections):
        if sec.kind == "abstract":
            parts = [sec.text]
            for child in sections[i + 1 :]:
                if child.level <= sec.level:
                    break
                lead = "" if child.text.startswith(child.title) else child.title + " "
                parts.append(lead + child.text)
            return " ".join(p for p in parts if p).strip()
    return ""


def _abstract_from_front(sections) -> str:
    for s in sections[:2]:
        m = re.search(r"(?:abstract|摘\s*要)[\s.:：—-]*(.{100,})", s.text, re.I | re.S)
        if m:
            return m.group(1)[:2500]
    intro = next((s for s in sections if s.kind == "introduction"), None)
    return intro.text[:1500] if intro else ""
