"""Reading lists -> entries: plain text, YAML or BibTeX (as Zotero exports it)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from paper_reader import plainyaml
from paper_reader.errors import InputError


@dataclass(frozen=True)
class Entry:
    """One paper of a reading list: where to get it, and how to file it."""

    source: str  # a PDF path, arXiv ID or URL
    topic: str | None = None
    tags: tuple[str, ...] = ()
    lang: str | None = None
    line: int = 0  # where it came from, for error messages
    extra: dict = field(default_factory=dict, compare=False)


MAX_LIST_BYTES = 16 * 2**20
LANGS = ("en", "zh")


def load_list(path: str | Path) -> list[Entry]:
    """Parse a reading list by its extension (.yaml/.yml, .bib, anything else as text)."""
    from paper_reader.files import read_small_file

    p = Path(path)
    raw = read_small_file(p, what="Reading list", limit=MAX_LIST_BYTES, error=InputError)
    text = decode_list(raw, p)
    suffix = p.suffix.lower()
    if suffix in (".yaml", ".yml"):
        entries = parse_yaml(text, str(p), p.parent)
    elif suffix == ".bib":
        entries = parse_bibtex(text, p.parent)
    else:
        entries = parse_text(text, p.parent)
    if not entries:
        raise InputError(f"{p}: the reading list has no entries.")
    from paper_reader.library.store import source_rule

    refusal = source_rule(p)
    return [replace(e, extra={**e.extra, "refused": why}) if (why := refusal(e.source)) else e for e in entries]


def check_entry(entry: Entry) -> None:
    """Refuse, for this entry alone, one that names no paper or one its list may not name
    (store.source_rule)."""
    if entry.extra.get("refused"):
        raise InputError(entry.extra["refused"])
    if entry.extra.get("missing"):
        from paper_reader.sources.http import redact_source

        raise InputError(f"{redact_source(entry.source)}: the entry has no PDF file, arXiv ID or URL.")


def decode_list(raw: bytes, where: Path | str = "list") -> str:
    """UTF-8 (with or without a BOM) or UTF-16 with its BOM (Windows Notepad); NUL bytes refused, so
    they never reach the terminal."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputError(f"{where}: damaged UTF-16 text (byte {exc.start}). Save it as UTF-8.") from exc
    else:
        text = raw.decode("utf-8-sig", errors="replace")
    if "\x00" in text:
        raise InputError(f"{where}: contains NUL bytes, so it is not a text reading list "
                         "(UTF-16 without a byte-order mark?). Save it as UTF-8.")
    return text.lstrip("\ufeff")


def _clean(value, where: str, what: str) -> str | None:
    """A scalar list value as one line of text; control characters (terminal escapes) refused."""
    if value is None or value == "":
        return None
    if isinstance(value, (list, dict, tuple, set)):
        raise InputError(f"{where}: {what} must be text, not a {'list' if not isinstance(value, dict) else 'mapping'}.")
    text = str(value).strip()
    if re.search(r"[\x00-\x08\x0b-\x1f\x7f\x9b]", text):
        raise InputError(f"{where}: {what} contains control characters.")
    return text


def _lang(value, where: str) -> str | None:
    lang = _clean(value, where, "lang")
    if lang is not None and lang not in LANGS:
        raise InputError(f"{where}: lang '{lang}' is not supported: use en or zh.")
    return lang


def _tags(value, where: str) -> tuple[str, ...]:
    """'a, b', [a, b] or a single number; nested lists and mappings refused."""
    if value is None or value == "":
        return ()
    items = value if isinstance(value, list) else str(value).split(",") if not isinstance(value, dict) else None
    if items is None or any(isinstance(t, (list, dict)) for t in items):
        raise InputError(f"{where}: tags must be a list of words or 'a, b', not {type(value).__name__} "
                         "with lists or mappings inside.")
    return tuple(t for t in (_clean(item, where, "a tag") for item in items) if t)


def _strip_comment(line: str) -> str:
    """The line without its '#' comment: a '#' at the start or after a space, outside quotes."""
    quote = None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
        elif c in "\"'" and (i == 0 or line[i - 1].isspace()):
            quote = c
        elif c == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def _local(source: str, base: Path) -> str:
    """Relative paths in a list are relative to the list's folder."""
    if re.match(r"^[a-z]+://", source) or Path(source).is_absolute() or not source.lower().endswith(".pdf"):
        return source
    return str(base / source)


def parse_text(text: str, base: Path = Path(".")) -> list[Entry]:
    """One entry per line; '#' starts a comment; 'topic: X' and 'tags: a, b' may follow the entry."""
    entries = []
    for n, raw in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw).strip()
        if not line:
            continue
        where = f"line {n}"
        m = re.match(r"(?P<src>\"[^\"]+\"|'[^']+'|\S+)(?P<rest>.*)$", line)
        source = _clean(m.group("src")[1:-1] if m.group("src")[0] in "\"'" and len(m.group("src")) > 1
                        else m.group("src"), where, "the entry")
        rest = m.group("rest")
        topic = re.search(r"\btopic:\s*([^,;]+?)(?=\s+\w+:|$)", rest)
        tags = re.search(r"\btags?:\s*(.+?)(?=\s+\w+:|$)", rest)
        lang = re.search(r"\blang:\s*(\w+)", rest)
        entries.append(Entry(
            _local(source, base), topic.group(1).strip() if topic else None,
            tuple(t.strip() for t in re.split(r"[,;]", tags.group(1)) if t.strip()) if tags else (),
            _lang(lang.group(1), where) if lang else None, n))
    return entries


