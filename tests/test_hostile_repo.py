"""A notes repository prepared by someone else (issue 20): each trick an attacker can put in a clone -
symlinks out of it where the lock, the notes, a topic folder, the index, .gitignore, the config, the
pictures, the cache or a reading list's PDF go; a topic or title that is a path; templates that
include files by absolute path or '..'; a config that chooses servers or files - and the rule that
defeats all of them: nothing outside the repository is read or written, and the user gets one
clear line and a non-zero exit.

Outside the repository lies a decoy tree (a .bashrc, an SSH key, notes, a private PDF): it is
hashed before and after each run, and its files' access times are pinned, so a read shows too."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paper_reader.cli.common import app
from paper_reader.errors import ConfigError
from paper_reader.library.repo import RepoError, repo_lock
from paper_reader.models.cache import CachedLLM
from paper_reader.settings import REPO_GUARDED, Settings, load_settings
from tests.conftest import FakeLLM
from tests.support.pdfgen import sample_paper

runner = CliRunner()
REPLY = "- **Lead**: We propose a simple method for testing readers of papers (§1, p. 1)."
SECRET = "SECRET-7f3a9c"  # in every decoy file: it must never reach a note, the index or the output
TITLE = "A Sample Paper on Testing"


class Decoy:
    """Files outside the repository that a hostile clone would want read or overwritten."""

    FILES = {".bashrc": f"export PATH=$PATH  # {SECRET}\n", ".ssh/id_rsa": f"-----BEGIN KEY----- {SECRET}\n",
             "notes/secret.md": f"---\ntitle: {SECRET}\n---\n# {SECRET}\n", "config.yaml": f"# {SECRET}\nmodel: x\n",
             "list.txt": f"{SECRET}.pdf\n", "template.md.j2": f"{SECRET}\n", "questions.yaml": f"# {SECRET}\n",
             "README.md": f"# {SECRET}\n", ".gitignore": f"{SECRET}\n"}

    def __init__(self, root: Path):
        self.root = root
        for name, text in self.FILES.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text, "utf-8")
        (root / "empty").mkdir()
        sample_paper(root / "private.pdf", title=f"Private {SECRET}")
        self.before = self.snapshot()

    def snapshot(self) -> dict[str, tuple]:
        """Every path under the decoy: (kind, sha256, pinned access time) - hashing reads a file, so
        its access time is set back, two days before its change time, where a read would move it."""
        out = {}
        for folder, dirs, files in os.walk(self.root):
            for name in dirs:
                out[os.path.relpath(os.path.join(folder, name), self.root)] = ("dir",)
            for name in files:
                path = os.path.join(folder, name)
                info = os.lstat(path)
                with open(path, "rb") as fh:
                    digest = hashlib.sha256(fh.read()).hexdigest()
                pinned = info.st_mtime_ns - 2 * 86400 * 10**9  # relatime moves an access time this old
                os.utime(path, ns=(pinned, info.st_mtime_ns))
                out[os.path.relpath(path, self.root)] = ("file", digest, pinned)
        return out

    def untouched(self) -> None:
        times = {}
        for folder, _, files in os.walk(self.root):
            for name in files:
                path = os.path.join(folder, name)
                times[os.path.relpath(path, self.root)] = os.stat(path).st_atime_ns
        after = self.snapshot()
        assert after.keys() == self.before.keys(), f"created or deleted outside: {after.keys() ^ self.before.keys()}"
        for name, was in self.before.items():
            assert after[name][:2] == was[:2], f"{name} outside the repository was changed"
            if was[0] == "file":
                assert times[name] == was[2], f"{name} outside the repository was read"


@pytest.fixture
def decoy(tmp_path) -> Decoy:
    (tmp_path / "home").mkdir()
    return Decoy(tmp_path / "home")


@pytest.fixture
def paper(tmp_path) -> Path:
    (tmp_path / "downloads").mkdir()
    return sample_paper(tmp_path / "downloads" / "paper.pdf")


@pytest.fixture
def clone(tmp_path, monkeypatch) -> Path:
    """A cloned notes repository, as `paper-reader init` leaves one (no git: nothing here needs it)."""
    root = tmp_path / "cloned"
    root.mkdir()
    (root / "paper-reader.yaml").write_text('model: "embedded/smollm2-135m"\nlang: en\n', "utf-8")
    (root / ".gitignore").write_text(".paper-reader-cache/\n.paper-reader.lock\n", "utf-8")
    (root / "README.md").write_text("# Reading notes\n", "utf-8")
    monkeypatch.chdir(root)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    return root


def run(args: list[str], llm: FakeLLM | None = None):
    llm = llm or FakeLLM(lambda m: REPLY)
    return runner.invoke(app, args, obj={"open_model": lambda settings: CachedLLM(llm, settings.cache_path())
                                         if settings.cache else llm})


def refused(result, *words: str) -> str:
    """The run failed with exactly one error line (no traceback), naming what was refused."""
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert result.exit_code == 1, (result.exit_code, result.output)
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.output and not isinstance(result.exception, (OSError, TypeError, KeyError))
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]


def nothing_leaked(clone: Path, result) -> None:
    """No decoy content reached any file of the repository, or what was printed."""
    assert SECRET not in result.output
    for folder, _, files in os.walk(clone):
        for name in files:
            path = Path(folder) / name
            if not path.is_symlink():
                assert SECRET not in path.read_bytes().decode("utf-8", "replace"), f"{path} holds decoy content"


def link(path: Path, target: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target, target_is_directory=target.is_dir())


# -- symlinks where paper-reader writes or reads --------------------------------------------------

# (id, how the clone is prepared, extra arguments to `read`, what the error line names)
SYMLINK_TRICKS = [
    ("lock", lambda c, d: link(c / ".paper-reader.lock", d.root / ".bashrc"), [], ".paper-reader.lock is a symlink"),
    ("lock-dangling", lambda c, d: link(c / ".paper-reader.lock", d.root / "new-file"), [],
     ".paper-reader.lock is a symlink"),
    ("topic-folder", lambda c, d: link(c / "unsorted", d.root / "notes"), [], "unsorted is a symlink"),
    ("named-topic-folder", lambda c, d: link(c / "LLM", d.root / "notes"), ["--topic", "LLM"], "LLM is a symlink"),
    ("notes-folder", lambda c, d: (link(c / "notes", d.root / "notes"), _config(c, 'notes_path: "notes/{title}.md"')),
     [], "notes is a symlink"),
    ("readme", lambda c, d: ((c / "README.md").unlink(), link(c / "README.md", d.root / "README.md")), [],
     "README.md is a symlink"),
    ("indexed-note", lambda c, d: link(c / "unsorted" / "other.md", d.root / "notes" / "secret.md"), [],
     "other.md is a symlink"),
    ("note-itself", lambda c, d: link(c / "unsorted" / f"{TITLE}.md", d.root / "notes" / "secret.md"), ["--force"],
     f"{TITLE}.md is a symlink"),
    ("picture-folder", lambda c, d: link(c / "unsorted" / "assets", d.root / "empty"), ["--figures"],
     "assets is a symlink"),
    ("picture", lambda c, d: link(c / "unsorted" / "assets" / TITLE / "page-1.png", d.root / ".bashrc"), ["--figures"],
     "page-1.png is a symlink"),
    ("config", lambda c, d: ((c / "paper-reader.yaml").unlink(), link(c / "paper-reader.yaml", d.root / "config.yaml")),
     [], "paper-reader.yaml is a symlink"),
    ("cache-folder", lambda c, d: (_config(c, "cache_dir: .paper-reader-cache"),
                                   link(c / ".paper-reader-cache", d.root / "empty")), [], ".paper-reader-cache"),
    ("cache-subfolder", lambda c, d: (_config(c, "cache_dir: .paper-reader-cache"),
                                      link(c / ".paper-reader-cache" / "sizes", d.root / "empty")), [],
     "sizes is a symlink"),
    ("note-template", lambda c, d: (_config(c, "note_template: mine.md.j2"), link(c / "mine.md.j2", d.root / "template.md.j2")),
     [], "mine.md.j2 is a symlink"),
    ("question-set", lambda c, d: (_config(c, "template: q.yaml"), link(c / "q.yaml", d.root / "questions.yaml")),
     [], "q.yaml is a symlink"),
]


def _config(clone: Path, line: str) -> None:
    with (clone / "paper-reader.yaml").open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")


@pytest.mark.parametrize("trick, prepare, extra, named", SYMLINK_TRICKS, ids=[t[0] for t in SYMLINK_TRICKS])
def test_a_symlink_out_of_the_repository_is_refused_and_nothing_outside_is_touched(
        trick, prepare, extra, named, clone, decoy, paper):
    if trick.startswith("picture"):
        pytest.importorskip("PIL")
    prepare(clone, decoy)
    result = run(["read", str(paper), *extra])
    line = refused(result, named)
    assert "outside the notes repository" in line
    decoy.untouched()
    nothing_leaked(clone, result)


def test_a_hard_linked_lock_is_used_but_never_truncated(clone, decoy, paper):
    """git cannot make a hard link, an archive can: the lock then opens the user's file, and must not
    overwrite what it did not create."""
    os.link(decoy.root / ".bashrc", clone / ".paper-reader.lock")
    result = run(["read", str(paper)])
    assert result.exit_code == 0, result.output
    assert (clone / "unsorted" / f"{TITLE}.md").is_file()
    assert (decoy.root / ".bashrc").read_text("utf-8") == Decoy.FILES[".bashrc"]


def test_repo_lock_does_not_follow_a_symlink_even_to_a_file_inside(clone):
    (clone / ".paper-reader.lock").symlink_to("README.md")
    with pytest.raises(RepoError, match=r"\.paper-reader\.lock is a symlink, not paper-reader's lock"):
        with repo_lock(clone):
            pass
    assert (clone / "README.md").read_text("utf-8") == "# Reading notes\n"


def test_a_fifo_as_the_lock_does_not_hang(clone):
    os.mkfifo(clone / ".paper-reader.lock")
    with pytest.raises(RepoError, match="FIFO"):
        with repo_lock(clone):
            pass


def test_init_refuses_a_symlinked_gitignore_or_readme(tmp_path, decoy, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for name in (".gitignore", "README.md"):
        folder = tmp_path / f"clone-{name.strip('.')}"
        link(folder / name, decoy.root / name)
        result = runner.invoke(app, ["init", str(folder)])
        refused(result, f"{name} is a symlink", "outside the notes repository")
    decoy.untouched()


# -- names that are paths -------------------------------------------------------------------------

@pytest.mark.parametrize("topic", [".git/hooks", ".GIT", "a/.git"])
def test_a_topic_named_git_is_a_plain_folder_not_the_git_folder(topic, clone, paper):
    (clone / ".git" / "hooks").mkdir(parents=True)
    result = run(["read", str(paper), "--topic", topic])
    assert result.exit_code == 0, result.output
    assert [p for p in (clone / ".git").rglob("*") if p.is_file()] == []


def test_a_notes_path_into_the_git_folder_is_refused(clone, paper):
    _config(clone, 'notes_path: ".git/hooks/{title}.md"')
    refused(run(["read", str(paper)]), "inside the repository's .git folder")
    assert not (clone / ".git").exists()


@pytest.mark.parametrize("topic", ["../x", "../../home", "a/../../x", "..", "/"])
def test_a_topic_that_leaves_the_repository_is_refused(topic, clone, decoy, paper):
    result = run(["read", str(paper), "--topic", topic])
    if topic == "/":  # no folder named: the default topic, inside
        assert result.exit_code == 0 and (clone / "unsorted" / f"{TITLE}.md").is_file()
    else:
        refused(result, "must be a folder inside the notes repository")
    assert not (clone.parent / "x").exists()
    decoy.untouched()


@pytest.mark.parametrize("title", ["../../home/.bashrc", "/etc/passwd", "..\\..\\home\\.bashrc", "~/.bashrc", ".."])
def test_a_title_that_is_a_path_names_a_note_inside_the_repository(title, clone, decoy, tmp_path):
    (tmp_path / "downloads").mkdir()
    pdf = sample_paper(tmp_path / "downloads" / "titled.pdf", title=title)
    result = run(["read", str(pdf)])
    assert result.exit_code == 0, result.output
    notes = [p for p in clone.rglob("*.md") if p.name != "README.md"]
    assert len(notes) == 1 and notes[0].resolve().is_relative_to(clone.resolve())
    decoy.untouched()


def test_a_reading_list_entry_that_is_a_symlink_out_is_refused(clone, decoy, paper):
    link(clone / "papers" / "shared.pdf", decoy.root / "private.pdf")
    (clone / "papers" / "own.pdf").write_bytes(paper.read_bytes())
    (clone / "list.txt").write_text("papers/shared.pdf\npapers/own.pdf\n", "utf-8")
    result = run(["batch", "list.txt", "-j", "1"])
    assert result.exit_code == 1
    assert re.search(r"shared\.pdf is a symlink to .*private\.pdf, outside the notes repository", result.stderr)
    assert "1 done" in result.stderr  # the other paper is read as usual
    decoy.untouched()
    nothing_leaked(clone, result)


def test_asking_about_a_note_that_is_a_symlink_out_is_refused(clone, decoy):
    link(clone / "unsorted" / "Shared.md", decoy.root / "notes" / "secret.md")
    llm = FakeLLM(lambda m: REPLY)
    refused(run(["ask", "unsorted/Shared.md", "What is the method?"], llm), "Shared.md is a symlink",
            "outside the notes repository")
    assert llm.history == []
    decoy.untouched()


def test_a_reading_list_that_is_a_symlink_out_is_refused(clone, decoy):
    link(clone / "list.txt", decoy.root / "list.txt")
    refused(run(["batch", "list.txt"]), "list.txt is a symlink", "outside the notes repository")
    decoy.untouched()


def test_a_reading_list_topic_that_leaves_the_repository_fails_that_paper(clone, decoy, paper):
    (clone / "paper.pdf").write_bytes(paper.read_bytes())
    (clone / "list.yaml").write_text("- source: paper.pdf\n  topic: ../escape\n", "utf-8")
    result = run(["batch", "list.yaml"])
    assert result.exit_code == 1 and "must be a folder inside the notes repository" in result.stderr
    assert not (clone.parent / "escape").exists()
    decoy.untouched()


# -- templates load only templates ----------------------------------------------------------------

@pytest.mark.parametrize("include", ["{home}/.ssh/id_rsa", "../home/.ssh/id_rsa", "parts/../../home/.bashrc",
                                     "..\\home\\.bashrc", "C:/Windows/win.ini"])
def test_a_repository_template_cannot_include_a_file_by_path(include, clone, decoy, paper):
    name = include.replace("{home}", str(decoy.root))
    (clone / "mine.md.j2").write_text('{{ front_matter }}\n{% include "' + name.replace("\\", "\\\\") + '" %}\n', "utf-8")
    _config(clone, "note_template: mine.md.j2")
    llm = FakeLLM(lambda m: REPLY)
    refused(run(["read", str(paper)], llm), "may include only templates beside it or the packaged ones")
    assert llm.history == []  # refused before any model call
    decoy.untouched()


def test_a_template_built_include_name_is_refused_at_render(clone, decoy, paper):
    (clone / "mine.md.j2").write_text('{% set n = "' + str(decoy.root / ".bashrc") + '" %}{% include n %}\n', "utf-8")
    _config(clone, "note_template: mine.md.j2")
    result = run(["read", str(paper)])
    refused(result, "may include only templates")
    decoy.untouched()
    nothing_leaked(clone, result)


def test_a_repository_template_includes_its_own_and_the_packaged_templates(clone, decoy, paper):
    (clone / "templates" / "parts").mkdir(parents=True)
    (clone / "templates" / "parts" / "head.md.j2").write_text("Filed by the lab.\n", "utf-8")
    (clone / "footer.md.j2").write_text("(footer of the repository)\n", "utf-8")
    (clone / "templates" / "mine.md.j2").write_text(
        '{% include "parts/head.md.j2" %}{% include "notes.md.j2" %}\n{% include "footer.md.j2" %}\n', "utf-8")
    _config(clone, "note_template: templates/mine.md.j2")
    result = run(["read", str(paper)])
    assert result.exit_code == 0, result.output
    note = (clone / "unsorted" / f"{TITLE}.md").read_text("utf-8")
    assert "Filed by the lab." in note and "# 1. " in note and "(footer of the repository)" in note
    decoy.untouched()


def test_a_template_symlink_out_of_its_folder_is_refused(clone, decoy, paper):
    link(clone / "parts" / "key.md.j2", decoy.root / ".ssh" / "id_rsa")
    (clone / "mine.md.j2").write_text('{% include "parts/key.md.j2" %}\n', "utf-8")
    _config(clone, "note_template: mine.md.j2")
    refused(run(["read", str(paper)]), "key.md.j2 is a symlink")
    decoy.untouched()


# -- a repository's note template is bounded, and checked before any model call -----------------

BOUNDLESS = {  # what a template may compute that would hang the run or fill the memory
    "repeat": '{{ "x" * 10**10 }}',
    "power": "{{ 10 ** (10 ** 10) }}",
    "filter-width": '{{ "x"|center(10**10) }}',
    "format-width": '{{ "%09999999999d"|format(1) }}',
    "str-format-width": '{{ "{:>9999999999}".format(1) }}',
    "format-width-argument": '{{ "{:>{w}}".format(1, w=10**10) }}',
    "percent-star": '{{ "%*d" % (10**10, 1) }}',
    "loops-in-loops": "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
    "doubling": '{% set ns = namespace(s="x") %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}'
                "{{ ns.s|length }}",
    "endless-output": "{% for i in range(99999) %}{% for j in range(99999) %}{{ j }}{% endfor %}{% endfor %}",
    "recursion": "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "lorem-ipsum": "{{ lipsum(10**7) }}",
    "string-method-width": '{{ "x".ljust(10**10) }}{{ "x".zfill(10**10) }}',
    "string-method-count": '{{ "x".expandtabs(10**9) }}',
    "join-of-a-repeated-list": '{{ (["x" * 900000] * 200)|join|length }}',
    "huge-integer-division": "{% set b = (((9**64)**64)**64)**16 %}{% set r = (b * b) % (b + 1) %}done",
    "division-by-zero": "{{ 1 / 0 }}",
    "float-overflow": "{{ 2.0 ** 100000 }}",
    "mixed-sort": '{{ [1, "a"]|sort }}',
    "format-arguments": '{{ "%s" % (1, 2) }}',
}


@pytest.mark.parametrize("trick", list(BOUNDLESS))
def test_a_template_that_would_hang_or_fill_the_memory_is_refused_before_any_model_call(
        trick, clone, decoy, paper, monkeypatch):
    from paper_reader.writing import prompts

    monkeypatch.setattr(prompts, "RENDER_SECONDS", 1.0)  # the bounds are the program's; smaller here to be quick
    monkeypatch.setattr(prompts, "RENDER_MEMORY", 64 << 20)
    monkeypatch.setattr(prompts, "MAX_OUTPUT_CHARS", 1_000_000)
    (clone / "mine.md.j2").write_text("{{ front_matter }}\n" + BOUNDLESS[trick] + "\n", "utf-8")
    _config(clone, "note_template: mine.md.j2")
    llm = FakeLLM(lambda m: REPLY)
    line = refused(run(["read", str(paper)], llm), "mine.md.j2", "before any model call")
    assert "internal error" not in line
    assert llm.history == []
    assert not (clone / "unsorted").exists()
    decoy.untouched()


def test_a_template_error_that_shows_only_on_a_note_is_refused_before_any_model_call(clone, paper):
    """A misspelt value compiles, and would fail only once the paid-for answers are in."""
    (clone / "mine.md.j2").write_text("{{ front_matter }}\n{% for a in answrs %}{{ a.text }}{% endfor %}\n", "utf-8")
    _config(clone, "note_template: mine.md.j2")
    llm = FakeLLM(lambda m: REPLY)
    refused(run(["read", str(paper)], llm), "'answrs' is undefined", "before any model call")
    assert llm.history == []


def test_an_ordinary_template_using_numbers_formats_and_every_value_renders_the_note(clone, paper):
    (clone / "mine.md.j2").write_text(
        "{{ front_matter }}{{ '=' * 40 }}\n{{ '%5d'|format(paper.pages|length) }} {{ '{:,}'.format(2 ** 20) }}\n"
        "{{ paper.title|center(60) }}\n{% for a in answers %}## {{ loop.index }}. {{ a.question }}\n{{ a.text }}\n"
        "{% endfor %}{% for s in sections %}### {{ s.heading }} ({{ s.pages }})\n{{ s.text|wordwrap(80) }}\n"
        "{% endfor %}{% for label, path in images %}![{{ label }}]({{ path }}){% endfor %}"
        "{{ notes.usage.calls }} calls, {{ '%.4f'|format(notes.usage.cost) }}\n", "utf-8")
    _config(clone, "note_template: mine.md.j2")
    result = run(["read", str(paper)])
    assert result.exit_code == 0, result.output
    note = (clone / "unsorted" / f"{TITLE}.md").read_text("utf-8")
    assert "=" * 40 in note and "1,048,576" in note and TITLE in note and "## 10. " in note and " calls, " in note


# -- an untrusted config chooses no endpoint and no file outside ----------------------------------

@pytest.mark.parametrize("line, named", [
    ("arxiv_api: http://evil.example/api/query", "'arxiv_api' chooses a server"),
    ("arxiv_pdf: http://evil.example/pdf", "'arxiv_pdf' chooses a server"),
    ("deployments:\n  - {model: openai/m, api_base: 'http://evil.example/v1'}", "'deployments' chooses a server"),
    ("model: gguf:models/x.gguf", "names a file on your disk"),
    ("model: huggingface/https://evil.example/endpoint", "names a URL"),
    ("note_template: {home}/template.md.j2", "'note_template' names"),
    ("template: {home}/questions.yaml", "'template' names"),
    ("template: ../home/questions.yaml", "'template' names"),
    ("output: {home}/empty", "'output' names"),
    ("cache_dir: {home}/empty", "'cache_dir' names"),
    ("context_window: 10000000", "loosens a limit"),  # the embedded model would reserve memory for it all
    ("max_download_mb: 100000", "loosens a limit"),
    ("download_deadline: 1e9", "loosens a limit"),
    ("timeout: 86400", "loosens a limit"),
    ("max_pages: 100000", "loosens a limit"),
    ("arxiv_interval: 0", "loosens a limit"),
])
def test_an_untrusted_config_may_not_choose_a_server_or_a_file_outside(line, named, clone, decoy, paper):
    _config(clone, line.replace("{home}", str(decoy.root)))
    llm = FakeLLM(lambda m: REPLY)
    refused(run(["read", str(paper)], llm), named, "trusted_repos")
    assert llm.history == []
    decoy.untouched()


def test_a_cache_folder_inside_whose_downloads_would_land_outside_is_refused(clone, decoy, paper):
    """The downloads go beside the call cache (its parent's downloads/): `../<the repository>` is the
    repository itself, but its downloads would be written in the folder above it."""
    _config(clone, f"cache_dir: ../{clone.name}")
    above = sorted(p.name for p in clone.parent.iterdir())
    refused(run(["read", str(paper)], FakeLLM(lambda m: REPLY)), "'cache_dir' names", "trusted_repos")
    assert sorted(p.name for p in clone.parent.iterdir()) == above
    decoy.untouched()


def test_the_same_settings_from_a_trusted_repository_or_the_user_are_taken(clone, decoy, isolated_home):
    _config(clone, f"arxiv_api: http://127.0.0.1:9/api\nnote_template: {decoy.root}/template.md.j2")
    user = isolated_home / ".config" / "paper-reader" / "config.yaml"
    user.parent.mkdir(parents=True)
    user.write_text(f"trusted_repos: [{clone}]\n", "utf-8")
    settings = load_settings(cwd=clone)
    assert settings.arxiv_api == "http://127.0.0.1:9/api"
    assert settings.note_template == f"{decoy.root}/template.md.j2"
    user.write_text("arxiv_api: http://127.0.0.1:9/user\n", "utf-8")  # not trusted now, but the user's own setting
    (clone / "paper-reader.yaml").write_text("model: x\n", "utf-8")
    assert load_settings(cwd=clone).arxiv_api == "http://127.0.0.1:9/user"


def test_an_untrusted_config_may_tighten_limits(clone):
    _config(clone, "max_download_mb: 50\ndownload_deadline: 60\ntimeout: 120\nmax_pages: 200\narxiv_interval: 5\n"
                   "context_window: 8192")
    settings = load_settings(cwd=clone)
    assert (settings.max_download_mb, settings.download_deadline, settings.timeout, settings.max_pages,
            settings.arxiv_interval, settings.context_window) == (50, 60, 120, 200, 5, 8192)


def test_the_context_window_ceiling_is_the_embedded_models_largest_default():
    from paper_reader.models.gguf import MAX_CONTEXT
    from paper_reader.settings import _CEILING

    assert _CEILING["context_window"] == MAX_CONTEXT


def test_an_untrusted_config_may_name_its_own_files(clone):
    (clone / "mine.md.j2").write_text("{{ front_matter }}", "utf-8")
    _config(clone, f"note_template: mine.md.j2\ncache_dir: .paper-reader-cache\noutput: .\ntemplate: {clone}/q.yaml")
    settings = load_settings(cwd=clone)
    assert (settings.note_template, settings.cache_dir, settings.template) == (
        "mine.md.j2", ".paper-reader-cache", f"{clone}/q.yaml")


# Names, types and defaults that say a setting points somewhere: a URL, a host, a file or folder, a
# command, or a structure that may carry any of them.
_POINTS = re.compile(r"url|api|host|base|endpoint|server|deploy|proxy|dir|path|file|folder|template|output|"
                     r"command|cmd|exec|program|script|hook|plugin|model", re.I)


def _points_somewhere(field: dataclasses.Field) -> bool:
    default = field.default if field.default is not dataclasses.MISSING else None
    looks = isinstance(default, str) and ("://" in default or default.startswith((".", "/", "~")))
    structured = str(field.type).split("|")[0].strip() in ("tuple", "list", "dict")
    return bool(_POINTS.search(field.name)) or looks or structured


def unlisted(settings_class) -> list[str]:
    return [f.name for f in dataclasses.fields(settings_class) if _points_somewhere(f) and f.name not in REPO_GUARDED]


def test_every_setting_that_names_a_server_or_a_file_is_on_the_guarded_list():
    assert unlisted(Settings) == [], ("add these to settings.REPO_GUARDED (endpoint, model, file or pattern) "
                                      "so an untrusted repository cannot set them")
    assert set(REPO_GUARDED) <= {f.name for f in dataclasses.fields(Settings)}
    assert set(REPO_GUARDED.values()) <= {"endpoint", "model", "file", "pattern", "bound"}


def test_the_guarded_list_check_catches_a_new_url_setting():
    """What the test above does when someone adds a mirror URL (or a helper command) and forgets the list."""
    @dataclasses.dataclass(frozen=True)
    class Later(Settings):
        semantic_scholar: str = "https://api.semanticscholar.org/graph/v1"
        pdf_viewer: str = "/usr/bin/evince"
        retries: int = 3

    assert unlisted(Later) == ["semantic_scholar", "pdf_viewer"]


def test_every_guarded_setting_is_refused_from_an_untrusted_config(tmp_path):
    """Each listed setting, given an outside (or loosened) value, is refused (the list is applied, not only kept)."""
    outside = {"endpoint": "'http://evil.example/x'", "model": "'gguf:/tmp/x.gguf'", "file": "'/'", "pattern": None}
    for name, kind in REPO_GUARDED.items():
        if kind == "bound":
            outside[kind] = "0" if name == "arxiv_interval" else str((getattr(Settings(), name) or 32_768) * 1000)
        if outside[kind] is None:
            continue
        repo = tmp_path / name
        repo.mkdir()
        value = "[{model: openai/m, api_base: 'http://evil.example'}]" if name == "deployments" else outside[kind]
        (repo / "paper-reader.yaml").write_text(f"{name}: {value}\n", "utf-8")
        with pytest.raises(ConfigError, match="trusted_repos"):
            load_settings(cwd=repo)


# -- a copied .git runs nothing ------------------------------------------------------------------

def _git_identity(monkeypatch) -> None:
    for k, v in {"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@e.x", "GIT_COMMITTER_NAME": "T",
                 "GIT_COMMITTER_EMAIL": "t@e.x"}.items():
        monkeypatch.setenv(k, v)


def _git_clone(clone: Path, tmp_path: Path, monkeypatch) -> Path:
    """The clone as an archive or a copy leaves it: its .git, hooks and local config included. Each
    program the repository names writes a marker (outside the decoy) when git runs it."""
    import subprocess

    _git_identity(monkeypatch)
    subprocess.run(["git", "init", "-q", str(clone)], check=True)
    marks = tmp_path / "marks"
    marks.mkdir()
    for name in ("pre-commit", "commit-msg", "post-commit", "fsmonitor", "gpg"):
        script = clone / ".git" / "hooks" / name
        script.write_text(f"#!/bin/sh\ntouch {marks}/{name}\nexit 0\n", "utf-8")
        script.chmod(0o755)
    for key, value in {"core.fsmonitor": str(clone / ".git" / "hooks" / "fsmonitor"), "commit.gpgSign": "true",
                       "gpg.program": str(clone / ".git" / "hooks" / "gpg")}.items():
        subprocess.run(["git", "-C", str(clone), "config", "--local", key, value], check=True)
    return marks


def test_a_copied_git_folder_runs_no_hook_fsmonitor_or_signing_program(clone, decoy, paper, tmp_path, monkeypatch):
    import subprocess

    marks = _git_clone(clone, tmp_path, monkeypatch)
    result = run(["read", str(paper), "--commit"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in marks.iterdir()) == []
    log = subprocess.run(["git", "-C", str(clone), "log", "--format=%s"], capture_output=True, text=True).stdout
    assert log.startswith(f"notes: add {TITLE}")
    decoy.untouched()


@pytest.mark.parametrize("how", ["plain", "odd-name", "worktree-config", "included"])
def test_a_copied_git_config_with_a_content_filter_is_refused(how, clone, decoy, paper, tmp_path, monkeypatch):
    import subprocess

    marks = _git_clone(clone, tmp_path, monkeypatch)
    name = "a\x1fb" if how == "odd-name" else "run"  # a name str.split() would cut in two
    (clone / ".gitattributes").write_text(f"* filter={name}\n", "utf-8")
    config = ["git", "-C", str(clone), "config"]
    if how == "worktree-config":
        subprocess.run([*config, "core.repositoryformatversion", "1"], check=True)
        subprocess.run([*config, "extensions.worktreeConfig", "true"], check=True)
        config.append("--worktree")
    elif how == "included":
        (clone / "extra.cfg").write_text(f'[filter "{name}"]\n\tclean = touch {marks}/filter; cat\n', "utf-8")
        subprocess.run([*config, "include.path", str(clone / "extra.cfg")], check=True)
    if how != "included":
        subprocess.run([*config, f"filter.{name}.clean", f"touch {marks}/filter; cat"], check=True)
    llm = FakeLLM(lambda m: REPLY)
    refused(run(["read", str(paper), "--commit"], llm), f"filter.{name}.clean".replace("\x1f", "\\x1f"),
            "trusted_repos")
    assert llm.history == []  # before any model call
    assert list(marks.iterdir()) == []
    decoy.untouched()


def test_init_does_not_make_a_git_repository_where_a_symlinked_git_leads(tmp_path, decoy, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    folder = tmp_path / "clone"
    link(folder / ".git", decoy.root / "empty")
    refused(runner.invoke(app, ["init", str(folder)]), ".git leads outside the notes repository")
    assert sorted(p.name for p in folder.iterdir()) == [".git"]  # refused before anything was written
    decoy.untouched()


@pytest.mark.parametrize("how", ["symlink", "gitdir-file"])
def test_a_git_folder_that_leads_outside_is_refused(how, clone, decoy, paper, tmp_path, monkeypatch):
    """A commit writes objects and refs where .git leads: never into someone else's repository."""
    import subprocess

    _git_identity(monkeypatch)
    other = tmp_path / "other"
    subprocess.run(["git", "init", "-q", str(other)], check=True)
    before = sorted(str(p.relative_to(other)) for p in other.rglob("*"))
    if how == "symlink":
        link(clone / ".git", other / ".git")
    else:
        (clone / ".git").write_text(f"gitdir: {other / '.git'}\n", "utf-8")
    llm = FakeLLM(lambda m: REPLY)
    refused(run(["read", str(paper), "--commit"], llm), ".git leads outside the notes repository")
    assert llm.history == []
    assert sorted(str(p.relative_to(other)) for p in other.rglob("*")) == before
    decoy.untouched()


def test_a_trusted_repositorys_git_runs_its_hooks_as_before(clone, paper, tmp_path, monkeypatch):
    import subprocess

    marks = _git_clone(clone, tmp_path, monkeypatch)
    for key in ("commit.gpgSign", "core.fsmonitor"):  # the test's own gpg and fsmonitor are not real ones
        subprocess.run(["git", "-C", str(clone), "config", "--local", "--unset", key], check=True)
    monkeypatch.setenv("PAPER_READER_TRUST_REPO", "1")
    result = run(["read", str(paper), "--commit"])
    assert result.exit_code == 0, result.output
    assert {"pre-commit", "commit-msg", "post-commit"} <= {p.name for p in marks.iterdir()}


# -- a trusted, ordinary repository works as before -----------------------------------------------

def test_an_ordinary_clone_reads_writes_indexes_and_locks_as_before(clone, decoy, paper):
    (clone / "LLM").mkdir()
    (clone / "LLM" / "Other.md").write_text("---\ntitle: Other Paper\n---\n", "utf-8")
    (clone / "docs").mkdir()
    (clone / "docs" / "alias").symlink_to("../LLM", target_is_directory=True)  # a symlink that stays inside
    result = run(["read", str(paper), "--topic", "LLM"])
    assert result.exit_code == 0, result.output
    assert (clone / "LLM" / f"{TITLE}.md").is_file()
    index = (clone / "README.md").read_text("utf-8")
    assert "Other Paper" in index and TITLE in index
    assert re.fullmatch(r"\d+\n", (clone / ".paper-reader.lock").read_text())  # a lock it created holds its pid
    again = run(["read", str(paper), "--topic", "LLM", "--force"])
    assert again.exit_code == 0, again.output
    decoy.untouched()


# -- paths the system cannot follow ---------------------------------------------------------------

@pytest.mark.parametrize("trick", ["loop", "two-link-loop", "loop-lock", "long-topic"])
def test_a_path_the_system_cannot_follow_is_one_clear_line(trick, clone, decoy, paper):
    """A symlink loop (ELOOP) or a path longer than the system allows (ENAMETOOLONG) where a note,
    a topic folder or the lock would go: a plain refusal naming the path, not an internal error."""
    extra: list[str] = []
    if trick == "loop":
        (clone / "unsorted").symlink_to("unsorted")
    elif trick == "two-link-loop":
        (clone / "unsorted").symlink_to("b")
        (clone / "b").symlink_to("unsorted")
    elif trick == "loop-lock":
        (clone / ".paper-reader.lock").symlink_to(".paper-reader.lock")
    else:
        extra = ["--topic", "/".join(["t"] * 2100)]  # longer than PATH_MAX (4096) once joined
    line = refused(run(["read", str(paper), *extra]))
    assert "internal error" not in line.lower()
    named = {"loop": "unsorted is a symlink that loops", "two-link-loop": "is a symlink that loops",
             "loop-lock": ".paper-reader.lock", "long-topic": "more than the system allows in a path"}[trick]
    assert named in line
    decoy.untouched()


# -- files a cloned repository ships for paper-reader to read back --------------------------------

SHIPPED_CACHE = {
    "deep-list": "[" * 100_000 + "]" * 100_000,
    "deep-object": '{"a":' * 100_000 + "1" + "}" * 100_000,
    "text-not-a-string": '{"text": {"x": 1}, "input_tokens": 1}',
    "text-null": '{"text": null}',
    "tokens-not-numbers": '{"text": "planted", "input_tokens": "lots", "output_tokens": [1]}',
    "tokens-huge": '{"text": "planted", "input_tokens": ' + "9" * 5000 + "}",
}


@pytest.mark.parametrize("trick", list(SHIPPED_CACHE))
def test_a_shipped_call_cache_entry_that_is_not_ours_is_asked_again(trick, clone, paper):
    _config(clone, "cache_dir: .paper-reader-cache")
    assert run(["read", str(paper)]).exit_code == 0
    entries = list((clone / ".paper-reader-cache").glob("??/*.json"))
    for entry in entries:
        entry.write_text(SHIPPED_CACHE[trick], "utf-8")
    llm = FakeLLM(lambda m: REPLY)
    result = run(["read", str(paper), "--force"], llm)
    assert result.exit_code == 0, result.output
    assert len(llm.history) == len(entries)  # every entry asked again, none crashed the run
    assert "planted" not in (clone / "unsorted" / f"{TITLE}.md").read_text("utf-8")


@pytest.mark.parametrize("sizes", ["[" * 100_000 + "]" * 100_000, '{"context_window": "big", "small": [1]}',
                                   '{"context_window": 0}', '{"context_window": 1e30}', '{"context_window": -5}'])
def test_a_shipped_size_memo_that_is_not_ours_is_counted_again(sizes, clone, paper):
    _config(clone, "cache_dir: .paper-reader-cache")
    assert run(["read", str(paper)]).exit_code == 0
    for memo in (clone / ".paper-reader-cache" / "sizes").glob("*.json"):
        memo.write_text(sizes, "utf-8")
    result = run(["read", str(paper), "--force", "--no-cache"])
    assert result.exit_code == 0, result.output
    result = run(["read", str(paper), "--force"])
    assert result.exit_code == 0, result.output


def _alias_bomb(key: str) -> str:
    """Nine anchors of nine aliases each: a kilobyte of YAML that stands for 9**9 strings."""
    lines = ["  a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return "bomb:\n" + "\n".join(lines) + f"\n{key}: *a8\n"


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("front", [_alias_bomb("title"), _alias_bomb("tags"), _alias_bomb("source"),
                                   f"title: {DEEP}\n", "title: x\ngenerated: 2023-02-30\nyear: " + "9" * 5000 + "\n",
                                   "year: " + ":".join(["1"] * 300_000) + "\n"])
def test_a_note_whose_front_matter_would_exhaust_memory_or_the_stack_is_indexed_without_it(front, clone, paper):
    (clone / "unsorted").mkdir()
    planted = clone / "unsorted" / "planted.md"
    planted.write_text(f"---\n{front}---\n\n# Planted note\n\nText.\n", "utf-8")
    result = run(["read", str(paper)])  # writes the new note, then rebuilds the index over every note
    assert result.exit_code == 0, result.output
    assert "planted.md" in (clone / "README.md").read_text("utf-8")
    ask = run(["ask", str(planted), "what is it?"])
    refused(ask, "planted.md", "source")


@pytest.mark.parametrize("where, text, named", [
    ("paper-reader.yaml", 'model: "embedded/smollm2-135m"\ndeployments:\n  - model: x\n    ' +
     _alias_bomb("api_key").replace("\n", "\n    ").rstrip() + "\n", "values once its aliases"),
    ("paper-reader.yaml", f'model: "embedded/smollm2-135m"\ndeployments: {DEEP}\n', "nested more than 64"),
    ("paper-reader.yaml", 'model: "embedded/smollm2-135m"\nmax_pages: ' + "9" * 5000 + "\n", "a number of 5,000"),
    ("paper-reader.yaml", 'model: "embedded/smollm2-135m"\ntimeout: ' + ":".join(["1"] * 300_000) + "\n",
     "a number of"),  # base 60: PyYAML's build of it is quadratic in its length
    ("paper-reader.yaml", 'model: "embedded/smollm2-135m"\nlang: 0x' + "f" * 5000 + "\n", "a number of"),
    ("q.yaml", "questions:\n  - text: Why?\n" + _alias_bomb("x"), "values once its aliases"),
    ("q.yaml", f"questions: {DEEP}\n", "nested more than 64"),
])
def test_a_config_or_question_set_that_would_exhaust_memory_or_the_stack_is_one_line(where, text, named, clone, paper):
    if where == "q.yaml":
        _config(clone, "template: q.yaml")
    (clone / where).write_text(text, "utf-8")
    llm = FakeLLM(lambda m: REPLY)
    refused(run(["read", str(paper)], llm), where, named)
    assert llm.history == []


@pytest.mark.parametrize("text, named", [
    ("- source: paper.pdf\n" + _alias_bomb("  tags").replace("bomb:", "  bomb:"), "values once its aliases"),
    (f"- {DEEP}\n", "nested more than 64"),
])
def test_a_reading_list_that_would_exhaust_memory_or_the_stack_is_one_line(text, named, clone):
    (clone / "list.yaml").write_text(text, "utf-8")
    llm = FakeLLM(lambda m: REPLY)
    refused(run(["batch", "list.yaml"], llm), "list.yaml", named)
    assert llm.history == []


# -- what is printed: a name or title from outside cannot command the terminal --------------------

def test_a_file_name_with_terminal_commands_is_shown_not_sent_to_the_terminal(clone, decoy, paper):
    name = "\x1b]0;OWNED\x1b\\\x1b[2J\u202efdp.md"
    (clone / "unsorted").mkdir()
    (clone / "unsorted" / name).symlink_to(decoy.root / ".bashrc")
    line = refused(run(["read", str(paper)]), "is a symlink")
    assert "\x1b" not in line and "\u202e" not in line
    assert "\\x1b]0;OWNED" in line and "\\u202e" in line
    decoy.untouched()


@pytest.mark.parametrize("title", ["Results [/bold] and [link=https://evil.example]more[/link]",
                                   "Escape \x1b[2J codes"])
def test_a_pdf_title_with_markup_or_terminal_codes_is_printed_as_text(title, clone):
    pdf = sample_paper(clone / "odd.pdf", title=title)
    (clone / "list.txt").write_text("odd.pdf\n", "utf-8")
    result = run(["batch", "list.txt"])
    assert result.exit_code == 0, result.output
    assert "\x1b[2J" not in result.output and "internal error" not in result.output
    result = run(["sections", str(pdf)])
    assert result.exit_code == 0 and "\x1b[2J" not in result.output, result.output


def test_a_title_with_markup_or_terminal_codes_prints_as_it_reads():
    """The PDF reader drops control characters of its own accord; a title from arXiv or a note does
    not pass through it."""
    from rich.console import Console

    from paper_reader.cli.show import section_tree
    from paper_reader.types import Paper, Section

    title = "Results [/bold] [link=https://evil.example]x[/link] \x1b]0;OWNED\x07 \u202efdp"
    paper = Paper(source="x.pdf", title=title, pages=["text"], sections=[Section(title="Intro [/]", number="1")])
    console = Console(record=True, width=200, color_system=None)
    console.print(section_tree(paper))
    out = console.export_text()
    assert "Results [/bold] [link=https://evil.example]x[/link] \\x1b]0;OWNED\\x07 \\u202efdp" in out
    assert "1 Intro [/]" in out and "\x1b" not in out


def test_a_dry_run_with_a_failing_entry_is_one_line_and_exit_1(clone, paper):
    (clone / "list.txt").write_text(f"{paper}\nmissing.pdf\n", "utf-8")
    result = run(["batch", "list.txt", "--dry-run"])
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output and "Traceback" not in result.output
    assert "missing.pdf" in result.stderr and "no such file" in result.stderr


# -- a clone's notes and lists name its own papers, not the user's files ---------------------------

def _note_naming(clone: Path, source: str) -> Path:
    (clone / "ml").mkdir(exist_ok=True)
    note = clone / "ml" / "Innocent.md"
    note.write_text(f"---\ntitle: Innocent\nsource: {source}\n---\n\n# 1. What?\n\nText.\n", "utf-8")
    return note


@pytest.mark.parametrize("how", ["absolute", "relative", "url"])
def test_a_cloned_note_whose_source_is_outside_is_not_read_when_asked(how, clone, decoy, tmp_path):
    private = sample_paper(decoy.root / "private.pdf", title="My Private Draft")
    decoy.before = decoy.snapshot()
    source = {"absolute": str(private), "relative": "../../home/private.pdf",
              "url": "https://user:pw@evil.example/x.pdf"}[how]
    note = _note_naming(clone, source)
    before = note.read_bytes()
    llm = FakeLLM(lambda m: REPLY)
    line = refused(run(["ask", str(note), "what is it?"], llm), "Innocent.md names",
                   "give it on the command line yourself")
    assert "pw@" not in line
    assert llm.history == [] and note.read_bytes() == before
    decoy.untouched()


def test_a_cloned_note_may_name_its_own_pdf_or_an_arxiv_paper(clone, paper):
    (clone / "papers").mkdir()
    (clone / "papers" / "own.pdf").write_bytes(paper.read_bytes())
    note = _note_naming(clone, "../papers/own.pdf")
    result = run(["ask", str(note), "what is it?"])
    assert result.exit_code == 0, result.output
    assert "# Q&A" in note.read_text("utf-8")


def test_a_cloned_reading_list_may_not_name_the_users_files(clone, decoy, paper):
    private = sample_paper(decoy.root / "private.pdf", title="My Private Draft")
    decoy.before = decoy.snapshot()
    (clone / "own.pdf").write_bytes(paper.read_bytes())
    (clone / "list.txt").write_text(f"{private}\n../home/private.pdf\nhttps://evil.example/x.pdf\nown.pdf\n", "utf-8")
    result = run(["batch", "list.txt", "-j", "1"])
    assert result.exit_code == 1
    assert result.stderr.count("may name only its own files") == 2
    assert "may not choose a server" in result.stderr and "1 done" in result.stderr
    assert "Private" not in "".join(p.read_text("utf-8") for p in clone.rglob("*.md"))
    decoy.untouched()


def test_the_users_own_repository_and_a_trusted_one_name_any_pdf(tmp_path, decoy, paper, monkeypatch):
    """`init` on this machine makes the repository the user's own: their reading list and notes
    name PDFs anywhere, as before. A clone the user trusts does too."""
    own = tmp_path / "mine"
    assert run(["init", str(own)]).exit_code == 0
    monkeypatch.chdir(own)
    (own / "list.txt").write_text(f"{paper}\n", "utf-8")
    assert run(["batch", "list.txt"]).exit_code == 0
    note = next(p for p in own.rglob("*.md") if p.name != "README.md")
    assert run(["ask", str(note), "what is it?"]).exit_code == 0
    clone = tmp_path / "cloned-trusted"
    clone.mkdir()
    (clone / "paper-reader.yaml").write_text("lang: en\n", "utf-8")
    note = _note_naming(clone, str(paper))
    monkeypatch.chdir(clone)
    refused(run(["ask", str(note), "what is it?"]), "may name only its own files")
    monkeypatch.setenv("PAPER_READER_TRUST_REPO", "1")
    assert run(["ask", str(note), "what is it?"]).exit_code == 0


def test_a_relative_cache_folder_keeps_its_size_memo_where_it_was_opened(tmp_path, monkeypatch):
    """The memo is saved at exit: by then the process may be in another folder."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    cached = CachedLLM(FakeLLM(lambda m: REPLY), "cache")
    cached.count_tokens("some text")
    monkeypatch.chdir(tmp_path / "b")
    cached._sizes.save()
    assert list((tmp_path / "a" / "cache" / "sizes").glob("*.json")) and not list((tmp_path / "b").iterdir())
