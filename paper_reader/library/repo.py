"""The notes repository: layout and config, git commits and a writer lock.

The index lives in notes_index.py and hand-edit preservation in notes_merge.py; both are re-exported here.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import stat
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from paper_reader.errors import ConfigError
from paper_reader.files import file_kind
from paper_reader.library.store import NOFOLLOW, inside
from paper_reader.models.llm import EMBEDDED_MODEL
from paper_reader.library.index import NoteEntry, read_file, scan_notes, write_file, write_index
from paper_reader.library.merge import RepoError, is_hand_edited, merge_note, stamp
from paper_reader.writing.render import note_filename
from paper_reader.settings import REPO_CONFIG

try:
    import fcntl
except ImportError:  # Windows has no flock: concurrent runs there are not guarded
    fcntl = None

__all__ = [
    "NoteEntry", "RepoError", "commit_files", "commit_message", "init_repo", "is_hand_edited", "merge_note",
    "note_relpath", "repo_lock", "scan_notes", "stamp", "write_index",
]

CACHE_DIR = ".paper-reader-cache/"
LOCK_FILE = ".paper-reader.lock"
DEFAULT_TOPIC = "unsorted"
DEFAULT_NOTES_PATH = "{topic}/{title}.md"
log = logging.getLogger(__name__)


def note_relpath(pattern: str, title: str, topic: str | None = None) -> Path:
    """Where a note goes inside the repository: notes_path with {topic} and {title} filled in."""
    pattern = pattern.replace("\\", "/")
    _check_pattern(pattern)
    values = {"topic": _topic_folder(topic), "title": note_filename(title)[:-3]}
    rel = Path(re.sub(r"\{(topic|title)\}", lambda m: values[m.group(1)], pattern))
    if any(part.lower() == ".git" for part in rel.parts):  # case-insensitive file systems too
        raise RepoError(f"A note may not go inside the repository's .git folder ({rel}): git keeps its own "
                        "files there. Choose another topic or notes_path.")
    return rel


def _check_pattern(pattern: str) -> None:
    """Refuse a notes_path that leaves the repository or cannot name one note per paper."""
    absolute = pattern.startswith("/") or re.match(r"[A-Za-z]:", pattern)
    if not pattern or absolute or ".." in PurePosixPath(pattern).parts:
        raise RepoError(f"notes_path '{pattern}' must stay inside the notes repository: "
                        "use a relative path without '..', like '{topic}/{title}.md'.")
    unknown = re.search(r"[{}]", re.sub(r"\{(topic|title)\}", "", pattern))
    if "{title}" not in pattern or not pattern.endswith(".md") or unknown:
        raise RepoError(f"notes_path '{pattern}' must contain {{title}}, end in .md and use no "
                        "placeholders but {topic} and {title}, like '{topic}/{title}.md'.")


def _topic_folder(topic: str | None) -> str:
    parts = [p.strip() for p in re.split(r"[/\\]+", topic or "") if p.strip()]
    if any(p in (".", "..") for p in parts):
        raise RepoError(f"Topic '{topic}' must be a folder inside the notes repository: drop the '..'.")
    return "/".join(note_filename(p)[:-3] for p in parts) or DEFAULT_TOPIC


def _config_text(model: str, lang: str) -> str:
    return f"""\
# paper-reader settings for this notes repository.
# Command-line flags and PAPER_READER_* environment variables override them.