def parse_yaml(text: str, where: str = "list", base: Path | None = None) -> list[Entry]:
    """A YAML list of sources, or of mappings with source (or paper/arxiv/url/file), topic, tags, lang."""
    try:
        data = plainyaml.load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{where}: not valid YAML ({' '.join(str(exc).split())[:150]}).") from exc
    if isinstance(data, dict):
        data = data.get("papers") or data.get("entries")
    if not isinstance(data, list):
        raise InputError(f"{where}: expected a list of papers.")
    entries = []
    for i, item in enumerate(data, start=1):
        at = f"{where}: entry {i}"
        if isinstance(item, (str, int, float)) and not isinstance(item, bool):
            source = _clean(item, at, "the source")
            if source:
                entries.append(Entry(_local(source, base) if base else source, line=i))
            continue
        if not isinstance(item, dict):
            raise InputError(f"{at} must be a string or a mapping.")
        key = next((k for k in ("source", "paper", "arxiv", "url", "file", "pdf") if item.get(k)), None)
        source = _clean(item[key], at, f"'{key}'") if key else None
        if not source:
            raise InputError(f"{at} has no 'source' (a PDF path, arXiv ID or URL).")
        entries.append(Entry(_local(source, base) if base else source, _clean(item.get("topic"), at, "topic"),
                             _tags(item.get("tags"), at), _lang(item.get("lang"), at), i))
    return entries


_BIB_ENTRY = re.compile(r"@(\w+)\s*\{\s*([^,\s]+)\s*,", re.I)


def parse_bibtex(text: str, base: Path = Path(".")) -> list[Entry]:
    """Entries with an arXiv eprint, a url, or a file field (Zotero's 'Title:files/1/x.pdf:application/pdf')."""
    entries = []
    line, counted = 1, 0  # line numbers counted on from the last entry: linear in the list's length
    for m in _BIB_ENTRY.finditer(text):
        if m.group(1).lower() in ("comment", "string", "preamble"):
            continue
        fields = _bib_fields(text, m.end())
        line, counted = line + text.count("\n", counted, m.start()), m.start()
        source = _bib_source(fields, base)
        if source:
            tags = tuple(t.strip() for t in re.split(r"[,;]", fields.get("keywords", "")) if t.strip())
            entries.append(Entry(source, None, tags, None, line, {"key": m.group(2)}))
        else:
            entries.append(Entry(f"bibtex:{m.group(2)}", line=line, extra={"missing": True}))
    return entries


def _bib_source(fields: dict[str, str], base: Path) -> str | None:
    eprint = fields.get("eprint") or fields.get("arxiv") or fields.get("arxivid")
    if eprint and (fields.get("archiveprefix", "arxiv").lower() == "arxiv"):
        return eprint.strip()
    if fields.get("file"):
        for part in re.split(r";(?=[^;]*:)", fields["file"]):
            pdf = next((p for p in part.split(":") if p.lower().endswith(".pdf")), None)
            if pdf:
                return _local(pdf.replace("\\:", ":"), base)
    url = fields.get("url", "")
    arxiv = re.search(r"arxiv\.org/(?:abs|pdf)/([^\s{}]+?)(?:\.pdf)?$", url)
    if arxiv:
        return arxiv.group(1)
    return url or None


_BIB_FIELD = re.compile(r"\s*(\w[\w\-]*)\s*=\s*")


def _bib_fields(text: str, pos: int) -> dict[str, str]:
    """The fields of one entry starting at `pos`, braces and quotes balanced."""
    fields: dict[str, str] = {}
    while pos < len(text):
        m = _BIB_FIELD.match(text, pos)
        if not m:
            if text[pos] in "}@":  # its end, or the next entry of a list whose entry was never closed
                break
            pos += 1
            continue
        name, pos = m.group(1).lower(), m.end()
        value, pos = _bib_value(text, pos)
        fields[name] = re.sub(r"\s+", " ", value).strip()
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
    return fields


def _bib_value(text: str, pos: int) -> tuple[str, int]:
    if pos < len(text) and text[pos] in "{\"":
        close = "}" if text[pos] == "{" else "\""
        depth, start, pos = 1, pos + 1, pos + 1
        while pos < len(text) and depth:
            if text[pos] == "{" and close == "}":
                depth += 1
            elif text[pos] == close:
                depth -= 1
            pos += 1
        return text[start:pos - 1].replace("{", "").replace("}", ""), pos
    m = re.compile(r"[^,}\s]+").match(text, pos)
    return (m.group(0), m.end()) if m else ("", pos)
