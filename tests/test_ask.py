import json

import pytest
from typer.testing import CliRunner

from paper_reader.writing.ask import append_qa, route
from paper_reader.cli.common import app
from paper_reader.reading.reader import read_paper
from tests.conftest import FakeLLM, shared_pdf

runner = CliRunner()


@pytest.fixture(scope="module")
def attention():
    return read_paper(shared_pdf("attention_is_all_you_need.pdf"))


@pytest.mark.parametrize("question, kind, first_cite", [
    ("what is on page 2?", "page", "(p. 2)"),
    ("请问第二页的内容是什么？", "page", "(p. 2)"),
    ("summarize section 3.2", "section", "(§3.2, p. 3)"),
    ("summarize chapter 4", "section", "(§4, p. 6)"),
    ("第四章讲了什么？", "section", "(§4, p. 6)"),
    ("Summarize the Why Self-Attention section", "section", "(§4, p. 6)"),
])
def test_questions_about_a_part_go_to_exactly_that_part(attention, question, kind, first_cite):
    r = route(question, attention)
    assert r.kind == kind and r.material[0][0] == first_cite
    if kind == "page":
        assert r.material[0][1] == attention.pages[1]
    else:
        assert r.material[0][1].startswith(attention.find_section(first_cite[2:].split(",")[0]).text[:200])


@pytest.mark.parametrize("question, says", [
    ("what is on page 99?", "no page 99: it has pages 1–15"),
    ("summarize section 9", "no section 9. Its sections are: Abstract (p. 1); 1 Introduction"),
    ("summarize the Predictable Scaling section", "no section called 'predictable scaling'"),
])
def test_missing_parts_are_said_and_listed(attention, question, says):
    r = route(question, attention)
    assert r.kind == "missing" and says in r.reply


def test_general_questions_use_the_best_matching_sentences(attention):
    r = route("How many identical layers does the encoder stack have?", attention)
    assert any("stack of N = 6 identical layers" in text for _, text in r.material[:3])


def test_append_qa_creates_and_extends_the_section():
    note = "---\ntitle: T\n---\n\n# 1. Q?\n\nA.\n"
    once = append_qa(note, "What is on page 2?", "Tables (p. 2).")
    assert once.endswith("# Q&A\n\n## What is on page 2?\n\nTables (p. 2).\n")
    twice = append_qa(once, "Why?", "Because.")
    assert twice.count("# Q&A") == 1 and twice.endswith("## Why?\n\nBecause.\n")
    zh = append_qa(note, "第四章？", "答。", lang="zh")
    assert "# 疑难解答\n\n## 第四章？" in zh


def test_ask_cli_answers_and_appends_to_the_note(sample_pdf, tmp_path):
    llm = FakeLLM(lambda m: "- **Page 2**: the method section (§3, p. 2).")
    obj = {"open_model": lambda s: llm}
    assert runner.invoke(app, ["read", str(sample_pdf), "-o", str(tmp_path)], obj=obj).exit_code == 0
    note = tmp_path / "A Sample Paper on Testing.md"
    result = runner.invoke(app, ["ask", str(note), "what is on page 2?"], obj=obj)
    assert result.exit_code == 0, result.output
    assert "the method section (§3, p. 2)" in result.stdout
    assert "3 Method" in llm.history[-1][0][-1]["content"]  # the model saw page 2's text
    assert note.read_text().endswith("# Q&A\n\n## what is on page 2?\n\n- **Page 2**: the method section (§3, p. 2).\n")


def test_ask_cli_missing_section_needs_no_model_and_writes_nothing(sample_pdf, tmp_path):
    llm = FakeLLM()
    note = tmp_path / "A Sample Paper on Testing.md"
    assert runner.invoke(app, ["read", str(sample_pdf), "-o", str(tmp_path)], obj={"open_model": lambda s: llm}).exit_code == 0
    before, calls = note.read_text(), len(llm.history)
    result = runner.invoke(app, ["ask", str(note), "summarize section 7"], obj={"open_model": lambda s: llm})
    assert result.exit_code == 1 and "no section 7" in result.stderr
    assert len(llm.history) == calls and note.read_text() == before


@pytest.mark.parametrize("question, label", [("summarize the conclusion", "(§5, p. 2)"),
                                             ("Explain the related work.", "(§2, p. 1)"),
                                             ("describe the method", "(§3, p. 2)")])
