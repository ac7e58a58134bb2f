"""arXiv IDs and URLs -> metadata (from the arXiv API's Atom feed) and a cached PDF."""

from __future__ import annotations

import io
import json
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import httpx

from paper_reader.errors import FetchError, InputError
from paper_reader.types import Word
from paper_reader.files import atomic_write, read_limited
from paper_reader.sources.http import (DOWNLOAD_DEADLINE, MAX_DOWNLOAD_BYTES, USER_AGENT, Deadline, _bounded, _client,
                                       _host, _http_error, _network_error, _send, download_pdf, one_line)


API_URL = "https://export.arxiv.org/api/query"

PDF_URL = "https://arxiv.org/pdf"

API_HINT = "Check your connection or set PAPER_READER_ARXIV_API."

URL_HINT = "Check the URL and your connection."

ID_HELP = "A valid arXiv ID looks like 2112.11446, 2112.11446v2, arXiv:2112.11446 or hep-th/9901001."

MAX_API_BYTES = 2 * 1024 * 1024  # one Atom entry is a few kB

_NEW_ID = re.compile(r"(\d{2})(\d{2})\.(\d{4,5})(v[1-9]\d*)?")

_OLD_ID = re.compile(r"([a-z]+(?:-[a-z]+)?)(\.[A-Z]{2})?/(\d{2})(\d{2})(\d{3})(v[1-9]\d*)?")

_LOOKS_NEW = re.compile(r"\d{4}\.\d+(v\d*)?")

_LOOKS_OLD = re.compile(r"([a-z-]+)(\.[A-Za-z]{2})?/\d+(v\d*)?")

# The archives of old-style IDs (before April 2007); naming them keeps "notes/2020" a path.
_OLD_ARCHIVES = set(
    "acc-phys adap-org alg-geom ao-sci astro-ph atom-ph bayes-an chao-dyn chem-ph cmp-lg comp-gas "
    "cond-mat cs dg-ga funct-an gr-qc hep-ex hep-lat hep-ph hep-th math math-ph mtrl-th nlin "
    "nucl-ex nucl-th patt-sol physics plasm-ph q-alg q-bio quant-ph solv-int supr-con".split())

_ARXIV_HOSTS = {"arxiv.org", "www.arxiv.org", "export.arxiv.org"}

_WITHDRAWN_COMMENT = re.compile(r"\bwithdrawn\b", re.I)

_WITHDRAWN_ABSTRACT = re.compile(r"^\W*this (paper|article|submission|manuscript|work) (has been|is) withdrawn", re.I)



class SourceKind(Word):
    ARXIV = "arxiv"
    URL = "url"
    PATH = "path"


@dataclass(frozen=True)
class Source:
    """What a paper argument names: an arXiv paper, a URL, or a local path."""

    kind: SourceKind
    value: str  # the bare arXiv ID (no version), the URL, or the path as given
    version: str | None = None  # "v2" when an arXiv version was asked for



@dataclass(frozen=True)
class ArxivMetadata:
    """One arXiv paper's metadata, as the arXiv API reports it."""

    id: str
    version: str
    title: str
    authors: list[str] = field(default_factory=list)
    abstract: str = ""
    categories: list[str] = field(default_factory=list)
    published: str = ""  # ISO dates, e.g. 2021-12-08
    updated: str = ""
    doi: str | None = None
    journal_ref: str | None = None
    pdf_url: str | None = None
    withdrawn: bool = False



@dataclass(frozen=True)
class Fetched:
    """A paper ready to read: a local PDF, plus arXiv metadata when there is some."""

    path: Path
    metadata: ArxivMetadata | None = None
    url: str | None = None  # where the PDF came from; None for a local file



def parse_source(text: str) -> Source:
    """Classify a paper argument as an arXiv ID, an arXiv or other URL, or a local path."""
    text = text.strip()
    if re.match(r"https?://", text, re.I):
        parts = urlsplit(text)
        route = re.match(r"/(abs|pdf)/(.+?)/?$", parts.path)
        if (parts.hostname or "").lower() in _ARXIV_HOSTS and route:
            return _arxiv_source(re.sub(r"\.pdf$", "", route.group(2)), text)
        return Source(SourceKind.URL, text)
    if text.lower().startswith("arxiv:"):
        return _arxiv_source(text[6:].strip(), text)
    old = _LOOKS_OLD.fullmatch(text)
    if (_LOOKS_NEW.fullmatch(text) or (old and old.group(1) in _OLD_ARCHIVES)) and not Path(text).exists():
        return _arxiv_source(text, text)
    return Source(SourceKind.PATH, text)



