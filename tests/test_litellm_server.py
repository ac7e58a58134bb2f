"""The real litellm path against an OpenAI-compatible server on 127.0.0.1."""

import re

import pytest
from typer.testing import CliRunner

from paper_reader.cli.common import app
from paper_reader.errors import ModelError
from paper_reader.models.llm import LiteLLM
from tests.support.openai_server import OpenAIServer, server_with_env  # noqa: F401 (the `server` fixture)

MODEL = "openai/test-model"




def test_cli_reads_a_paper_through_litellm(server, sample_pdf, tmp_path):
    result = CliRunner().invoke(app, ["read", str(sample_pdf), "-m", MODEL, "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    note = (tmp_path / "A Sample Paper on Testing.md").read_text()
    assert len(re.findall(r"^# \d+\. ", note, re.M)) == 10
    # citations link to their page of the PDF, which lies beside the note
    assert "We propose a simple method for testing readers of papers. [(§1, p. 1)](sample.pdf#page=1)" in note
    assert server.requests and all(r["model"] == "test-model" for r in server.requests)
    assert server.headers[0]["Authorization"] == "Bearer sk-test-not-a-real-key"
    assert "sk-test-not-a-real-key" not in note

    calls = len(server.requests)
    again = CliRunner().invoke(app, ["read", str(sample_pdf), "-m", MODEL, "-o", str(tmp_path), "--force"])
    assert again.exit_code == 0 and len(server.requests) == calls  # the cache answered everything
    assert "0 model calls" in again.stderr


def test_rate_limit_honours_retry_after_then_succeeds(server):
    server.scripted = [(429, {"Retry-After": "1"}, '{"error": {"message": "slow down"}}')]
    llm = LiteLLM(MODEL, retries=2)
    result = llm.complete([{"role": "user", "content": "Question: hi"}], 50)
    assert result.text and len(server.requests) == 2


def test_server_errors_are_retried_then_reported(server):
    server.scripted = [(500, {}, '{"error": {"message": "boom"}}')] * 3
    llm = LiteLLM(MODEL, retries=2)
    with pytest.raises(ModelError, match=r"openai/test-model: the model server failed 3 times"):
        llm.complete([{"role": "user", "content": "hi"}], 50)


def test_bad_key_names_the_model_and_the_variable(server):
    server.scripted = [(401, {}, '{"error": {"message": "Incorrect API key provided: sk-test-n***"}}')]
    with pytest.raises(ModelError, match=r"openai/test-model: no valid API key. Set OPENAI_API_KEY"):
        LiteLLM(MODEL, retries=0).complete([{"role": "user", "content": "hi"}], 50)


def test_empty_answers_are_an_error(monkeypatch):
    with OpenAIServer(reply=lambda m: "") as srv:
        monkeypatch.setenv("OPENAI_API_BASE", srv.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        with pytest.raises(ModelError, match="empty answer"):
            LiteLLM(MODEL, retries=1).complete([{"role": "user", "content": "hi"}], 50)


def test_unreachable_server(monkeypatch):
    monkeypatch.setenv("OPENAI_API_BASE", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with pytest.raises(ModelError, match="cannot reach the model server"):
        LiteLLM(MODEL, retries=1, timeout=5).complete([{"role": "user", "content": "hi"}], 50)


def test_context_window_comes_from_litellm_or_the_flag():
    assert LiteLLM("gpt-4o-mini").context_window == 128000
    assert LiteLLM("openai/unknown-model").context_window == 8192
    assert LiteLLM("openai/unknown-model", context_window=2048).small
