"""A small stand-in for arXiv on 127.0.0.1: the API's Atom feed and PDFs, with faults on demand.

`/api/query?id_list=ID[vN]` answers like export.arxiv.org (an Atom feed with one entry, or none for
an ID arXiv does not know); `/pdf/ID[vN]` and `/files/<name>` serve a PDF made by pdfgen. Faults are
queued per route ("api" or "pdf") and each answers one request: 404, 429/503 (with Retry-After),
slow (sleeps before answering), short (Content-Length larger than the bytes sent), html.
"""

from __future__ import annotations

import tempfile
import threading
import time
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.support.loopback import LoopbackServer, QuietHandler
from tests.support.pdfgen import sample_paper

WITHDRAWN = "This paper has been withdrawn by the author due to an error in the main proof."
HTML_PAGE = "<!DOCTYPE html><html><head><title>arXiv</title></head><body>Please wait.</body></html>"


@dataclass
class Paper:
    id: str
    versions: int = 2
    title: str = "A Sample Paper\n  on Testing"  # hard-wrapped, as arXiv sends it
    authors: list[str] = field(default_factory=lambda: ["Ada Lovelace", "Alan Turing"])
    abstract: str = "This paper studies how to test a paper reader.\n  We propose a small benchmark."
    categories: list[str] = field(default_factory=lambda: ["cs.CL", "cs.LG"])
    published: str = "2021-12-08T19:41:47Z"
    updated: str = "2022-01-21T12:00:00Z"
    doi: str | None = "10.1234/sample.2021"
    journal_ref: str | None = "J. Test. Papers 1 (2022) 1-10"
    comment: str = "12 pages, 3 figures"
    withdrawn: bool = False  # the last version is a withdrawal notice, as arXiv shows it


DEFAULT_PAPERS = [
    Paper("2112.11446"),
    Paper("hep-th/9901001", versions=1, doi=None, journal_ref=None, categories=["hep-th"],
          published="1999-01-04T00:00:00Z", updated="1999-01-04T00:00:00Z"),
    Paper("2301.00001", versions=3, withdrawn=True),  # its last version is the withdrawal notice
]


@dataclass
class Request:
    time: float  # time.monotonic() when it arrived
    route: str  # "api", "pdf" or "other"
    path: str
    query: dict
    headers: dict


