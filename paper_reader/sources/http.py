"""HTTP for papers: capped, deadlined downloads checked to be whole PDFs before they are cached,
polite spacing and retries, errors that never show a password or a signed query."""

from __future__ import annotations

import email.utils
import hashlib
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from paper_reader import __version__
from paper_reader.errors import FetchError
from paper_reader.files import atomic_write


USER_AGENT = f"paper-reader/{__version__} (+https://github.com/paper-reader/paper-reader)"

PDF_HINT = "Check your connection or set PAPER_READER_ARXIV_PDF."

MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024  # far above real papers (the largest arXiv PDFs are ~50 MB)

DOWNLOAD_DEADLINE = 600.0  # seconds for a whole download, however slowly the server drips

MAX_RETRY_AFTER = 60.0  # a longer Retry-After is refused, saying so: the wait is better left to the user

BACKOFF = 1.0  # seconds before the first retry when the server gives no Retry-After; doubles each time

_rate_lock = threading.Lock()

_last_api_request = float("-inf")  # time.monotonic() of the last API request, process-wide



def download_pdf(url: str, dest_dir: str | Path, *, filename: str | None = None, user_agent: str = USER_AGENT,
                 timeout: float = 60, retries: int = 3, hint: str = PDF_HINT,
                 max_bytes: int = MAX_DOWNLOAD_BYTES, deadline: float = DOWNLOAD_DEADLINE) -> Path:
    """Download a PDF into dest_dir once (atomically, checked); later calls return the cached file.

    The download is capped in size (after decompression) and in total time, and checked to be a
    whole PDF before it is cached; the temporary file goes on every exit path.
    """
    dest = Path(dest_dir) / (filename or hashlib.sha256(url.encode("utf-8")).hexdigest()[:16] + ".pdf")
    if dest.is_file():
        return dest
    host = _host(url)
    with _client(timeout, user_agent) as client, Deadline(deadline, redact(url)) as limit:
        request = client.build_request("GET", url, extensions={"trace": limit.trace})
        response = _send(client, request, retries, 0.0, host, hint, limit)
        try:
            if response.status_code != 200:
                raise _http_error(response, redact(url), "Check the ID or URL." if response.status_code == 404 else hint)
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise FetchError(f"{redact(url)} is {int(length) / 2**20:.0f} MB, over the "
                                 f"{max_bytes / 2**20:.0f} MB download limit. Download it yourself and pass the file.")
            chunks = _bounded(response, max_bytes, limit, redact(url))
            atomic_write(dest, chunks, check=lambda tmp: _check_pdf(tmp, response, url))
        except httpx.RemoteProtocolError as exc:
            raise FetchError(f"The download of {redact(url)} was cut short. Try again.") from exc
        except httpx.HTTPError as exc:
            raise _network_error(exc, host, hint, timeout) from exc
        finally:
            response.close()
    return dest


class Deadline:
    """One wall-clock limit on a whole answer, headers and body, however slowly the server sends it.

    httpx's timeout bounds each read, so a server that sends a byte a second (of its headers or of
    its body) never trips it. A Deadline is started as each request is sent (`start`); when it runs
    out it shuts down every socket the exchange opened (found through httpcore's `trace` request
    extension), so a read blocked on one ends at once, and the exchange fails as out of time.
    """

    def __init__(self, seconds: float, what: str, doing: str = "to download"):
        self.seconds, self.what, self.doing = seconds, what, doing
        self.expired = False
        self.started = time.monotonic()
        self._sockets: list = []
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def __enter__(self) -> "Deadline":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        """The clock starts (again, for a retry) now, as a request goes out."""
        self.stop()
        with self._lock:
            self.expired, self.started = False, time.monotonic()
        self._timer = threading.Timer(self.seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def trace(self, event: str, info: dict) -> None:
        """httpcore's trace hook: remember each connection's socket as it is opened."""
        if not event.endswith((".connect_tcp.complete", ".start_tls.complete")):
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            late = self.expired
        if late:
            _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)

    def check(self) -> None:
        """Raise the deadline's error once it has passed (also for a server fast enough never to block)."""
        if self.expired or time.monotonic() - self.started > self.seconds:
            raise self.error()

    def error(self) -> FetchError:
        return FetchError(f"{self.what} took more than {self.seconds:g} s {self.doing}. Try again later"
                          + (", or download it yourself and pass the file." if self.doing == "to download" else "."))


def _shut(sock) -> None:
    import socket

    try:
        sock.shutdown(socket.SHUT_RDWR)  # wakes a recv() blocked on it in another thread
    except OSError:
        pass


def _bounded(response: httpx.Response, max_bytes: int, limit: Deadline, what: str):
    """The body's (decoded) bytes, stopping at max_bytes or when the response's deadline passes."""
    got = 0
    chunks = response.iter_bytes()  # as it arrives: a drip must meet the deadline
    while True:
        try:
            chunk = next(chunks, None)
        except httpx.HTTPError:
            if limit.expired:
                raise limit.error() from None
            raise
        if chunk is None:
            if limit.expired:  # a body that runs to the connection's close ends when we shut it down
                raise limit.error()
            return
        got += len(chunk)
        if got > max_bytes:
            raise FetchError(f"{what} sent more than {max_bytes / 2**20:.0f} MB, over the download limit. "
                             "Download it yourself and pass the file.")
        limit.check()
        yield chunk