def test_a_section_named_without_the_word_section(sample_pdf, question, label):
    from paper_reader.writing.ask import route
    from paper_reader.reading.reader import read_paper

    r = route(question, read_paper(sample_pdf))
    assert r.kind == "section" and r.material[0][0] == label


def test_a_question_about_a_concept_is_not_a_section(sample_pdf):
    from paper_reader.writing.ask import route
    from paper_reader.reading.reader import read_paper

    assert route("explain how the pipeline keeps page numbers", read_paper(sample_pdf)).kind == "general"


def test_sections_json_shape(sample_pdf):
    result = runner.invoke(app, ["sections", str(sample_pdf), "--json"])
    data = json.loads(result.stdout)
    assert set(data) >= {"title", "authors", "year", "arxiv_id", "doi", "pages", "language", "sections", "references"}
    assert data["sections"][3] == {"number": "2", "title": "Related Work", "level": 1, "kind": "related_work",
                                   "first_page": 1, "last_page": 1}
    assert data["references"][0] == {"key": "1", "text": "J. Smith and K. Lee. Summaries of papers. arXiv:2001.01234, 2020.",
                                     "arxiv": "2001.01234", "doi": None}
    assert data["language"] == "en"


def test_sections_tree(sample_pdf):
    result = runner.invoke(app, ["sections", str(sample_pdf)])
    assert result.exit_code == 0 and "3.1 Chunking" in result.stdout and "3 references" in result.stdout


def test_interactive_ask_keeps_the_conversation_until_an_empty_line(sample_pdf):
    llm = FakeLLM(lambda m: "- **Answer**: from the paper (§1, p. 1).")
    result = runner.invoke(app, ["ask", str(sample_pdf), "--no-save"], obj={"open_model": lambda s: llm},
                           input="What is proposed?\nAnd why?\n\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("from the paper (§1, p. 1)") == 2
    second = llm.history[-1][0]
    assert [m["content"] for m in second if m["role"] == "user"][0] == "What is proposed?"  # context kept


def test_ask_commit_commits_the_new_qa(sample_pdf, tmp_path, monkeypatch):
    import subprocess

    repo = tmp_path / "notes"
    assert runner.invoke(app, ["init", str(repo)]).exit_code == 0
    monkeypatch.chdir(repo)
    for k, v in {"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@e.x", "GIT_COMMITTER_NAME": "T",
                 "GIT_COMMITTER_EMAIL": "t@e.x"}.items():
        monkeypatch.setenv(k, v)
    llm = FakeLLM()
    assert runner.invoke(app, ["read", str(sample_pdf), "--commit"], obj={"open_model": lambda s: llm}).exit_code == 0
    note = next(repo.rglob("A Sample Paper on Testing.md"))
    result = runner.invoke(app, ["ask", str(note), "what is on page 2?", "--commit"], obj={"open_model": lambda s: llm})
    assert result.exit_code == 0, result.stderr
    log = subprocess.run(["git", "-C", str(repo), "log", "--format=%s"], capture_output=True, text=True).stdout
    assert log.splitlines()[0] == "notes: Q&A on A Sample Paper on Testing"
    status = subprocess.run(["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True).stdout
    assert note.name not in status


@pytest.mark.parametrize("named", ["https://arxiv.org/abs/2112.11446v2", "arXiv:2112.11446v2", "2112.11446v2"])
def test_ask_takes_the_paper_forms_read_takes(named, tmp_path, monkeypatch):
    """`ask https://arxiv.org/abs/...` once failed as a path ("https:/arxiv.org/..."): the argument
    is parsed as a paper source, as `read` does, and fetched from (a loopback) arXiv."""
    from tests.conftest import FakeLLM
    from tests.support.arxiv_server import ArxivServer

    with ArxivServer() as server:
        monkeypatch.setenv("PAPER_READER_ARXIV_API", server.api_url)
        monkeypatch.setenv("PAPER_READER_ARXIV_PDF", server.pdf_url)
        monkeypatch.setenv("PAPER_READER_ARXIV_INTERVAL", "0")
        monkeypatch.chdir(tmp_path)
        llm = FakeLLM(["- It tests things [p. 1]."])
        result = runner.invoke(app, ["ask", named, "what is the main result?", "--no-save"],
                               obj={"open_model": lambda s: llm})
        assert result.exit_code == 0, result.output
        assert "It tests things" in result.stdout
        assert any("2112.11446" in r for r in map(str, server.requests))
