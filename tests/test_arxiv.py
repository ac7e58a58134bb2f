"""arXiv IDs and URLs -> metadata + a cached PDF, against a loopback stand-in for arXiv."""

from __future__ import annotations

import httpx
import pytest

from paper_reader.sources import http
from paper_reader.sources.arxiv import FetchError, Source, download_pdf, fetch, fetch_metadata, parse_source
from paper_reader.errors import InputError
from tests.support.arxiv_server import ArxivServer


@pytest.fixture
def server():
    with ArxivServer() as running:
        yield running


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


def opts(server: ArxivServer, **overrides) -> dict:
    return {"api_url": server.api_url, "pdf_url": server.pdf_url, "min_interval": 0, "timeout": 5, **overrides}


def leftovers(cache) -> list[str]:
    folder = cache / "pdf"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("text, expected", [
    ("2112.11446", Source("arxiv", "2112.11446")),
    ("2112.11446v2", Source("arxiv", "2112.11446", "v2")),
    ("arXiv:2112.11446v2", Source("arxiv", "2112.11446", "v2")),
    ("ARXIV:2112.11446", Source("arxiv", "2112.11446")),
    ("  2112.11446 ", Source("arxiv", "2112.11446")),
    ("0704.0001", Source("arxiv", "0704.0001")),
    ("1412.9999v1", Source("arxiv", "1412.9999", "v1")),
    ("hep-th/9901001", Source("arxiv", "hep-th/9901001")),
    ("hep-th/9901001v3", Source("arxiv", "hep-th/9901001", "v3")),
    ("cs/0112017", Source("arxiv", "cs/0112017")),
    ("math.GT/0309136", Source("arxiv", "math.GT/0309136")),
    ("arXiv:math.GT/0309136", Source("arxiv", "math.GT/0309136")),
    ("https://arxiv.org/abs/2112.11446", Source("arxiv", "2112.11446")),
    ("https://arxiv.org/abs/2112.11446v2", Source("arxiv", "2112.11446", "v2")),
    ("https://arxiv.org/pdf/2112.11446", Source("arxiv", "2112.11446")),
    ("https://arxiv.org/pdf/2112.11446v2.pdf", Source("arxiv", "2112.11446", "v2")),
    ("https://www.arxiv.org/abs/2112.11446/", Source("arxiv", "2112.11446")),
    ("http://export.arxiv.org/abs/hep-th/9901001", Source("arxiv", "hep-th/9901001")),
    ("https://example.org/papers/attention.pdf", Source("url", "https://example.org/papers/attention.pdf")),
    ("https://arxiv.org/list/cs.CL/recent", Source("url", "https://arxiv.org/list/cs.CL/recent")),
    ("http://127.0.0.1:8000/files/p.pdf", Source("url", "http://127.0.0.1:8000/files/p.pdf")),
    ("paper.pdf", Source("path", "paper.pdf")),
    ("~/papers/2112.11446.pdf", Source("path", "~/papers/2112.11446.pdf")),
    ("notes/2020", Source("path", "notes/2020")),
    ("math/notes.pdf", Source("path", "math/notes.pdf")),
])
def test_parse_source(text, expected):
    assert parse_source(text) == expected


@pytest.mark.parametrize("text", [
    "2112.1144",  # since 2015 the number has five digits
    "1412.12345",  # before 2015 it had four
    "2113.11446",  # month 13
    "2100.11446",  # month 00
    "0612.1234",  # new-style IDs start in April 2007
    "2112.11446v0",
    "arXiv:abc",
    "arXiv:",
    "hep-th/99010",
    "hep-th/9913001",  # month 13
    "https://arxiv.org/abs/2112.1144",
    "https://arxiv.org/pdf/not-an-id",
])
def test_parse_source_rejects_malformed_ids(text):
    with pytest.raises(InputError, match=r"is not a valid arXiv ID\. A valid arXiv ID looks like 2112\.11446") as err:
        parse_source(text)
    assert "\n" not in str(err.value)


def test_an_existing_file_named_like_an_id_is_a_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "2112.11446").write_bytes(b"%PDF-1.4")
    assert parse_source("2112.11446") == Source("path", "2112.11446")


