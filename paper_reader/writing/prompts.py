"""Prompt and note templates (jinja2, StrictUndefined): a typo in a template fails loudly."""

from __future__ import annotations

import re
import sys
import time
from functools import lru_cache, wraps
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


# What one render of a user's template may take (a note is tens of kB; the template may come from a
# cloned repository). The sandbox stops Python; these stop a template that would run forever or
# fill the memory: a repeated string, a huge power, a huge width or count given to a filter, loops
# in loops, a namespace value doubled in a loop.
MAX_OUTPUT_CHARS = 16_000_000
MAX_NUMBER_ARG = 1_000_000  # a width, a count, a length given to a filter or a format
RENDER_SECONDS = 10.0
RENDER_MEMORY = 1 << 30  # bytes of memory a render may add to the process's peak
MAX_INT_BITS = 4096  # about 1,200 digits: no note computes with more


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The sandbox for users' templates, with the bounds above on what a template may compute."""

    intercepted_binops = frozenset({"*", "**", "%", "/", "//"})

    def __init__(self, **options):
        super().__init__(**options)
        self.globals.pop("lipsum", None)  # lorem ipsum of any length: no note needs it
        self.filters = {name: _small_arguments(name, f) for name, f in self.filters.items()}

    def call_binop(self, context, operator, left, right):
        # one C call on huge integers (a division of million-digit numbers) runs for minutes
        if any(isinstance(v, int) and v.bit_length() > MAX_INT_BITS for v in (left, right)):
            raise SecurityError(f"arithmetic on a number of more than {MAX_INT_BITS:,} bits")
        if (operator == "**" and isinstance(right, int) and isinstance(left, int) and abs(left) > 1
                and left.bit_length() * right > MAX_INT_BITS):
            raise SecurityError(f"a {left.bit_length():,}-bit number to the power {right:,} is too large")
        if operator == "*":
            count, seq = (right, left) if isinstance(right, int) else (left, right)
            if isinstance(count, int) and isinstance(seq, (str, list, tuple)) and count * _size(seq) > MAX_OUTPUT_CHARS:
                raise SecurityError(f"repeating a value of size {_size(seq):,} {count:,} times is more than a note holds")
        if operator == "%" and isinstance(left, str):
            _small_format(left)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (jinja's own signature)
        # a string's own methods take widths and counts too: "x".ljust(10**10), .zfill, .center, ...
        if isinstance(getattr(__obj, "__self__", None), str):
            _small_numbers((*args, *kwargs.values()), f"the string method '{__obj.__name__}'")
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value):  # "...".format(...) and .format_map(...)
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _small_format(value.__self__)
        return wrapped


def _size(seq) -> int:
    """Characters (or items) a string or list holds, counting the strings in a list by their length."""
    if isinstance(seq, str):
        return len(seq)
    return sum(len(x) if isinstance(x, (str, list, tuple)) else 1 for x in seq)


def _small_format(spec) -> None:
    """Refuse a format string ("%...d", "{:...}") with a width of a million or more, or one taken
    from an argument ("%*d", "{:{w}}"), which could be any number."""
    spec = str(spec)
    if re.search(r"(?:%[-+ #0]*|\{[^{}]*)\d{7,}", spec) or re.search(r"%[-+ #0]*\.?\*|\{[^{}]*\{", spec):
        raise SecurityError("a format width of a million or more characters, or one taken from an argument")


def _small_numbers(values, what: str) -> None:
    """Refuse a number of a million or more among the arguments (a width, count or length)."""
    for value in values:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) >= MAX_NUMBER_ARG:
            raise SecurityError(f"{what} was given {value:g}, too large a number")


def _small_arguments(name: str, f):
    """The filter, refusing a number argument of a million or more (a width, count or length)."""
    skip = 2 if getattr(f, "jinja_pass_arg", None) else 1  # the context or environment, then the value

    @wraps(f)
    def bounded(*args, **kwargs):
        _small_numbers((*args[skip:], *kwargs.values()), f"the filter '{name}'")
        if name == "format" and len(args) >= skip:
            _small_format(args[skip - 1])
        return f(*args, **kwargs)

    return bounded


def render_bounded(template: jinja2.Template, values: dict) -> str:
    """Render within MAX_OUTPUT_CHARS, RENDER_SECONDS and RENDER_MEMORY: a template's own code is
    traced (jinja compiles it to Python), so a loop is stopped on its next step past a bound."""
    import resource

    deadline = time.monotonic() + RENDER_SECONDS
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux

    def step(frame, event, arg):
        if time.monotonic() > deadline:
            raise SecurityError(f"rendering took more than {RENDER_SECONDS:g} seconds")
        if resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - peak > RENDER_MEMORY:
            raise SecurityError(f"rendering took more than {RENDER_MEMORY >> 20} MB of memory")
        return step

    def call(frame, event, arg):  # every call checks the bounds; the template's own frames, every line
        step(frame, event, arg)
        return step if isinstance(frame.f_globals.get("environment"), BoundedSandbox) else None

    out, size = [], 0
    before = sys.gettrace()
    sys.settrace(call)
    try:
        for piece in template.generate(**values):
            size += len(piece)
            if size > MAX_OUTPUT_CHARS:
                raise SecurityError(f"the note would be longer than {MAX_OUTPUT_CHARS:,} characters")
            out.append(piece)
    finally:
        sys.settrace(before)
    return "".join(out)


def _user_environment(path: Path) -> jinja2.Environment:
    """The sandbox for a user's template file: includes come from the packaged templates, then the
    template's own folder, then the root of the notes repository it lies in (if any), nothing else."""
    from paper_reader.library.store import repositories

    folders = [path.parent, *(Path(root) for root in repositories(path)[:1] if Path(root) != path.parent)]
    loaders = [_PackageLoader(), *(_FolderLoader(folder) for folder in folders)]
    return _bounded_environment().overlay(loader=jinja2.ChoiceLoader(loaders))


@lru_cache(maxsize=1)
def _bounded_environment() -> jinja2.Environment:
    return BoundedSandbox(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)


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
        return render_bounded(template, values)
    except RecursionError:
        raise TemplateError(f"Template {path}: a macro or include calls itself without end.") from None
    except MemoryError:
        raise TemplateError(f"Template {path}: rendering ran out of memory.") from None
    except (ArithmeticError, ValueError, TypeError, LookupError) as exc:  # {{ 1/0 }}, [1, "a"]|sort
        raise TemplateError(f"Template {path}: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}.") from None
    except SecurityError as exc:
        raise TemplateError(f"Template {path}: refused an unsafe operation ({exc}).") from exc
    except jinja2.TemplateError as exc:
        raise TemplateError(f"Template {path}: {exc}.") from exc
