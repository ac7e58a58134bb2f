"""Everyday use of the command line: flags anywhere, usage errors, stdin, JSON for scripts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from paper_reader.cli.common import app, global_flags_first
from tests.conftest import FakeLLM

REPLY = "- **Point**: the paper proposes a method (§1, p. 1)."


def invoke(args, **kw):
    return CliRunner().invoke(app, global_flags_first(args), obj={"open_model": lambda s: FakeLLM(lambda m: REPLY)}, **kw)


@pytest.mark.parametrize("args", [["read", "x.pdf", "--lang", "fr"], ["batch", "list.txt", "-l", "de"],
                                  ["ask", "x.pdf", "q?", "--lang", "fr"], ["init", "n", "--lang", "xx"]])
def test_an_unsupported_language_is_a_usage_error(args):
    result = invoke(args)
    assert result.exit_code == 2 and "use en or zh" in result.stderr


def test_help_shows_the_defaults_in_brackets():
    result = CliRunner().invoke(app, ["read", "--help"])
    assert "[default: 4]" in result.stdout and "[default: 300]" in result.stdout


@pytest.mark.parametrize("argv, expected", [
    (["read", "x.pdf", "-v"], ["-v", "read", "x.pdf"]),
    (["batch", "l.txt", "--quiet", "-j", "2"], ["--quiet", "batch", "l.txt", "-j", "2"]),
    (["ask", "x.pdf", "--", "-v"], ["ask", "x.pdf", "--", "-v"]),
])
def test_global_flags_work_after_the_command(argv, expected):
    assert global_flags_first(argv) == expected


def test_read_json_and_quiet(sample_pdf, tmp_path):
    result = invoke(["read", str(sample_pdf), "-o", str(tmp_path), "--json", "-q"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["title"] == "A Sample Paper on Testing" and data["note"].endswith(".md")
    assert data["usage"]["calls"] > 0
    assert result.stderr == ""  # --quiet: no progress, no summary


def test_quiet_still_prints_errors(tmp_path):
    result = invoke(["read", str(tmp_path / "missing.pdf"), "-q"])
    assert result.exit_code == 1 and "no such file" in result.stderr


def test_read_from_stdin(sample_pdf, tmp_path):
    result = invoke(["read", "-", "-o", str(tmp_path)], input=sample_pdf.read_bytes())
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "A Sample Paper on Testing.md").is_file()


def test_stdin_that_is_not_a_pdf_is_one_line(tmp_path):
    result = invoke(["read", "-", "-o", str(tmp_path)], input=b"hello")
    assert result.exit_code == 1 and "does not hold a PDF" in result.stderr


def test_batch_json_topic_and_model_options(sample_pdf, tmp_path):
    reading = tmp_path / "list.txt"
    reading.write_text(f"{sample_pdf}\n")
    result = invoke(["batch", str(reading), "-o", str(tmp_path / "out"), "--json", "--topic", "ml",
                     "--timeout", "30", "--context-window", "4096"])
    assert result.exit_code == 0, result.stderr
    row = json.loads(result.stdout.strip().splitlines()[0])
    assert row["status"] == "done" and row["note"].endswith(".md") and row["calls"] > 0


def test_verbose_after_the_command_through_the_real_entry_point(sample_pdf, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "paper_reader", "sections", str(sample_pdf), "-v", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["title"] == "A Sample Paper on Testing"


def test_a_model_without_its_key_says_which_variable_at_once(sample_pdf, tmp_path, monkeypatch):
    import time

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    started = time.monotonic()
    result = CliRunner().invoke(app, ["read", str(sample_pdf), "-o", str(tmp_path), "--model", "gpt-4o-mini"])
    assert result.exit_code == 1 and "needs OPENAI_API_KEY" in result.stderr
    assert time.monotonic() - started < 30  # no retries (litellm's import is most of it)
    assert not list(tmp_path.glob("*.md"))


def test_batch_keeps_one_limit_on_model_calls_across_papers(sample_pdf, tmp_path):
    import threading
    import time

    from paper_reader.batch import run_batch
    from paper_reader.sources.readinglist import Entry
    from paper_reader.settings import load_settings
    from tests.support.pdfgen import sample_paper

    in_flight, peak, lock = [0], [0], threading.Lock()

    def reply(messages):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.02)
        with lock:
            in_flight[0] -= 1
        return REPLY

    entries = [Entry(str(sample_paper(tmp_path / f"p{i}.pdf", title=f"Paper {i}"))) for i in range(4)]
    settings = load_settings({"output": str(tmp_path / "out"), "concurrency": 3, "papers": 4})
    results = run_batch(entries, settings, model=FakeLLM(reply))
    assert [r.status for r in results] == ["done"] * 4
    assert 1 < peak[0] <= 3  # -j 3: three calls on the server, not papers x calls


@pytest.mark.parametrize("source, label", [
    ("/home/me/papers/attention_is_all_you_need.pdf", "attention_is_all_you_need.pdf"),
    ("2112.11446", "2112.11446"),
    ("https://arxiv.org/abs/1706.03762", "https://arxiv.org/abs/1706.03762"),
    ("a" * 50 + ".pdf", "a" * 35 + "…"),
])
def test_batch_rows_name_papers_shortly(source, label):
    from paper_reader.cli.show import short_name

    assert short_name(source) == label


def test_an_unknown_setting_is_an_error_naming_file_and_key(tmp_path, monkeypatch):
    (tmp_path / "paper-reader.yaml").write_text("modle: gpt-4o-mini\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["read", "x.pdf"])
    assert result.exit_code == 1
    assert "unknown setting 'modle'" in result.stderr and "Did you mean 'model'?" in result.stderr
    assert "paper-reader.yaml" in result.stderr


@pytest.mark.parametrize("text, message", [("concurrency: [1, 2]\n", "single value"),
                                          ("max_pages: 2.5\n", "must be a number"),
                                          ("cache: maybe\n", "true or false")])
def test_values_are_converted_by_the_fields_type(tmp_path, monkeypatch, text, message):
    from paper_reader.errors import ConfigError
    from paper_reader.settings import load_settings

    (tmp_path / "paper-reader.yaml").write_text(text, "utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(cwd=tmp_path)


def test_config_shows_each_setting_and_where_it_came_from(tmp_path, monkeypatch):
    (tmp_path / "paper-reader.yaml").write_text("lang: zh\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PAPER_READER_CONCURRENCY", "7")
    result = CliRunner().invoke(app, ["config", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["lang"] == {"value": "zh", "from": f"Config {tmp_path / 'paper-reader.yaml'}"}
    assert data["concurrency"] == {"value": "7", "from": "PAPER_READER_CONCURRENCY"}
    assert data["timeout"]["from"] == "default"


def test_reading_list_tags_reach_the_note_and_the_index(sample_pdf, tmp_path, monkeypatch):
    repo = tmp_path / "notes"
    assert CliRunner().invoke(app, ["init", str(repo)]).exit_code == 0
    monkeypatch.chdir(repo)
    reading = tmp_path / "list.txt"
    reading.write_text(f"{sample_pdf} topic: testing tags: reading, pdf\n")
    result = invoke(["batch", str(reading)])
    assert result.exit_code == 0, result.stderr
    note = next((repo / "testing").glob("*.md"))
    assert "tags:\n- reading\n- pdf\n" in note.read_text()
    assert "reading, pdf" in (repo / "README.md").read_text()


def test_protocol_words_are_enums_that_read_as_their_strings():
    from paper_reader.batch import Status
    from paper_reader.sources.arxiv import SourceKind, parse_source
    from paper_reader.writing.ask import RouteKind

    assert parse_source("2112.11446").kind is SourceKind.ARXIV and parse_source("2112.11446").kind == "arxiv"
    assert f"{Status.DONE}" == "done" and json.dumps({"s": Status.FAILED}) == '{"s": "failed"}'
    assert RouteKind("missing") is RouteKind.MISSING
    with pytest.raises(AttributeError):
        Status.DONEE  # a typo fails loudly


def test_a_fully_cached_rerun_needs_no_model_even_to_count(tmp_path):
    from paper_reader.models.cache import CachedLLM

    class Counting(FakeLLM):
        counted = 0
        windows = 0

        def count_tokens(self, text):
            Counting.counted += 1
            return super().count_tokens(text)

        @property
        def context_window(self):
            Counting.windows += 1
            return 8192

        @context_window.setter
        def context_window(self, value):
            pass

    first = CachedLLM(Counting(), tmp_path / "llm")
    assert first.count_tokens("some words of a paper") == 5 and first.context_window == 8192 and not first.small
    first._sizes.save()  # what happens at exit
    before = (Counting.counted, Counting.windows)
    again = CachedLLM(Counting(), tmp_path / "llm")
    assert again.count_tokens("some words of a paper") == 5 and again.context_window == 8192 and not again.small
    assert (Counting.counted, Counting.windows) == before  # answered from the memo
