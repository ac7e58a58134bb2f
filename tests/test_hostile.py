"""Hostile input: a cloned repository's config, servers that stream forever or lie, signals.

Every server here listens on 127.0.0.1 and every case is bounded in time and bytes.
"""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paper_reader.sources.arxiv import FetchError, _parse_feed, download_pdf
from paper_reader.sources.http import redact
from paper_reader.errors import ConfigError, TemplateError
from paper_reader.writing.prompts import render_file
from paper_reader.settings import load_settings
from tests.support.loopback import LoopbackServer, QuietHandler

ROOT = Path(__file__).resolve().parents[1]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class HostileServer(LoopbackServer):
    """Serves /<behaviour>.pdf: ok, huge-header, forever, drip, gzip-bomb, no-eof."""

    def __init__(self):
        self._listen()

    def _handler(self):
        class Handler(QuietHandler):
            def do_GET(self):
                kind = self.path.strip("/").split(".")[0].split("?")[0]
                getattr(self, "_" + kind.replace("-", "_"))()

            def _head(self, length=None, extra=()):
                self.send_response(200)
                self.send_header("Content-Type", "application/pdf")
                if length is not None:
                    self.send_header("Content-Length", str(length))
                for k, v in extra:
                    self.send_header(k, v)
                self.end_headers()

            def _ok(self):
                self._head(len(PDF))
                self.wfile.write(PDF)

            def _huge_header(self):
                self._head(5 * 2**30)
                self.wfile.write(PDF)  # then stalls: the client must not wait for 5 GB

            def _forever(self):
                self.close_connection = True
                self._head()
                self.wfile.write(b"%PDF-1.4\n")
                try:
                    while True:
                        self.wfile.write(b"0" * 65536)
                except OSError:
                    pass

            def _drip(self):
                self.close_connection = True
                self._head()
                try:
                    self.wfile.write(b"%PDF-1.4\n")
                    for _ in range(1200):  # two minutes at most
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(0.1)
                except OSError:
                    pass

            def _gzip_bomb(self):
                body = gzip.compress(b"%PDF-1.4\n" + b"\0" * (64 * 2**20), compresslevel=9)
                self._head(len(body), [("Content-Encoding", "gzip")])
                self.wfile.write(body)

            def _no_eof(self):
                body = b"%PDF-1.4\n" + b"\0" * 100_000
                self._head(len(body))
                self.wfile.write(body)

        return Handler


@pytest.fixture(scope="module")
def hostile():
    with HostileServer() as server:
        yield server


def _no_temp_files(folder: Path) -> bool:
    return not folder.exists() or not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


# -- a cloned repository's config -------------------------------------------------------------

def test_note_template_cannot_run_code(tmp_path):
    marker = tmp_path / "pwned"
    template = tmp_path / "evil.md.j2"
    template.write_text("{{ cycler.__init__.__globals__.os.system('touch %s') }}" % marker, "utf-8")
    with pytest.raises(TemplateError, match="unsafe|undefined|attribute"):
        render_file(template, cycler=None)
    assert not marker.exists()


def test_note_template_cannot_reach_python_through_values(tmp_path):
    marker = tmp_path / "pwned"
    template = tmp_path / "evil.md.j2"
    template.write_text("{{ notes.__class__.__init__.__globals__['os'].system('touch %s') }}" % marker, "utf-8")

    class Notes:
        pass

    with pytest.raises(TemplateError):
        render_file(template, notes=Notes())
    assert not marker.exists()


def test_note_template_not_utf8_is_one_line(tmp_path):
    template = tmp_path / "latin1.md.j2"
    template.write_bytes("caf\xe9 {{ x }}".encode("latin-1"))
    with pytest.raises(TemplateError, match="not UTF-8"):
        render_file(template, x=1)


def _repo_with_config(tmp_path: Path, text: str) -> Path:
    repo = tmp_path / "cloned"
    repo.mkdir()
    (repo / "paper-reader.yaml").write_text(text, "utf-8")
    return repo


def test_repo_config_cannot_redirect_keys(tmp_path):
    repo = _repo_with_config(tmp_path, "deployments:\n  - model: openai/gpt-4o\n    api_base: http://evil.example/v1\n")
    with pytest.raises(ConfigError, match="deployments.*trusted_repos"):
        load_settings(cwd=repo)


def test_repo_config_cannot_name_an_endpoint_as_model(tmp_path):
    repo = _repo_with_config(tmp_path, "model: huggingface/https://evil.example/endpoint\n")
    with pytest.raises(ConfigError, match="URL"):
        load_settings(cwd=repo)


def test_trusted_repo_config_may_name_deployments(tmp_path, isolated_home):
    repo = _repo_with_config(tmp_path, "deployments:\n  - model: openai/m\n    api_base: http://127.0.0.1:9/v1\n")
    user = isolated_home / ".config" / "paper-reader" / "config.yaml"
    user.parent.mkdir(parents=True)
    user.write_text(f"trusted_repos: [{repo}]\n", "utf-8")
    settings = load_settings(cwd=repo)
    assert settings.deployments[0]["api_base"] == "http://127.0.0.1:9/v1"


