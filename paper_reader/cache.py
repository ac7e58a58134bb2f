"""An on-disk cache of model calls: same model + messages + limits -> the same answer, no new call."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from .files import atomic_write
from .llm import LLM, Completion


class CachedLLM:
    """Wraps any LLM; a hit returns the stored completion marked `cached=True` (and costs nothing)."""

    def __init__(self, inner: LLM, directory: str | Path):
        self.inner = inner
        self.directory = Path(directory)
        self.name = inner.name

    @property
    def context_window(self) -> int:
        return self.inner.context_window

    @property
    def small(self) -> bool:
        return self.inner.small

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def key(self, messages: list[dict], max_tokens: int) -> str:
        blob = json.dumps([self.name, messages, max_tokens], ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def complete(self, messages: list[dict], max_tokens: int) -> Completion:
        key = self.key(messages, max_tokens)
        path = self.directory / key[:2] / f"{key}.json"
        try:
            data = json.loads(path.read_text("utf-8"))
            return Completion(**{**data, "cached": True, "cost": 0.0})
        except (OSError, ValueError, TypeError):
            pass  # a miss, or a damaged entry that the next write replaces
        result = self.inner.complete(messages, max_tokens)
        atomic_write(path, json.dumps(asdict(result), ensure_ascii=False).encode("utf-8"))
        return result
