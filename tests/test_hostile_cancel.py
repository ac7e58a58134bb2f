"""Cancellation and Retry-After against a model server on 127.0.0.1 (issue 10, items 3 and 10).

Each case is bounded: a hung server call is abandoned, never waited for.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paper_reader.models import llm
from tests.support.openai_server import OpenAIServer
from tests.support.pdfgen import sample_paper

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def hanging_server():
    server = OpenAIServer(fault_kinds=("timeout",), hang_seconds=120)
    with server:
        yield server


def _start_read(server, tmp_path: Path, *extra: str) -> subprocess.Popen:
    pdf = sample_paper(tmp_path / "paper.pdf")
    env = {**os.environ, "OPENAI_API_BASE": server.base_url, "OPENAI_API_KEY": "none",
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "paper_reader", "read", str(pdf), "--model", "openai/x",
                             "-o", str(tmp_path / "out"), *extra],
                            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for(condition, seconds: float, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not condition():
        if proc.poll() is not None:
            raise AssertionError(f"exited early: {proc.communicate()[1].decode(errors='replace')[-2000:]}")
        time.sleep(0.05)
    assert condition(), "the model server never got the calls"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_cancels_hung_model_calls_at_once(hanging_server, tmp_path, sig):
    hanging_server.fault_rate = 1.0  # every call hangs for 120 s
    proc = _start_read(hanging_server, tmp_path, "-j", "3")
    try:
        _wait_for(lambda: len(hanging_server.requests) >= 1, 90, proc)
        time.sleep(0.5)  # the calls are in flight, hung
        asked = len(hanging_server.requests)
        sent = time.monotonic()
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=20)
        took = time.monotonic() - sent
    finally:
        proc.kill()
    text = stderr.decode("utf-8", "replace")
    assert took < 4, f"took {took:.1f}s to stop"
    assert proc.returncode == 130 and "Traceback" not in text
    assert "Interrupted" in text and "cancelled" in text
    assert len(hanging_server.requests) == asked  # no retries, no queued calls after the interrupt
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_interrupt_keeps_finished_calls_and_says_how_many(hanging_server, tmp_path):
    proc = _start_read(hanging_server, tmp_path, "-j", "1")
    try:
        _wait_for(lambda: len(hanging_server.answered) >= 2, 90, proc)
        hanging_server.fault_rate = 1.0  # from now on every call hangs
        asked = len(hanging_server.requests)
        _wait_for(lambda: len(hanging_server.requests) > asked, 30, proc)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=20)
    finally:
        proc.kill()
    text = stderr.decode("utf-8", "replace")
    stored = [p for p in (tmp_path / "cache" / "paper-reader" / "llm").rglob("*.json") if p.parent.name != "sizes"]  # answers, not token counts
    said = re.search(r"(\d+) model answers? from this run (?:are|is) kept in the cache", text)
    assert said, text
    assert int(said.group(1)) == len(stored) == len(hanging_server.answered) >= 2


def test_cancelled_call_raises_at_once_and_retry_sleep_is_interruptible(monkeypatch):
    """In-process: a call already in its backoff wait ends when cancel_calls() is called."""
    import threading

    class Boom(Exception):
        pass

    def failing(**kwargs):
        raise Boom("connection error")

    started = time.monotonic()
    timer = threading.Timer(0.3, llm.cancel_calls)
    timer.start()
    try:
        with pytest.raises(llm.Cancelled):
            llm._abandonable(lambda **kw: time.sleep(30), {}, deadline=60)
    finally:
        llm.reset_cancel()
    assert time.monotonic() - started < 2


def test_a_server_that_never_finishes_is_abandoned_at_the_deadline():
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        llm._abandonable(lambda **kw: time.sleep(30), {}, deadline=0.5)
    assert time.monotonic() - started < 2


# -- Retry-After ------------------------------------------------------------------------------

class _Exc(Exception):
    def __init__(self, litellm_headers=None, response_headers=None):
        super().__init__("rate limited")
        self.litellm_response_headers = litellm_headers
        if response_headers is not None:
            self.response = type("R", (), {"headers": response_headers})()


@pytest.mark.parametrize("headers, expected", [
    ({"retry-after": "7"}, 7.0), ({"Retry-After": "3"}, 3.0), ({"retry-after-ms": "1500"}, 1.5),
    ({"retry-after": "1e9"}, 120.0), ({"retry-after": "nan"}, 0.5), ({"retry-after": "soon"}, 0.5),
])
def test_backoff_reads_litellm_response_headers(headers, expected):
    assert llm._backoff(_Exc(litellm_headers=headers), 0) == pytest.approx(expected, abs=0.01)


def test_backoff_still_reads_the_response_headers():
    assert llm._backoff(_Exc(response_headers={"retry-after": "4"}), 0) == 4.0


def test_retry_after_from_a_real_server_is_obeyed(monkeypatch):
    with OpenAIServer() as server:
        server.scripted = [(429, {"Retry-After": "2"}, '{"error": {"message": "slow down"}}')]
        monkeypatch.setenv("OPENAI_API_BASE", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "none")
        model = llm.LiteLLM("openai/x", timeout=10, retries=2)
        started = time.monotonic()
        done = model.complete([{"role": "user", "content": "Question: hi"}], 50)
        took = time.monotonic() - started
    assert done.text
    assert len(server.requests) == 2
    assert 1.8 <= took < 10, f"waited {took:.2f}s instead of the server's 2 s"
