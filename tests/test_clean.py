import pytest

from paper_reader.reading.clean import (
    drop_figure_debris, drop_margins, garbage_ratio, join_lines, map_private_use, normalize, repair_dropped_ligatures,
)
from paper_reader.reading.lexicon import join_soft_hyphens
from paper_reader.types import Line


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


def test_dropped_ligatures_restored_where_the_document_shows_it():
    lines = [Line(1, "An efcient method. The rst gure shows the eld, as the rst one did."),
             Line(1, "He was ill. A signicant efcient step, full of it. Nal Kalchbrenner and NER.")]
    fixed = [ln.text for ln in repair_dropped_ligatures(lines)]
    # "eld", "full", "ill" are dictionary words; "Nal" is a name; "NER" an acronym: all kept
    assert fixed == ["An efficient method. The first figure shows the eld, as the first one did.",
                     "He was ill. A significant efficient step, full of it. Nal Kalchbrenner and NER."]


@pytest.mark.parametrize("text", [
    "The full model with a chain of human experts at the top; species by age.",
    "Nal Kalchbrenner and Cong Yu on NER. D FULL LIST",
    "An efcient method.",  # one non-word is no evidence that this PDF drops ligatures
])
def test_no_repair_rewrites_a_correct_word(text):
    assert repair_dropped_ligatures([Line(1, text)])[0].text == text


def test_private_use_ligature_glyphs_are_learned_from_the_words_they_complete():
    lines = [Line(1, "the \ue000rst \ue000gure, a de\ue000nition, \ue001ow and \ue002 math")]
    assert map_private_use(lines)[0].text == "the first figure, a definition, flow and  math"


def test_control_characters_and_replacement_characters_are_dropped():
    assert normalize("women \ufffd16 years \x01x \x02\x85") == "women 16 years x"


@pytest.mark.parametrize("lines, text", [
    (["the dis\x02", "cretization of time"], "the discretization of time"),  # PDFium's other break mark
    (["the dis\xad", "cretization of time"], "the discretization of time"),  # a producer's soft hyphen
    (["the dis\u2010", "cretization of time"], "the discretization of time"),  # the typographer's hyphen
    (["a state-of-the\xad", "art model"], "a state-of-the-art model"),
])
def test_every_line_break_hyphen_mark_joins_the_word(lines, text):
    from paper_reader.reading.clean import clean_lines

    got = clean_lines([Line(1, t, 10.0, x0=50, x1=300, top=100 + 12 * i, page_height=800)
                       for i, t in enumerate(lines)], 1)
    assert join_lines([ln.text for ln in got]) == text


def test_maths_letters_beyond_the_bmp_read_as_letters():
    assert normalize("weights \U0001d44a and \U0001d707") == "weights W and μ"


@pytest.mark.parametrize("text, joined", [
    ("represen\ufffetation", "representation"),
    ("task\ufffespecific", "task-specific"),
    ("English\ufffeto-German", "English-to-German"),
    ("Rad\ufffeford et al.", "Radford et al."),
])
def test_soft_hyphens_join_words_and_keep_compounds(text, joined):
    assert join_soft_hyphens(text) == joined


def test_garbled_scripts_are_garbage():
    armenian = "Հայերեն տեքստ է սա, ոչ թե չինարեն " * 20
    assert garbage_ratio(armenian) > 0.3
    assert garbage_ratio("模型通过对互信息矩阵进行计算，得到查询词集合。" * 20) < 0.05


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


def test_bibliography_entries_are_cut_at_a_word_boundary():
    from paper_reader.types import Reference

    ref = Reference("Sennrich, R., Haddow, B. and Birch, A. Neural machine translation of rare words with "
                    "subword units. In Proceedings of the Annual Meeting of the Association for Computational "
                    "Linguistics, 2016.")
    cut = ref.excerpt(100)
    assert len(cut) <= 100 and cut.endswith("…")
    assert ref.text.startswith(cut[:-1]) and ref.text[len(cut) - 1] in " ,"  # a whole word before the mark
    assert Reference("short entry").excerpt(100) == "short entry"


_REAL = {
    "chinese": "知识图谱以结构化的方式描述客观世界中概念、实体及其间的关系，将互联网的信息表达成更接近人类认知世界的形式。" * 4,
    "japanese": "マップの生成環境を図4に示す。天候はカメラ画像に影響の少ないくもりの日、画像間距離を1.4[m]として走行させた。" * 4,
    "korean": "대화 형식에 대해서도 학습할 필요성이 있다. 따라서 본 논문에서는 멀티 도메인 대화 데이터 셋을 사용한다. " * 4,
    "cyrillic": "Мы предлагаем новый метод оценки параметров модели, основанный на вариационном выводе. " * 4,
    "greek": "Η προτεινόμενη μέθοδος βασίζεται στη στατιστική ανάλυση των δεδομένων του πειράματος. " * 4,
    "diacritics": "Les résultats montrent que la méthode proposée améliore la précision à très faible coût. " * 4,
    "maths": "Let 𝑊 ∈ ℝ^{d×k} and 𝜇 = E[x]; then ‖𝑊x − 𝜇‖₂ ≤ ε holds for all x ∈ 𝒳 with probability 1 − δ. " * 4,
    "ascii maths": "p(x | θ) = ∑_k π_k N(x; μ_k, Σ_k), where the weights satisfy ∑ π_k = 1 and (3) gives the EM update. " * 4,
}
_GARBAGE = {
    "mixed-script soup": "aၜඌള\u0fedྐ༏a҂\u0e5dൈ௹֥սіቔ\u0bd6đѩ\u0ba5ކၛ\u0e6dோ֩૭ඍྐ༏bᆩ്\u0e6d௶ିܔ\u0d50࠹ෘࠏ" * 6,
    "armenian/georgian": "ՀՁՂՃՄՅՆՇՈՉ ႠႡႢႣႤႥႦ ๑๒๓๔๕ ՊՋՌՍՎՏՐ ႧႨႩႪႫ " * 8,
    "private-use run": "\ue000\ue001\ue012\ue0a3 \ue044\ue045\ue046 \ue100\ue101 " * 20,
    "ascii symbol soup": "6,AI4*7A :35=*,<=77*Q=,<6;;7*?6<*3,+&W3G=B=5$<@=5=65=+<*77:6,J5=+=65?@?@677=,Q=+ " * 4,
    "glyph names": "/G21/G22/G23/G24/G25/G26/G27/G28/G21/G22/G23/G21/G24/G25/G26/G27/G28/G29/G32/G33 " * 6,
    "c1 controls": "\x87&s\x88\x89\x8a\x8b\x8c$\x8d\x8e\x8f4Wf gR\x90\x91\x92cWZ@\x95uv$\x88uv " * 8,
}


@pytest.mark.parametrize("script", sorted(_REAL))
def test_real_text_in_every_script_the_tool_reads_is_not_garbled(script):
    from paper_reader.reading.clean import garbage_ratio

    assert garbage_ratio(_REAL[script]) < 0.3, script


@pytest.mark.parametrize("kind", sorted(_GARBAGE))
def test_what_a_font_without_a_unicode_map_produces_is_garbled(kind):
    from paper_reader.reading.clean import garbage_ratio

    assert garbage_ratio(_GARBAGE[kind]) > 0.3, kind
