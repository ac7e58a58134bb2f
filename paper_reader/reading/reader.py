"""PDF file -> Paper: extraction, cleaning, sections, references and metadata in one call."""

from __future__ import annotations

import re
from pathlib import Path

from paper_reader.reading import metadata as meta
from paper_reader.reading.clean import clean_lines, garbage_ratio, garbled_pages, join_lines, normalize
from paper_reader.types import Line, Paper
from paper_reader.errors import PdfUnreadable
from paper_reader.reading.pdf import RawPdf, read_pdf
from paper_reader.reading.references import split_references
from paper_reader.reading.headings import find_headings
from paper_reader.reading.sections import build_sections, kind_of, squash


def read_paper(path: str | Path, use_outline: bool = True, max_pages: int | None = None) -> Paper:
    """Read a PDF into a Paper; raise PdfUnreadable with a clear reason when it has no usable text.

    `use_outline=False` ignores the PDF's own outline (to measure heading detection against it).
    """
    path = Path(path)
    raw = read_pdf(path, max_pages=max_pages)
    warnings = _check_garbage(raw)
    lines = clean_lines(raw.lines, raw.page_count)
    _check_text(raw, lines)
    picked = meta.title_lines(raw.lines, raw.metadata)
    title = _title(raw, lines, picked)
    headings, source = find_headings(raw.outline if use_outline else [], lines)
    sections = build_sections(lines, headings)
    ref_lines = _reference_lines(lines, headings)
    arxiv_id, stamp_year = meta.arxiv_stamp(raw.lines)
    abstract = _abstract(sections)
    if not abstract:
        abstract = _abstract_from_front(sections)
    paper = Paper(
        source=str(path),
        title=title,
        authors=meta.authors(raw.lines, picked, raw.metadata),
        year=meta.find_year(raw.lines, raw.metadata, stamp_year),
        abstract=abstract,
        arxiv_id=arxiv_id,
        doi=meta.find_doi(raw.lines, raw.metadata),
        language=meta.language(lines),
        warnings=warnings,
        pages=[join_lines([ln.text for ln in lines if ln.page == p]) for p in range(1, raw.page_count + 1)],
        sections=sections,
        references=split_references(ref_lines),
        section_source=source,
        local_path=str(path),
    )
    _unless_a_paper(paper, path)
    return paper


def _unless_a_paper(paper: Paper, path: Path) -> None:
    """A PDF with no abstract, introduction or references (a journal issue's front matter, a
    flyer) has no title or authors to report: page 1's big text is something else."""
    if any(s.kind in ("abstract", "introduction", "references") for s in paper.sections) or paper.references \
            or re.search(r"abstract|摘\s*要", paper.pages[0] if paper.pages else "", re.I):
        return
    paper.title, paper.authors = path.stem.replace("_", " "), []
    paper.warnings.append("this does not look like a research paper (no abstract, introduction or references): "
                          "its title and authors were left out")


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


def _check_garbage(raw: RawPdf) -> list[str]:
    """Refuse a paper whose text is mostly unreadable, naming the pages and showing what was read;
    name the garbled pages of a readable one in a warning."""
    bad = raw.garbled if raw.garbled is not None else garbled_pages(raw.lines)
    pages_with_text = len({ln.page for ln in raw.lines})
    shown = _page_list(bad)
    if bad and len(bad) >= max(2, 0.5 * pages_with_text):
        sample = " ".join(ln.text for ln in raw.lines if ln.page == bad[0])[:80]
        sample = "".join(c if c.isprintable() else "\ufffd" for c in sample)
        raise PdfUnreadable(
            f"{raw.path}: the text of {len(bad)} of {pages_with_text} pages ({shown}) is garbled, e.g. page "
            f"{bad[0]} reads \"{sample}\" (a font without a Unicode map decodes to the wrong letters, in both "
            "PDF engines). Run OCR on it first, e.g. `ocrmypdf --force-ocr`.")
    if bad:
        return [f"garbled text on {shown}: those pages were read as they are"]
    return []


def _page_list(pages: list[int]) -> str:
    return ("page " if len(pages) == 1 else "pages ") + ", ".join(map(str, pages[:10])) + \
        ("…" if len(pages) > 10 else "")


def _plausible_meta_title(title: str) -> bool:
    t = title.strip().lower()
    return (
        len(t) >= 8
        and not re.search(r"\.(dvi|pdf|docx?|tex|ps)$|^untitled|^microsoft word|^slide|^arxiv:|^pnas|toc\b", t)
        and len(t.split()) <= 30
    )


def _title(raw: RawPdf, lines: list[Line], picked: list[Line]) -> str:
    """Page 1's title as printed; the info dictionary's only when the page has it but we found none."""
    printed = meta.title_text(picked) if picked else ""
    info = normalize(raw.metadata.get("Title", ""))
    if printed and _plausible_meta_title(info):
        printed = meta.with_info_spelling(printed, info)  # agreeing but for a misread word: evidence
    page_one = squash(" ".join(ln.text for ln in raw.lines if ln.page == 1))
    if not printed and _plausible_meta_title(info) and squash(info)[:30] in page_one:
        return info
    return printed[:300] or raw.path.stem.replace("_", " ")  # no title printed: name the note after the file


def _reference_lines(lines: list[Line], headings) -> list[Line]:
    ordered = sorted(headings, key=lambda h: h.index)
    for n, h in enumerate(ordered):
        if kind_of(h.title) == "references":
            end = len(lines)
            for later in ordered[n + 1 :]:
                if later.level <= h.level:
                    end = later.index
                    break
            heading_line = squash(lines[h.index].text).startswith(squash(h.title)[:8])
            body = lines[h.index + 1 if heading_line else h.index : end]
            # the list ends where an appendix, a checklist or the authors' biographies begin
            stop = next((i for i, ln in enumerate(body) if _LIST_END.match(ln.text.strip())), len(body))
            return body[:stop]
    return []


_LIST_END = re.compile(r"(附中文参考文献|作者简介|about the authors?\b|biograph|appendix\b|appendices\b|"
                       r"(neurips |paper )?checklist\b|supplementary material)", re.I)


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
