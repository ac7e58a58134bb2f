"""Every server answer bounded in time, headers included (issue 20, item 4): a server that drip-feeds
its response headers a byte at a time never trips httpx's per-read timeout, so only a deadline on
the whole answer ends it; a Retry-After beyond the cap is refused, saying the cap. Servers on
127.0.0.1; every case is bounded."""

from __future__ import annotations

import time

import pytest
from typer.testing import CliRunner

from paper_reader.cli.common import app
from paper_reader.sources.arxiv import fetch_metadata
from paper_reader.sources.http import MAX_RETRY_AFTER, FetchError, download_pdf
from tests.support.loopback import LoopbackServer, QuietHandler

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class DripServer(LoopbackServer):
    """/headers: the status line and headers one byte every `gap` seconds (for a minute at most);
    /ok: a whole PDF; /wait: 503 with a Retry-After of 10^9 seconds."""

    def __init__(self, gap: float = 0.2):
        self.gap = gap
        self.served = 0
        self._listen()

    def _handler(self):
        server = self

        class Handler(QuietHandler):
            def do_GET(self):
                server.served += 1
                route = self.path.strip("/").split("?")[0].split("/")[0].split(".")[0]
                if route == "ok":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(PDF)))
                    self.end_headers()
                    self.wfile.write(PDF)
                    return
                if route == "wait":
                    self.send_response(503)
                    self.send_header("Retry-After", "1000000000")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.close_connection = True
                head = b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\n" + b"X-Pad: " + b"a" * 300 + b"\r\n\r\n"
                try:
                    for byte in head:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(server.gap)
                    self.wfile.write(PDF)
                except OSError:  # we hung up: the point
                    pass

        return Handler


@pytest.fixture
def drip():
    with DripServer() as server:
        yield server


def test_headers_dripped_a_byte_at_a_time_end_at_the_download_deadline(drip, tmp_path):
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"took more than 1.5 s to download"):
        download_pdf(f"{drip.origin}/headers.pdf", tmp_path, timeout=5, deadline=1.5, retries=0)
    assert time.monotonic() - started < 4  # not the minute the headers would take
    assert list(tmp_path.iterdir()) == []


def test_headers_dripped_to_the_arxiv_api_end_at_its_deadline(drip):
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"The arXiv API at 127\.0\.0\.1:\d+ took more than 2 s to answer"):
        fetch_metadata("2101.00001", api_url=f"{drip.origin}/headers", timeout=1, min_interval=0, retries=0)
    assert time.monotonic() - started < 5


def test_a_prompt_server_is_not_cut_by_the_deadline(drip, tmp_path):
    assert download_pdf(f"{drip.origin}/ok.pdf", tmp_path, timeout=5, deadline=1.0).read_bytes() == PDF
    time.sleep(1.5)  # the deadline's timer has gone with the download: nothing fires late


def test_a_retry_after_beyond_the_cap_is_refused_saying_the_cap(drip, tmp_path):
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        download_pdf(f"{drip.origin}/wait.pdf", tmp_path, timeout=5, retries=3)
    assert "asked us to wait 1000000000 s" in str(caught.value)
    assert f"longer than the {MAX_RETRY_AFTER:.0f} s paper-reader waits at most" in str(caught.value)
    assert time.monotonic() - started < 3 and drip.served == 1


def test_the_cli_ends_a_header_drip_at_download_deadline_with_one_line(drip, tmp_path, monkeypatch):
    monkeypatch.setenv("PAPER_READER_DOWNLOAD_DEADLINE", "1.5")
    started = time.monotonic()
    result = CliRunner().invoke(app, ["read", f"{drip.origin}/headers.pdf", "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "took more than 1.5 s to download" in result.stderr and "Traceback" not in result.stderr
    assert time.monotonic() - started < 20  # retries included, each one bounded
