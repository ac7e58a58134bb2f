"""Prompt and note templates (jinja2, StrictUndefined): a typo in a template fails loudly."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from paper_reader.errors import TemplateError
from paper_reader.writing.questions import templates_dir


class _PackageLoader(jinja2.BaseLoader):
    """Loads from the packaged templates (works from a wheel, a checkout or an editable install)."""

    def get_source(self, environment, template):
        node = templates_dir().joinpath(template)
        if not node.is_file():
            raise jinja2.TemplateNotFound(template)
        return node.read_text("utf-8"), None, lambda: True


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
    try:
        return environment().from_string(source)
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
