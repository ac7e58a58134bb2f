"""The fault suite: a 20-paper batch against a misbehaving model server, with bad inputs mixed in."""

import json
import re
import subprocess

import pytest
from typer.testing import CliRunner

from paper_reader.cli.common import app
from tests.support.openai_server import OpenAIServer
from tests.support.pdfgen import encrypt, sample_paper, write_pdf

runner = CliRunner()


def _bad_inputs(folder):
    good = sample_paper(folder / "template.pdf")
    corrupt = folder / "corrupt.pdf"
    corrupt.write_bytes(good.read_bytes()[:900])
    encrypted = encrypt(good, folder / "encrypted.pdf", "pw")
    scanned = write_pdf(folder / "scanned.pdf", [[], [], []])
    fake = folder / "fake.pdf"
    fake.write_text("<html>this is a web page</html>")
    huge = write_pdf(folder / "huge.pdf", [[f"Page {i} of a very long proceedings volume."] for i in range(1000)])
    good.unlink()
    return {corrupt: "damaged or cut short", encrypted: "encrypted", scanned: "no text layer",
            fake: "not a PDF", huge: "1000 pages"}


def _request_key(payload):
    return json.dumps(payload["messages"], sort_keys=True)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    assert runner.invoke(app, ["init", str(tmp_path / "notes")]).exit_code == 0
    monkeypatch.chdir(tmp_path / "notes")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("PAPER_READER_TIMEOUT", "1")
    return tmp_path / "notes"


def test_twenty_papers_against_a_faulty_server(tmp_path, repo, monkeypatch):
    pdfs = tmp_path / "pdfs"
    pdfs.mkdir()
    good = [sample_paper(pdfs / f"p{i:02d}.pdf", title=f"Robust Paper {i:02d}") for i in range(20)]
    bad = _bad_inputs(pdfs)
    reading = tmp_path / "list.txt"
    reading.write_text("".join(f"{p}\n" for p in [*good, *bad]))

    with OpenAIServer(fault_rate=0.2, fault_kinds=OpenAIServer.KINDS, hang_seconds=2.5, seed=7) as server:
        monkeypatch.setenv("OPENAI_API_BASE", server.base_url)
        first = runner.invoke(app, ["batch", str(reading), "-m", "openai/test", "-j", "4"])
        assert server.faults_served >= 20  # the faults really happened
        answered_first = {_request_key(p) for p in server.answered}
        seen = len(server.requests)
        assert first.exit_code == 1
        for path, reason in bad.items():  # each bad input fails alone, with its own reason
            assert re.search(rf"failed {re.escape(str(path))}: .*{reason}", first.stderr.replace("\n", " ")), reason
        _check_notes_complete(repo)

        second = runner.invoke(app, ["batch", str(reading), "-m", "openai/test", "-j", "4"])
        assert second.exit_code == 1  # the bad inputs still fail
        retried = [p for p in server.requests[seen:] if _request_key(p) in answered_first]
        assert not retried  # nothing answered in the first run is asked again

    notes = _check_notes_complete(repo)
    assert len(notes) == 20
    index = (repo / "README.md").read_text()
    assert all(f"Robust Paper {i:02d}" in index for i in range(20))
    assert not list(repo.rglob("*.tmp")) and not list(repo.rglob(".*.tmp"))


def _check_notes_complete(repo):
    notes = [p for p in repo.rglob("*.md") if p.name != "README.md"]
    for note in notes:
        text = note.read_text()
        assert len(re.findall(r"^# \d+\. ", text, re.M)) == 10 and text.endswith("\n"), note
    return notes


def test_two_servers_one_failing_every_paper_completes(tmp_path, repo, monkeypatch):
    monkeypatch.setenv("PAPER_READER_TRUST_REPO", "1")  # a repository's deployments need the user's trust
    reading = tmp_path / "list.txt"
    reading.write_text("".join(f"{sample_paper(tmp_path / f'r{i}.pdf', title=f'Routed Paper {i}')}\n" for i in range(3)))
    with OpenAIServer() as healthy, OpenAIServer(fault_rate=1.0) as broken:
        (repo / "paper-reader.yaml").write_text(
            "model: openai/fleet\n"
            "deployments:\n"
            f"  - {{model: openai/test, api_base: '{broken.base_url}', api_key: sk-a, rpm: 600}}\n"
            f"  - {{model: openai/test, api_base: '{healthy.base_url}', api_key: sk-b, rpm: 600}}\n")
        result = runner.invoke(app, ["batch", str(reading), "-j", "2"])
        assert result.exit_code == 0, result.stderr
        assert broken.requests and healthy.answered  # both were tried; the healthy one answered
    assert len(_check_notes_complete(repo)) == 3


def test_no_api_key_is_ever_written_or_printed(tmp_path, monkeypatch, sample_pdf):
    secret = "sk-PLANTEDSECRETabcdef0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    cache = tmp_path / "cache"
    monkeypatch.setenv("PAPER_READER_CACHE_DIR", str(cache))
    out = tmp_path / "out"
    with OpenAIServer() as server:
        monkeypatch.setenv("OPENAI_API_BASE", server.base_url)
        ok = runner.invoke(app, ["-v", "read", str(sample_pdf), "-m", "openai/test", "-o", str(out)])
        assert ok.exit_code == 0
        server.scripted = [(401, {}, json.dumps({"error": {"message": f"Incorrect API key provided: {secret}"}}))]
        bad = runner.invoke(app, ["-v", "read", str(sample_pdf), "-m", "openai/test", "-o", str(out), "--force",
                                  "--no-cache"])
        assert bad.exit_code == 1 and "no valid API key" in bad.stderr
    written = [p.read_bytes() for p in [*out.rglob("*"), *cache.rglob("*")] if p.is_file()]
    assert written and not any(secret.encode() in data for data in written)
    for text in (ok.stdout, ok.stderr, bad.stdout, bad.stderr):
        assert secret not in text and "PLANTEDSECRET" not in text
    proc = subprocess.run(["grep", "-r", "PLANTEDSECRET", str(tmp_path)], capture_output=True, text=True)
    assert proc.stdout == ""