# The model that writes the notes: any litellm model string (gpt-4o-mini,
# ollama/llama3.1, ...), or {EMBEDDED_MODEL} for the small offline one.
model: {json.dumps(model)}
# Language of the questions and answers: en or zh.
lang: {lang}
# Question set: a YAML file of questions, or null for the built-in ten.
template: null
# How many model calls run at once.
concurrency: 4
# Where each note goes, relative to this folder. {{topic}} is the topic folder
# ("{DEFAULT_TOPIC}" when a paper has none); {{title}} is the title, made file-name safe.
notes_path: "{DEFAULT_NOTES_PATH}"
# Commit each new or updated note (and the index) with git.
commit: false
# Put screenshots of the paper's figures into the notes.
figures: false
"""


def init_repo(path: Path, *, model: str | None = None, lang: str = "en") -> list[Path]:
    """Make `path` a notes repository without touching its notes; return the files written."""
    if lang not in ("en", "zh"):
        raise ConfigError(f"Language '{lang}' is not supported: use en or zh.")
    root = Path(path)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RepoError(f"Cannot create {root}: {exc.strerror or exc}. Choose another folder.") from exc
    from paper_reader.settings import trusted_repository

    if not trusted_repository(root):
        _git_dir_inside(root)  # `git init` in a .git that leads out would write a repository there
    written = []
    if read_file(root / REPO_CONFIG, root) is None:
        from paper_reader.settings import record_made_here

        written.append(write_file(root / REPO_CONFIG, _config_text(model or EMBEDDED_MODEL, lang), root))
        record_made_here(root)  # its config is the user's: its notes may name the user's PDFs
    if _ensure_gitignore(root, root / ".gitignore"):
        written.append(root / ".gitignore")
    readme = root / "README.md"
    before = read_file(readme, root)
    write_index(root)
    if read_file(readme, root) != before:
        written.append(readme)
    if _git_init(root):
        written.append(root / ".git")
    return written


def _ensure_gitignore(root: Path, path: Path) -> bool:
    """Append the cache folder and lock file to .gitignore where missing; True if it was written."""
    text = read_file(path, root) or ""
    have = {line.strip().strip("/") for line in text.splitlines()}
    missing = [entry for entry in (CACHE_DIR, LOCK_FILE) if entry.strip("/") not in have]
    if not missing:
        return False
    head = "" if not text else "" if text.endswith("\n") else "\n"
    head += "" if text else "# paper-reader: model-call cache and the lock held while writing\n"
    write_file(path, text + head + "\n".join(missing) + "\n", root)
    return True


def _git_init(root: Path) -> bool:
    """`git init` unless the folder is already inside a git work tree; True if it ran."""
    if shutil.which("git") is None:
        log.warning("git is not installed: %s was not made a git repository.", root)
        return False
    inside = _git(root, "rev-parse", "--is-inside-work-tree", check=False)
    if inside.returncode == 0 and inside.stdout.strip() == "true":
        return False
    _git(root, "init", "-q")
    return True


# What a repository's own git config (an archive or a copy carries .git/config and .git/hooks; a
# clone does not) could make git run on `add`, `diff` or `commit`. In a repository the user has not
# trusted, hooks, the fsmonitor and commit signing are turned off for paper-reader's git calls, and
# content filters (run by `git add` on every file) are refused; a trusted one runs as configured.
UNTRUSTED_GIT = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "commit.gpgSign=false")
_FILTER = re.compile(r"^filter\..+\.(clean|smudge|process)$", re.I)


def _git_guard(root: Path) -> tuple[str, ...]:
    """The options paper-reader's git calls in `root` get: none when the user trusts it."""
    from paper_reader.settings import how_to_trust, trusted_repository

    if trusted_repository(root):
        return ()
    _git_dir_inside(root)
    cmd = ["git", "-C", str(root), "config", "--list", "--name-only", "--show-scope", "--includes", "-z"]
    out = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", errors="replace").stdout.split("\0")
    # NUL-separated (scope, name) pairs: a name may hold any other character; the repository's own
    # files are the local and worktree scopes (the user's global and system config are the user's)
    filters = sorted({name for scope, name in zip(out[::2], out[1::2])
                      if scope in ("local", "worktree") and _FILTER.match(name)})
    if filters:
        raise RepoError(f"{root}/.git/config sets {', '.join(map(repr, filters))}: git would run that program on "
                        f"every file paper-reader commits. Remove it, or trust the repository: {how_to_trust()}.")
    return UNTRUSTED_GIT


def _git_dir_inside(root: Path) -> None:
    """A repository's own .git (a folder, a symlink, a gitdir: file) must lead inside it: git writes there."""
    from paper_reader.settings import how_to_trust

    git = os.path.join(root, ".git")
    if not os.path.lexists(git):
        return
    found = subprocess.run(["git", "-C", str(root), "rev-parse", "--absolute-git-dir"], capture_output=True,
                           text=True, encoding="utf-8", errors="replace").stdout.strip()
    real_root = os.path.realpath(root)
    where = os.path.realpath(found or git)
    if os.path.commonpath([where, real_root]) != real_root:
        raise RepoError(f"{root}/.git leads outside the notes repository (to {where}): git would write there. "
                        f"Replace it with the repository's own .git, or trust the repository: {how_to_trust()}.")