class ArxivServer(LoopbackServer):
    """Run with `with ArxivServer() as server:`; point api_url at server.api_url, pdf_url at server.pdf_url."""

    def __init__(self, papers: list[Paper] | None = None, slow_seconds: float = 2.0):
        self.papers = {p.id: p for p in (papers if papers is not None else DEFAULT_PAPERS)}
        self.slow_seconds = slow_seconds
        self.faults: dict[str, list[tuple[str, dict]]] = {"api": [], "pdf": []}
        self.requests: list[Request] = []
        with tempfile.TemporaryDirectory() as tmp:
            self.pdf_bytes = sample_paper(Path(tmp) / "sample.pdf").read_bytes()
        self._lock = threading.Lock()
        self._listen()

    @property
    def base_url(self) -> str:
        return self.origin

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/query"

    @property
    def pdf_url(self) -> str:
        return f"{self.base_url}/pdf"

    def fail(self, route: str, kind: str, times: int = 1, **options) -> None:
        """Queue a fault for the next `times` requests on a route: 404, 429, 503, slow, short or html."""
        with self._lock:
            self.faults[route].extend([(kind, options)] * times)

    def hits(self, route: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.route == route]

    def _record(self, route: str, path: str, query: dict, headers: dict) -> tuple[str, dict] | None:
        with self._lock:
            self.requests.append(Request(time.monotonic(), route, path, query, headers))
            queue = self.faults.get(route)
            return queue.pop(0) if queue else None

    def feed(self, id_list: str) -> str:
        """The Atom feed arXiv would send for `id_list` (one ID, with or without a version)."""
        bare, _, version = id_list.partition("v") if "/" not in id_list else _split_old(id_list)
        paper = self.papers.get(bare)
        entries = _entry(paper, int(version) if version else paper.versions) if paper else ""
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"'
            ' xmlns:arxiv="http://arxiv.org/schemas/atom">\n'
            f'  <id>https://arxiv.org/api/test</id>\n'
            f'  <title>arXiv Query: search_query=&amp;id_list={escape(id_list)}&amp;start=0&amp;max_results=1</title>\n'
            '  <updated>2025-01-01T00:00:00Z</updated>\n'
            f'  <opensearch:totalResults>{1 if paper else 0}</opensearch:totalResults>\n'
            '  <opensearch:startIndex>0</opensearch:startIndex>\n'
            '  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>\n'
            f'{entries}</feed>\n'
        )

    def _handler(self):
        server = self

        class Handler(QuietHandler):
            def do_GET(self):
                parts = urlsplit(self.path)
                route = ("api" if parts.path == "/api/query" else
                         "pdf" if parts.path.startswith(("/pdf/", "/files/")) else "other")
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                fault = server._record(route, parts.path, query, dict(self.headers))
                try:
                    if fault:
                        return self._fault(*fault, route=route, path=parts.path, query=query)
                    self._answer(route, parts.path, query)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test); nothing to tell it

            def _answer(self, route: str, path: str, query: dict):
                if route == "api":
                    return self._send(200, server.feed(query.get("id_list", "")).encode(), "application/atom+xml")
                if route == "pdf" and (path.startswith("/files/") or _known_pdf(server, path[len("/pdf/"):])):
                    return self._send(200, server.pdf_bytes, "application/pdf")
                self._send(404, b"Not Found", "text/plain")

            def _fault(self, kind: str, options: dict, route: str, path: str, query: dict):
                if kind in ("429", "503"):
                    headers = {"Retry-After": str(options["retry_after"])} if "retry_after" in options else {}
                    return self._send(int(kind), b"Rate exceeded.", "text/plain", headers)
                if kind == "404":
                    return self._send(404, b"Not Found", "text/plain")
                if kind == "html":
                    return self._send(200, HTML_PAGE.encode(), "text/html; charset=utf-8")
                if kind == "short":
                    data = server.pdf_bytes
                    self.close_connection = True
                    return self._send(200, data[: len(data) // 2], "application/pdf",
                                      {"Content-Length": str(len(data))})
                if kind == "slow":
                    time.sleep(options.get("seconds", server.slow_seconds))
                    return self._answer(route, path, query)
                raise ValueError(f"unknown fault {kind!r}")

            def _send(self, status: int, data: bytes, content_type: str, headers: dict | None = None):
                headers = {"Content-Length": str(len(data)), **(headers or {})}
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()

        return Handler


def _split_old(id_list: str) -> tuple[str, str, str]:
    """'hep-th/9901001v1' -> ('hep-th/9901001', 'v', '1'), like str.partition on new-style IDs."""
    head, _, tail = id_list.rpartition("/")
    number, sep, version = tail.partition("v")
    return f"{head}/{number}", sep, version


def _known_pdf(server: ArxivServer, versioned: str) -> bool:
    bare, _, version = versioned.partition("v") if "/" not in versioned else _split_old(versioned)
    paper = server.papers.get(bare)
    return bool(paper) and (not version or (version.isdigit() and 1 <= int(version) <= paper.versions))


def _entry(paper: Paper, version: int) -> str:
    abs_id = f"{paper.id}v{version}"
    updated = paper.updated if version > 1 else paper.published
    notice = paper.withdrawn and version == paper.versions
    abstract, comment = (WITHDRAWN, WITHDRAWN) if notice else (paper.abstract, paper.comment)
    authors = "".join(f"    <author><name>{escape(a)}</name></author>\n" for a in paper.authors)
    categories = "".join(f'    <category term="{c}" scheme="http://arxiv.org/schemas/atom"/>\n'
                         for c in paper.categories)
    optional = ""
    if paper.doi:
        optional += (f'    <link title="doi" href="https://doi.org/{paper.doi}" rel="related"/>\n'
                     f"    <arxiv:doi>{escape(paper.doi)}</arxiv:doi>\n")
    if paper.journal_ref:
        optional += f"    <arxiv:journal_ref>{escape(paper.journal_ref)}</arxiv:journal_ref>\n"
    return (
        "  <entry>\n"
        f"    <id>http://arxiv.org/abs/{abs_id}</id>\n"
        f"    <updated>{updated}</updated>\n"
        f"    <published>{paper.published}</published>\n"
        f"    <title>{escape(paper.title)}</title>\n"
        f"    <summary>{escape(abstract)}</summary>\n"
        f"{authors}"
        f"    <arxiv:comment>{escape(comment)}</arxiv:comment>\n"
        f'    <link href="http://arxiv.org/abs/{abs_id}" rel="alternate" type="text/html"/>\n'
        f'    <link title="pdf" href="http://arxiv.org/pdf/{abs_id}" rel="related" type="application/pdf"/>\n'
        f"{optional}"
        f'    <arxiv:primary_category term="{paper.categories[0]}" scheme="http://arxiv.org/schemas/atom"/>\n'
        f"{categories}"
        "  </entry>\n"
    )
