"""Prompt and note templates (jinja2, StrictUndefined): a typo in a template fails loudly."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

from .errors import TemplateError
from .template import templates_dir


class _PackageLoader(jinja2.BaseLoader):
    """Loads from the packaged templates (works from a wheel, a checkout or an editable install)."""

    def get_source(self, environment, template):
        node = templates_dir().joinpath(template)
        if not node.is_file():
            raise jinja2.TemplateNotFound(template)
        return node.read_text("utf-8"), None, lambda: True


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=_PackageLoader(),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # Markdown and plain prompts, not HTML
    )


def render(name: str, **values) -> str:
    """Render a packaged template by file name."""
    try:
        return environment().get_template(name).render(**values)
    except jinja2.TemplateError as exc:
        raise TemplateError(f"Template {name}: {exc}.") from exc


def render_file(path: str | Path, **values) -> str:
    """Render a user's own template file (e.g. --note-template my-notes.md.j2)."""
    p = Path(path)
    try:
        source = p.read_text("utf-8")
    except OSError as exc:
        raise TemplateError(f"Template {p}: cannot read it ({exc.strerror}).") from exc
    try:
        return environment().from_string(source).render(**values)
    except jinja2.TemplateError as exc:
        raise TemplateError(f"Template {p}: {exc}.") from exc