def test_user_config_may_name_deployments(tmp_path, isolated_home):
    user = isolated_home / ".config" / "paper-reader" / "config.yaml"
    user.parent.mkdir(parents=True)
    user.write_text("deployments:\n  - model: openai/m\n    api_base: http://127.0.0.1:9/v1\n", "utf-8")
    assert load_settings(cwd=tmp_path).deployments[0]["model"] == "openai/m"


def test_repo_config_not_utf8_is_one_line(tmp_path):
    repo = tmp_path / "r"
    repo.mkdir()
    (repo / "paper-reader.yaml").write_bytes(b"model: caf\xe9\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings(cwd=repo)


# -- downloads --------------------------------------------------------------------------------

def test_download_ok(hostile, tmp_path):
    path = download_pdf(f"{hostile.origin}/ok.pdf", tmp_path, timeout=5)
    assert path.read_bytes() == PDF


def test_announced_huge_download_refused_at_once(hostile, tmp_path):
    started = time.monotonic()
    with pytest.raises(FetchError, match="download limit"):
        download_pdf(f"{hostile.origin}/huge-header.pdf", tmp_path, timeout=5)
    assert time.monotonic() - started < 5
    assert list(tmp_path.iterdir()) == []


def test_endless_download_stops_at_the_cap(hostile, tmp_path):
    with pytest.raises(FetchError, match="more than 2 MB"):
        download_pdf(f"{hostile.origin}/forever.pdf", tmp_path, timeout=5, max_bytes=2 * 2**20)
    assert list(tmp_path.iterdir()) == []


def test_dripping_download_stops_at_the_deadline(hostile, tmp_path):
    started = time.monotonic()
    with pytest.raises(FetchError, match="took more than"):
        download_pdf(f"{hostile.origin}/drip.pdf", tmp_path, timeout=5, deadline=1.0)
    assert time.monotonic() - started < 6
    assert list(tmp_path.iterdir()) == []


def test_gzip_bomb_is_capped_after_decompression_and_not_cached(hostile, tmp_path):
    with pytest.raises(FetchError, match="download limit"):
        download_pdf(f"{hostile.origin}/gzip-bomb.pdf", tmp_path, timeout=5, max_bytes=8 * 2**20)
    assert list(tmp_path.iterdir()) == []


def test_pdf_without_an_end_is_not_cached(hostile, tmp_path):
    with pytest.raises(FetchError, match="incomplete PDF"):
        download_pdf(f"{hostile.origin}/no-eof.pdf", tmp_path, timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_sigterm_mid_download_leaves_no_temp_file(hostile, tmp_path):
    cache = tmp_path / "cache"
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "PAPER_READER_CACHE_DIR": ""}
    proc = subprocess.Popen([sys.executable, "-m", "paper_reader", "read", f"{hostile.origin}/drip.pdf",
                             "-o", str(tmp_path)], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    downloads = cache / "paper-reader" / "downloads" / "pdf"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None and not (downloads.exists() and any(downloads.iterdir())):
        time.sleep(0.1)
    assert downloads.exists() and any(downloads.iterdir()), "the download never started"
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode != 0
    assert b"Traceback" not in stderr
    assert _no_temp_files(downloads)


def test_secrets_in_urls_are_redacted():
    url = "http://user:pass@host.example:8080/x.pdf?X-Amz-Signature=abc"
    shown = redact(url)
    assert "pass" not in shown and "Signature" not in shown
    assert shown.startswith("http://host.example:8080/x.pdf")


def test_download_errors_never_show_credentials(tmp_path):
    with pytest.raises(FetchError) as caught:
        download_pdf("http://user:secret@127.0.0.1:9/x.pdf?token=hunter2", tmp_path, timeout=2, retries=0)
    assert "secret" not in str(caught.value) and "hunter2" not in str(caught.value)


# -- the arXiv API's answer -------------------------------------------------------------------

def _feed(entry_id: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>q</title>
<entry><id>http://arxiv.org/abs/{entry_id}</id><title>Some paper</title><summary>a</summary>
<published>2021-01-01T00:00:00Z</published><updated>2021-01-01T00:00:00Z</updated>
<author><name>A. Author</name></author></entry></feed>""".encode()


@pytest.mark.parametrize("entry_id", ["2101.00002v1", "../../../../tmp/x", "2101.00001v1/../../x"])
def test_arxiv_entry_must_be_the_paper_asked_for(entry_id):
    with pytest.raises(FetchError, match="another paper"):
        _parse_feed(_feed(entry_id), "2101.00001", "127.0.0.1")


def test_arxiv_entry_for_the_paper_asked_for_is_taken():
    meta = _parse_feed(_feed("2101.00001v3"), "2101.00001", "127.0.0.1")
    assert (meta.id, meta.version) == ("2101.00001", "v3")


def test_repo_config_cannot_load_a_file_as_the_model(tmp_path):
    repo = _repo_with_config(tmp_path, "model: gguf:/home/me/.ssh/id_rsa\n")
    with pytest.raises(ConfigError, match="gguf"):
        load_settings(cwd=repo)
