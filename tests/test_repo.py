"""The notes repository: init, index, hand-edit preservation, git commits, the lock. Real git, offline."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from paper_reader.errors import ConfigError
from paper_reader.library.repo import (RepoError, commit_files, commit_message, init_repo, is_hand_edited, merge_note,
                               note_relpath, repo_lock, scan_notes, stamp, write_index)
from paper_reader.settings import load_settings

PROJECT = Path(__file__).resolve().parents[1]
REFERENCE = PROJECT.parent / "shared" / "reference-notes"
QUESTIONS = ["What is the main contribution of this paper?", "Is this contribution important? Why?",
             "What are the limitations of this paper?"]
GOPHER = ("![image](https://example.org/page1.png)\n\n# 1. 这篇论文的主要贡献是什么？\n\n"
          "- **提出了Gopher**，一个2800亿参数的语言模型。\n\n# 2. 这个贡献重要吗？为什么？\n\n- **重要**。\n")
SOME_PAPER = """---
title: 'Some Paper: Retrieval | Generation'
authors: [Patrick Lewis, Ethan Perez, Aleksandra Piktus, Fabio Petroni]
year: 2020
arxiv: 2005.11400
tags: [rag, retrieval]
date: 2024-01-02
---

# Some Paper

My own summary, written by hand.
"""
USER_README = "# My paper notes\n\nPapers I read, by topic.\n\n- LLM: language models\n- RAG: retrieval\n"


def generated(answer: str = "The Transformer", title: str = "Attention Is All You Need") -> str:
    """A note shaped like render_notes' output."""
    meta = {"title": title, "authors": ["Ashish Vaswani", "Noam Shazeer"], "year": 2017,
            "arxiv": "1706.03762", "model": "gpt-4o-mini", "language": "en", "generated": "2026-11-23",
            "generator": "paper-reader 0.1.0"}
    body = "".join(f"# {i}. {q}\n\n- **Lead**: {answer} {i} (§3.2, p. 5)\n\n"
                   for i, q in enumerate(QUESTIONS, 1))
    return f"---\n{yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)}---\n\n{body}".rstrip() + "\n"


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture(autouse=True)
def no_outer_repo(tmp_path, monkeypatch):
    """git must not find a repository above the test folder."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@pytest.fixture
def identity(monkeypatch):
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Ada Reader")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "ada@example.org")


@pytest.fixture
def repo(tmp_path, identity) -> Path:
    """A git repository with one committed file, other.md."""
    root = tmp_path / "notes"
    root.mkdir()
    git(root, "init", "-q")
    (root / "other.md").write_text("# Other\n", "utf-8")
    git(root, "add", "other.md")
    git(root, "commit", "-q", "-m", "start")
    return root


# --- init ---------------------------------------------------------------------------------------

def test_init_in_an_empty_folder_creates_config_index_gitignore_and_git(tmp_path):
    root = tmp_path / "notes"
    created = init_repo(root, model="gpt-4o-mini", lang="zh")
    assert {p.name for p in created} == {"paper-reader.yaml", ".gitignore", "README.md", ".git"}
    config = yaml.safe_load((root / "paper-reader.yaml").read_text("utf-8"))
    assert config == {"model": "gpt-4o-mini", "lang": "zh", "template": None, "concurrency": 4,
                      "notes_path": "{topic}/{title}.md", "commit": False, "figures": False}
    assert (root / "paper-reader.yaml").read_text("utf-8").count("\n# ") >= 7  # each key explained
    settings = load_settings(cwd=root)
    assert (settings.model, settings.lang, settings.concurrency) == ("gpt-4o-mini", "zh", 4)
    ignored = set((root / ".gitignore").read_text().splitlines())
    assert {".paper-reader-cache/", ".paper-reader.lock"} <= ignored
    assert git(root, "rev-parse", "--is-inside-work-tree").strip() == "true"
    readme = (root / "README.md").read_text("utf-8")
    assert "<!-- paper-reader:index:start -->" in readme and "_No notes yet._" in readme
    assert init_repo(root) == []  # a second run changes nothing


def test_init_defaults_to_the_embedded_model_and_rejects_unknown_languages(tmp_path):
    init_repo(tmp_path / "a")
    assert load_settings(cwd=tmp_path / "a").model == "embedded/smollm2-135m"
    with pytest.raises(ConfigError, match="use en or zh"):
        init_repo(tmp_path / "b", lang="fr")


def test_init_inside_a_git_repository_does_not_nest_one(tmp_path):
    git(tmp_path, "init", "-q")
    created = init_repo(tmp_path / "notes")
    assert not (tmp_path / "notes" / ".git").exists() and tmp_path / "notes" / ".git" not in created


def test_init_in_an_existing_notes_repo_leaves_notes_and_readme_lines_alone(tmp_path):
    root = tmp_path / "notes"
    files = {"LLM/Gopher.md": GOPHER.encode(), "RAG/Some Paper.md": SOME_PAPER.encode(),
             "README.md": USER_README.encode(), ".gitignore": b"*.pyc\n",
             "paper-reader.yaml": b"model: mine\n"}
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    created = init_repo(root)
    assert {p.name for p in created} == {"README.md", ".gitignore", ".git"}
    for name in ("LLM/Gopher.md", "RAG/Some Paper.md", "paper-reader.yaml"):
        assert (root / name).read_bytes() == files[name]
    assert (root / ".gitignore").read_text() == "*.pyc\n.paper-reader-cache/\n.paper-reader.lock\n"
    readme = (root / "README.md").read_text("utf-8")
    assert readme.startswith(USER_README)
    index = readme[readme.index("<!-- paper-reader:index:start -->"):]
    assert index.index("### LLM") < index.index("[Gopher](LLM/Gopher.md)") < index.index("### RAG")
    row = next(line for line in index.splitlines() if "Some%20Paper.md" in line)
    assert row == ("| [Some Paper: Retrieval \\| Generation](RAG/Some%20Paper.md) "
                   "| Patrick Lewis, Ethan Perez, Aleksandra Piktus et al. | 2020 "
                   "| [2005.11400](https://arxiv.org/abs/2005.11400) | rag, retrieval | 2024-01-02 |")


def test_init_appends_only_missing_gitignore_lines(tmp_path):
    (tmp_path / ".gitignore").write_text("/.paper-reader-cache\nnode_modules/", "utf-8")
    init_repo(tmp_path)
    expected = "/.paper-reader-cache\nnode_modules/\n.paper-reader.lock\n"
    assert (tmp_path / ".gitignore").read_text() == expected


# --- scan and index -----------------------------------------------------------------------------

def test_scan_notes_reads_titles_and_tolerates_malformed_front_matter(tmp_path):
    notes = {
        "LLM/Gopher.md": GOPHER,
        "LLM/deep/Heading.md": "# A Title From The Heading\n\ntext\n",
        "broken.md": "---\ntitle: [unclosed\nyear: 2020\n---\n\nbody\n",
        "unterminated.md": "---\ntitle: x\n",
        "bad-date.md": "---\ntitle: Bad Date\ndate: 2023-02-30\n---\n",
        "qa.md": "# 疑难解答\n\n## Why?\n",
        "float.md": "---\ntitle: Float\narxiv: 1706.03760\ngenerated: 2026-11-23\n---\n",
        "README.md": "# not a note\n", ".hidden/x.md": "# hidden\n", "LLM/.tmp.md": "# temp\n",
    }
    for name, text in notes.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, "utf-8")
    entries = {e.path.as_posix(): e for e in scan_notes(tmp_path)}
    assert set(entries) == set(notes) - {"README.md", ".hidden/x.md", "LLM/.tmp.md"}
    titles = {path: (e.title, e.topic) for path, e in entries.items()}
    assert titles == {"LLM/Gopher.md": ("Gopher", "LLM"),
                      "LLM/deep/Heading.md": ("A Title From The Heading", "LLM"), "broken.md": ("broken", ""),
                      "unterminated.md": ("unterminated", ""),
                      "bad-date.md": ("Bad Date", ""), "qa.md": ("qa", ""), "float.md": ("Float", "")}
    assert (entries["float.md"].arxiv, entries["float.md"].date_read) == ("1706.03760", "2026-11-23")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entries["broken.md"].date_read)  # the file's mtime


def test_write_index_is_idempotent_and_changes_only_its_block(tmp_path):
    (tmp_path / "LLM").mkdir()
    (tmp_path / "LLM" / "Gopher.md").write_text(GOPHER, "utf-8")
    before, after = "# Notes\r\n\r\nIntro with CRLF.\r\n\r\n", "\n## Written after the index\n\nkeep me\n"
    block = "<!-- paper-reader:index:start -->\nold\n<!-- paper-reader:index:end -->\n"
    (tmp_path / "README.md").write_bytes((before + block + after).encode())
    write_index(tmp_path)
    first = (tmp_path / "README.md").read_bytes()
    write_index(tmp_path)
    assert (tmp_path / "README.md").read_bytes() == first
    assert first.startswith(before.encode()) and first.endswith(after.encode()) and b"\nold\n" not in first
    (tmp_path / "top.md").write_text("---\ntitle: 'A [bracketed] | title'\n---\n", "utf-8")
    text = write_index(tmp_path).read_text("utf-8")
    assert text.index("### LLM") < text.index("### (top level)")
    assert "[A \\[bracketed\\] \\| title](top.md)" in text


def test_write_index_keeps_the_readme_mode_and_foreign_bytes(tmp_path):
    (tmp_path / "README.md").write_bytes(b"# Notizen \xfcber Papiere\n")  # Latin-1, not UTF-8
    (tmp_path / "README.md").chmod(0o640)
    write_index(tmp_path)
    assert (tmp_path / "README.md").read_bytes().startswith(b"# Notizen \xfcber Papiere\n\n<!-- paper-reader")
    assert (tmp_path / "README.md").stat().st_mode & 0o777 == 0o640
    umask = os.umask(0)
    os.umask(umask)
    init_repo(tmp_path / "new")
    assert (tmp_path / "new" / "paper-reader.yaml").stat().st_mode & 0o777 == 0o666 & ~umask


def test_write_index_refuses_a_start_marker_without_an_end(tmp_path):
    (tmp_path / "README.md").write_text("<!-- paper-reader:index:start -->\nmine\n", "utf-8")
    with pytest.raises(RepoError, match="no <!-- paper-reader:index:end -->"):
        write_index(tmp_path)
    assert (tmp_path / "README.md").read_text("utf-8") == "<!-- paper-reader:index:start -->\nmine\n"


# --- hand edits ---------------------------------------------------------------------------------

MY_NOTES = "## My notes\n\n- Check the **appendix** tables.\n```\n# not a heading\n```\n"
QA_EN = ("# Q&A\n\n## Why multi-head?\n\nSeveral subspaces at once.\n\n## And?\n\n"
         "# What I'd ask the authors\n\nmore\n")
QA_ZH = "# 疑难解答\n## 如何解决评测基准中存在的社会偏见问题？\n\n- **增加多样性**。\n"


@pytest.mark.parametrize("qa", [QA_EN, QA_ZH])
def test_merge_carries_my_notes_and_qa_verbatim(qa):
    old = stamp(generated("old answer")) + "\n" + MY_NOTES + "\n" + qa
    assert not is_hand_edited(old)  # user sections are not part of the generated hash
    merged = merge_note(generated("new answer"), old, force=False)
    assert MY_NOTES.rstrip() in merged and qa.rstrip() in merged
    assert "new answer 1" in merged and "old answer" not in merged
    assert not is_hand_edited(merged)
    assert merge_note(generated("new answer"), merged, force=False) == merged  # stable on re-runs


def test_merge_keeps_my_notes_under_the_question_it_followed():
    old = stamp(generated("old")).replace("# 3.", MY_NOTES + "\n# 3.")
    merged = merge_note(generated("new"), old, force=False)
    assert merged.index("new 2") < merged.index("## My notes") < merged.index("# 3.")


def test_merge_keeps_notes_written_above_the_questions_at_the_top():
    old = stamp(generated("old")).replace("# 1.", "# My notes:\n\nRead with the code open.\n\n# 1.")
    merged = merge_note(generated("new"), old, force=False)
    assert merged.index("# My notes:\n\nRead with the code open.") < merged.index("# 1.")


def test_merge_replaces_a_template_placeholder_and_keeps_added_front_matter_keys():
    old = stamp(generated("old")).replace("generator:", "tags: [nlp]\ngenerator:") + "\n" + MY_NOTES
    merged = merge_note(generated("new") + "\n## My notes\n\n(write here)\n", old, force=False)
    assert merged.count("## My notes") == 1 and "(write here)" not in merged and MY_NOTES.rstrip() in merged
    assert yaml.safe_load(merged.split("---\n")[1])["tags"] == ["nlp"]


def test_merge_refuses_a_hand_edited_note_unless_forced():
    old = stamp(generated("old")).replace("old 2", "my better answer") + "\n" + QA_EN
    assert is_hand_edited(old)
    with pytest.raises(RepoError, match=r"'Attention Is All You Need' was edited by hand.*Pass --force"):
        merge_note(generated("new"), old, force=False)
    kept = merge_note(generated("new"), old, force=True)  # --force keeps hand edits (issue 10)
    assert "my better answer" in kept and "new 1" in kept and "new 2" not in kept and is_hand_edited(kept)
    merged = merge_note(generated("new"), old, force=True, discard_edits=True)
    assert "my better answer" not in merged and QA_EN.rstrip() in merged and not is_hand_edited(merged)
    assert merge_note(generated("new"), None, force=False) == stamp(generated("new"))


def test_merge_of_a_real_hand_written_note_keeps_its_qa():
    path = REFERENCE / "big-bench.zh.md"
    if not path.is_file():
        pytest.skip(f"{path} is absent: the reference notes live beside the project checkout")
    old = path.read_text("utf-8")
    qa = old[old.index("# 疑难解答"):].rstrip()
    with pytest.raises(RepoError, match="edited by hand"):
        merge_note(generated("new"), old, force=False)
    merged = merge_note(generated("new"), old, force=True, discard_edits=True)
    assert qa in merged and "BIG-bench" not in merged.replace(qa, "")


def test_stamp_round_trip():
    note = stamp(generated())
    assert re.search(r"^generated_sha256: [0-9a-f]{64}$", note, re.M)
    assert stamp(note) == note and not is_hand_edited(note)
    assert not is_hand_edited(note.replace("\n", "\r\n").replace("(§3.2, p. 5)", "(§3.2, p. 5)   "))
    assert is_hand_edited(note.replace("The Transformer 1", "The Transformer 1!"))
    assert not is_hand_edited(generated())  # paper-reader wrote it, before hashes existed
    assert is_hand_edited(generated().replace("generator: paper-reader 0.1.0\n", ""))
    assert is_hand_edited("# 1. What is the main contribution of this paper?\n\nmine\n")


# --- git ----------------------------------------------------------------------------------------

def test_commit_files_commits_only_the_given_paths(repo):
    (repo / "other.md").write_text("# Other, edited\n", "utf-8")
    (repo / "untracked.txt").write_text("scratch\n", "utf-8")
    (repo / "staged.md").write_text("staged by the user\n", "utf-8")
    git(repo, "add", "staged.md")
    note = repo / "LLM" / "What is [CLS].md"  # brackets: a glob character in a git pathspec
    note.parent.mkdir()
    note.write_text(generated(), "utf-8")
    (repo / "README.md").write_text("# index\n", "utf-8")
    message = commit_message("add", "1706.03762", "Attention Is All You Need")
    sha = commit_files(repo, [note, Path("README.md")], message)
    assert sha == git(repo, "rev-parse", "HEAD").strip()
    assert git(repo, "log", "-1", "--format=%s").strip() == message
    assert set(git(repo, "show", "--name-only", "--format=", "HEAD").splitlines()) == {"LLM/What is [CLS].md",
                                                                                        "README.md"}
    assert set(git(repo, "status", "--porcelain").splitlines()) == {"A  staged.md", " M other.md",
                                                                    "?? untracked.txt"}
    assert commit_files(repo, [note, Path("README.md")], message) is None


def test_commit_files_makes_the_first_commit(tmp_path, identity):
    git(tmp_path, "init", "-q")
    (tmp_path / "a.md").write_text("a\n", "utf-8")
    assert commit_files(tmp_path, [Path("a.md")], "notes: add a") is not None


def test_commit_files_outside_a_repository(tmp_path, identity):
    with pytest.raises(RepoError, match="is not a git repository: run `git init` or `paper-reader init`"):
        commit_files(tmp_path, [tmp_path / "a.md"], "m")


def test_commit_files_without_a_git_identity(tmp_path, monkeypatch):
    empty = tmp_path / "empty-home"
    empty.mkdir()
    for name, value in {"HOME": empty, "XDG_CONFIG_HOME": empty, "GIT_CONFIG_GLOBAL": "/dev/null"}.items():
        monkeypatch.setenv(name, str(value))
    for role in ("AUTHOR", "COMMITTER"):
        for part in ("NAME", "EMAIL"):
            monkeypatch.delenv(f"GIT_{role}_{part}", raising=False)
    monkeypatch.delenv("EMAIL", raising=False)
    git(tmp_path, "init", "-q")
    (tmp_path / "a.md").write_text("a\n", "utf-8")
    with pytest.raises(RepoError, match="git has no user identity: run git config"):
        commit_files(tmp_path, [tmp_path / "a.md"], "m")
    assert git(tmp_path, "status", "--porcelain").splitlines() == ["?? a.md"]  # nothing staged


@pytest.mark.parametrize("action, arxiv, title, message", [
    ("add", "2112.11446", "Scaling Language Models: Methods, Analysis & Insights from Training Gopher",
     "notes: add 2112.11446 Scaling Language Models: Methods, Analysis & Insights from Training Gopher"),
    ("update", None, "Some\nPaper", "notes: update Some Paper"),
])
def test_commit_message(action, arxiv, title, message):
    assert commit_message(action, arxiv, title) == message


# --- lock and layout ----------------------------------------------------------------------------

def test_repo_lock_blocks_a_second_holder_in_the_same_process(tmp_path):
    with repo_lock(tmp_path) as path:
        assert path.name == ".paper-reader.lock"
        with pytest.raises(RepoError, match=r"Another paper-reader run .*\.paper-reader\.lock.*Wait for it"):
            with repo_lock(tmp_path, wait=0.1):
                pass
    with repo_lock(tmp_path):  # released on exit
        pass


def test_repo_lock_waits_for_another_process(tmp_path):
    code = ("import sys, time\nfrom pathlib import Path\nfrom paper_reader.library.repo import repo_lock\n"
            "with repo_lock(Path(sys.argv[1])):\n    print('locked', flush=True)\n    time.sleep(0.5)\n")
    child = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=PROJECT, stdout=subprocess.PIPE,
                             text=True, env={**os.environ, "PYTHONPATH": str(PROJECT)})
    try:
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(RepoError, match="Another paper-reader run"):
            with repo_lock(tmp_path):
                pass
        start = time.monotonic()
        with repo_lock(tmp_path, wait=10):
            assert time.monotonic() - start < 5
    finally:
        child.wait(timeout=10)
    assert child.returncode == 0


@pytest.mark.parametrize("pattern, title, topic, expected", [
    ("{topic}/{title}.md", "Attention Is All You Need", None, "unsorted/Attention Is All You Need.md"),
    ("{topic}/{title}.md", "Attention Is All You Need", "", "unsorted/Attention Is All You Need.md"),
    ("{topic}/{title}.md", "Scaling Language Models: Methods, Analysis & Insights from Training Gopher",
     "LLM", "LLM/Scaling Language Models Methods, Analysis & Insights from Training Gopher.md"),
    ("{topic}/{title}.md", "A/B testing? Yes", "LLM/scaling", "LLM/scaling/A B testing Yes.md"),
    ("{title}.md", "../../etc/passwd", "RAG", "etc passwd.md"),
    ("papers\\{topic}\\{title}.md", "X", "RAG", "papers/RAG/X.md"),
])
def test_note_relpath(pattern, title, topic, expected):
    assert note_relpath(pattern, title, topic) == Path(expected)


@pytest.mark.parametrize("pattern, topic, message", [
    ("../x/{title}.md", None, "must stay inside"),
    ("/abs/{title}.md", None, "must stay inside"),
    ("C:/notes/{title}.md", None, "must stay inside"),
    ("{topic}/paper.md", None, "must contain {title}"),
    ("{topic}/{title}.txt", None, "end in .md"),
    ("{year}/{title}.md", None, "placeholders"),
    ("{topic}/{title}.md", "../evil", "drop the '..'"),
])
def test_note_relpath_rejects_paths_outside_the_repo(pattern, topic, message):
    with pytest.raises(RepoError, match=re.escape(message)):
        note_relpath(pattern, "Title", topic)


def test_commit_without_a_git_identity_fails_before_any_model_call(tmp_path, monkeypatch, sample_pdf):
    from typer.testing import CliRunner

    from paper_reader.cli.common import app
    from tests.conftest import FakeLLM

    repo = tmp_path / "notes"
    assert CliRunner().invoke(app, ["init", str(repo)]).exit_code == 0
    monkeypatch.chdir(repo)
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    (repo / ".git" / "config").write_text("[core]\n\trepositoryformatversion = 0\n\tbare = false\n")
    fake = FakeLLM()
    result = CliRunner().invoke(app, ["read", str(sample_pdf), "--commit"], obj={"open_model": lambda s: fake})
    assert result.exit_code == 1 and "no user identity" in result.stderr
    assert fake.history == []  # nothing was spent
