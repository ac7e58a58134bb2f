"""Reading lists -> entries: plain text, YAML or BibTeX (as Zotero exports it)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import InputError


@dataclass(frozen=True)
class Entry:
    """One paper of a reading list: where to get it, and how to file it."""

    source: str  # a PDF path, arXiv ID or URL
    topic: str | None = None
    tags: tuple[str, ...] = ()
    lang: str | None = None
    line: int = 0  # where it came from, for error messages
    extra: dict = field(default_factory=dict, compare=False)


def load_list(path: str | Path) -> list[Entry]:
    """Parse a reading list by its extension (.yaml/.yml, .bib, anything else as text)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such reading list.")
    text = p.read_text("utf-8", errors="replace")
    suffix = p.suffix.lower()
    if suffix in (".yaml", ".yml"):
        entries = parse_yaml(text, str(p))
    elif suffix == ".bib":
        entries = parse_bibtex(text, p.parent)
    else:
        entries = parse_text(text, p.parent)
    if not entries:
        raise InputError(f"{p}: the reading list has no entries.")
    return entries


def _local(source: str, base: Path) -> str:
    """Relative paths in a list are relative to the list's folder."""
    if re.match(r"^[a-z]+://", source) or Path(source).is_absolute() or not source.lower().endswith(".pdf"):
        return source
    return str(base / source)


def parse_text(text: str, base: Path = Path(".")) -> list[Entry]:
    """One entry per line; '#' starts a comment; 'topic: X' and 'tags: a, b' may follow the entry."""
    entries = []
    for n, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        m = re.match(r"(?P<src>\"[^\"]+\"|\S+)(?P<rest>.*)$", line)
        source = m.group("src").strip('"')
        rest = m.group("rest")
        topic = re.search(r"\btopic:\s*([^,;]+?)(?=\s+\w+:|$)", rest)
        tags = re.search(r"\btags?:\s*(.+?)(?=\s+\w+:|$)", rest)
        lang = re.search(r"\blang:\s*(\w+)", rest)
        entries.append(Entry(
            _local(source, base), topic.group(1).strip() if topic else None,
            tuple(t.strip() for t in re.split(r"[,;]", tags.group(1)) if t.strip()) if tags else (),
            lang.group(1) if lang else None, n))
    return entries


def parse_yaml(text: str, where: str = "list") -> list[Entry]:
    """A YAML list of sources, or of mappings with source (or paper/arxiv/url/file), topic, tags, lang."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{where}: not valid YAML ({' '.join(str(exc).split())[:150]}).") from exc
    if isinstance(data, dict):
        data = data.get("papers") or data.get("entries")
    if not isinstance(data, list):
        raise InputError(f"{where}: expected a list of papers.")
    entries = []
    for i, item in enumerate(data, start=1):
        if isinstance(item, (str, int, float)):
            entries.append(Entry(str(item), line=i))
            continue
        if not isinstance(item, dict):
            raise InputError(f"{where}: entry {i} must be a string or a mapping.")
        source = next((str(item[k]) for k in ("source", "paper", "arxiv", "url", "file", "pdf") if item.get(k)), None)
        if not source:
            raise InputError(f"{where}: entry {i} has no 'source' (a PDF path, arXiv ID or URL).")
        tags = item.get("tags") or ()
        tags = tuple(t.strip() for t in (tags.split(",") if isinstance(tags, str) else tags))
        entries.append(Entry(source, item.get("topic"), tags, item.get("lang"), i))
    return entries


_BIB_ENTRY = re.compile(r"@(\w+)\s*\{\s*([^,\s]+)\s*,", re.I)


def parse_bibtex(text: str, base: Path = Path(".")) -> list[Entry]:
    """Entries with an arXiv eprint, a url, or a file field (Zotero's 'Title:files/1/x.pdf:application/pdf')."""
    entries = []
    for m in _BIB_ENTRY.finditer(text):
        if m.group(1).lower() in ("comment", "string", "preamble"):
            continue
        fields = _bib_fields(text, m.end())
        line = text.count("\n", 0, m.start()) + 1
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


def _bib_fields(text: str, pos: int) -> dict[str, str]:
    """The fields of one entry starting at `pos`, braces and quotes balanced."""
    fields: dict[str, str] = {}
    depth = 1
    while pos < len(text) and depth > 0:
        m = re.compile(r"\s*(\w[\w\-]*)\s*=\s*").match(text, pos)
        if not m:
            if text[pos] == "}":
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
