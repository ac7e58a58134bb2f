import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from paper_reader import __version__
from paper_reader.cli.common import app
from tests.conftest import FakeLLM

runner = CliRunner()


def invoke(args, llm=None):
    llm = llm or FakeLLM(lambda m: "- **Lead**: We propose a simple method (§1, p. 1).")
    return runner.invoke(app, args, obj={"open_model": lambda settings: llm})


def test_read_writes_the_note_and_prints_its_path(sample_pdf, tmp_path):
    out = tmp_path / "notes"
    result = invoke(["read", str(sample_pdf), "-o", str(out)])
    assert result.exit_code == 0, result.output
    path = out / "A Sample Paper on Testing.md"
    assert result.stdout.strip() == str(path)
    text = path.read_text()
    assert len(re.findall(r"^# \d+\. ", text, re.M)) == 10
    assert "model calls" in result.stderr


def test_read_to_stdout(sample_pdf):
    result = invoke(["read", str(sample_pdf), "-o", "-"])
    assert result.exit_code == 0
    assert result.stdout.startswith("---\ntitle: A Sample Paper on Testing")


def test_existing_note_needs_force(sample_pdf, tmp_path):
    assert invoke(["read", str(sample_pdf), "-o", str(tmp_path)]).exit_code == 0
    note = tmp_path / "A Sample Paper on Testing.md"
    note.write_text("my hand edits")
    again = invoke(["read", str(sample_pdf), "-o", str(tmp_path)])
    assert again.exit_code == 1 and "--force" in again.stderr
    assert note.read_text() == "my hand edits"
    forced = invoke(["read", str(sample_pdf), "-o", str(tmp_path), "--force"])  # keeps edits: unmarked, refused
    assert forced.exit_code == 1 and "--discard-edits" in forced.stderr and note.read_text() == "my hand edits"
    assert invoke(["read", str(sample_pdf), "-o", str(tmp_path), "--force", "--discard-edits"]).exit_code == 0
    assert note.read_text().startswith("---")


def test_zh_headings(sample_pdf):
    result = invoke(["read", str(sample_pdf), "-o", "-", "--lang", "zh"])
    assert "# 1. 这篇论文的主要贡献是什么？" in result.stdout


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing.pdf", "no such file"),
    (lambda d: (d / "x.pdf").write_text("hello") and d / "x.pdf", "not a PDF"),
])
def test_bad_input_is_one_red_line_and_exit_1(tmp_path, make, message):
    result = invoke(["read", str(make(tmp_path)), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # one line (rich may wrap a long path)
    assert not (tmp_path / "out").exists()


def test_model_failure_writes_nothing(sample_pdf, tmp_path):
    from paper_reader.errors import ModelError

    llm = FakeLLM([ModelError("openai/gpt-4o-mini: no valid API key. Set OPENAI_API_KEY.")])
    result = invoke(["read", str(sample_pdf), "-o", str(tmp_path / "out"), "-j", "1"], llm)
    assert result.exit_code == 1 and "OPENAI_API_KEY" in result.stderr
    assert not list((tmp_path).glob("out/*"))


def test_bad_template_names_file(sample_pdf, tmp_path):
    bad = tmp_path / "t.yaml"
    bad.write_text("questions: 3")
    result = invoke(["read", str(sample_pdf), "-t", str(bad), "-o", "-"])
    assert result.exit_code == 1 and str(bad) in result.stderr


def test_usage_errors_exit_2(sample_pdf):
    assert invoke(["read"]).exit_code == 2
    assert invoke(["read", str(sample_pdf), "--concurrency", "0"]).exit_code == 2
    assert invoke(["read", str(sample_pdf), "--bogus"]).exit_code == 2


def test_version_and_help():
    assert invoke(["--version"]).stdout.strip() == f"paper-reader {__version__}"
    help_text = invoke(["read", "--help"]).stdout
    assert "Examples" in help_text and "--model" in help_text


def test_help_does_not_import_litellm():
    code = ("import sys; from paper_reader.cli.common import app\n"
            "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
            "assert 'litellm' not in sys.modules, 'litellm imported'\n"
            "app(['read', '--help'])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "litellm imported" not in result.stderr
    assert "Usage" in result.stdout


def test_read_an_arxiv_id_from_a_local_arxiv_server(tmp_path, monkeypatch):
    from tests.support.arxiv_server import ArxivServer

    with ArxivServer() as server:
        monkeypatch.setenv("PAPER_READER_ARXIV_API", server.api_url)
        monkeypatch.setenv("PAPER_READER_ARXIV_PDF", server.pdf_url)
        monkeypatch.setenv("PAPER_READER_ARXIV_INTERVAL", "0")
        result = invoke(["read", "arXiv:2112.11446v2", "-o", str(tmp_path)])
        assert result.exit_code == 0, result.output
        note = (tmp_path / "A Sample Paper on Testing.md").read_text()
        assert "arxiv: 2112.11446v2" in note and f"source: {server.pdf_url}/2112.11446v2" in note
        hits = len(server.requests)
        again = invoke(["read", "2112.11446v2", "-o", str(tmp_path), "--force"])
        assert again.exit_code == 0 and len(server.requests) == hits  # PDF and metadata cached

        bad = invoke(["read", "2112.1144", "-o", str(tmp_path)])
        assert bad.exit_code == 1 and "not a valid arXiv ID" in bad.stderr
        unknown = invoke(["read", "2112.99999", "-o", str(tmp_path)])
        assert unknown.exit_code == 1 and "arXiv has no paper 2112.99999" in unknown.stderr


def test_a_bug_in_paper_reader_is_one_line_naming_its_cause_and_a_traceback_under_verbose(sample_pdf, monkeypatch):
    """Not blamed on the input or a server, not a 100-line traceback; -v shows where it came from."""
    import paper_reader.reading.headings as headings

    def broken(outline, lines):
        raise TypeError("ord() expected a character, but string of length 2 found")

    monkeypatch.setattr(headings, "find_headings", broken)
    monkeypatch.setattr("paper_reader.reading.reader.find_headings", broken)
    result = invoke(["sections", str(sample_pdf), "--json"])
    assert result.exit_code == 1
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "internal error" in lines[0] and "TypeError: ord()" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    verbose = invoke(["-v", "sections", str(sample_pdf), "--json"])
    assert verbose.exit_code == 1 and "Traceback" in verbose.stderr and "broken" in verbose.stderr
