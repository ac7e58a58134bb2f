"""A small OpenAI-compatible chat server on 127.0.0.1 for tests and benchmarks.

It answers from the prompt it is sent (so answers are grounded and carry valid citations), can
wait a set latency per call, and can be told to fail: a queue of scripted faults, or a random
share of calls with a given fault.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from typing import Callable

import pytest

from tests.support.loopback import LoopbackServer, QuietHandler

Fault = tuple[int, dict, str]  # (status, headers, body)


def grounded_reply(messages: list[dict]) -> str:
    """A deterministic, well-formed answer built from the prompt's own material."""
    prompt = messages[-1]["content"]
    if "Condense th" in prompt:  # a digest: of one section, or of a pack of them
        body = prompt.split(":\n\n", 1)[-1].split("\n\nCondense", 1)[0]
        body = re.sub(r"^## .*$", "", body, flags=re.M)
        page = re.search(r"\[p\. (\d+)\]", body)
        sentences = re.split(r"(?<=[.!?])\s+", re.sub(r"\[p\. \d+\]\s*", "", body))
        return "\n".join(f"- {s} (p. {page.group(1) if page else 1})" for s in sentences[:3] if s)
    evidence = re.findall(r"^- (\((?:§[\w.]+|[^,()]+), pp?\. [\d–]+\)) (.+)$", prompt, re.M)
    if not evidence:
        return "- **From the sections**: the paper's notes above answer this."
    return "\n".join(f"- **Point {i + 1}**: {text} {cite}" for i, (cite, text) in enumerate(evidence[:3]))


ENDLESS = "\0endless"  # a reply that makes the server misbehave "endless" for that request


class OpenAIServer(LoopbackServer):
    """Run with `with OpenAIServer() as server:`; `server.base_url` ends in /v1."""

    # what a misbehaving server does, by name (see _misbehave)
    KINDS = ("429", "500", "reset", "timeout", "truncated", "empty", "malformed", "endless")

    def __init__(self, reply: Callable[[list[dict]], str] = grounded_reply, latency: float = 0.0,
                 fault_rate: float = 0.0, fault: Fault | str | None = None, seed: int = 0,
                 fault_kinds: tuple[str, ...] = (), hang_seconds: float = 3.0):
        self.reply = reply
        self.latency = latency
        self.fault_rate = fault_rate
        self.fault = fault or (500, {}, '{"error": {"message": "injected failure"}}')
        self.fault_kinds = fault_kinds  # with fault_rate: a random one of these per faulty call
        self.hang_seconds = hang_seconds
        self.faults_served = 0
        self.scripted: list[Fault] = []
        self.requests: list[dict] = []
        self.answered: list[dict] = []  # requests that got a good answer
        self.headers: list[dict] = []
        self.endless_sent = 0  # bytes an "endless" answer got out before the client hung up
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._listen()

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def _next_fault(self) -> Fault | None:
        with self._lock:
            if self.scripted:
                return self.scripted.pop(0)
            if self.fault_rate and self._random.random() < self.fault_rate:
                self.faults_served += 1
                return self._random.choice(self.fault_kinds) if self.fault_kinds else self.fault
        return None

    def _handler(self):
        server = self

        class Handler(QuietHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.requests.append(payload)
                    server.headers.append(dict(self.headers))
                if server.latency:
                    time.sleep(server.latency)
                fault = server._next_fault()
                if isinstance(fault, str):
                    return self._misbehave(fault)
                if fault:
                    return self._send(*fault)
                text = server.reply(payload.get("messages", []))
                if text == ENDLESS:
                    return self._misbehave("endless")
                prompt_tokens = sum(len(m.get("content", "")) for m in payload.get("messages", [])) // 4
                body = {
                    "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
                    "model": payload.get("model", "test"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}],
                    "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(text) // 4,
                              "total_tokens": prompt_tokens + len(text) // 4},
                }
                self._send(200, {}, json.dumps(body))
                if text:
                    with server._lock:
                        server.answered.append(payload)

            def _misbehave(self, kind: str):
                if kind == "429":
                    return self._send(429, {"Retry-After": "0"}, '{"error": {"message": "slow down"}}')
                if kind == "500":
                    return self._send(500, {}, '{"error": {"message": "internal error"}}')
                if kind == "reset":  # close the connection without a response
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return None
                if kind == "timeout":
                    time.sleep(server.hang_seconds)
                    return self._send(504, {}, '{"error": {"message": "gateway timeout"}}')
                if kind == "truncated":  # promise more bytes than are sent, then hang up
                    data = b'{"id": "chatcmpl-test", "choices": [{"message": {"content": "cut'
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data) + 500))
                    self.end_headers()
                    self.wfile.write(data)
                    self.close_connection = True
                    return None
                if kind == "endless":  # no Content-Length, an answer that never ends (100 MB at most)
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.close_connection = True
                    chunk = b"a" * 65536
                    try:
                        self.wfile.write(b'{"id": "x", "object": "chat.completion", "choices": [{"message": {"content": "')
                        while server.endless_sent < 100 * 2**20:
                            self.wfile.write(chunk)
                            server.endless_sent += len(chunk)
                    except OSError:  # the client stopped reading and hung up
                        pass
                    return None
                if kind == "empty":
                    body = {"id": "x", "object": "chat.completion", "created": 0, "model": "test",
                            "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": ""}}],
                            "usage": {"prompt_tokens": 1, "completion_tokens": 0, "total_tokens": 1}}
                    return self._send(200, {}, json.dumps(body))
                return self._send(200, {}, "{not json at all")  # malformed

            def _send(self, status: int, headers: dict, body: str):
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        return Handler


@pytest.fixture(name="server")
def server_with_env(monkeypatch):
    """A loopback OpenAI-compatible server that litellm's openai/ models reach (base URL and a dummy key set)."""
    with OpenAIServer() as srv:
        monkeypatch.setenv("OPENAI_API_BASE", srv.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
        yield srv