def test_metadata_from_the_atom_feed(server):
    meta = fetch_metadata("2112.11446", api_url=server.api_url, min_interval=0, timeout=5)
    assert meta.id == "2112.11446" and meta.version == "v2"
    assert meta.title == "A Sample Paper on Testing"  # hard wrap undone
    assert meta.authors == ["Ada Lovelace", "Alan Turing"]
    assert meta.abstract.startswith("This paper studies how to test a paper reader. We propose")
    assert meta.categories == ["cs.CL", "cs.LG"]
    assert (meta.published, meta.updated) == ("2021-12-08", "2022-01-21")
    assert meta.doi == "10.1234/sample.2021"
    assert meta.journal_ref == "J. Test. Papers 1 (2022) 1-10"
    assert meta.pdf_url == "http://arxiv.org/pdf/2112.11446v2"
    assert meta.withdrawn is False
    (request,) = server.hits("api")
    assert request.query["id_list"] == "2112.11446"
    assert request.headers["User-Agent"].startswith("paper-reader/")


def test_fetch_downloads_once_then_uses_the_cache(server, cache):
    first = fetch("arXiv:2112.11446v1", cache_dir=cache, **opts(server))
    assert first.path == cache / "pdf" / "2112.11446v1.pdf"
    assert first.path.read_bytes() == server.pdf_bytes
    assert first.metadata.version == "v1" and first.url == f"{server.pdf_url}/2112.11446v1"
    assert [r.path for r in server.hits("pdf")] == ["/pdf/2112.11446v1"]
    count = len(server.requests)
    again = fetch("https://arxiv.org/abs/2112.11446v1", cache_dir=cache, **opts(server))
    assert again == first
    assert len(server.requests) == count  # neither the API nor the PDF was asked again


def test_fetch_an_old_style_id(server, cache):
    got = fetch("hep-th/9901001", cache_dir=cache, **opts(server))
    assert got.path.name == "hep-th_9901001v1.pdf"
    assert got.metadata.categories == ["hep-th"] and got.metadata.doi is None


def test_fetch_a_plain_url_has_no_metadata(server, cache):
    url = f"{server.base_url}/files/paper.pdf"
    got = fetch(url, cache_dir=cache, **opts(server))
    assert got.metadata is None and got.url == url and got.path.read_bytes() == server.pdf_bytes
    assert download_pdf(url, cache / "pdf", filename=got.path.name) == got.path
    assert len(server.hits("pdf")) == 1 and not server.hits("api")


def test_a_local_path_is_returned_unchanged(server, cache):
    assert fetch("papers/mine.pdf", cache_dir=cache, **opts(server)).path.as_posix() == "papers/mine.pdf"
    assert not server.requests


def test_pdf_not_found(server, cache):
    server.fail("pdf", "404")
    with pytest.raises(FetchError, match=r"answered 404 Not Found\. Check the ID or URL\."):
        fetch("2112.11446", cache_dir=cache, **opts(server))
    assert leftovers(cache) == []


def test_api_not_found_points_at_the_setting(server, cache):
    server.fail("api", "404")
    with pytest.raises(FetchError, match="arXiv API at 127.0.0.1:.* answered 404 .*PAPER_READER_ARXIV_API"):
        fetch("2112.11446", cache_dir=cache, **opts(server))


def test_429_is_retried_after_the_servers_retry_after(server, cache):
    server.fail("api", "429", retry_after=1)
    got = fetch("2112.11446", cache_dir=cache, **opts(server))
    assert got.metadata.title == "A Sample Paper on Testing"
    first, retry = server.hits("api")
    assert retry.time - first.time >= 0.95


def test_503_without_retry_after_backs_off_exponentially(server, cache, monkeypatch):
    monkeypatch.setattr(http, "BACKOFF", 0.1)
    server.fail("pdf", "503", times=2)
    fetch("2112.11446", cache_dir=cache, **opts(server))
    times = [r.time for r in server.hits("pdf")]
    assert len(times) == 3
    assert times[1] - times[0] >= 0.09 and times[2] - times[1] >= 0.19  # 0.1 s, then 0.2 s


