import pytest

from paper_reader.reading.reader import read_paper
from paper_reader.reading.references import split_references
from paper_reader.reading.sections import kind_of, split_number
from tests.conftest import shared_pdf


@pytest.mark.parametrize("title, number, name", [
    ("3.2 Attention", "3.2", "Attention"),
    ("1. Introduction", "1", "Introduction"),
    ("A.1 Illustration", "A.1", "Illustration"),
    ("Abstract", None, "Abstract"),
    ("１　引言", "1", "引言"),
])
def test_split_number(title, number, name):
    assert split_number(title) == (number, name)


@pytest.mark.parametrize("title, kind", [
    ("Related Work", "related_work"), ("Limitations", "limitations"), ("6 Conclusion and Future Work", "conclusion"),
    ("参考文献", "references"), ("引言", "introduction"), ("Experiments", "experiments"), ("Zebra", "other"),
])
def test_kind_of(title, kind):
    assert kind_of(title) == kind


def test_generated_paper_sections_pages_and_references(sample_pdf):
    paper = read_paper(sample_pdf)
    assert paper.title == "A Sample Paper on Testing"
    assert paper.authors == ["Ada Lovelace", "Alan Turing"]
    found = [(s.number, s.title, s.level, s.first_page) for s in paper.sections if s.kind != "front"]
    assert found == [
        (None, "Abstract", 1, 1), ("1", "Introduction", 1, 1), ("2", "Related Work", 1, 1),
        ("3", "Method", 1, 2), ("3.1", "Chunking", 2, 2), ("4", "Experiments", 1, 2),
        ("5", "Conclusion", 1, 2), (None, "References", 1, 2),
    ]
    assert paper.find_section("3").last_page == 2
    assert [r.arxiv for r in paper.references] == ["2001.01234", None, None]
    assert paper.references[1].doi == "10.1234/acl.2021.55"
    assert paper.pages[1].startswith("3 Method")


def test_outline_is_used_with_nesting_and_pages():
    paper = read_paper(shared_pdf("attention_is_all_you_need.pdf"))
    assert paper.section_source == "outline"
    sec = paper.find_section("3.2.1")
    assert (sec.title, sec.level, sec.first_page) == ("Scaled Dot-Product Attention", 3, 4)
    assert paper.find_section("3").last_page >= 5  # covers its subsections
    assert paper.find_section("References") is not None  # added where the outline stops
    assert len(paper.references) >= 35


@pytest.mark.parametrize("name, expected", [
    ("bert.pdf", ["Abstract", "Introduction", "Related Work", "BERT", "Experiments", "Ablation Studies",
                  "Conclusion", "References"]),
    ("resnet.pdf", ["Abstract", "Introduction", "Related Work", "Deep Residual Learning", "Experiments",
                    "References"]),
    ("zh_mutual_info_ir.pdf", ["摘要", "引言", "基于改进互信息的信息检索扩展模型", "实验设计与结果", "结束语", "参考文献"]),
])
def test_headings_detected_without_outline(name, expected):
    paper = read_paper(shared_pdf(name))
    assert paper.section_source == "detected"
    top = [s.title for s in paper.sections if s.level == 1 and s.kind != "front"]
    for title in expected:
        assert title in top, f"{title!r} not among {top}"


def test_fasttext_is_cleaned():
    paper = read_paper(shared_pdf("fasttext_bag_of_tricks.pdf"))
    text = paper.full_text
    assert "efficient" in text and "ﬁ" not in text
    assert "arXiv:1607.01759v3" not in text  # the margin stamp
    assert paper.arxiv_id == "1607.01759v3" and paper.year == 2016
    assert "representation" in text and "repre- sentation" not in text


def test_chinese_paper_lines_are_joined():
    paper = read_paper(shared_pdf("zh_mutual_info_ir.pdf"))
    assert paper.title == "基于改进互信息的信息检索扩展模型"
    assert "互信息已广泛应用于信息检索扩展模型中" in paper.abstract
    intro = paper.find_section("1")
    assert intro.title == "引言" and "随着网络信息量的与日俱增" in intro.text


