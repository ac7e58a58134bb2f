"""Reading the paper right: no repair damages a word; garbage is refused; metadata from page 1."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from paper_reader.reading.clean import clean_lines
from paper_reader.types import Line
from paper_reader.errors import PdfUnreadable
from paper_reader.reading.lexicon import LIGATURES
from paper_reader.reading.metadata import authors, find_year, title_lines, title_text
from paper_reader.reading.pdf import RawPdf, read_pdf
from paper_reader.reading.reader import _check_garbage
from tests.conftest import SHARED

_WORD = re.compile(r"[A-Za-z]+")
READABLE = sorted(p.stem for p in SHARED.glob("*.pdf") if p.stem != "no_text_layer") if SHARED.is_dir() else []


def _allowed_new_words(lines: list[Line]) -> set[str]:
    """Words cleaning may legitimately create: joins at line-break hyphens, private-use ligature
    glyphs mapped, and ligatures restored inside non-words."""
    allowed: set[str] = set()
    texts = [ln.text for ln in lines]
    for a, b in zip(texts, texts[1:] + [""]):
        pairs = re.findall(r"([A-Za-z]+)[\ufffe\x02]\s*([A-Za-z]+)", a)
        tail, head = re.search(r"([A-Za-z]+) ?[-\ufffe]$", a), re.match(r"([A-Za-z]+)", b)
        if tail and head:
            pairs.append((tail.group(1), head.group(1)))
        allowed |= {x + y for x, y in pairs}
        for word in re.findall(r"[A-Za-z]*[\ue000-\uf8ff][A-Za-z\ue000-\uf8ff]*", a):
            allowed |= {re.sub(r"[\ue000-\uf8ff]", lig, word) for lig in LIGATURES}
            allowed |= set(_WORD.findall(re.sub(r"[\ue000-\uf8ff]", "", word)))
    return allowed


@pytest.mark.parametrize("name", READABLE)
def test_cleaning_never_invents_a_word(name):
    raw = read_pdf(SHARED / f"{name}.pdf")
    before = {w for ln in raw.lines for w in _WORD.findall(ln.text) + _WORD.findall(unicodedata.normalize("NFKC", ln.text))}
    after = {w for ln in clean_lines(raw.lines, raw.page_count) for w in _WORD.findall(ln.text)}
    allowed = _allowed_new_words(raw.lines)
    invented = {w for w in after - before - allowed
                if not any(w.lower() == (a[:i] + lig + a[i:]).lower() for a in before
                           for lig in LIGATURES for i in range(len(a) + 1) if abs(len(a) + len(lig) - len(w)) == 0)}
    assert not invented, sorted(invented)[:20]


def test_no_shared_papers_skip_reason():
    if not READABLE:
        pytest.skip(f"{SHARED} is absent: the shared real papers live beside the project checkout")


def _raw(lines: list[Line]) -> RawPdf:
    return RawPdf(path=Path("x.pdf"), lines=lines, page_count=max(ln.page for ln in lines))


def test_a_mostly_garbled_paper_is_refused_before_any_model_call():
    armenian = "Հայերեն տեքստ է սա ոչ թե չինարեն բառեր " * 10
    lines = [Line(p, armenian) for p in range(1, 6)]
    with pytest.raises(PdfUnreadable, match="garbled.*OCR"):
        _check_garbage(_raw(lines))


def test_a_few_garbled_pages_are_named_in_a_warning():
    prose = "This is ordinary English prose about models, data and results. " * 6
    lines = [Line(p, prose) for p in range(1, 9)] + [Line(9, "\x01\x02\x03\ufffd" * 80)]
    assert _check_garbage(_raw(lines)) == ["garbled text on page 9: those pages were read as they are"]


def _page_one(*rows: tuple[str, float, bool]) -> list[Line]:
    return [Line(1, text, size, bold, top=100 + 14 * i, page_height=800) for i, (text, size, bold) in enumerate(rows)]


def test_title_and_every_author_of_a_grid():
    lines = _page_one(("Journal of Tests 12 (2020) 3:4", 8, False), ("A STUDY OF LONG-RANGE", 17, True),
                      ("DEPENDENCIES IN TEXT", 17, True), ("Ada Lovelace∗", 10, True), ("Google Brain", 10, False),
                      ("ada@google.com", 10, False), ("Alan M. Turing†", 10, True), ("University of Manchester", 10, False),
                      ("Abstract", 12, True), ("We study things at length in this paper. " * 4, 10, False))
    picked = title_lines(lines)
    assert title_text(picked) == "A Study of Long-Range Dependencies in Text"
    assert authors(lines, picked, {}) == ["Ada Lovelace", "Alan M. Turing"]
    assert find_year(lines, {}, None) == 2020


def test_author_line_broken_by_superscripts_and_affiliation_marks():
    lines = _page_one(("Hierarchical Networks", 14, True), ("Zichao Yang1", 12, True), (", Diyi Yang1", 12, True),
                      (", Alex Smola2 and Eduard Hovy1", 12, True), ("1Carnegie Mellon University, 2Amazon", 12, False),
                      ("Abstract", 12, True))
    assert authors(lines, title_lines(lines), {}) == ["Zichao Yang", "Diyi Yang", "Alex Smola", "Eduard Hovy"]


@pytest.mark.parametrize("meta, stamp, year", [
    ({"CreationDate": "D:19100101"}, None, None),  # a creation-date bug is not a year
    ({"CreationDate": "D:20160405152653"}, None, 2016),
    ({}, 2018, 2018),
])
def test_year_never_from_a_creation_date_before_1990(meta, stamp, year):
    assert find_year(_page_one(("Title of a paper", 14, True)), meta, stamp) == year


def _stamped_paper(path: Path) -> Path:
    from tests.support.pdfgen import Text, write_pdf

    return write_pdf(path, [[Text("A Sample Paper on Testing", 16, True), Text("Ada Lovelace", 11),
                             "arXiv:2112.11446v2 [cs.CL] 21 Jan 2022", Text("Abstract", 12, True),
                             "This paper studies how to test a paper reader. " * 5,
                             Text("1 Introduction", 12, True), "We propose a small benchmark. " * 5]])


def test_lookup_fills_authors_and_doi_from_arxiv_when_page_one_has_the_stamp(tmp_path):
    from paper_reader.core import open_paper
    from paper_reader.settings import load_settings
    from tests.support.arxiv_server import ArxivServer

    pdf = _stamped_paper(tmp_path / "stamped.pdf")
    with ArxivServer() as server:
        settings = load_settings({"arxiv_api": server.api_url, "arxiv_interval": 0.0, "lookup": True})
        paper = open_paper(pdf, settings)
        assert paper.arxiv_id == "2112.11446v2"
        assert paper.authors == ["Ada Lovelace", "Alan Turing"] and paper.doi == "10.1234/sample.2021"
        assert paper.year == 2022  # the stamp's year stays: the PDF printed one
        assert len(server.hits("api")) == 1
        open_paper(pdf, settings)
        assert len(server.hits("api")) == 1  # cached


def test_lookup_off_or_failing_keeps_what_the_pdf_says(tmp_path):
    from paper_reader.core import open_paper
    from paper_reader.settings import load_settings

    pdf = _stamped_paper(tmp_path / "stamped.pdf")
    assert open_paper(pdf, load_settings({})).authors == ["Ada Lovelace"]
    offline = load_settings({"arxiv_api": "http://127.0.0.1:9/api", "arxiv_interval": 0.0, "lookup": True})
    paper = open_paper(pdf, offline)
    assert paper.authors == ["Ada Lovelace"] and "arXiv lookup of 2112.11446v2 failed" in paper.warnings[0]


def test_a_pdf_that_is_not_a_paper_names_no_title_or_authors(tmp_path):
    from paper_reader.reading.reader import read_paper
    from tests.support.pdfgen import Text, write_pdf

    cover = write_pdf(tmp_path / "issue_cover.pdf", [[
        Text("From the Cover", 20, True), Text("Ada Lovelace, Alan Turing", 11),
        "Cover image: a picture of cells under a microscope, with nets wrapped around them. " * 6,
        Text("In This Issue", 14, True), "Short notes on the articles of this issue of the journal. " * 6]])
    paper = read_paper(cover)
    assert paper.title == "issue cover" and paper.authors == []
    assert "does not look like a research paper" in paper.warnings[-1]


def test_a_paper_keeps_its_title_and_authors(sample_pdf):
    from paper_reader.reading.reader import read_paper

    paper = read_paper(sample_pdf)
    assert paper.title == "A Sample Paper on Testing" and paper.authors == ["Ada Lovelace", "Alan Turing"]
    assert not paper.warnings
