"""Any local GGUF file as the model (`--model gguf:/path/to/model.gguf`), run in-process by llama.cpp.

The same runtime as the embedded default, with the file's own chat template and context size, so
a researcher with a 7B model on disk gets notes offline without running a server.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from paper_reader.errors import ModelError
from paper_reader.models.llm import Completion

PREFIX = "gguf:"
MAX_CONTEXT = 32_768  # a 128k-context file would reserve tens of GB for its KV cache; --context-window raises it
SMALL_FILE = 1_500_000_000  # under ~1.5 GB the model is tiny (≲ 1B parameters): short prompts, strict checks


def is_gguf(model: str) -> bool:
    return model.startswith(PREFIX)


class GgufLLM:
    """The LLM protocol over llama-cpp-python; one call at a time (llama.cpp is not re-entrant)."""

    def __init__(self, model: str, context_window: int | None = None, temperature: float = 0.2):
        self.path = Path(os.path.expanduser(model[len(PREFIX):] if is_gguf(model) else model))
        self.name = f"{PREFIX}{self.path}"
        if not self.path.is_file():
            raise ModelError(f"{self.name}: no such file. Give the path of a .gguf model file.")
        self.temperature = temperature
        self._override = context_window
        self._llama = None
        self._lock = threading.Lock()

    @property
    def small(self) -> bool:
        return self.path.stat().st_size < SMALL_FILE or self.context_window <= 4096

    @property
    def context_window(self) -> int:
        return self._override or min(self._trained_context(), MAX_CONTEXT)

    def _trained_context(self) -> int:
        """The context length the file was trained with (its metadata), read without loading weights."""
        if not hasattr(self, "_trained"):
            with _quiet():  # llama.cpp warns that a vocabulary-only load has no training context
                meta = _llama_class()(model_path=str(self.path), vocab_only=True, verbose=False).metadata or {}
            arch = meta.get("general.architecture", "llama")
            self._trained = int(meta.get(f"{arch}.context_length") or 4096)
        return self._trained

    def _load(self):
        if self._llama is None:
            self._llama = _llama_class()(model_path=str(self.path), n_ctx=self.context_window,
                                         n_threads=os.cpu_count() or 2, verbose=False)
        return self._llama

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return len(self._load().tokenize(text.encode("utf-8"), add_bos=False))

    def complete(self, messages: list[dict], max_tokens: int) -> Completion:
        flat = [{"role": m["role"], "content": m["content"] if isinstance(m["content"], str)
                 else "".join(b.get("text", "") for b in m["content"])} for m in messages]
        with self._lock:
            try:
                out = self._load().create_chat_completion(messages=flat, max_tokens=max_tokens,
                                                          temperature=self.temperature, seed=0)
            except ValueError as exc:  # llama.cpp's "Requested tokens (...) exceed context window"
                if "context window" in str(exc):
                    raise ModelError(f"{self.name}: a prompt did not fit the model's context window. Pass a "
                                     "smaller --context-window so sections are split further.") from exc
                raise ModelError(f"{self.name}: the model call failed ({exc}).") from exc
        text = out["choices"][0]["message"]["content"] or ""
        if not text.strip():
            raise ModelError(f"{self.name} returned an empty answer. Try again, or choose another model.")
        usage = out.get("usage") or {}
        return Completion(text=text, input_tokens=usage.get("prompt_tokens", 0),
                          output_tokens=usage.get("completion_tokens", 0))


def _llama_class():
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        raise ModelError("A GGUF model needs the 'local' extra: pip install 'paper-reader[local]'.") from exc
    return Llama


def _quiet():
    """Silence llama.cpp's own stderr lines (it writes them from C, past Python's logging)."""
    try:
        from llama_cpp._utils import suppress_stdout_stderr

        return suppress_stdout_stderr(disable=False)
    except (ImportError, TypeError):
        from contextlib import nullcontext

        return nullcontext()
