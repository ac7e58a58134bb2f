import re
import threading
import time

import pytest

from paper_reader.models.cache import CachedLLM
from paper_reader.errors import ModelError
from paper_reader.writing.evidence import chunk_section, pick_evidence, split_sentences
from paper_reader.writing.pipeline import make_notes
from paper_reader.reading.reader import read_paper
from paper_reader.writing.questions import load_questions
from tests.conftest import FakeLLM
from tests.support.pdfgen import sample_paper


@pytest.fixture
def paper(sample_pdf):
    return read_paper(sample_pdf)


def test_small_models_digest_each_section_from_its_own_sentences_then_answer_each_question(paper):
    llm = FakeLLM(small=True, context_window=2048)
    notes = make_notes(paper, load_questions(), llm)
    digested = [s for s in paper.sections if s.kind not in ("references", "front")]
    assert llm.prompts("digest") == [] and len(notes.digests) == len(digested) == notes.chunks
    method = next(d for d in notes.digests if d.sections[0].label == "§3")
    assert method.text == "- We propose a simple method for testing readers of papers. (p. 2)\n" \
        "- Our contribution is a pipeline that keeps page numbers. (p. 2)\n" \
        "- The method reaches 91.5% accuracy on the test set. (p. 2)"
    assert len(llm.prompts("answer")) == 9  # related papers come from the paper's own citations
    assert notes.usage.calls == len(llm.history)


def test_large_windows_pack_short_sections_into_one_digest_call(paper, fake_llm):
    notes = make_notes(paper, load_questions(), fake_llm)
    digests = fake_llm.prompts("digest")
    assert len(digests) == notes.chunks == 1  # the whole sample paper fits one pack
    # it also fits the window whole: the digest call names the sections of the paper in its prefix
    prefix = next(m[0]["content"] for m, _ in fake_llm.history if "Condense th" in m[-1]["content"])
    for section in paper.sections:
        if section.kind not in ("references", "front"):
            assert f"- {section.label}" in digests[0] and section.text[:40] in prefix
    assert len(fake_llm.prompts("answer")) == 10
    assert [a.question.id for a in notes.answers][:3] == ["contribution", "importance", "limitations"]


def test_long_sections_are_split_and_nothing_is_dropped(tmp_path):
    paper = read_paper(sample_paper(tmp_path / "long.pdf", extra_pages=3))
    llm = FakeLLM(context_window=700)
    make_notes(paper, load_questions(), llm)
    digests = llm.prompts("digest")
    assert len(digests) > len(paper.sections)  # sections were split to fit 700 tokens
    for section in paper.sections:
        if section.kind in ("references", "front"):
            continue
        for sentence in split_sentences(section.text):
            assert sum(sentence in d for d in digests) >= 1, sentence
    assert all(llm.count_tokens(m[-1]["content"]) + llm.count_tokens(m[0]["content"]) < 700
               for m, _ in llm.history)


def test_chunking_keeps_pages_and_every_sentence(paper):
    section = paper.find_section("1")
    chunks = chunk_section(section, budget=12, count=lambda t: len(t.split()))
    assert len(chunks) > 1 and all(c.first_page == 1 for c in chunks)
    assert " ".join(re.sub(r"\[p\. \d+\] ", "", c.text) for c in chunks) == " ".join(split_sentences(section.text))


def test_evidence_prefers_cue_sentences_in_the_right_sections(paper):
    q = next(q for q in load_questions().questions if q.id == "limitations")
    picked = pick_evidence(paper, q.sources, q.cues)
    assert picked[0].text == "A limitation is that scanned papers are not supported."
    assert picked[0].cite == "(§4, p. 2)"


def test_answers_without_citations_get_sources_and_bad_ones_are_removed(paper):
    llm = FakeLLM(lambda m: "- **Claim**: a point (§7, p. 40)." if "Question:" in m[-1]["content"] else "- fact")
    notes = make_notes(paper, load_questions(), llm)
    for a in notes.answers[:8]:  # 9 (related papers) is checked against the bibliography instead
        assert "(§7, p. 40)" not in a.text and a.citations_removed == 1
        assert re.search(r"Sources: \((§[\d.]+|Abstract|Front matter), pp?\. \d", a.text), a.text


