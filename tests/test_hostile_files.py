"""Hostile files and folders: FIFOs, /dev/zero, read-only caches, same titles, odd names (issue 10,
items 6, 7, 8, 9 and 14). Every case is bounded in time: a hang fails the test, it never blocks it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paper_reader.cli.common import app
from paper_reader.errors import TemplateError
from paper_reader.library.index import scan_notes, write_index
from paper_reader.writing.render import note_filename
from paper_reader.writing.questions import load_questions
from tests.conftest import FakeLLM
from tests.support.pdfgen import sample_paper

runner = CliRunner()
REPLY = "- **Lead**: We propose a simple method for testing readers of papers (§1, p. 1)."


def invoke(args, llm=None):
    llm = llm or FakeLLM(lambda m: REPLY)
    return runner.invoke(app, args, obj={"open_model": lambda settings: llm})


def bounded(fn, seconds: float = 10):
    """fn() in a thread: its result, or a failure if it has not returned in time (a hang)."""
    box = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"hung for more than {seconds} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


# -- item 6: papers sharing a title -------------------------------------------------------------

def test_batch_gives_papers_with_the_same_title_distinct_notes(tmp_path):
    pdfs = [sample_paper(tmp_path / f"p{i}.pdf", title="Same Title") for i in range(3)]
    reading = tmp_path / "list.txt"
    reading.write_text("".join(f"{p}\n" for p in pdfs), "utf-8")
    out = tmp_path / "out"
    result = invoke(["batch", str(reading), "-o", str(out), "-j", "1"])
    assert result.exit_code == 0, result.output
    notes = sorted(out.glob("*.md"))
    assert len(notes) == 3 and "3 done" in result.stderr
    sources = {re.search(r"^source: (.*)$", n.read_text("utf-8"), re.M).group(1) for n in notes}
    assert len(sources) == 3
    again = invoke(["batch", str(reading), "-o", str(out), "-j", "1"])  # a re-run finds each note again
    assert "0 done, 3 skipped" in again.stderr and len(list(out.glob("*.md"))) == 3


def test_read_of_another_paper_with_the_same_title_does_not_replace_its_note(tmp_path):
    first, second = (sample_paper(tmp_path / f"{n}.pdf", title="Same Title") for n in ("a", "b"))
    out = tmp_path / "out"
    assert invoke(["read", str(first), "-o", str(out)]).exit_code == 0
    result = invoke(["read", str(second), "-o", str(out), "--force"])
    assert result.exit_code == 0, result.output
    assert len(list(out.glob("*.md"))) == 2


# -- item 7: a cache that cannot be written -----------------------------------------------------

def test_unwritable_cache_warns_once_and_the_note_is_written(tmp_path, monkeypatch):
    from paper_reader.models.cache import CachedLLM
    from paper_reader.core import read
    from paper_reader.settings import load_settings

    blocker = tmp_path / "cache-is-a-file"
    blocker.write_text("not a folder")  # works as root too, unlike chmod
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    pdf = sample_paper(tmp_path / "p.pdf")
    settings = load_settings({"output": str(tmp_path / "out")})
    model = CachedLLM(FakeLLM(lambda m: REPLY), settings.cache_path())
    result = read(pdf, settings, model=model)
    assert result.path.is_file() and len(re.findall(r"^# \d+\. ", result.path.read_text(), re.M)) == 10


def test_unwritable_cache_through_the_command(tmp_path):
    blocker = tmp_path / "cache-is-a-file"
    blocker.write_text("not a folder")
    pdf = sample_paper(tmp_path / "p.pdf")
    env = {**os.environ, "XDG_CACHE_HOME": str(blocker), "OPENAI_API_KEY": "none"}
    from tests.support.openai_server import OpenAIServer

    with OpenAIServer() as server:
        env["OPENAI_API_BASE"] = server.base_url
        proc = subprocess.run([sys.executable, "-m", "paper_reader", "read", str(pdf), "-m", "openai/x",
                               "-o", str(tmp_path / "out")], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("Warning: cannot store model answers") == 1
    assert (tmp_path / "out" / "A Sample Paper on Testing.md").is_file()


# -- items 8 and 9: tracebacks and hangs --------------------------------------------------------

def test_question_set_not_utf8_is_one_line(tmp_path):
    bad = tmp_path / "q.yaml"
    bad.write_bytes("questions:\n  - caf\xe9?\n".encode("latin-1"))
    with pytest.raises(TemplateError, match="not UTF-8"):
        load_questions(bad)
    result = invoke(["read", str(sample_paper(tmp_path / "p.pdf")), "-t", str(bad), "-o", "-"])
    assert result.exit_code == 1 and "not UTF-8" in result.stderr and result.exception.__class__ is SystemExit


def test_output_folder_named_like_a_note_with_force(tmp_path):
    folder = tmp_path / "notes.md"
    folder.mkdir()
    pdf = sample_paper(tmp_path / "p.pdf")
    result = invoke(["read", str(pdf), "-o", str(folder), "--force"])
    assert result.exit_code == 0, result.output
    assert (folder / "A Sample Paper on Testing.md").is_file()


def test_a_folder_where_the_note_goes_is_one_line(tmp_path):
    out = tmp_path / "out"
    (out / "A Sample Paper on Testing.md").mkdir(parents=True)
    result = invoke(["read", str(sample_paper(tmp_path / "p.pdf")), "-o", str(out), "--force"])
    assert result.exit_code == 1 and "is a folder" in result.stderr and not isinstance(result.exception, OSError)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_and_dev_zero_in_a_repository_do_not_hang_the_index(tmp_path):
    os.mkfifo(tmp_path / "pipe.md")
    (tmp_path / "zero.md").symlink_to("/dev/zero")
    (tmp_path / "real.md").write_text("---\ntitle: Real\n---\n", "utf-8")
    entries = bounded(lambda: scan_notes(tmp_path))
    assert [e.title for e in entries] == ["Real"]
    readme = bounded(lambda: write_index(tmp_path))
    assert "Real" in readme.read_text("utf-8")


def test_huge_note_is_read_with_a_limit(tmp_path):
    big = tmp_path / "big.md"
    with big.open("wb") as fh:
        fh.write(b"---\ntitle: Big\n---\n")
        fh.truncate(64 * 2**20)  # sparse: costs no disk
    assert [e.title for e in bounded(lambda: scan_notes(tmp_path))] == ["Big"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_given_as_the_paper_is_one_line(tmp_path):
    fifo = tmp_path / "paper.pdf"
    os.mkfifo(fifo)
    result = bounded(lambda: invoke(["read", str(fifo), "-o", "-"]))
    assert result.exit_code == 1 and "FIFO" in result.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_given_as_the_reading_list_is_one_line(tmp_path):
    fifo = tmp_path / "list.txt"
    os.mkfifo(fifo)
    result = bounded(lambda: invoke(["batch", str(fifo), "-o", str(tmp_path)]))
    assert result.exit_code == 1 and "FIFO" in result.stderr


# -- item 14: file names -------------------------------------------------------------------------

@pytest.mark.parametrize("title", ["CONIN$", "conout$", "COM\u00b9", "COM\u00b2", "COM\u00b3", "LPT0",
                                   "lpt\u00b9.notes", "COM0", "CON .x"])
def test_windows_device_names_get_the_prefix(title):
    assert note_filename(title).startswith("paper ")


@pytest.mark.parametrize("char", ["\u202e", "\u200e", "\u200f", "\u2066", "\u2067", "\u2068", "\u2069",
                                  "\u202a", "\u061c", "\ufeff", "\u00ad"])
def test_bidi_and_format_characters_are_removed(char):
    name = note_filename(f"Evil{char}fdp.exe")
    assert char not in name and name == "Evilfdp.exe.md"


def test_ordinary_titles_are_unchanged():
    assert note_filename("Attention Is All You Need") == "Attention Is All You Need.md"
    assert note_filename("COM10 and LPT12 benchmarks") == "COM10 and LPT12 benchmarks.md"
