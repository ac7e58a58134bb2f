"""Batch over a reading list into a git-committed notes repository (issue: done-when scenario)."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paper_reader.cli.common import app
from tests.conftest import FakeLLM
from tests.support.arxiv_server import ArxivServer, Paper
from tests.support.openai_server import OpenAIServer
from tests.support.pdfgen import sample_paper

runner = CliRunner()
REPLY = "- **Lead**: We propose a simple method for testing readers of papers (§1, p. 1)."


@pytest.fixture
def git_identity(monkeypatch):
    for var in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        monkeypatch.setenv(var, "Test Reader")
    for var in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(var, "reader@example.org")


@pytest.fixture
def arxiv(monkeypatch):
    papers = [Paper("2112.11446", title="Scaling Language Models: Methods, Analysis & Insights from Training Gopher"),
              Paper("1706.03762", title="Attention Is All You Need")]
    with ArxivServer(papers=papers) as server:
        monkeypatch.setenv("PAPER_READER_ARXIV_API", server.api_url)
        monkeypatch.setenv("PAPER_READER_ARXIV_PDF", server.pdf_url)
        monkeypatch.setenv("PAPER_READER_ARXIV_INTERVAL", "0")
        yield server


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def test_init_then_batch_with_commits(tmp_path, monkeypatch, git_identity, arxiv):
    papers = tmp_path / "pdfs"
    papers.mkdir()
    sample_paper(papers / "one.pdf", title="Local Paper One")
    reading = tmp_path / "list.txt"
    reading.write_text(f"2112.11446 topic: LLM\n1706.03762 topic: LLM tags: transformers\n"
                       f"{papers / 'one.pdf'}  topic: Testing\n{papers / 'missing.pdf'}\n")
    repo = tmp_path / "notes"
    assert runner.invoke(app, ["init", str(repo)]).exit_code == 0
    monkeypatch.chdir(repo)
    (repo / "scratch.txt").write_text("unrelated work in progress")
    llm = FakeLLM(lambda m: REPLY)
    obj = {"open_model": lambda s: llm}

    result = runner.invoke(app, ["batch", str(reading), "--commit"], obj=obj)
    assert result.exit_code == 1 and "missing.pdf" in result.stderr and "no such file" in result.stderr
    notes = sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*.md") if p.name != "README.md")
    assert notes == ["LLM/Attention Is All You Need.md",
                     "LLM/Scaling Language Models Methods, Analysis & Insights from Training Gopher.md",
                     "Testing/Local Paper One.md"]
    log = _git(repo, "log", "--format=%s")
    assert log.count("notes: add") == 3 and "notes: add 2112.11446v2 Scaling Language Models" in log
    assert "?? scratch.txt" in _git(repo, "status", "--porcelain")  # not committed by the tool
    index = (repo / "README.md").read_text()
    assert "[Attention Is All You Need](LLM/Attention%20Is%20All%20You%20Need.md)" in index
    assert "### Testing" in index

    calls = len(llm.history)
    again = runner.invoke(app, ["batch", str(reading), "--commit"], obj=obj)
    assert again.exit_code == 1 and len(llm.history) == calls  # finished papers: zero model calls

    note = repo / "Testing" / "Local Paper One.md"
    note.write_text(note.read_text() + "\n## My notes\n\nRead this twice. Check Table 2.\n")
    forced = runner.invoke(app, ["batch", str(reading), "--commit", "--force"], obj=obj)
    assert forced.exit_code == 1
    assert note.read_text().count("Read this twice. Check Table 2.") == 1
    assert len(re.findall(r"^# \d+\. ", note.read_text(), re.M)) == 10


def test_one_failure_never_stops_the_others(tmp_path, monkeypatch):
    from paper_reader.errors import ModelError

    good = sample_paper(tmp_path / "good.pdf", title="Good Paper")
    bad = sample_paper(tmp_path / "bad.pdf", title="Bad Paper")
    reading = tmp_path / "list.txt"
    reading.write_text(f"{good}\n{bad}\n{tmp_path / 'nope.txt'}\n")

    def reply(messages):
        if "Bad Paper" in messages[-1]["content"]:
            raise ModelError("fake/model: rate limited after 5 tries.")
        return REPLY

    result = runner.invoke(app, ["batch", str(reading), "-o", str(tmp_path / "out"), "-j", "2"],
                           obj={"open_model": lambda s: FakeLLM(reply)})
    assert result.exit_code == 1
    assert (tmp_path / "out" / "Good Paper.md").exists() and not (tmp_path / "out" / "Bad Paper.md").exists()
    assert "rate limited" in result.stderr and "nope.txt" in result.stderr


def test_a_second_batch_on_the_same_repo_is_refused(tmp_path, monkeypatch):
    from paper_reader.library.repo import repo_lock

    runner.invoke(app, ["init", str(tmp_path / "repo")])
    monkeypatch.chdir(tmp_path / "repo")
    reading = tmp_path / "list.txt"
    reading.write_text(str(sample_paper(tmp_path / "p.pdf")) + "\n")
    with repo_lock(tmp_path / "repo"):
        result = runner.invoke(app, ["batch", str(reading)], obj={"open_model": lambda s: FakeLLM()})
    assert result.exit_code == 1 and "Another paper-reader run" in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_killed_batch_resumes_without_redoing_anything(tmp_path):
    reading = tmp_path / "list.txt"
    reading.write_text("".join(f"{sample_paper(tmp_path / f'p{i}.pdf', title=f'Paper Number {i}')}\n" for i in range(6)))
    out = tmp_path / "out"
    with OpenAIServer(latency=0.05) as server:
        env = {**os.environ, "OPENAI_API_BASE": server.base_url, "OPENAI_API_KEY": "sk-test",
               "PAPER_READER_CACHE_DIR": str(tmp_path / "cache")}
        cmd = [sys.executable, "-m", "paper_reader", "batch", str(reading), "-o", str(out),
               "-m", "openai/test", "-j", "1"]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while not list(out.glob("*.md")) and time.monotonic() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        finished = {p.name: p.read_text() for p in out.glob("*.md")}
        assert 1 <= len(finished) < 6 and not list(out.glob(".*.tmp"))
        first_requests = len(server.requests)

        rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert rerun.returncode == 0, rerun.stderr
        notes = sorted(out.glob("*.md"))
        assert len(notes) == 6
        for note in notes:
            text = note.read_text()
            assert len(re.findall(r"^# \d+\. ", text, re.M)) == 10 and text.endswith("\n")
            if note.name in finished:
                assert text == finished[note.name]  # not redone
        redone = [r for r in server.requests[first_requests:] if any(
            f"Paper Number {n[-4]}" in m["content"] for m in r["messages"] for n in finished)]
        assert not redone


def test_figures_are_rendered_beside_the_note_and_committed(tmp_path, monkeypatch, git_identity):
    runner.invoke(app, ["init", str(tmp_path / "repo")])
    monkeypatch.chdir(tmp_path / "repo")
    pdf = sample_paper(tmp_path / "fig.pdf", title="Figure Paper")
    result = runner.invoke(app, ["read", str(pdf), "--figures", "--commit", "--topic", "Vision"],
                           obj={"open_model": lambda s: FakeLLM(lambda m: REPLY)})
    assert result.exit_code == 0, result.output
    note = tmp_path / "repo" / "Vision" / "Figure Paper.md"
    png = tmp_path / "repo" / "Vision" / "assets" / "Figure Paper" / "page-1.png"
    assert png.read_bytes().startswith(b"\x89PNG")
    assert "![Page 1](assets/Figure%20Paper/page-1.png)" in note.read_text()
    committed = _git(tmp_path / "repo", "show", "--name-only", "--format=%s", "HEAD")
    assert "notes: add Figure Paper" in committed and "Vision/assets/Figure Paper/page-1.png" in committed


def test_an_interrupted_batch_abandons_papers_between_calls(tmp_path):
    import threading

    from paper_reader.batch import run_batch
    from paper_reader.sources.readinglist import Entry
    from paper_reader.settings import Settings

    stop = threading.Event()

    def reply(messages):
        stop.set()  # "Ctrl-C" arrives during the first call
        return REPLY

    entries = [Entry(str(sample_paper(tmp_path / f"s{i}.pdf", title=f"Stopped Paper {i}"))) for i in range(3)]
    settings = Settings(output=str(tmp_path / "out"), concurrency=1, cache=False)
    results = run_batch(entries, settings, model=FakeLLM(reply), stop=stop)
    assert [r.status for r in results] == ["interrupted"] * 3
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
