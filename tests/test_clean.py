import pytest

from paper_reader.clean import (
    drop_figure_debris, drop_margins, garbage_ratio, join_lines, normalize, repair_dropped_ligatures,
)
from paper_reader.document import Line


@pytest.mark.parametrize("raw, clean", [
    ("efﬁcient classiﬁer", "efficient classifier"),
    ("ﬂow ﬀ ﬃ", "flow ff ffi"),
    ("Ｅｘｐａｎｄｅｄ\u3000ｍｏｄｅｌ １２", "Expanded model 12"),
    ("信 息检 索扩 展 模型", "信息检索扩展模型"),
    ("two   spaces", "two spaces"),
])
def test_normalize(raw, clean):
    assert normalize(raw) == clean


@pytest.mark.parametrize("lines, text", [
    (["a repre-", "sentation of text"], "a representation of text"),
    (["left-to-", "right model"], "left-to-right model"),
    (["performs well at dis -", "criminating"], "performs well at discriminating"),
    (["End of line.", "Next line"], "End of line. Next line"),
    (["互信息已广泛", "应用于信息检索"], "互信息已广泛应用于信息检索"),
    (["Model X-", "Ray"], "Model X- Ray"),
])
def test_join_lines(lines, text):
    assert join_lines(lines) == text


def test_margins_and_page_numbers_are_dropped():
    lines = []
    for page in range(1, 6):
        body = [Line(page, f"Sentence {chr(97 + i)} of page {chr(97 + page)}.") for i in range(6)]
        lines += [Line(page, "Journal of Tests, Vol. 3"), *body, Line(page, str(page))]
    kept = drop_margins(lines, page_count=5)
    assert [ln.text for ln in kept if ln.page == 2] == [f"Sentence {c} of page c." for c in "abcdef"]


def test_figure_debris_runs_are_dropped_but_short_runs_kept():
    ticks = [Line(1, t) for t in ["0", "10", "20", "iter. (1e4)", "error (%)"]]
    lines = [Line(1, "A real sentence of the paper body.")] + ticks + [Line(1, "Next sentence here, long enough.")]
    assert [ln.text for ln in drop_figure_debris(lines)] == [
        "A real sentence of the paper body.", "Next sentence here, long enough."]
    short = [Line(1, "Abstract"), Line(1, "Some text that is a sentence.")]
    assert drop_figure_debris(short) == short


def test_dropped_ligatures_restored_when_a_dictionary_can_tell():
    lines = [Line(1, "An efcient method. The rst gure shows the eld."), Line(1, "He was ill.")]
    fixed = [ln.text for ln in repair_dropped_ligatures(lines)]
    assert fixed == ["An efficient method. The first figure shows the field.", "He was ill."]


@pytest.mark.parametrize("text, garbled", [
    ("This is ordinary English prose about models and data. " * 20, False),
    ("\ue000\ue001\ue002\ue003 " * 50, True),
    (" ".join(["xqzt", "brrk", "mnpq", "tsvw"] * 30), True),
    ("", True),
])
def test_garbage_ratio(text, garbled):
    assert (garbage_ratio(text) > 0.3) is garbled


def test_word_halves_at_line_breaks_are_not_ligature_words():
    lines = [Line(1, "the classifi -"), Line(1, "cation step"), Line(1, "seen for this classi -"), Line(1, "fier today")]
    assert join_lines([ln.text for ln in repair_dropped_ligatures(lines)]) == \
        "the classification step seen for this classifier today"