def test_rate_limiting_that_never_ends_gives_up(server, cache):
    server.fail("api", "429", times=5, retry_after=0)
    with pytest.raises(FetchError, match="answered 429 .*wait a minute"):
        fetch("2112.11446", cache_dir=cache, **opts(server, retries=2))
    assert len(server.hits("api")) == 3


def test_slow_answer_times_out(server, cache):
    server.fail("api", "slow", seconds=2)
    with pytest.raises(FetchError, match=r"Could not reach 127\.0\.0\.1:\d+: no answer within 0\.5 s\. Check") as err:
        fetch("2112.11446", cache_dir=cache, **opts(server, timeout=0.5))
    assert isinstance(err.value.__cause__, httpx.TimeoutException)


def test_cut_short_download_leaves_no_file(server, cache):
    server.fail("pdf", "short")
    with pytest.raises(FetchError, match="was cut short"):
        fetch("2112.11446", cache_dir=cache, **opts(server))
    assert leftovers(cache) == []
    assert fetch("2112.11446", cache_dir=cache, **opts(server)).path.read_bytes() == server.pdf_bytes


def test_html_instead_of_pdf(server, cache):
    server.fail("pdf", "html")
    with pytest.raises(FetchError, match="served an HTML page, not a PDF"):
        fetch(f"{server.base_url}/files/paper.pdf", cache_dir=cache, **opts(server))
    assert leftovers(cache) == []


def test_unknown_id(server, cache):
    with pytest.raises(FetchError, match=r"^arXiv has no paper 2112\.99999\. Check the ID\.$"):
        fetch("2112.99999", cache_dir=cache, **opts(server))
    assert not server.hits("pdf")


def test_withdrawn_paper(server, cache):
    assert fetch_metadata("2301.00001", api_url=server.api_url, min_interval=0).withdrawn
    with pytest.raises(FetchError, match=r"2301\.00001v3 has been withdrawn .* e\.g\. 2301\.00001v1"):
        fetch("2301.00001", cache_dir=cache, **opts(server))
    assert not server.hits("pdf")
    assert fetch("2301.00001v1", cache_dir=cache, **opts(server)).metadata.withdrawn is False


def test_connection_refused(cache):
    with pytest.raises(FetchError, match=r"^Could not reach 127\.0\.0\.1:9: .*PAPER_READER_ARXIV_API\.$") as err:
        fetch("2112.11446", cache_dir=cache, api_url="http://127.0.0.1:9/api/query", min_interval=0, timeout=2)
    assert isinstance(err.value.__cause__, httpx.ConnectError)


def test_api_requests_are_spaced_by_min_interval(server):
    for _ in range(2):
        fetch_metadata("2112.11446", api_url=server.api_url, min_interval=0.5, timeout=5)
    first, second = server.hits("api")
    # Ungated, the two arrive ~2 ms apart. The gate spaces the sends; arrival times on the server's clock
    # can lose what the first request spent in transit, which on a loaded machine has reached ~0.12 s.
    assert second.time - first.time >= 0.35


@pytest.mark.parametrize("stored", ['{"id": "2112.11446", "version": "v1", "title": {"x": 1}}',
                                    '{"id": "2112.11446", "version": "v1", "title": "T", "authors": "A, B"}',
                                    '{"id": "2112.11446", "version": "v1", "title": "T", "authors": [1, 2]}',
                                    "[" * 100_000 + "]" * 100_000])
def test_stored_metadata_that_is_not_ours_is_looked_up_again(stored, server, cache):
    """The metadata kept beside the downloads may come with a cloned repository's cache folder."""
    first = fetch("arXiv:2112.11446v1", cache_dir=cache, **opts(server))
    stored_files = [p for p in cache.rglob("*.json")]
    assert stored_files
    for path in stored_files:
        path.write_text(stored, "utf-8")
    again = fetch("arXiv:2112.11446v1", cache_dir=cache, **opts(server))
    assert again.metadata == first.metadata
    assert len(server.hits("api")) == 2  # looked up again, once
