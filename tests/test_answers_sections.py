"""Section digests shown at the end of the note, and `ask "summarize section N"` answered from them."""

import re

from paper_reader.writing.ask import answer_question, note_digests, route
from paper_reader.writing.pipeline import make_notes
from paper_reader.reading.reader import read_paper
from paper_reader.writing.render import render_notes
from paper_reader.writing.questions import load_questions
from tests.conftest import FakeLLM


def _digest(messages):
    """A tiny model's digest: the section's first sentence, said again."""
    prompt = messages[-1]["content"]
    m = re.search(r"\[p\. (\d+)\] (.+?[.!?])(?:\s|$)", prompt)
    return f"- {m.group(2)} (p. {m.group(1)})" if m else "- Nothing."


def test_digests_are_a_collapsed_section_by_section_part(sample_pdf):
    notes = make_notes(read_paper(sample_pdf), load_questions(), FakeLLM(_digest, context_window=2048, small=True))
    note = render_notes(notes)
    tail = note.split("<details>", 1)[1]
    assert "<summary>Section by section</summary>" in tail and tail.rstrip().endswith("</details>")
    assert re.search(r"^### §3\.1 Chunking \(p\. 2\)$", tail, re.M)
    assert note.index("# 10. ") < note.index("<details>")


def test_summarize_section_answers_from_the_stored_digest_without_a_call(sample_pdf):
    paper = read_paper(sample_pdf)
    note = render_notes(make_notes(paper, load_questions(), FakeLLM(_digest, context_window=2048, small=True)))
    stored = note_digests(note)
    assert any("§4" in labels for labels, _, _ in stored)
    llm = FakeLLM()
    reply = answer_question(paper, "summarize section 4", llm, note=note)
    assert "- We find that the reader is 2x faster than the baseline. (p. 2)" in reply and "§4" in reply
    assert llm.history == []
    r = route("summarize section 3", paper, digests=stored)  # its subsection's digest comes along
    assert r.kind == "digest" and "§3.1" in r.reply


def test_other_section_questions_get_the_digest_and_the_text(sample_pdf):
    paper = read_paper(sample_pdf)
    note = render_notes(make_notes(paper, load_questions(), FakeLLM(_digest, context_window=2048, small=True)))
    r = route("what does section 4 measure?", paper, digests=note_digests(note))
    assert r.kind == "section" and r.material[0][1].startswith("- We find that the reader")
    assert r.material[0][0] == "(§4, p. 2)"
    assert any("2x faster" in text for _, text in r.material)


def test_without_a_note_sections_are_read_from_the_paper(sample_pdf):
    r = route("summarize section 4", read_paper(sample_pdf))
    assert r.kind == "section" and "2x faster" in r.material[0][1]


def test_ask_cli_summarizes_a_section_from_the_note(sample_pdf, tmp_path):
    from typer.testing import CliRunner

    from paper_reader.cli.common import app

    runner = CliRunner()
    writer = FakeLLM(_digest, context_window=2048, small=True)
    assert runner.invoke(app, ["read", str(sample_pdf), "-o", str(tmp_path)],
                         obj={"open_model": lambda s: writer}).exit_code == 0
    note = tmp_path / "A Sample Paper on Testing.md"
    asker = FakeLLM()
    result = runner.invoke(app, ["ask", str(note), "summarize section 4"], obj={"open_model": lambda s: asker})
    assert result.exit_code == 0, result.output
    assert "We find that the reader is 2x faster than the baseline." in result.stdout and not asker.history
    assert "## summarize section 4" in note.read_text()
