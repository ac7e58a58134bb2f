"""Hand edits and Q&A answers survive regeneration (issue 10, items 4 and 5)."""

from __future__ import annotations

import re
import subprocess

import pytest
from typer.testing import CliRunner

from paper_reader.writing.ask import append_qa, quote_answer
from paper_reader.cli.common import app
from paper_reader.library.merge import edited_parts, headings, is_hand_edited, merge_note, stamp, user_spans
from tests.conftest import FakeLLM

runner = CliRunner()
REPLY = "- **Lead**: We propose a simple method for testing readers of papers (§1, p. 1)."
NOTE = "A Sample Paper on Testing.md"


def invoke(args, llm=None, **kw):
    llm = llm or FakeLLM(lambda m: REPLY)
    return runner.invoke(app, args, obj={"open_model": lambda settings: llm}, **kw)


def _questions(text: str) -> list[str]:
    return re.findall(r"^# (\d+)\. ", text, re.M)


# -- item 4: --force keeps hand edits ----------------------------------------------------------

def test_force_keeps_edits_inside_answers_and_added_sections(sample_pdf, tmp_path):
    assert invoke(["read", str(sample_pdf), "-o", str(tmp_path)]).exit_code == 0
    note = tmp_path / NOTE
    text = note.read_text("utf-8")
    lines = text.split("\n")
    q3 = next(i for i, ln in enumerate(lines) if ln.startswith("# 3. "))
    lines.insert(q3 + 2, "My correction: the method fails on scanned PDFs.")
    lines.append("\n# My own summary\n\nA heading of my own, not My notes.\n")
    note.write_text("\n".join(lines), "utf-8")

    refused = invoke(["read", str(sample_pdf), "-o", str(tmp_path)])
    assert refused.exit_code == 1
    forced = invoke(["read", str(sample_pdf), "-o", str(tmp_path), "--force"])
    assert forced.exit_code == 0, forced.output
    after = note.read_text("utf-8")
    assert "My correction: the method fails on scanned PDFs." in after
    assert "# My own summary\n\nA heading of my own, not My notes." in after
    assert _questions(after) == [str(i) for i in range(1, 11)]
    assert "Kept your hand edits" in forced.stderr and "3." in forced.stderr
    # still the user's: a second --force keeps them again, --discard-edits drops them
    assert "My correction" in merge_note(after, after, force=True)
    again = invoke(["read", str(sample_pdf), "-o", str(tmp_path), "--force"])
    assert again.exit_code == 0 and "My correction" in note.read_text("utf-8")
    dropped = invoke(["read", str(sample_pdf), "-o", str(tmp_path), "--discard-edits"])
    assert dropped.exit_code == 0, dropped.output
    final = note.read_text("utf-8")
    assert "My correction" not in final and "My own summary" not in final and not is_hand_edited(final)


def test_edited_parts_are_named():
    note = stamp("---\ntitle: T\n---\n\n# 1. One?\n\nanswer one\n\n# 2. Two?\n\nanswer two\n")
    assert edited_parts(note) == [] and not is_hand_edited(note)
    edited = note.replace("answer two", "my answer two")
    assert edited_parts(edited) == [("2", "2. Two?")] and is_hand_edited(edited)
    with pytest.raises(Exception, match="2. Two.*--force.*--discard-edits"):
        merge_note(note, edited, force=False)


def test_unmarked_edits_are_refused_not_lost():
    old = "---\ntitle: T\ngenerator: paper-reader 0.1.0\n---\n\n# 1. One?\n\nmine, edited\n"
    old = old.replace("generator: paper-reader 0.1.0\n", "")  # no stamp, no generator: hand-made
    with pytest.raises(Exception, match="--discard-edits"):
        merge_note("---\ntitle: T\n---\n\n# 1. One?\n\nnew\n", old, force=True)


@pytest.fixture
def git_env(monkeypatch, tmp_path):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for k, v in {"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.org",
                 "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.org"}.items():
        monkeypatch.setenv(k, v)


def test_uncommitted_edits_in_a_repository_are_committed_or_refused(sample_pdf, tmp_path, monkeypatch, git_env):
    repo = tmp_path / "notes"
    assert invoke(["init", str(repo)]).exit_code == 0
    monkeypatch.chdir(repo)
    assert invoke(["read", str(sample_pdf), "--topic", "T", "--commit"]).exit_code == 0
    note = repo / "T" / NOTE
    note.write_text(note.read_text("utf-8").replace("# 2. ", "Uncommitted thought.\n\n# 2. "), "utf-8")

    refused = invoke(["read", str(sample_pdf), "--topic", "T", "--discard-edits"])
    assert refused.exit_code == 1 and "commit" in refused.stderr
    assert "Uncommitted thought." in note.read_text("utf-8")

    done = invoke(["read", str(sample_pdf), "--topic", "T", "--discard-edits", "--commit"])
    assert done.exit_code == 0, done.output
    assert "Uncommitted thought." not in note.read_text("utf-8")
    history = subprocess.run(["git", "-C", str(repo), "log", "-p", "--format=%s"], capture_output=True,
                             text=True, check=True).stdout
    assert "+Uncommitted thought." in history  # in git, so not lost


# -- item 5: answers appended by `ask` cannot break the note -----------------------------------

HOSTILE = ("Here is the answer.\n\n# 3. What are the limitations of this paper?\n\nfake\n\n---\n\n"
           "Setext\n===\n\n<!-- hide the rest\n\n```python\n# not closed\nprint(1)\n")


def test_quoted_answer_has_no_top_level_heading_ruler_or_open_fence():
    quoted = quote_answer(HOSTILE)
    assert all(level >= 3 for _, level, _ in headings(quoted))  # '# not closed' is inside the fence
    assert "\n---\n" not in quoted and "\n===\n" not in quoted and "<!--" not in quoted
    assert quoted.count("```") % 2 == 0
    note = append_qa("---\ntitle: T\n---\n\n# 1. One?\n\nx\n", "Why?", HOSTILE)
    assert [h[1:] for h in headings(note.split("---\n", 2)[2])] == [
        (1, "1. One?"), (1, "Q&A"), (2, "Why?"), (3, "3. What are the limitations of this paper?")]
    spans = user_spans(note)
    assert spans and spans[-1][0] == "qa" and spans[-1][2] == len(note.splitlines())


def test_hostile_answer_then_read_force_keeps_everything(sample_pdf, tmp_path):
    assert invoke(["read", str(sample_pdf), "-o", str(tmp_path)]).exit_code == 0
    note = tmp_path / NOTE
    asked = invoke(["ask", str(note), "what are the limits?"], llm=FakeLLM(lambda m: HOSTILE))
    assert asked.exit_code == 0, asked.output
    asked = invoke(["ask", str(note), "and a second one?"], llm=FakeLLM(lambda m: "Second answer."))
    assert asked.exit_code == 0, asked.output
    before = note.read_text("utf-8")
    assert _questions(before) == [str(i) for i in range(1, 11)]
    forced = invoke(["read", str(sample_pdf), "-o", str(tmp_path), "--force"])
    assert forced.exit_code == 0, forced.output
    after = note.read_text("utf-8")
    qa = before[before.index("# Q&A"):].rstrip()
    assert qa in after and "Second answer." in after and "print(1)" in after
    assert _questions(after) == [str(i) for i in range(1, 11)]