def _host(url: str) -> str:
    """host[:port] of a URL, never its user:password."""
    try:
        parts = urlsplit(url)
        return (parts.hostname or "") + (f":{parts.port}" if parts.port else "") or redact(url)
    except ValueError:
        return redact(url)



def redact(url: str) -> str:
    """A URL fit to show or store: no user:password, no query string (signatures, tokens)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<the URL>"
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    shown = f"{parts.scheme}://{host}{parts.path}" if parts.scheme else parts.path
    return shown + ("?…" if parts.query else "")



def redact_source(source: str) -> str:
    """A paper argument or reading-list entry fit to show: a URL without its password or signed query."""
    return redact(source) if "://" in source else source


def _check_pdf(tmp: Path, response: httpx.Response, url: str) -> None:
    expected, got = response.headers.get("Content-Length", ""), response.num_bytes_downloaded
    if expected.isdigit() and got != int(expected):
        raise FetchError(f"The download of {redact(url)} was cut short ({got} of {expected} bytes). Try again.")
    with tmp.open("rb") as fh:
        head = fh.read(1024)
        fh.seek(max(0, tmp.stat().st_size - 8192))
        tail = fh.read()
    url = redact(url)
    if head.startswith(b"%PDF-"):
        if b"%%EOF" in tail:
            return
        raise FetchError(f"{url} served a damaged or incomplete PDF (no end-of-file marker). Try again, "
                         "or download it yourself and pass the file.")
    if "html" in response.headers.get("Content-Type", "") or head.lstrip().lower().startswith((b"<!doctype", b"<html")):
        raise FetchError(f"{url} served an HTML page, not a PDF. Give the link to the PDF file itself.")
    raise FetchError(f"{url} did not serve a PDF (it starts with {head[:16]!r}). Give the link to the PDF itself.")



def _client(timeout: float, user_agent: str) -> httpx.Client:
    return httpx.Client(timeout=timeout, headers={"User-Agent": user_agent}, follow_redirects=True)



def _send(client: httpx.Client, request: httpx.Request, retries: int, min_interval: float,
          host: str, hint: str, limit: Deadline | None = None, stream: bool = True) -> httpx.Response:
    """Send, retrying 429/503 with exponential backoff (or the server's Retry-After, up to
    MAX_RETRY_AFTER); the caller closes. `limit` (its trace hook set on the request) starts as each
    attempt goes out and ends one whose headers outlive it."""
    for attempt in range(retries + 1):
        _wait_turn(min_interval)
        if limit is not None:
            limit.start()
        try:
            response = client.send(request, stream=stream)
        except httpx.HTTPError as exc:
            if limit is not None and limit.expired:
                raise limit.error() from None
            raise _network_error(exc, host, hint, client.timeout.read) from exc
        if response.status_code not in (429, 503) or attempt == retries:
            return response
        delay = _retry_after(response.headers.get("Retry-After"), BACKOFF * 2 ** attempt)
        response.close()
        if delay > MAX_RETRY_AFTER:
            raise FetchError(f"{host} asked us to wait {delay:.0f} s before trying again, longer than the "
                             f"{MAX_RETRY_AFTER:.0f} s paper-reader waits at most. Try again later.")
        time.sleep(delay)
    raise AssertionError("unreachable")  # the last attempt always returns



def _wait_turn(min_interval: float) -> None:
    """Space requests at least min_interval seconds apart, across threads (arXiv asks for one per 3 s)."""
    global _last_api_request
    if min_interval <= 0:  # PDF downloads, and tests
        return
    with _rate_lock:
        wait = _last_api_request + min_interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        _last_api_request = time.monotonic()



def _retry_after(value: str | None, default: float) -> float:
    try:  # seconds, or an HTTP date; anything else (or nothing) means the default backoff
        if value.strip().isdigit():
            return float(value)
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (AttributeError, TypeError, ValueError):
        return default



def _network_error(exc: httpx.HTTPError, host: str, hint: str, timeout: float | None) -> FetchError:
    if isinstance(exc, httpx.TimeoutException):
        return FetchError(f"Could not reach {host}: no answer within {timeout:g} s. {hint}")
    reason = one_line(str(exc)) or type(exc).__name__
    return FetchError(f"Could not reach {host}: {reason}. {hint}")



def _http_error(response: httpx.Response, what: str, hint: str) -> FetchError:
    if response.status_code in (429, 503):
        hint = "The server is busy or rate-limiting; wait a minute and try again."
    return FetchError(f"{what} answered {response.status_code} {response.reason_phrase}. {hint}")


def one_line(text: str) -> str:
    """Text on one line: every run of whitespace a single space."""
    return " ".join(text.split())