def _arxiv_source(candidate: str, original: str) -> Source:
    new, old = _NEW_ID.fullmatch(candidate), _OLD_ID.fullmatch(candidate)
    if new:
        yymm, number = new.group(1) + new.group(2), new.group(3)
        # 4-digit numbers ran April 2007 - December 2014, 5-digit ones since January 2015
        ok = 1 <= int(new.group(2)) <= 12 and yymm >= "0704" and (len(number) == 5) == (yymm >= "1501")
        if ok:
            return Source(SourceKind.ARXIV, candidate[: new.start(4)] if new.group(4) else candidate, new.group(4))
    elif old and old.group(1) in _OLD_ARCHIVES and 1 <= int(old.group(4)) <= 12:
        return Source(SourceKind.ARXIV, candidate[: old.start(6)] if old.group(6) else candidate, old.group(6))
    raise InputError(f"'{original}' is not a valid arXiv ID. {ID_HELP}")



def fetch(source_text: str, *, cache_dir: str | Path, api_url: str = API_URL, pdf_url: str = PDF_URL,
          timeout: float = 60, min_interval: float = 3.0, retries: int = 3,
          max_bytes: int = MAX_DOWNLOAD_BYTES, deadline: float = DOWNLOAD_DEADLINE) -> Fetched:
    """Resolve a paper argument to a local PDF, downloading (once) and fetching arXiv metadata as needed."""
    source = parse_source(source_text)
    pdf_dir = Path(cache_dir) / "pdf"
    if source.kind == "path":
        return Fetched(Path(source.value))
    if source.kind == "url":
        path = download_pdf(source.value, pdf_dir, timeout=timeout, retries=retries, hint=URL_HINT,
                            max_bytes=max_bytes, deadline=deadline)
        return Fetched(path, None, source.value)
    asked = source.value + (source.version or "")
    meta = cached_metadata(asked, cache_dir=cache_dir, api_url=api_url, timeout=timeout,
                           min_interval=min_interval, retries=retries)
    if meta.withdrawn:
        earlier = f" Ask for an earlier version, e.g. {meta.id}v1." if meta.version not in ("", "v1") else ""
        raise FetchError(f"arXiv {meta.id}{meta.version} has been withdrawn by its authors.{earlier}")
    versioned = meta.id + (source.version or meta.version)
    url = f"{pdf_url.rstrip('/')}/{versioned}"
    path = download_pdf(url, pdf_dir, filename=versioned.replace("/", "_") + ".pdf", timeout=timeout,
                        retries=retries, max_bytes=max_bytes, deadline=deadline)
    return Fetched(path, meta, url)



def cached_metadata(arxiv_id: str, *, cache_dir: str | Path, api_url: str = API_URL, timeout: float = 60,
                    min_interval: float = 3.0, retries: int = 3) -> ArxivMetadata:
    """One paper's arXiv record, from the cache or (once) from the arXiv API."""
    meta_path = Path(cache_dir) / "arxiv" / (arxiv_id.replace("/", "_") + ".json")
    meta = _load_metadata(meta_path)
    if meta is None:
        meta = fetch_metadata(arxiv_id, api_url=api_url, timeout=timeout, min_interval=min_interval, retries=retries)
        atomic_write(meta_path, json.dumps(asdict(meta), ensure_ascii=False).encode("utf-8"))
    return meta



def fetch_metadata(arxiv_id: str, *, api_url: str = API_URL, user_agent: str = USER_AGENT, timeout: float = 60,
                   min_interval: float = 3.0, retries: int = 3) -> ArxivMetadata:
    """One paper's metadata from the arXiv API (Atom), politely spaced and retried."""
    host = _host(api_url)
    with _client(timeout, user_agent) as client, Deadline(timeout * 2, f"The arXiv API at {host}", "to answer") as limit:
        request = client.build_request("GET", api_url, params={"id_list": arxiv_id, "max_results": "1"},
                                       extensions={"trace": limit.trace})
        response = _send(client, request, retries, min_interval, host, API_HINT, limit)
        try:
            if response.status_code != 200:
                raise _http_error(response, f"The arXiv API at {host}", API_HINT)
            body = b"".join(_bounded(response, MAX_API_BYTES, limit, f"The arXiv API at {host}"))
        except httpx.HTTPError as exc:
            raise _network_error(exc, host, API_HINT, timeout) from exc
        finally:
            response.close()
    return _parse_feed(body, arxiv_id, host)