def _git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run git in root; literal pathspecs (a title may hold [ or *), no guessed identity, and in an
    untrusted repository nothing its own git config names is run (_git_guard)."""
    guard = _git_guard(root) if args[0] in ("add", "commit", "diff", "status") else ()
    cmd = ["git", "-C", str(root), "--literal-pathspecs", "-c", "user.useConfigOnly=true", *guard, *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", errors="replace")
    except FileNotFoundError as exc:
        raise RepoError("git is not installed or not on PATH: install git to commit notes.") from exc
    if check and proc.returncode:
        detail = next((line for line in proc.stderr.splitlines() if line.strip()), "no message")
        detail = detail.strip().rstrip(".")
        raise RepoError(f"git {args[0]} failed in {root} ({detail}). Fix that and try again.")
    return proc


def check_can_commit(root: Path) -> None:
    """Raise before any model call if committing would fail: not a repository, a filter of an untrusted
    repository's own git config, or no git identity."""
    root = Path(root)
    inside = _git(root, "rev-parse", "--is-inside-work-tree", check=False)
    if inside.returncode or inside.stdout.strip() != "true":
        raise RepoError(f"{root} is not a git repository: run `git init` or `paper-reader init`.")
    _git_guard(root)  # a content filter its own config names is refused now, not after the model calls
    idents = ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT")
    if any(_git(root, "var", name, check=False).returncode for name in idents):
        raise RepoError('git has no user identity: run git config --global user.name "Your Name" '
                        "and git config --global user.email you@example.com (nothing was read or spent).")


def commit_files(root: Path, paths: list[Path], message: str) -> str | None:
    """Commit exactly `paths` (other changes stay as they are); the commit hash, or None if unchanged."""
    root = Path(root)
    check_can_commit(root)
    specs = [os.path.relpath(p if Path(p).is_absolute() else root / p, root) for p in paths]
    if not specs:
        return None
    _git(root, "add", "--", *specs)
    if _git(root, "diff", "--cached", "--quiet", "--no-ext-diff", "--no-textconv", "--", *specs,
            check=False).returncode == 0:
        return None
    _git(root, "commit", "-q", "-m", message, "--", *specs)  # with paths: only these, not the whole index
    return _git(root, "rev-parse", "HEAD").stdout.strip()


def commit_message(action: str, arxiv: str | None, title: str) -> str:
    """'notes: add 2112.11446 Scaling Language Models: ...' (the arXiv ID only when known)."""
    return " ".join(["notes:", action, *([arxiv] if arxiv else []), *title.split()])


@contextmanager
def repo_lock(root: Path, wait: float = 0) -> Iterator[Path]:
    """Hold root/.paper-reader.lock while writing; wait up to `wait` seconds for another run.

    The lock is opened with O_NOFOLLOW (a symlink there, in a repository made by someone else, could
    point at any file the user can write) and created with O_EXCL; only a lock this run created, or
    one holding nothing but an earlier run's process ID, gets this run's ID written into it.
    """
    path = Path(root) / LOCK_FILE
    inside(root, path)  # a symlink out of the repository is named as one
    real = inside(root, root) / LOCK_FILE  # the lock itself is never followed, even to a file inside
    flags = os.O_RDWR | NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        try:
            fd, created = os.open(real, flags | os.O_CREAT | os.O_EXCL, 0o644), True
        except FileExistsError:
            fd, created = os.open(real, flags), False
    except OSError as exc:
        if os.path.islink(real):
            raise RepoError(f"{path} is a symlink, not paper-reader's lock file: remove it and try again.") from exc
        raise RepoError(f"Cannot create {path}: {exc.strerror or exc}. Check the folder exists.") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise RepoError(f"{path} is {file_kind(real)}, not paper-reader's lock file: remove it and try again.")
        deadline = time.monotonic() + wait
        while fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RepoError(f"Another paper-reader run is writing to this repository ({path}). "
                                    "Wait for it to finish.") from None
                time.sleep(0.05)
        if created or _holds_a_pid(fd, info):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)  # who holds it, for a curious user
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _holds_a_pid(fd: int, info: os.stat_result) -> bool:
    """Whether an existing lock file is one paper-reader wrote: one link, a process ID and nothing else."""
    if info.st_nlink != 1 or info.st_size > 32:
        return False
    return re.fullmatch(rb"\d*\n?", os.pread(fd, 33, 0)) is not None
