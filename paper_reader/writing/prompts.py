"""Prompt and note templates (jinja2, StrictUndefined): a typo in a template fails loudly."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from paper_reader.errors import TemplateError
from paper_reader.writing.questions import templates_dir


def template_parts(name: str) -> list[str]:
    """The parts of a template name, refusing one that would leave the templates' folders: an
    absolute name, a drive, a backslash, a NUL, or a '..'. Templates load only templates."""
    import re

    parts = name.split("/")
    if name.startswith("/") or re.match(r"[A-Za-z]:", name) or "\\" in name or "\0" in name or ".." in parts:
        raise TemplateError(f"Template '{name}': a template may include only templates beside it or the "
                            "packaged ones, by a relative name without '..' (like 'parts/header.md.j2').")
    return [p for p in parts if p not in ("", ".")]


class _PackageLoader(jinja2.BaseLoader):
    """Loads from the packaged templates (works from a wheel, a checkout or an editable install)."""

    def get_source(self, environment, template):
        node = templates_dir().joinpath(*template_parts(template))
        if not node.is_file():
            raise jinja2.TemplateNotFound(template)
        return node.read_text("utf-8"), None, lambda: True


class _FolderLoader(jinja2.BaseLoader):
    """Templates in one folder (a user template's own, or its notes repository's), never outside
    it: the name is checked, then the file's real path must lie in the folder (library.store), so a
    symlink there that points out is refused too."""

    def __init__(self, folder: Path):
        self.folder = folder

    def get_source(self, environment, template):
        from paper_reader.files import decode_utf8, is_regular, read_small_file
        from paper_reader.library.store import OutsideRepository, within

        path = self.folder.joinpath(*template_parts(template))  # relative to the working folder, as self.folder
        try:
            real = within(self.folder, path, what="templates' folder")
        except OutsideRepository as exc:
            raise TemplateError(f"Template '{template}': {exc}") from exc
        if not is_regular(real):
            raise jinja2.TemplateNotFound(template)
        raw = read_small_file(real, what="Template", limit=MAX_TEMPLATE_BYTES, error=TemplateError)
        return decode_utf8(raw, path, what="Template", error=TemplateError), str(path), lambda: True


def _user_environment(path: Path) -> jinja2.Environment:
    """The sandbox for a user's template file: includes come from the packaged templates, then the
    template's own folder, then the root of the notes repository it lies in (if any), nothing else."""
    from paper_reader.library.store import repositories

    folders = [path.parent, *(Path(root) for root in repositories(path)[:1] if Path(root) != path.parent)]
    loaders = [_PackageLoader(), *(_FolderLoader(folder) for folder in folders)]
    return environment().overlay(loader=jinja2.ChoiceLoader(loaders))


def _check_includes(env: jinja2.Environment, source: str, where, seen: set[str] | None = None) -> None:
    """Every template named in `source` (include, import, extends) loads, before any model call: an
    absolute name or '..' is refused, a missing one named. Names built at render time are checked then."""
    from jinja2 import meta

    seen = set() if seen is None else seen
    for name in meta.find_referenced_templates(env.parse(source)):
        if name is None or name in seen:
            continue
        seen.add(name)
        try:
            text, _, _ = env.loader.get_source(env, name)
        except jinja2.TemplateNotFound:
            raise TemplateError(f"Template {where}: includes '{name}', which is neither beside it nor "
                                "a packaged template.") from None
        _check_includes(env, text, name, seen)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """A sandbox: a note template may come from a cloned repository, so it must not reach Python."""
    return ImmutableSandboxedEnvironment(
        loader=_PackageLoader(),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # Markdown and plain prompts, not HTML
    )


def render(name: str, **values) -> str:
    """Render a packaged template by file name."""
    try:
        return environment().get_template(name).render(**values)
    except SecurityError as exc:
        raise TemplateError(f"Template {name}: refused an unsafe operation ({exc}).") from exc
    except jinja2.TemplateError as exc:
        raise TemplateError(f"Template {name}: {exc}.") from exc


MAX_TEMPLATE_BYTES = 1_000_000


def load_file(path: str | Path) -> jinja2.Template:
    """Compile a user's own template file (e.g. --note-template my-notes.md.j2), in the sandbox.

    Called before any model call, so a broken template costs nothing.
    """
    from paper_reader.files import decode_utf8, read_small_file

    p = Path(path)
    raw = read_small_file(p, what="Template", limit=MAX_TEMPLATE_BYTES, error=TemplateError)
    source = decode_utf8(raw, p, what="Template", error=TemplateError)
    env = _user_environment(p)
    try:
        _check_includes(env, source, p)
        return env.from_string(source)
    except jinja2.TemplateError as exc:
        raise TemplateError(f"Template {p}: {exc}.") from exc


def render_file(path: str | Path, **values) -> str:
    """Render a user's own template file in the sandbox."""
    template = load_file(path)
    try:
        return template.render(**values)
    except SecurityError as exc:
        raise TemplateError(f"Template {path}: refused an unsafe operation ({exc}).") from exc
    except jinja2.TemplateError as exc:
        raise TemplateError(f"Template {path}: {exc}.") from exc
