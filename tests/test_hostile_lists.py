"""Reading lists, settings values and secrets in URLs (issue 10, items 8, 11, 12 and 13)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paper_reader.batch import PaperResult, redact_source, run_batch
from paper_reader.cli.common import app
from paper_reader.errors import ConfigError, InputError
from paper_reader.files import redact_urls
from paper_reader.models.llm import _short
from paper_reader.sources.readinglist import Entry, load_list, parse_text, parse_yaml
from paper_reader.settings import load_settings
from tests.conftest import FakeLLM

runner = CliRunner()
SECRET_URL = "http://user:hunter2@127.0.0.1:9/x.pdf?X-Amz-Signature=s3cr3t"


# -- item 11: reading lists -----------------------------------------------------------------

def test_yaml_relative_paths_resolve_against_the_lists_folder(tmp_path, monkeypatch):
    folder = tmp_path / "lists"
    folder.mkdir()
    (folder / "list.yaml").write_text("- papers/a.pdf\n- source: papers/b.pdf\n  topic: T\n- 2112.11446\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    entries = load_list(folder / "list.yaml")
    assert [e.source for e in entries] == [str(folder / "papers/a.pdf"), str(folder / "papers/b.pdf"), "2112.11446"]


def test_comment_stripper_respects_quotes():
    entries = parse_text('"a #1.pdf" topic: X  # a comment\nb.pdf # c\n# whole line\n', Path("/l"))
    assert [(e.source, e.topic) for e in entries] == [("/l/a #1.pdf", "X"), ("/l/b.pdf", None)]


@pytest.mark.parametrize("text, yaml", [("x.pdf lang: fr\n", False), ("- source: x.pdf\n  lang: fr\n", True)])
def test_unsupported_lang_is_refused(text, yaml):
    with pytest.raises(InputError, match="lang 'fr' is not supported"):
        parse_yaml(text) if yaml else parse_text(text)


def test_utf16_list_with_bom_is_read(tmp_path):
    path = tmp_path / "list.txt"
    path.write_bytes("\ufeff2112.11446 topic: Modèles\n".encode("utf-16"))
    assert [(e.source, e.topic) for e in load_list(path)] == [("2112.11446", "Modèles")]


def test_nul_bytes_are_refused_and_never_echoed(tmp_path):
    path = tmp_path / "list.txt"
    path.write_bytes("2112.11446\n".encode("utf-16-le"))  # no BOM: NULs everywhere
    with pytest.raises(InputError, match="NUL") as caught:
        load_list(path)
    assert "\x00" not in str(caught.value)
    result = runner.invoke(app, ["batch", str(path), "-o", str(tmp_path)], obj={"open_model": lambda s: FakeLLM()})
    assert result.exit_code == 1 and "\x00" not in result.output


def test_terminal_escapes_in_a_list_are_refused():
    with pytest.raises(InputError, match="control characters"):
        parse_text("\x1b]0;owned\x07x.pdf\n")


# -- item 8: YAML values of the wrong shape ----------------------------------------------------

@pytest.mark.parametrize("text, fine", [
    ("- source: x.pdf\n  tags: 5\n", True),
    ("- source: x.pdf\n  tags: [a, 5]\n", True),
    ("- source: x.pdf\n  tags: [[a, b], c]\n", False),
    ("- source: x.pdf\n  tags: {a: 1}\n", False),
    ("- source: [x.pdf, y.pdf]\n", False),
    ("- source: x.pdf\n  topic: [a]\n", False),
    ("- [x.pdf]\n", False),
])
def test_yaml_values_of_the_wrong_shape_are_one_line(text, fine):
    if fine:
        entry = parse_yaml(text)[0]
        assert all(isinstance(t, str) for t in entry.tags) and entry.tags
    else:
        with pytest.raises(InputError, match="entry 1"):
            parse_yaml(text)


def test_yaml_list_with_bad_tags_through_the_command(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- source: x.pdf\n  tags: [[a]]\n", "utf-8")
    result = runner.invoke(app, ["batch", str(path), "-o", str(tmp_path)], obj={"open_model": lambda s: FakeLLM()})
    assert result.exit_code == 1 and "tags" in result.stderr and not isinstance(result.exception, TypeError)


# -- item 13: unchecked values -------------------------------------------------------------------

@pytest.mark.parametrize("flags", [{"timeout": 0}, {"timeout": -1}, {"timeout": math.inf},
                                   {"concurrency": 0}, {"context_window": 10}, {"max_pages": 0}])
def test_bad_flag_values_are_refused(flags):
    with pytest.raises(ConfigError):
        load_settings(flags)


@pytest.mark.parametrize("name, value", [("TIMEOUT", "nan"), ("TIMEOUT", "0"), ("TIMEOUT", "-5"),
                                         ("MAX_PAGES", "0"), ("MAX_DOWNLOAD_MB", "0"), ("DOWNLOAD_DEADLINE", "inf"),
                                         ("ARXIV_INTERVAL", "-1"), ("CONCURRENCY", "0"), ("CACHE", "maybe")])
def test_bad_environment_values_are_refused_by_name(monkeypatch, name, value):
    monkeypatch.setenv(f"PAPER_READER_{name}", value)
    with pytest.raises(ConfigError, match=f"PAPER_READER_{name}"):
        load_settings()


def test_bad_config_value_names_the_file(tmp_path):
    (tmp_path / "paper-reader.yaml").write_text("timeout: 0\n", "utf-8")
    with pytest.raises(ConfigError, match="paper-reader.yaml.*timeout"):
        load_settings(cwd=tmp_path)


def test_timeout_zero_through_the_command_is_one_line(tmp_path):
    result = runner.invoke(app, ["read", "x.pdf", "--timeout", "0"], obj={"open_model": lambda s: FakeLLM()})
    assert result.exit_code == 1 and "timeout" in result.stderr and "Traceback" not in result.output


def test_good_values_still_load(monkeypatch):
    monkeypatch.setenv("PAPER_READER_TIMEOUT", "2.5")
    monkeypatch.setenv("PAPER_READER_ARXIV_INTERVAL", "0")
    monkeypatch.setenv("PAPER_READER_CACHE", "off")
    s = load_settings({"max_pages": 1})
    assert (s.timeout, s.arxiv_interval, s.cache, s.max_pages) == (2.5, 0.0, False, 1)


# -- item 12: secrets in URLs --------------------------------------------------------------------

def test_urls_in_any_text_are_redacted():
    shown = redact_urls(f"cannot reach {SECRET_URL}, giving up")
    assert "hunter2" not in shown and "s3cr3t" not in shown and shown.endswith(", giving up")
    assert redact_source(SECRET_URL) == "http://127.0.0.1:9/x.pdf?…"
    assert redact_source("papers/a.pdf") == "papers/a.pdf"


def test_model_errors_never_show_an_api_base_password():
    assert "hunter2" not in _short(Exception(f"Connection error to {SECRET_URL}"))


def test_batch_failures_and_display_never_show_url_secrets(tmp_path):
    reading = tmp_path / "list.txt"
    reading.write_text(SECRET_URL + "\n", "utf-8")
    result = runner.invoke(app, ["batch", str(reading), "-o", str(tmp_path / "out")],
                           obj={"open_model": lambda s: FakeLLM()})
    assert result.exit_code == 1
    assert "hunter2" not in result.output and "s3cr3t" not in result.output


def test_read_error_never_shows_url_secrets(tmp_path):
    result = runner.invoke(app, ["read", SECRET_URL, "-o", "-"], obj={"open_model": lambda s: FakeLLM()})
    assert result.exit_code == 1
    assert "hunter2" not in result.output and "s3cr3t" not in result.output


def test_batch_reports_show_redacted_sources(tmp_path):
    seen = []
    results = run_batch([Entry(SECRET_URL)], load_settings({"output": str(tmp_path)}), model=FakeLLM(),
                        progress=lambda i, stage, detail: seen.append(detail))
    assert isinstance(results[0], PaperResult) and results[0].status == "failed"
    assert all("hunter2" not in d and "s3cr3t" not in d for d in seen + [results[0].error])
