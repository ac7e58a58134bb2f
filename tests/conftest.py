"""Shared fixtures: an isolated home, a fake model, real and generated PDFs."""

from __future__ import annotations

import os
import re
from collections import deque
from pathlib import Path

import pytest

from paper_reader.models.llm import Completion
from tests.support.pdfgen import sample_paper

SHARED = Path(__file__).resolve().parents[2] / "shared" / "papers"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "epigenetic_smoking_cc_by.pdf"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    """No test reads or writes the user's config, cache or keys."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    for name in list(os.environ):
        if name.startswith(("PAPER_READER_", "OPENAI_", "ANTHROPIC_")):
            monkeypatch.delenv(name, raising=False)
    return home


class FakeLLM:
    """The LLM protocol with canned replies (a queue, or a function of the messages) and a history."""

    def __init__(self, replies=None, context_window: int = 8192, small: bool = False, name: str = "fake/model"):
        self.name = name
        self.context_window = context_window
        self.small = small
        self._queue = deque()
        self._fn = None
        if callable(replies):
            self._fn = replies
        elif replies:
            self._queue.extend(replies)
        self.history: list[tuple[list[dict], int]] = []

    def enqueue(self, *replies: str) -> None:
        self._queue.extend(replies)

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]", text))

    def complete(self, messages, max_tokens):
        self.history.append((messages, max_tokens))
        if self._queue:
            text = self._queue.popleft()
        elif self._fn:
            text = self._fn(messages)
        else:
            text = "- **Default**: the paper proposes a method."
        if isinstance(text, Exception):
            raise text
        return Completion(text=text, input_tokens=sum(self.count_tokens(m["content"]) for m in messages),
                          output_tokens=self.count_tokens(text), cost=0.001)

    def prompts(self, kind: str) -> list[str]:
        """The user prompts of one stage: "digest" or "answer"."""
        def is_digest(text):
            return "Condense th" in text or "most important facts" in text

        texts = [m[-1]["content"] for m, _ in self.history]
        if kind == "digest":
            return [t for t in texts if is_digest(t)]
        return [t for t in texts if "Question:" in t and not is_digest(t)]


@pytest.fixture
def fake_llm():
    return FakeLLM()


@pytest.fixture
def sample_pdf(tmp_path) -> Path:
    return sample_paper(tmp_path / "sample.pdf")


@pytest.fixture
def shared_papers() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent: the shared real papers live beside the project checkout")
    return SHARED


def shared_pdf(name: str) -> Path:
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"{path} is absent: the shared real papers live beside the project checkout")
    return path
