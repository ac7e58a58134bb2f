"""Answer prompts sized by the window: the whole paper as a shared prefix, or the window filled by relevance."""

import re
import threading
import time

import pytest

from paper_reader.models.llm import Completion
from paper_reader.writing.material import BM25, citing_sentences, paper_text
from paper_reader.writing.pipeline import make_notes
from paper_reader.reading.reader import read_paper
from paper_reader.writing.render import render_notes
from paper_reader.writing.questions import load_questions
from tests.conftest import FakeLLM
from tests.support.pdfgen import sample_paper


@pytest.fixture
def paper(sample_pdf):
    return read_paper(sample_pdf)


def _answers(llm):
    return [m for m, _ in llm.history if re.search(r"^Question: ", m[-1]["content"], re.M)]


def test_whole_paper_is_a_byte_identical_prefix_of_every_answer(paper):
    llm = FakeLLM(context_window=128_000)
    notes = make_notes(paper, load_questions(), llm)
    answers = _answers(llm)
    assert len(answers) == 10 and all(a.whole_paper for a in notes.answers)
    prefixes = {m[0]["content"] for m in answers}
    assert len(prefixes) == 1  # system prompt + paper, the same bytes every time
    prefix = prefixes.pop()
    assert "[§3.1, p. 2] We assume that sections fit in memory." in prefix
    assert "[Abstract, p. 1]" in prefix and "Summaries of papers" not in prefix  # references aside
    for m in answers:  # the question's own part follows
        assert "Question: " in m[-1]["content"] and prefix not in m[-1]["content"]


def test_one_answer_warms_the_cache_before_the_others(paper):
    events, lock = [], threading.Lock()

    def reply(messages):
        user = messages[-1]["content"]
        question = re.search(r"^Question: (.*)$", user, re.M)
        kind, key = ("answer", question.group(1)) if question else ("digest", user[:80])
        with lock:
            events.append(("start", kind, key))
        time.sleep(0.02)
        with lock:
            events.append(("end", kind, key))
        return "- **A**: b (§1, p. 1)"

    make_notes(paper, load_questions(), FakeLLM(reply, context_window=128_000), concurrency=8)
    first = events[0]
    assert first[:2] == ("start", "answer") and "What other papers are related" in first[2]
    warm_end = events.index(("end", "answer", first[2]))
    later_starts = [i for i, e in enumerate(events) if e[0] == "start" and e[2] != first[2]]
    assert len(later_starts) == 10 and min(later_starts) > warm_end  # nine answers and the digest


def test_the_window_not_the_paper_sizes_the_prompts(tmp_path):
    paper = read_paper(sample_paper(tmp_path / "long.pdf", extra_pages=12))
    big, small = FakeLLM(context_window=128_000), FakeLLM(context_window=8192)
    make_notes(paper, load_questions(), big)
    notes = make_notes(paper, load_questions(), small)
    big_prompts = ["".join(m["content"] for m in ms) for ms in _answers(big)]
    small_prompts = ["".join(m["content"] for m in ms) for ms in _answers(small)]
    assert big_prompts != small_prompts
    assert max(map(small.count_tokens, small_prompts)) < 8192 * 0.85 < max(map(big.count_tokens, big_prompts))
    assert not any(a.whole_paper for a in notes.answers)


def test_a_small_window_is_filled_by_relevance_and_says_what_it_left_out(tmp_path):
    paper = read_paper(sample_paper(tmp_path / "long.pdf", extra_pages=6))
    llm = FakeLLM(context_window=2048, small=True)
    notes = make_notes(paper, load_questions(), llm)
    for m, _ in llm.history:
        assert sum(llm.count_tokens(x["content"]) for x in m) < 2048 * 0.85
    limitations = next(a for a in notes.answers if a.question.id == "limitations")
    prompt = next(m[-1]["content"] for m in _answers(llm) if "limitations" in m[-1]["content"])
    assert "scanned papers are not supported" in prompt  # the relevant passage, not the first ones
    assert limitations.left_out and all(label.startswith("§") for label in limitations.left_out)
    front = render_notes(notes).split("---\n")[1]
    assert "left_out:" in front and "limitations:" in front


def test_providers_that_need_it_get_the_prefix_marked_for_caching(paper):
    class Recording(FakeLLM):
        def complete(self, messages, max_tokens):
            flat = [{"role": m["role"], "content": m["content"] if isinstance(m["content"], str)
                     else "".join(b["text"] for b in m["content"])} for m in messages]
            self.raw = getattr(self, "raw", []) + [messages]
            return super().complete(flat, max_tokens)

    llm = Recording(context_window=200_000, name="anthropic/claude-3-5-haiku-latest")
    make_notes(paper, load_questions(), llm)
    marked = [m for m in llm.raw if isinstance(m[0]["content"], list)]
    assert len(marked) == len(llm.raw) == 11  # ten answers and the digest all read the cached prefix
    assert all(m[0]["content"][0]["cache_control"] == {"type": "ephemeral"} for m in marked)
    assert len({m[0]["content"][0]["text"] for m in marked}) == 1
    openai = FakeLLM(context_window=128_000, name="openai/gpt-4o-mini")
    make_notes(paper, load_questions(), openai)
    assert all(isinstance(m[0]["content"], str) for m, _ in openai.history)  # cached automatically


def test_related_papers_see_citing_sentences_and_the_bibliography(paper):
    for window in (128_000, 4096):
        llm = FakeLLM(context_window=window)
        make_notes(paper, load_questions(), llm)
        prompt = next(m[-1]["content"] for m in _answers(llm) if "What other papers are related" in m[-1]["content"])
        assert "Where the paper cites other work:" in prompt
        assert "Prior work (Smith et al., 2020) summarised papers without pages." in prompt
        for n, entry in enumerate(["J. Smith and K. Lee", "M. Chen. Reading at scale", "A. Kumar"], start=1):
            assert f"[{n}] {entry}" in prompt


def test_cached_input_tokens_reach_the_front_matter(paper):
    class Caching(FakeLLM):
        def complete(self, messages, max_tokens):
            c = super().complete(messages, max_tokens)
            return Completion(c.text, c.input_tokens, c.output_tokens, c.cost, cached_tokens=100)

    notes = make_notes(paper, load_questions(), Caching(context_window=128_000))
    assert notes.usage.cached_input_tokens == 100 * notes.usage.calls
    front = render_notes(notes).split("---\n")[1]
    assert f"cached_input: {100 * notes.usage.calls}" in front


def test_paper_text_and_citing_sentences(paper):
    text = paper_text(paper.sections)
    assert "## §3.1 Chunking\n[§3.1, p. 2] We assume" in text
    cites = [s.text for s in citing_sentences(paper.sections)]
    assert cites and cites[0].startswith("Prior work (Smith et al., 2020)")


def test_bm25_ranks_the_matching_passage_first():
    docs = ["the model is trained on images", "a limitation is that scanned papers fail",
            "we thank the reviewers"]
    scores = BM25(docs).scores("what are the limitations of this paper")
    assert max(range(3), key=scores.__getitem__) == 1
