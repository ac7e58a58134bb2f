"""The evidence benchmark's server simulates prefix caching, and cached tokens reach the note's usage."""

from benchmarks.evidence import CachingServer, normalize, reach
from paper_reader.models.llm import LiteLLM


def test_a_repeated_long_prefix_is_reported_cached_through_litellm(monkeypatch):
    prefix = "The paper says many things. " * 400  # ~2,800 tokens at 4 characters each
    with CachingServer() as server:
        monkeypatch.setenv("OPENAI_API_BASE", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        model = LiteLLM("openai/bench", context_window=128_000, retries=0)
        first = model.complete([{"role": "system", "content": prefix}, {"role": "user", "content": "Question: a?"}], 50)
        second = model.complete([{"role": "system", "content": prefix}, {"role": "user", "content": "Question: b?"}], 50)
        short = model.complete([{"role": "system", "content": "short"}, {"role": "user", "content": "Question: c?"}], 50)
        model.complete([{"role": "system", "content": "short"}, {"role": "user", "content": "Question: c?"}], 50)
    assert first.cached_tokens == 0 and short.cached_tokens == 0
    assert second.cached_tokens >= 1024 and second.cached_tokens % 128 == 0
    assert second.cached_tokens <= second.input_tokens
    assert server.log[-1]["cached_tokens"] == 0  # a repeated prompt under 1,024 tokens is not cached


def test_gold_sentences_are_matched_through_markers_and_hyphenation():
    prompt = "[§3.2, p. 4] We propose a new sim- ple network architecture, the \ufb01rst."
    gold = {"1": ["We propose a new simple network architecture, the first", "a sentence that is not there"]}
    r = reach("x", gold, {1: prompt}, normalize(prompt))
    assert (r["found"], r["total"]) == (1, 2)