@pytest.mark.parametrize("name, count, arxiv", [
    ("distillation.pdf", 9, {"1207.0580"}),
    ("fasttext_bag_of_tricks.pdf", 23, {"1606.01781", "1301.3781", "1602.00367", "1502.01710"}),
    ("bert.pdf", 56, set()),  # truth.json: 56, counted by hanging indent
    ("zh_mutual_info_ir.pdf", 10, set()),  # the appended Chinese block repeats [4]-[10]
])
def test_reference_splitting_on_real_bibliographies(name, count, arxiv):
    refs = read_paper(shared_pdf(name)).references
    assert abs(len(refs) - count) <= max(1, count // 10)
    assert arxiv <= {r.arxiv for r in refs}


@pytest.mark.parametrize("lines, count", [
    (["[1] A. One. Title one. 2020.", "continued here.", "[2] B. Two. Title two. 2021.", "[3] C. Three. T. 2019."], 3),
    (["1. A. One. A first title. 2020.", "2. B. Two. A second title, 2021.", "3. C. Three. Third. 2019."], 3),
    (["Smith, J. and Lee, K. 2020. A title of a paper.", "In Proc. of ACL.",
      "Zhang, Y. 2019. Another paper title here. arXiv:1901.00001."], 2),
])
def test_split_references_styles(lines, count):
    refs = split_references(lines)
    assert len(refs) == count


def test_kinds_follow_what_a_section_is_for(shared_papers):
    paper = read_paper(shared_papers / "epigenetic_smoking_cc_by.pdf")
    kinds = {s.title: s for s in paper.sections if s.level == 1}
    assert kinds["Background"].kind == "introduction"  # opening a medical paper
    assert kinds["Discussion"].is_kind("related_work")  # compares with prior studies
    assert kinds["Declarations"].kind == "acknowledgements"
    distillation = read_paper(shared_papers / "distillation.pdf")
    assert next(s for s in distillation.sections if s.title == "Distillation").kind == "method"


def _doc_lines() -> list:
    from paper_reader.types import Line

    body = "This is a sentence of the body text that goes on for a while."
    return [Line(1, "1 Introduction", 12, True), Line(1, body, 10), Line(1, "1.1 Scope", 11, True),
            Line(1, body, 10), Line(2, "2 Method", 12, True), Line(2, body, 10),
            Line(2, "3 Results", 12, True), Line(2, body, 10), Line(2, "References", 12, True),
            Line(2, "[1] A. Author. A paper. 2020.", 10)]


def test_an_outline_of_bookmark_ids_is_replaced_by_detected_headings():
    from paper_reader.reading.headings import find_headings

    outline = [(0, "Proliferation_of_Conventional_and_Unconv", 1), (0, "_Toc12345", 1), (0, "bookmark3", 2)]
    headings, source = find_headings(outline, _doc_lines())
    assert source == "detected"
    assert [h.title for h in headings if h.level == 1] == ["Introduction", "Method", "Results", "References"]


def test_outline_level_jumps_are_closed_up():
    from paper_reader.reading.headings import outline_headings

    outline = [(0, "1 Introduction", 1), (6, "1.1 Scope", 1), (0, "2 Method", 2), (0, "3 Results", 2)]
    assert [h.level for h in outline_headings(outline, _doc_lines())] == [1, 2, 1, 1]


def test_an_outline_whose_titles_are_not_on_their_pages_is_not_used():
    from paper_reader.reading.headings import outline_headings

    outline = [(0, "Chapter One", 1), (0, "Chapter Two", 2), (0, "Chapter Three", 2)]
    assert outline_headings(outline, _doc_lines()) == []


def test_a_bibliography_without_a_heading_gets_its_references(tmp_path):
    from paper_reader.types import Line
    from paper_reader.reading.headings import find_headings
    from paper_reader.reading.sections import build_sections

    body = "This is a sentence of the body text that goes on for a while."
    lines = [Line(1, "1 Introduction", 12, True)] + [Line(1, body, 10)] * 20 + \
        [Line(2, f"[{i}] A. Author. Paper number {i}. J. Tests {i}, 1 (2020).", 9) for i in range(1, 6)]
    headings, _ = find_headings([], lines)
    refs = [s for s in build_sections(lines, headings) if s.kind == "references"]
    assert len(refs) == 1 and not refs[0].printed and refs[0].text.startswith("[1] A. Author")
