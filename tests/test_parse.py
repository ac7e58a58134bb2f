import pytest

from paper_reader.writing.parse import check_citations, clean_answer, cut_loops, grounded, safe_markdown
from paper_reader.reading.reader import read_paper


@pytest.mark.parametrize("raw, clean", [
    ("<think>let me think</think>- **A**: b", "- **A**: b"),
    ("```markdown\n- **A**: b\n```", "- **A**: b"),
    ("Answer: It works.", "It works."),
    ("* one\n• two\n1. three", "- one\n- two\n- three"),
    ("- same line here\n- same line here\n- other", "- same line here\n- other"),
    ("A long first line that also says the study evaluates criteria.\nThe study evaluates criteria.",
     "A long first line that also says the study evaluates criteria."),
    ("Paper: Title\nQuestion: What?\n- real", "- real"),
    ("[p] 10) We propose X.", "We propose X."),
    ("", ""),
])
def test_clean_answer(raw, clean):
    assert clean_answer(raw) == clean


def test_cut_loops():
    assert cut_loops("a b c d a b c d a b c d a b c d") == "a b c d a b c d …"
    assert cut_loops("no loop in this line at all") == "no loop in this line at all"


@pytest.fixture(scope="module")
def paper(tmp_path_factory):
    from tests.support.pdfgen import sample_paper

    return read_paper(sample_paper(tmp_path_factory.mktemp("p") / "s.pdf"))


@pytest.mark.parametrize("text, kept, removed, out", [
    ("Fast (§3.1, p. 2).", 1, 0, "Fast (§3.1, p. 2)."),
    ("Bad section (§9, p. 1).", 0, 1, "Bad section."),
    ("Bad page (§1, p. 99).", 0, 1, "Bad page."),
    ("Range (§3, pp. 1–2) ok.", 1, 0, "Range (§3, pp. 1–2) ok."),
    ("Named (Introduction, p. 1) and (Magic Section, p. 1).", 1, 1, "Named (Introduction, p. 1) and."),
    ("Sloppy (§3.1, p 2) and (§2.A, pagenumber: x).", 1, 1, "Sloppy (§3.1, p. 2) and."),
    ("Brackets [§ 3.1; pp. 1-2].", 1, 0, "Brackets (§3.1, pp. 1–2)."),
    ("No citations.", 0, 0, "No citations."),
])
def test_check_citations(paper, text, kept, removed, out):
    result = check_citations(text, paper)
    assert (result.kept, result.removed, result.text) == (kept, removed, out)


def test_page_only_citations_are_not_complete(paper):
    assert check_citations("Claim [p 2].", paper).complete == 0
    assert check_citations("Claim (§1, p. 1).", paper).complete == 1


def test_grounded_drops_invented_sentences():
    vocab = {"propose", "simple", "method", "testing", "readers", "papers", "pipeline", "keeps", "page", "numbers"}
    text = "- We propose a simple method for testing readers. Yuval Israel invented quantum bananas yesterday.\n- Zork blarg fleeb."
    assert grounded(text, vocab) == "- We propose a simple method for testing readers."


@pytest.mark.parametrize("hostile", [
    "# Not a heading", "---", "```python\nunclosed", "{{ not_a_variable }}", "{% raw %}", "===",
])
def test_safe_markdown_neutralises_structure(hostile):
    out = safe_markdown(hostile)
    assert not out.startswith("#") and out.strip() not in ("---", "===")
    if "```" in hostile:
        assert "\\```" in out


def test_a_cited_page_outside_its_section_becomes_the_sections_pages(paper):
    from paper_reader.writing.parse import check_citations

    conclusion = paper.find_section("5")
    wrong = 1 if conclusion.first_page > 1 else paper.page_count + 0
    text = f"The method will be extended (§5, p. {wrong})."
    out = check_citations(text, paper).text
    expected = f"(§5, p. {conclusion.first_page})" if conclusion.first_page == conclusion.last_page else \
        f"(§5, pp. {conclusion.first_page}–{conclusion.last_page})"
    assert out == f"The method will be extended {expected}."


def test_a_page_is_kept_when_any_section_of_that_name_reaches_it():
    from paper_reader.types import Paper, Section
    from paper_reader.writing.parse import check_citations

    paper = Paper(source="x.pdf", title="T", pages=["a"] * 9, sections=[
        Section("Abstract", first_page=1, last_page=1), Section("Conclusions", level=2, first_page=1, last_page=1),
        Section("Results", first_page=2, last_page=7), Section("Conclusions", first_page=8, last_page=9)])
    assert check_citations("It works (Conclusions, p. 8).", paper).text == "It works (Conclusions, p. 8)."
    assert check_citations("It works (Results, p. 9).", paper).text == "It works (Results, pp. 2–7)."