def test_small_models_keep_only_what_the_paper_supports(paper):
    invented = ("- We propose a simple method for testing readers of papers, and the pipeline keeps page numbers. "
                "Yuval Israel discovered purple quantum giraffes.")
    llm = FakeLLM(lambda m: invented, context_window=2048, small=True)
    notes = make_notes(paper, load_questions(), llm)
    for a in notes.answers:
        assert "giraffes" not in a.text
        assert "simple method" in a.text or a.question.id == "related"


def test_small_model_with_nothing_grounded_falls_back_to_the_papers_words(paper):
    llm = FakeLLM(lambda m: "Zork blarg fleeb quux wibble wobble.", small=True, context_window=2048)
    contribution = make_notes(paper, load_questions(), llm).answers[0]
    assert "We propose a simple method for testing readers of papers. (§1, p. 1)" in contribution.text


def test_calls_run_concurrently_within_the_bound(paper):
    active, peak, lock = 0, 0, threading.Lock()

    def slow(messages):
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.02)
        with lock:
            active -= 1
        return "- **A**: b (§1, p. 1)"

    make_notes(paper, load_questions(), FakeLLM(slow), concurrency=3)
    assert peak == 3


def test_model_errors_propagate(paper):
    llm = FakeLLM([ModelError("fake/model: rate limited after 5 tries.")])
    with pytest.raises(ModelError, match="rate limited"):
        make_notes(paper, load_questions(), llm, concurrency=1)


def test_cache_makes_a_rerun_free(paper, tmp_path):
    inner = FakeLLM(lambda m: "- **A**: b (§1, p. 1)")
    first = make_notes(paper, load_questions(), CachedLLM(inner, tmp_path / "cache"))
    calls = len(inner.history)
    second = make_notes(paper, load_questions(), CachedLLM(inner, tmp_path / "cache"))
    assert len(inner.history) == calls and second.usage.calls == 0 and second.usage.cached == calls
    assert [a.text for a in first.answers] == [a.text for a in second.answers]
    assert second.usage.cost == 0


def _related(notes):
    return next(a for a in notes.answers if a.question.id == "related")


def test_related_papers_are_only_bibliography_entries(paper):
    def reply(messages):
        prompt = messages[-1]["content"]
        if "What other papers are related" not in prompt:
            return "- **A**: b (§1, p. 1)"
        assert "[1] J. Smith and K. Lee. Summaries of papers." in prompt
        return ("- **Builds on** [1] Smith and Lee summarised papers (§2, p. 1).\n"
                "- **Compared against** Vaswani et al. 2017, Attention is all you need.")

    answer = _related(make_notes(paper, load_questions(), FakeLLM(reply)))
    assert "Smith and Lee summarised papers" in answer.text
    assert "[arXiv:2001.01234](https://arxiv.org/abs/2001.01234)" in answer.text
    assert "Vaswani" not in answer.text and answer.related_dropped == 1


def test_related_papers_fall_back_to_what_the_paper_cites(paper):
    answer = _related(make_notes(paper, load_questions(), FakeLLM(lambda m: "- Totally Invented (2031)")))
    assert answer.text.startswith("- **Related work**: J. Smith and K. Lee. Summaries of papers.")
    assert "(§2, p. 1)" in answer.text


def test_figures_not_in_the_paper_are_flagged(paper):
    def reply(messages):
        return "- **Accuracy**: the method reaches 91.5% accuracy, not 97.3% (§1, p. 1)."

    answer = make_notes(paper, load_questions(), FakeLLM(reply)).answers[0]
    assert answer.text.endswith("*Unverified figures (not found in the paper): 97.3%*")
    assert (answer.numbers_checked, answer.numbers_flagged) == (2, 1)


def test_small_model_fragments_give_way_to_the_papers_words(paper):
    llm = FakeLLM(lambda m: "- The overall structure.", small=True, context_window=2048)
    contribution = make_notes(paper, load_questions(), llm).answers[0]
    assert "We propose a simple method for testing readers of papers. (§1, p. 1)" in contribution.text
