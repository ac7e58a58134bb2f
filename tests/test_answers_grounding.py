"""Figures checked with their form and unit; small-model sentences supported by one place or replaced."""

import pytest

from paper_reader.writing.grounding import check_numbers, supported
from paper_reader.writing.pipeline import make_notes
from paper_reader.reading.reader import read_paper
from paper_reader.writing.questions import load_questions
from tests.conftest import FakeLLM

KNOWN = {"30": {""}, "45.2": {"%"}, "0.744": {""}, "2": {"×"}, "1000": {""}}


@pytest.mark.parametrize("answer, flagged", [
    ("It improves the method by 30%.", ["30%"]),  # "30" is in the paper, "30%" is not
    ("It improves the method by 30 percent.", ["30 percent"]),
    ("It improves results by 30 points.", []),
    ("From 45.2% of responses.", []),
    ("From 45.2 percent of responses.", []),
    ("From 45.2 % of responses.", []),
    ("A score of 0.744.", []),
    ("A score of 0.74.", ["0.74"]),
    ("A 2x speed-up.", []),
    ("1,000 papers.", []),
    ("90% correctness.", ["90%"]),
])
def test_figures_need_their_form_and_unit(answer, flagged):
    assert check_numbers(answer, KNOWN)[1] == flagged


SOURCE = [
    ("We propose a simple method for testing readers of papers.", "(§1, p. 1)"),
    ("The method reaches 91.5% accuracy on the test set.", "(§1, p. 1)"),
    ("A limitation is that scanned papers are not supported.", "(§4, p. 2)"),
    ("Each chunk keeps its page.", "(§3.1, p. 2)"),
]


def test_supported_sentences_are_kept():
    text, replaced = supported("- The paper proposes a simple method for testing readers of papers.", SOURCE)
    assert text == "- The paper proposes a simple method for testing readers of papers." and replaced == 0


def test_two_adjacent_sentences_may_support_one():
    text, _ = supported("A simple method for testing readers reaches 91.5% accuracy on the test set.", SOURCE)
    assert "91.5%" in text and "(§1, p. 1)" not in text


def test_an_invented_figure_is_replaced_by_the_source_sentence_verbatim():
    text, replaced = supported("- The method reaches 97% accuracy on the test set.", SOURCE)
    assert text == "- The method reaches 91.5% accuracy on the test set. (§1, p. 1)" and replaced == 1


def test_an_inverted_or_invented_claim_gives_way_or_goes():
    text, replaced = supported("- Scanned papers are fully supported by a method that improves 30%.\n"
                               "- Purple quantum giraffes dance.", SOURCE)
    assert "giraffes" not in text and "30%" not in text
    assert "A limitation is that scanned papers are not supported. (§4, p. 2)" in text and replaced == 1


def test_small_model_notes_contain_no_unflagged_invented_figure(sample_pdf):
    paper = read_paper(sample_pdf)
    llm = FakeLLM(lambda m: "- The method improves the current method by 30% and reaches 90% correctness "
                            "on the test set of papers.", small=True, context_window=2048)
    notes = make_notes(paper, load_questions(), llm)
    for a in notes.answers:
        assert "30%" not in a.text and "90%" not in a.text, a.text