def _parse_feed(body: bytes, arxiv_id: str, host: str) -> ArxivMetadata:
    feed = feedparser.parse(io.BytesIO(body))  # a stream, so feedparser never treats it as a URL or path
    if not feed.version.startswith("atom"):
        snippet = " ".join(body[:60].decode("utf-8", "replace").split())
        raise FetchError(f"The arXiv API at {host} did not answer with an Atom feed ({snippet!r}). {API_HINT}")
    entries = [e for e in feed.entries if "/abs/" in e.get("id", "")]
    if entries and not _same_paper(entries[0].id.split("/abs/", 1)[1], arxiv_id):
        raise FetchError(f"The arXiv API at {host} answered for another paper "
                         f"({one_line(entries[0].id)[:80]!r}) than {arxiv_id}. {API_HINT}")
    if not entries:
        error = next((e for e in feed.entries if e.get("title") == "Error"), None)
        if error is not None:
            raise FetchError(f"arXiv rejected the ID {arxiv_id}: {one_line(error.get('summary', ''))}. {ID_HELP}")
        raise FetchError(f"arXiv has no paper {arxiv_id}. Check the ID.")
    return _metadata(entries[0])



def _same_paper(entry_id: str, asked: str) -> bool:
    """The entry is a well-formed arXiv ID naming the paper asked for (any version if none was asked)."""
    try:
        got = _arxiv_source(entry_id.strip(), entry_id)
        want = _arxiv_source(asked, asked)
    except InputError:
        return False
    return got.value == want.value and (want.version is None or got.version == want.version)



def _metadata(entry) -> ArxivMetadata:
    versioned = entry.id.split("/abs/", 1)[1]
    match = re.search(r"v\d+$", versioned)
    primary = (entry.get("arxiv_primary_category") or {}).get("term")
    terms = [t.get("term") for t in entry.get("tags", []) if t.get("term")]
    abstract, comment = one_line(entry.get("summary", "")), entry.get("arxiv_comment", "")
    return ArxivMetadata(
        id=versioned[: match.start()] if match else versioned,
        version=match.group(0) if match else "",
        title=one_line(entry.get("title", "")),
        authors=[a.get("name", "") for a in entry.get("authors", []) if a.get("name")],
        abstract=abstract,
        categories=list(dict.fromkeys([primary, *terms] if primary else terms)),
        published=_iso_date(entry, "published"),
        updated=_iso_date(entry, "updated"),
        doi=entry.get("arxiv_doi") or None,
        journal_ref=one_line(entry.get("arxiv_journal_ref", "")) or None,
        pdf_url=next((link.href for link in entry.get("links", []) if link.get("title") == "pdf"), None),
        withdrawn=bool(_WITHDRAWN_COMMENT.search(comment) or _WITHDRAWN_ABSTRACT.search(abstract)),
    )



def _load_metadata(path: Path) -> ArxivMetadata | None:
    """The stored record, or None for a miss, a damaged entry or one that is not what this program
    writes (it may come with a cloned repository's cache folder): the next lookup replaces it."""
    try:
        meta = ArxivMetadata(**json.loads(read_limited(path, MAX_API_BYTES) or b""))  # limited
    except (OSError, ValueError, TypeError, RecursionError):
        return None
    texts = (meta.id, meta.version, meta.title, meta.abstract, meta.published, meta.updated)
    optional = (meta.doi, meta.journal_ref, meta.pdf_url)
    lists = (meta.authors, meta.categories)
    if not (all(isinstance(t, str) for t in texts) and all(t is None or isinstance(t, str) for t in optional)
            and all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in lists)
            and isinstance(meta.withdrawn, bool)):
        return None
    return meta




def _iso_date(entry, key: str) -> str:
    parsed = entry.get(f"{key}_parsed")
    return time.strftime("%Y-%m-%d", parsed) if parsed else entry.get(key, "")[:10]

