"""An on-disk cache of model calls: same model + messages + limits -> the same answer, no new call."""

from __future__ import annotations

import hashlib
import json
import sys
import threading
from dataclasses import asdict
from pathlib import Path

from paper_reader.errors import PaperReaderError
from paper_reader.files import atomic_write, read_limited
from paper_reader.models.llm import LLM, Completion, Wrapper


class _Stats:
    """What this process's caches did, for an honest message on interrupt."""

    def __init__(self):
        self.enabled = False  # a cache was in use
        self.stored = 0  # answers stored this run
        self.failed = False  # storing failed (read-only or full disk)
        self.lock = threading.Lock()


stats = _Stats()
MAX_ENTRY_BYTES = 16 * 2**20  # a stored answer is a few kB; a larger file is not one of ours


MAX_WINDOW = 10_000_000  # tokens: no model reads more


def _count(value, limit: int) -> bool:
    """A stored count as this program writes it: a whole number from 0 to `limit` (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= limit


def _stored_completion(data) -> Completion | None:
    """A stored answer as a Completion, or None for one that is not what this program writes
    (an entry shipped with a cloned repository, or damaged): asked again and replaced."""
    if not isinstance(data, dict) or not isinstance(data.get("text"), str) or data.get("failed"):
        return None
    numbers = {k: data.get(k, 0) for k in ("input_tokens", "output_tokens", "cached_tokens")}
    if not all(_count(v, 10**9) for v in numbers.values()):
        return None
    return Completion(text=data["text"], **numbers, cost=0.0, cached=True)


class _SizeMemo:
    """A small on-disk memo of sizes (token counts, the context window) for one model, written
    once at exit; a damaged or unwritable file only means counting again."""

    def __init__(self, path: Path):
        self.path, self._data, self._new, self._lock = path, None, 0, threading.Lock()

    def get(self, key: str, compute) -> int:
        with self._lock:
            if self._data is None:
                self._data = self._load()
            if key in self._data:
                return self._data[key]
        value = int(compute())
        with self._lock:
            self._data[key] = value
            self._new += 1
            if self._new == 1:
                import atexit

                atexit.register(self.save)
        return value

    def _load(self) -> dict:
        """The memo's sizes; an entry that is not a plausible size is dropped (the file may come
        with a cloned notes repository): counted again."""
        try:
            data = json.loads(read_limited(self.path, MAX_ENTRY_BYTES) or b"{}")
        except (OSError, ValueError, RecursionError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {k: v for k, v in data.items()
                if isinstance(v, bool) or _count(v, 10**12) and (k != "context_window" or 512 <= v <= MAX_WINDOW)}

    def save(self) -> None:
        with self._lock:
            if not self._new or self._data is None:
                return
            data, self._new = dict(self._data), 0
        try:
            atomic_write(self.path, json.dumps(data, separators=(",", ":")).encode("utf-8"))
        except (OSError, PaperReaderError):  # unwritable, or refused (a symlink out of a notes repository)
            pass  # counted again next time; saved at exit, where no error can be told anyway


class CachedLLM(Wrapper):
    """Wraps any LLM; a hit returns the stored completion marked `cached=True` (and costs nothing)."""

    def __init__(self, inner: LLM, directory: str | Path):
        super().__init__(inner)
        self.directory = Path(directory).absolute()  # the size memo is saved at exit, maybe from another folder
        stats.enabled = True
        self._sizes = _SizeMemo(self.directory / "sizes" / (hashlib.sha256(self.name.encode()).hexdigest()[:16] + ".json"))

    # Token counts and the context size are remembered too: a re-run whose every call is cached then
    # never imports litellm (seconds) or loads a model's vocabulary to count with.
    @property
    def context_window(self) -> int:
        if getattr(self.inner, "_context_window", None):  # --context-window: nothing to look up
            return self.inner.context_window
        return self._sizes.get("context_window", lambda: self.inner.context_window)

    @property
    def small(self) -> bool:
        if getattr(self.inner, "_context_window", None):
            return self.inner.small
        return bool(self._sizes.get("small", lambda: self.inner.small))

    def count_tokens(self, text: str) -> int:
        key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=10).hexdigest()
        return self._sizes.get(key, lambda: self.inner.count_tokens(text))

    def key(self, messages: list[dict], max_tokens: int) -> str:
        blob = json.dumps([self.name, messages, max_tokens], ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()  # any str hashes

    def complete(self, messages: list[dict], max_tokens: int) -> Completion:
        key = self.key(messages, max_tokens)
        path = self.directory / key[:2] / f"{key}.json"
        try:
            stored = _stored_completion(json.loads(read_limited(path, MAX_ENTRY_BYTES) or b""))
            if stored is not None:
                return stored
        except (OSError, ValueError, RecursionError):
            pass  # a miss, or a damaged entry that the next write replaces
        result = self.inner.complete(messages, max_tokens)
        if not result.failed:  # a re-run asks again
            self._store(path, result)
        return result

    def _store(self, path: Path, result: Completion) -> None:
        """Keep the answer; a cache that cannot be written costs a warning, never the paid-for note."""
        try:
            atomic_write(path, json.dumps(asdict(result), ensure_ascii=False).encode("utf-8"))
        except (OSError, ValueError) as exc:
            from paper_reader.models.llm import _stop

            if _stop.is_set():  # interrupted mid-write (SIGTERM removes temp files): not a cache fault
                return
            with stats.lock:
                first, stats.failed = not stats.failed, True
            if first:
                reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
                sys.stderr.write(f"Warning: cannot store model answers in {self.directory} ({reason}); "
                                 "the note is still written, but a re-run will repeat these calls.\n")
            return
        with stats.lock:
            stats.stored += 1
