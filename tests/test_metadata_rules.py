"""Title, author and year rules argued from how PDFs are made, on generated PDFs.

Each PDF is written here operator by operator, so a test can set what a publisher's layout does:
a footnote mark set smaller and raised (`Ts`, as Word and many typesetters do), two author blocks
side by side on one baseline, a journal's banner larger than the title, an article-type label,
a citation line in the header. No shared papers are needed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from paper_reader.reading import metadata as meta
from paper_reader.reading.reader import read_paper
from paper_reader.types import Line

ABSTRACT = ("This paper studies how a reader of research papers finds the title and the authors on "
            "the first page. We propose rules from how pages are typeset and check them on generated files.")


def _escape(text: str) -> bytes:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("cp1252")


class Page:
    """Page 1 of a generated paper: text placed at given positions, fonts switched mid-line."""

    def __init__(self) -> None:
        self.ops: list[bytes] = []

    def line(self, x: float, y: float, *spans: tuple, bold: bool = False) -> Page:
        """One text line at (x, y): spans are (text, size) or (text, size, rise) in reading order."""
        font = b"F2" if bold else b"F1"
        ops = [b"BT %.1f %.1f Td" % (x, y)]
        for span in spans:
            text, size, rise = (*span, 0.0) if len(span) == 2 else span
            ops.append(b"/%s %.1f Tf %.1f Ts (%s) Tj" % (font, size, rise, _escape(text)))
        self.ops.append(b" ".join(ops) + b" ET")
        return self

    def text(self, x: float, y: float, text: str, size: float = 10.0, bold: bool = False) -> Page:
        return self.line(x, y, (text, size), bold=bold)

    def body(self, y: float, lines: list[str], size: float = 10.0) -> Page:
        for n, text in enumerate(lines):
            self.text(72, y - n * 1.3 * size, text, size)
        return self


def write(path: Path, page: Page, info: dict[str, str] | None = None) -> Path:
    content = b"\n".join(page.ops)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [6 0 R] /Count 1 >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R "
        b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> >>",
    ]
    if info:
        objects.append(b"<< " + b" ".join(b"/%s (%s)" % (k.encode(), _escape(v)) for k, v in info.items()) + b" >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    trailer = b"<< /Size %d /Root 1 0 R" % (len(objects) + 1) + (b" /Info %d 0 R" % len(objects) if info else b"")
    out += b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    path.write_bytes(bytes(out))
    return path


def front(page: Page, y: float = 560) -> Page:
    """An abstract and the start of the body under the front matter, so the file reads as a paper."""
    page.text(72, y, "Abstract", 11, bold=True)
    page.body(y - 16, [ABSTRACT[:95], ABSTRACT[95:]])
    page.text(72, y - 60, "1 Introduction", 11, bold=True)
    page.body(y - 76, ["Readers of papers want the title and the authors as printed, marks removed, "
                       "and the year the paper was published."] * 3)
    return page


# --- superscript marks, by size and baseline rise -------------------------------------------------

def test_footnote_mark_on_the_title_is_dropped_by_its_size_and_rise(tmp_path):
    page = Page().line(72, 700, ("Deep Models for Sparse Graphs", 18), ("1", 11, 7))
    page.text(72, 670, "Ada Lovelace", 11)
    paper = read_paper(write(tmp_path / "p.pdf", front(page)))
    assert paper.title == "Deep Models for Sparse Graphs"


def test_affiliation_letters_are_dropped_as_superscripts_not_guessed_from_letters(tmp_path):
    # "Ren" + raised "a" must give "Ren"; "Smitha", a name set all at one size, must stay "Smitha"
    page = Page().text(72, 700, "Variational Methods for Spatial Data", 18)
    page.line(72, 670, ("Qian Ren", 11), ("a", 7.5, 4), (", Sudipto Banerjee", 11), ("a,*", 7.5, 4),
              (", Anna Smitha", 11), ("b", 7.5, 4))
    page.line(72, 650, ("a", 6, 3), ("Division of Biostatistics, University of Minnesota", 8))
    paper = read_paper(write(tmp_path / "p.pdf", front(page)))
    assert paper.authors == ["Qian Ren", "Sudipto Banerjee", "Anna Smitha"]


def test_marks_are_name_boundaries_even_without_commas(tmp_path):
    page = Page().text(72, 700, "Scaling Laws for Small Readers", 18)
    page.line(72, 670, ("Chunting Zhou", 11), ("1", 7, 4), (" Pengfei Liu", 11), ("2", 7, 4),
              (" Omer Levy", 11), ("1", 7, 4))
    paper = read_paper(write(tmp_path / "p.pdf", front(page)))
    assert paper.authors == ["Chunting Zhou", "Pengfei Liu", "Omer Levy"]


def test_a_raised_letter_inside_a_word_is_not_a_mark():
    # the LaTeX logo: a small raised A between L and T of one word
    line = Line(1, "LATEX Methods", 12, runs=(("L", 12, 100, 0), ("A", 8.5, 97, 0), ("TEX Methods", 12, 100, 0)))
    assert meta.plain(line) == "LATEX Methods"


# --- author blocks ---------------------------------------------------------------------------------

def test_author_blocks_side_by_side_are_split_by_x_position(tmp_path):
    page = Page().text(72, 700, "Two Columns of Authors in One Line", 18)
    page.text(100, 670, "Theodore Johnson", 11).text(360, 670, "Dennis Shasha", 11)
    page.text(100, 655, "University of Florida", 10).text(360, 655, "New York University", 10)
    paper = read_paper(write(tmp_path / "p.pdf", front(page)))
    assert paper.authors == ["Theodore Johnson", "Dennis Shasha"]


def test_the_whole_author_block_is_read_across_line_breaks(tmp_path):
    # a comma-separated list wrapped inside a name ("Scott" / "Shenker"), then one more line
    page = Page().text(72, 700, "Epidemic Algorithms for Replicated Stores", 18)
    page.text(72, 670, "Alan Demers, Mark Gealy, Dan Greene, Carl Hauser,", 12)
    page.text(72, 654, "Wes Irish, Sue Manning, Scott", 12)
    page.text(72, 638, "Shenker, Howard Sturgis, and Doug Terry", 12)
    paper = read_paper(write(tmp_path / "p.pdf", front(page)))
    assert paper.authors == ["Alan Demers", "Mark Gealy", "Dan Greene", "Carl Hauser", "Wes Irish",
                             "Sue Manning", "Scott Shenker", "Howard Sturgis", "Doug Terry"]


def test_names_set_in_capitals_are_read_as_names(tmp_path):
    page = Page().text(72, 700, "Bayesian Inference for Stochastic Epidemics", 18)
    page.text(72, 670, "TOM BRITTON", 11).text(72, 656, "Uppsala University", 9)
    page.text(72, 636, "PHILIP D. O\u2019NEILL", 11).text(72, 622, "University of Nottingham", 9)
    paper = read_paper(write(tmp_path / "p.pdf", front(page)))
    assert paper.authors == ["Tom Britton", "Philip D. O\u2019Neill"]


def test_cjk_author_lines():
    title = Line(1, "知识图谱技术综述", 18.0)
    lines = [title,
             Line(1, "孙伟松 1,2, 陈宇琛 1,2, 陈 宏 1,2, 李佳讯 3", 12.0),
             Line(1, "(南京大学 软件学院, 江苏 南京 210093)", 8.0),
             Line(1, "摘 要: 随着深度学习技术在计算机视觉与自然语言处理等领域取得巨大成功", 9.0)]
    assert meta.authors(lines, [title], {}) == ["孙伟松", "陈宇琛", "陈宏", "李佳讯"]
    korean = Line(1, "멀티 도메인 대화 데이터 셋", 15.0)
    lines = [korean, Line(1, "배수영, 김은총, 정윤경", 9.3), Line(1, "성균관 대학교 인공지능학과", 9.3),
             Line(1, "Improving Document Retrieval Models", 15.0), Line(1, "Suyoung Bae, Eunchong Kim", 9.3),
             Line(1, "요 약", 9.0)]
    # the English title block under the Korean one is a second title: its names are not added again
    assert meta.authors(lines, [korean], {}) == ["배수영", "김은총", "정윤경"]


def test_docinfo_author_used_only_when_the_page_prints_it(tmp_path):
    page = Page().text(72, 700, "A Paper Whose Authors Are Not Printed", 18)
    path = write(tmp_path / "p.pdf", front(page), info={"Author": "Cambridge Journals"})
    assert read_paper(path).authors == []


# --- titles ------------------------------------------------------------------------------------------

def test_journal_masthead_larger_than_the_title_is_not_the_title(tmp_path):
    page = Page().text(200, 760, "Testing Letters A 649 (2024) 129956", 7)
    page.text(200, 735, "Contents lists available at ScienceDirect", 8)
    page.text(220, 710, "Testing Letters A", 15)
    page.text(180, 690, "journal homepage: www.example.org/locate/testa", 8)
    page.text(72, 650, "The Bellman Equation and Optimal Local Flipping Strategies", 13)
    page.text(72, 625, "F. Caravelli", 10.5)
    paper = read_paper(write(tmp_path / "p.pdf", front(page, 540)))
    assert paper.title == "The Bellman Equation and Optimal Local Flipping Strategies"
    assert paper.authors == ["F. Caravelli"]
    assert paper.year == 2024


@pytest.mark.parametrize("label", ["Research Article", "RESEARCH ARTICLE", "Original Paper", "Open Access"])
def test_article_type_label_at_the_title_size_is_not_the_title(tmp_path, label):
    page = Page().text(72, 720, label, 18)
    page.text(72, 695, "Patient Experiences of Structured Programmes", 18, bold=True)
    page.text(72, 665, "Nuala E. Tully, Karen M. Morgan, and Hannah M. McGee", 12, bold=True)
    paper = read_paper(write(tmp_path / "p.pdf", front(page)))
    assert paper.title == "Patient Experiences of Structured Programmes"
    assert paper.authors == ["Nuala E. Tully", "Karen M. Morgan", "Hannah M. McGee"]


def test_docinfo_title_that_agrees_corrects_a_misread_word_and_loses_a_conflict(tmp_path):
    page = Page().text(72, 700, "X3: A Low Overhead High Performance Buffer Algorithm", 17)
    page.text(72, 670, "Theodore Johnson", 12)
    agreeing = write(tmp_path / "a.pdf", front(page),
                     info={"Title": "2Q: A Low Overhead High Performance Buffer Algorithm"})
    assert read_paper(agreeing).title == "2Q: A Low Overhead High Performance Buffer Algorithm"
    conflicting = write(tmp_path / "b.pdf", front(page), info={"Title": "Microsoft Word - draft7 final"})
    assert read_paper(conflicting).title == "X3: A Low Overhead High Performance Buffer Algorithm"


def test_docinfo_title_printed_on_the_page_is_where_the_title_starts(tmp_path):
    # a banner the citation rule does not catch, larger than the title: the file's Title says which it is
    page = Page().text(200, 720, "Computational Statistics and Data Analysis", 15)
    page.text(72, 680, "Variational Bayesian Methods for Spatial Data Analysis", 14)
    page.text(72, 655, "Qian Ren", 11)
    path = write(tmp_path / "p.pdf", front(page),
                 info={"Title": "Variational Bayesian Methods for Spatial Data Analysis"})
    assert read_paper(path).title == "Variational Bayesian Methods for Spatial Data Analysis"


# --- years -------------------------------------------------------------------------------------------

def test_year_of_the_citation_line_not_of_years_in_running_text(tmp_path):
    page = Page().text(72, 760, "Clinical Testing (2014) 126, 305-313", 7)
    page.text(72, 700, "Fragment-based Design of Selective Readers", 18)
    page.text(72, 670, "Ross G. DOUGLAS", 10)
    page.text(72, 560, "Abstract", 11, bold=True)
    page.body(544, [ABSTRACT[:95], ABSTRACT[95:]])
    page.text(72, 500, "1 Introduction", 11, bold=True)
    page.body(484, ["Knowledge graphs are not new: in March 2012 a search engine launched one, and",
                    "the idea goes back to 2006 at least, long before this paper was written down."] * 2)
    paper = read_paper(write(tmp_path / "p.pdf", page))
    assert paper.year == 2014
    assert paper.authors == ["Ross G. Douglas"]


def test_printed_date_of_the_file_loses_to_the_journal_year(tmp_path):
    page = Page().text(72, 760, "Mon. Not. R. Soc. Tests 000, 000-000 (2007) Printed 1 February 2008", 8)
    page.text(72, 700, "Multimodal Nested Sampling for Testing", 18)
    page.text(72, 670, "F. Feroz and M. P. Hobson", 11)
    paper = read_paper(write(tmp_path / "p.pdf", front(page)))
    assert paper.year == 2007
    assert paper.authors == ["F. Feroz", "M. P. Hobson"]


def test_a_date_in_running_text_is_not_the_papers_year(tmp_path):
    def paper(dateline: str | None):
        page = Page().text(72, 700, "Knowledge Graphs: A Survey for Readers", 18)
        page.text(72, 670, "Juanzi Li and Lei Hou", 11)
        if dateline:
            page.text(72, 650, dateline, 10)
        page.text(72, 560, "Abstract", 11, bold=True)
        page.body(544, ["Knowledge graphs are not new: in March 2012 a search engine launched one, and",
                        "the idea goes back to 2006 at least, long before this survey was written."] * 3)
        page.text(72, 60, "\u00a9 2019 The Authors. Published under a CC BY licence.", 7)
        return read_paper(write(tmp_path / "p.pdf", page))

    assert paper(None).year == 2019
    # a dateline on its own is a date, though set in the body size
    assert paper("(Dated: August 22, 2024)").year == 2024
