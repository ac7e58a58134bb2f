"""Whose fault a failed model call is (issue 16, item 3) and what a server's answer may cost (issue 20,
item 4): only transport and provider errors are retried; a fault of this program fails at once with
its real cause; an answer is capped in bytes and a Retry-After in seconds. Real litellm, real
OpenAI-compatible servers on 127.0.0.1."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from paper_reader.errors import ModelError
from paper_reader.models import llm
from paper_reader.models.llm import MAX_ANSWER_BYTES, MAX_RESPONSE_BYTES, MAX_RETRY_AFTER, LiteLLM
from tests.support.openai_server import ENDLESS, OpenAIServer, server_with_env  # noqa: F401 (the `server` fixture)
from tests.support.pdfgen import sample_paper

MODEL = "openai/test-model"
PROJECT = Path(__file__).resolve().parents[1]
LONE = "\ud835"  # the high half of U+1D44A (mathematical italic W), without its low half




# -- a fault of ours is not the server's ----------------------------------------------------------

def test_a_prompt_with_a_lone_surrogate_fails_once_and_names_the_real_cause(server):
    model = LiteLLM(MODEL, retries=4)
    model._key_checked  # litellm's import (seconds) is not what is timed
    started = time.monotonic()
    with pytest.raises(ModelError) as caught:
        model.complete([{"role": "user", "content": f"Question: what is {LONE}?"}], 50)
    message = str(caught.value)
    assert "UnicodeEncodeError" in message and "surrogates not allowed" in message
    assert "inside paper-reader" in message and "not retried" in message
    assert not re.search(r"server failed|Re-run later|cannot reach", message)  # the server is not blamed
    assert server.requests == []  # nothing was sent, so nothing was sent five times
    assert time.monotonic() - started < 3  # no backoff between retries that never happen
    assert "\n" not in message


def test_a_value_that_is_not_text_in_a_prompt_fails_once(server):
    with pytest.raises(ModelError, match=r"TypeError: Object of type PosixPath"):
        LiteLLM(MODEL, retries=4).complete([{"role": "user", "content": Path("x")}], 50)
    assert server.requests == []


def _wrapped_as_litellm_does(fail) -> Exception:
    """What litellm hands back for an exception raised under it: its own InternalServerError (status
    500), raised while handling the real one."""
    lm = llm._litellm()
    try:
        try:
            fail()
        except Exception as inner:
            raise lm.InternalServerError(message=f"OpenAIException - {inner}", model="x", llm_provider="openai")
    except Exception as outer:
        return outer


def test_a_fault_that_starts_in_paper_readers_code_is_ours_whatever_litellm_calls_it():
    from paper_reader.library.merge import stamp

    wrapped = _wrapped_as_litellm_does(lambda: stamp(None))  # a TypeError raised in paper_reader/
    assert wrapped.status_code == 500 and llm.own_fault(wrapped)
    assert "inside paper-reader" in llm._local_message("m", wrapped) and "TypeError" in llm._local_message("m", wrapped)


def test_a_fault_that_starts_in_a_library_or_at_the_server_is_not_ours():
    import json

    import httpx

    assert not llm.own_fault(_wrapped_as_litellm_does(lambda: json.loads("{not json")))  # a malformed answer
    assert not llm.own_fault(_wrapped_as_litellm_does(lambda: httpx.get("http://127.0.0.1:9/", timeout=2)))
    assert not llm.own_fault(_wrapped_as_litellm_does(lambda: llm._abandonable(lambda: time.sleep(5), {}, 0.1)))


def test_the_cli_says_the_real_cause_in_one_line_and_a_traceback_with_v(tmp_path):
    pdf = sample_paper(tmp_path / "paper.pdf")
    questions = tmp_path / "questions.yaml"
    questions.write_text('questions:\n  - "What does \\ud835 stand for in the paper?"\n', "utf-8")
    with OpenAIServer() as srv:
        env = {**os.environ, "OPENAI_API_BASE": srv.base_url, "OPENAI_API_KEY": "sk-test",
               "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
        runs = {}
        for flags in ((), ("-v",)):
            runs[flags] = subprocess.run(
                [sys.executable, "-m", "paper_reader", *flags, "read", str(pdf), "-m", MODEL, "-t", str(questions),
                 "-o", str(tmp_path / "out")], env=env, cwd=PROJECT, capture_output=True, text=True, timeout=120)
        assert srv.requests == []
    quiet, verbose = runs[()], runs[("-v",)]
    for run in (quiet, verbose):
        assert run.returncode == 1
        errors = [line for line in run.stderr.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1 and "UnicodeEncodeError" in errors[0] and "inside paper-reader" in errors[0]
        assert "server failed" not in errors[0]
    assert "Traceback" not in quiet.stderr
    assert "Traceback" in verbose.stderr and "UnicodeEncodeError" in verbose.stderr
    assert not (tmp_path / "out").exists()


# -- the server's faults are still retried --------------------------------------------------------

@pytest.mark.parametrize("body", ['{"choices": [{}]}', "{not json", '{"choices": "none"}'])
def test_a_malformed_answer_is_the_servers_and_is_retried(server, body):
    server.scripted = [(200, {}, body)]
    done = LiteLLM(MODEL, retries=2).complete([{"role": "user", "content": "Question: hi"}], 50)
    assert done.text and len(server.requests) == 2


def test_a_dropped_connection_is_retried(server):
    server.scripted = ["reset", "truncated"]
    done = LiteLLM(MODEL, retries=2).complete([{"role": "user", "content": "Question: hi"}], 50)
    assert done.text and len(server.requests) == 3


# -- every answer bounded -------------------------------------------------------------------------

def _huge(messages):
    """50 MB for the question about limitations, ordinary answers to everything else."""
    prompt = messages[-1]["content"]
    if "limitations" in prompt.split("Question:")[-1][:200]:
        return ("The limitation is stated here again and again. " * 20 + "\n") * 50_000  # ~50 MB
    return "- **Point**: We propose a simple method for testing readers of papers (§1, p. 1)."


def _read_with(tmp_path, monkeypatch, srv, out="out"):
    from typer.testing import CliRunner

    from paper_reader.cli.common import app

    pdf = sample_paper(tmp_path / "paper.pdf")
    monkeypatch.setenv("OPENAI_API_BASE", srv.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("PAPER_READER_CACHE_DIR", str(tmp_path / "cache"))
    result = CliRunner().invoke(app, ["read", str(pdf), "-m", MODEL, "-o", str(tmp_path / out)])
    assert result.exit_code == 0, result.output
    return next((tmp_path / out).glob("*.md")).read_text("utf-8"), result


def _one_answer(note: str) -> None:
    assert len(re.findall(r"^# \d+\. ", note, re.M)) == 10  # every other answer is there
    assert note.count("We propose a simple method") >= 5


def test_a_50_mb_answer_is_stopped_at_4_mb_saying_so_and_the_rest_of_the_note_is_kept(tmp_path, monkeypatch):
    with OpenAIServer(reply=_huge) as srv:
        note, result = _read_with(tmp_path, monkeypatch, srv)
    assert len(note.encode("utf-8")) < 4 * MAX_ANSWER_BYTES
    assert re.search(r"sent more than 4 MB for one answer \(the server announced 4\d\.\d MB\)", note)
    _one_answer(note)
    assert "Warning:" in result.stderr and "more than 4 MB" in result.stderr  # and the user is told at once


def test_an_answer_that_never_ends_is_stopped_while_it_downloads_and_asked_again_next_time(tmp_path, monkeypatch):
    """No Content-Length, a body that goes on: the download stops at the cap, not at the deadline
    or the end of memory; the stand-in is not cached, so the next run asks again."""
    def endless(messages):
        return ENDLESS if "limitations" in messages[-1]["content"].split("Question:")[-1][:200] else _huge(messages)

    with OpenAIServer(reply=endless) as srv:
        note, result = _read_with(tmp_path, monkeypatch, srv)
        assert MAX_RESPONSE_BYTES <= srv.endless_sent < MAX_RESPONSE_BYTES + 16 * 2**20  # socket buffers aside
        assert "sent more than 4 MB for one answer (more than 4 MB arrived)" in note
        _one_answer(note)
        asked = len(srv.requests)
        _read_with(tmp_path, monkeypatch, srv, out="again")
        assert len(srv.requests) == asked + 1  # only the stopped answer is asked again


def test_a_1_mb_answer_is_cut_at_64_kb_saying_so(tmp_path, monkeypatch):
    def big(messages):
        prompt = messages[-1]["content"]
        if "limitations" in prompt.split("Question:")[-1][:200]:
            return ("The limitation is stated here again and again. " * 20 + "\n") * 1000  # ~1 MB
        return _huge(messages)

    with OpenAIServer(reply=big) as srv:
        note, result = _read_with(tmp_path, monkeypatch, srv)
    assert len(note.encode("utf-8")) < 4 * MAX_ANSWER_BYTES
    assert re.search(r"sent an answer of 0\.9 MB, over the 64 kB paper-reader keeps of one answer", note)
    _one_answer(note)


def test_an_answer_under_the_cap_is_untouched(server):
    server.reply = lambda m: "x" * (MAX_ANSWER_BYTES - 10)
    assert LiteLLM(MODEL, retries=0).complete([{"role": "user", "content": "hi"}], 50).text == "x" * (MAX_ANSWER_BYTES - 10)


def test_a_lone_surrogate_in_an_answer_becomes_a_replacement_character(server):
    server.reply = lambda m: "W is \ud835 here"  # json.dumps escapes it as \\ud835: valid JSON, no character
    assert LiteLLM(MODEL, retries=0).complete([{"role": "user", "content": "hi"}], 50).text == "W is \ufffd here"


def test_a_retry_after_of_a_billion_seconds_is_capped_and_the_cap_said(server, capfd):
    """The wait is MAX_RETRY_AFTER, not 10^9 s: Ctrl-C (cancel_calls) ends it, as a user would."""
    server.scripted = [(429, {"Retry-After": "1000000000"}, '{"error": {"message": "slow down"}}')]
    timer = threading.Timer(1.5, llm.cancel_calls)
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(llm.Cancelled):
            LiteLLM(MODEL, retries=2).complete([{"role": "user", "content": "Question: hi"}], 50)
    finally:
        timer.cancel()
        llm.reset_cancel()
    assert time.monotonic() - started < 10
    err = capfd.readouterr().err
    assert f"asked to wait 1000000000 s before trying again; waiting {MAX_RETRY_AFTER:.0f} s" in err


# -- the OpenAI key goes to OpenAI's server (or the one you named) only ----------------------------

def test_an_openai_compatible_provider_without_its_own_key_is_not_sent_the_openai_key(server, monkeypatch):
    """litellm falls back to OPENAI_API_KEY for friendliai/ (and others) when the provider's own key is
    unset; the provider's server (here on 127.0.0.1, by its own base variable) must not get it."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-user-openai-secret")
    monkeypatch.setenv("FRIENDLI_API_BASE", server.base_url)
    for name in ("FRIENDLI_TOKEN", "FRIENDLIAI_API_KEY", "FRIENDLI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ModelError) as caught:
        LiteLLM("friendliai/some-model", retries=0).complete([{"role": "user", "content": "hello"}], 20)
    assert "would send your OPENAI_API_KEY" in str(caught.value) and "FRIENDLI_TOKEN" in str(caught.value)
    assert "sk-user-openai-secret" not in str(caught.value)
    assert server.requests == [] and server.headers == []


def test_an_openai_compatible_provider_with_its_own_key_is_called_with_that_key(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-user-openai-secret")
    monkeypatch.setenv("FRIENDLI_API_BASE", server.base_url)
    monkeypatch.setenv("FRIENDLI_TOKEN", "friendli-own-token")
    answer = LiteLLM("friendliai/some-model", retries=0).complete([{"role": "user", "content": "hello"}], 20)
    assert not answer.failed
    sent = [h.get("Authorization") or h.get("authorization") for h in server.headers]
    assert sent == ["Bearer friendli-own-token"]


def test_openai_models_still_use_the_openai_key(server):
    answer = LiteLLM(MODEL, retries=0).complete([{"role": "user", "content": "hello"}], 20)
    assert not answer.failed and len(server.requests) == 1


@pytest.mark.parametrize("name", ["scaleway/some-model", "friendliai/some-model", "github/some-model"])
def test_a_provider_outside_litellms_openai_compatible_list_is_not_lent_the_key(name, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-user-openai-secret")
    for var in [v for v in os.environ if v.startswith(("SCALEWAY", "FRIENDLI", "GITHUB"))]:
        monkeypatch.delenv(var)
    with pytest.raises(ModelError, match="would send your OPENAI_API_KEY"):
        LiteLLM(name, retries=0)._key_checked


def test_a_provider_whose_own_key_is_set_or_on_this_machine_is_not_refused(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-user-openai-secret")
    monkeypatch.setenv("SCALEWAY_API_KEY", "own")
    LiteLLM("scaleway/some-model", retries=0)._no_borrowed_key()
    LiteLLM("ollama/llama3", retries=0)._no_borrowed_key()  # localhost
    LiteLLM("anthropic/claude-3-5-sonnet", retries=0)._no_borrowed_key()
