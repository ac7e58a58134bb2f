"""The one rule for every file paper-reader reads or writes in a notes repository: it stays inside.

A notes repository may come from someone else (a clone, an archive), so any name in it may be a
symlink. A path that lies in a notes repository (a folder holding paper-reader.yaml, or the root a
caller names) is resolved, symlinks and all, and must land inside the repository's real path; a
symlink that leads out is refused with one line naming it. files.py applies the rule to every read
and write it does (`check`), so a new feature that reads or writes through it gets the rule for
free; the library also passes the repository it knows (`inside`), which refuses a path that is not
in it at all. Files are then opened by their real path with O_NOFOLLOW, and written atomically.
"""

from __future__ import annotations

import os
from pathlib import Path

from paper_reader.errors import RepoError

REPO_CONFIG = "paper-reader.yaml"  # what makes a folder a notes repository (settings.REPO_CONFIG)
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class OutsideRepository(RepoError):
    """A path in a notes repository that leads outside it (a symlink pointing out, or '..')."""


def _under(path: str, folder: str) -> bool:
    folder = folder.rstrip(os.sep) or os.sep
    return path == folder or path.startswith(folder if folder.endswith(os.sep) else folder + os.sep)


def repositories(path: str | Path) -> list[str]:
    """Every folder above `path` (as written, made absolute) that holds a paper-reader.yaml."""
    folder = os.path.dirname(os.path.abspath(path))
    found = []
    while True:
        if os.path.lexists(os.path.join(folder, REPO_CONFIG)):
            found.append(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            return found
        folder = parent


def _escape(root: str, path: str) -> tuple[str, str] | None:
    """The first symlink on the way from root down to path that leads out of root, and its target."""
    real_root = os.path.realpath(root)
    rel = os.path.relpath(os.path.abspath(path), root)
    here = root
    for part in Path(rel).parts:
        here = os.path.join(here, part)
        if os.path.islink(here) and not _under(os.path.realpath(here), real_root):
            return here, os.readlink(here)
    return None


def _refuse(root: str, path: str, what: str) -> OutsideRepository:
    link = _escape(root, path)
    if link is not None:
        return OutsideRepository(
            f"{link[0]} is a symlink to {link[1]}, outside the {what} {root}: paper-reader reads and writes "
            "only inside it. Replace the link with the real file or folder (or remove it) and try again.")
    return OutsideRepository(f"{path} leads outside the {what} {root} (to {os.path.realpath(path)}): "
                             "paper-reader reads and writes only inside it.")


def within(folder: str | Path, path: str | Path, what: str = "notes repository") -> Path:
    """The real path of `path` (as the system sees it: absolute, or relative to the working folder,
    like `folder`), which must lie in `folder` both as written (no '..' out of it) and once every
    symlink is followed."""
    folder = os.path.abspath(folder)
    given = os.path.join(os.getcwd(), path)  # as written: '..' is judged below, lexically and really
    real_folder = os.path.realpath(folder)
    written = os.path.normpath(given)
    if not (_under(written, folder) or _under(written, real_folder)):
        raise OutsideRepository(f"{path} is not inside the {what} {folder}: paper-reader reads and writes "
                                "only inside it.")
    real = os.path.realpath(given)
    if not _under(real, real_folder):
        raise _refuse(folder, given, what)
    check(given)
    return Path(real)


def inside(root: str | Path, path: str | Path) -> Path:
    """`within` the notes repository `root`: the real path to open for a repository file."""
    return within(root, path)


def check(path: str | Path) -> Path:
    """The real path of `path`, after the rule: in every notes repository it lies in, it must
    really be inside (what each read and write of files.py calls first)."""
    real = os.path.realpath(path)
    _followable(path, real)
    for root in repositories(path):
        if not _under(real, os.path.realpath(root)):
            raise _refuse(root, os.path.abspath(path), "notes repository")
    return Path(real)


def _followable(path: str | Path, real: str) -> None:
    """Refuse a path the system cannot follow: a symlink loop, or a path longer than PATH_MAX
    (realpath leaves both as written, and the open would fail later as an internal error)."""
    import errno

    try:
        os.stat(real)
    except OSError as exc:
        if exc.errno not in (errno.ELOOP, errno.ENAMETOOLONG):
            return  # not there yet (a note about to be written), or a plain file where a folder goes
        if exc.errno == errno.ENAMETOOLONG:
            raise RepoError(f"{str(path)[:120]}... is {len(str(real))} characters long, more than the system "
                            "allows in a path: choose a shorter topic, title or folder.") from None
        here = os.sep if os.path.isabs(real) else ""
        for part in Path(real).parts:  # name the link that loops, not only the whole path
            here = os.path.join(here, part)
            try:
                os.stat(here)
            except OSError:
                break
        raise RepoError(f"{here} is a symlink that loops (it leads back to itself): replace the link with "
                        "a real folder or file (or remove it) and try again.") from None


def make_dirs(folder: str | Path) -> Path:
    """Create `folder` (and its parents) after the rule: never a folder outside a repository it lies in."""
    real = check(folder)
    os.makedirs(real, exist_ok=True)
    return real


def foreign_source(source: str, named_in: str | Path) -> str | None:
    """Why a paper that a file of a notes repository names (a note's `source:`, a reading list's
    entry) may not be opened, or None when it may (`source_rule`)."""
    return source_rule(named_in)(source)


def source_rule(named_in: str | Path):
    """For the file `named_in`, a function from a paper it names to why that paper may not be
    opened (None when it may). A repository the user did not make here nor trust (a clone) may name
    its own PDFs and arXiv papers, not a file elsewhere on the user's disk (it would be read into a
    note the user may push) nor a server of its choosing. Whose repository it is is looked up once."""
    from paper_reader.settings import how_to_trust, own_repository
    from paper_reader.sources.arxiv import SourceKind, parse_source
    from paper_reader.sources.http import redact

    roots = repositories(named_in)
    if not roots or own_repository(roots[0]):
        return lambda source: None
    root, how = roots[0], f"give it on the command line yourself, or trust the repository: {how_to_trust()}"

    def refusal(source: str) -> str | None:
        kind = parse_source(source).kind
        if kind is SourceKind.ARXIV:
            return None  # fetched from the arXiv endpoint the user's settings name
        if kind is SourceKind.URL:
            return (f"{named_in} names {redact(source)}: a repository you did not make with `paper-reader init` "
                    f"may not choose a server to fetch from; {how}.")
        written = os.path.normpath(os.path.abspath(source))
        if _under(written, os.path.abspath(root)) or _under(written, os.path.realpath(root)):
            return None  # inside as written: a symlink there that leads out is refused when opened (check)
        return (f"{named_in} names {source}, outside the notes repository {root}: a repository you did not make "
                f"with `paper-reader init` may name only its own files, not yours; {how}.")

    return refusal
