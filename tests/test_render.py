import re
from pathlib import Path

import pytest
import yaml

from paper_reader.errors import OutputError
from paper_reader.writing.pipeline import make_notes
from paper_reader.reading.reader import read_paper
from paper_reader.writing.render import note_filename, render_notes, write_atomic
from paper_reader.writing.questions import load_questions
from tests.conftest import FakeLLM
from tests.test_template import EN, ZH


def _notes(pdf, reply, lang="en"):
    return make_notes(read_paper(pdf), load_questions(), FakeLLM(reply), lang=lang, concurrency=2)


def _split(markdown):
    assert markdown.startswith("---\n")
    _, front, body = markdown.split("---\n", 2)
    return yaml.safe_load(front), body


@pytest.mark.parametrize("lang, headings", [("en", EN), ("zh", ZH)])
def test_note_has_front_matter_and_ten_headings_in_order(sample_pdf, lang, headings):
    notes = _notes(sample_pdf, lambda m: "- **Lead**: We propose a simple method (§1, p. 1).", lang)
    front, body = _split(render_notes(notes))
    assert front["title"] == "A Sample Paper on Testing"
    assert front["language"] == lang and front["model"] == "fake/model" and front["template"] == "ten-questions"
    assert front["tokens"]["input"] > 0 and front["calls"] == len(notes.answers) + notes.chunks
    found = re.findall(r"^# (\d+)\. (.+)$", body, re.M)
    assert found == [(str(i), q) for i, q in enumerate(headings, start=1)]


def test_hostile_model_text_cannot_break_the_note(sample_pdf):
    hostile = "# 1. Fake heading\n---\n```\n{{ paper.title }} {% if x %}\n`code` (§1, p. 1)"
    front, body = _split(render_notes(_notes(sample_pdf, lambda m: hostile)))
    assert front["title"] == "A Sample Paper on Testing"
    assert len(re.findall(r"^# \d+\. ", body, re.M)) == 10
    assert "{{ paper.title }}" in body  # shown literally, never evaluated
    assert body.count("```") == body.count("\\```")


def test_hostile_title_survives_front_matter(tmp_path):
    from tests.support.pdfgen import sample_paper

    title = 'Colons: "quotes" --- and # hashes {{ x }}'
    pdf = sample_paper(tmp_path / "t.pdf", title=title)
    front, _ = _split(render_notes(_notes(pdf, lambda m: "- ok (§1, p. 1)")))
    assert front["title"] == title


@pytest.mark.parametrize("title, name", [
    ("Attention Is All You Need", "Attention Is All You Need.md"),
    ("BERT: Pre-training / Fine-tuning?", "BERT Pre-training Fine-tuning.md"),
    ("基于改进互信息的信息检索扩展模型", "基于改进互信息的信息检索扩展模型.md"),
    ("CON", "paper CON.md"),
    ("   ...", "paper.md"),
    ("x" * 400, "x" * 120 + ".md"),
])
def test_note_filename_is_safe(title, name):
    assert note_filename(title) == name


def test_write_atomic_never_overwrites_without_force(tmp_path):
    path = tmp_path / "n.md"
    write_atomic(path, "first")
    with pytest.raises(OutputError, match="already exists"):
        write_atomic(path, "second")
    assert path.read_text() == "first"
    write_atomic(path, "third", force=True)
    assert path.read_text() == "third"
    assert [p.name for p in tmp_path.iterdir()] == ["n.md"]  # no temp files left behind
    assert path.stat().st_mode & 0o044  # readable by others, like any file the user writes


@pytest.mark.parametrize("source, local, note_dir, link", [
    ("papers/a b.pdf", "papers/a b.pdf", "notes", "../papers/a%20b.pdf"),
    ("https://arxiv.org/pdf/2112.11446v2", "/cache/2112.11446v2.pdf", "notes", "https://arxiv.org/pdf/2112.11446v2"),
    ("https://host.example/x.pdf?…", "/cache/x.pdf", "notes", None),  # a signed URL, cut: it would not open
])
def test_citations_link_to_their_page(tmp_path, monkeypatch, source, local, note_dir, link):
    from paper_reader.types import Paper
    from paper_reader.writing.render import link_citations, pdf_link

    monkeypatch.chdir(tmp_path)
    paper = Paper(source=source, title="T", local_path=local)
    assert pdf_link(paper, Path(note_dir)) == link
    text = "---\ntitle: (p. 3)\n---\nA claim (§4, pp. 6–7). Another (p. 2).\n<!-- sections: (p. 9) -->\n"
    linked = link_citations(text, link)
    if link is None:
        assert linked == text
    else:
        assert f"A claim [(§4, pp. 6–7)]({link}#page=6). Another [(p. 2)]({link}#page=2)." in linked
        assert linked.startswith("---\ntitle: (p. 3)\n---\n") and "<!-- sections: (p. 9) -->" in linked
        assert link_citations(linked, link) == linked  # linking twice changes nothing
