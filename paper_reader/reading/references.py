"""Split a bibliography into entries and pull out their arXiv IDs and DOIs."""

from __future__ import annotations

import re

from paper_reader.reading.clean import join_lines
from paper_reader.types import Line, Reference

_BRACKET = re.compile(r"^\[(\d{1,3}|[A-Za-z][^\[\]]{0,40})\]\s*")
_NUMBER = re.compile(r"^(\d{1,3})\.\s+(?=\S)")
_AUTHOR_START = re.compile(
    r"^(?:[A-Z][A-Za-z'’`\-\u00C0-\u017F]+(?:\s(?:[A-Z][a-z]+|van|von|de|der|la|du|di))*,?\s+"
    r"(?:[A-Z]\.|[A-Z][a-z]+|and|et al)|[\u4e00-\u9fff]{2,4}[,，])"
)
ARXIV = re.compile(
    r"(?:arxiv[:\s./]*(?:abs/|pdf/)?\s*|arxiv\.org/(?:abs|pdf)/)"
    r"(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?",
    re.I,
)
DOI = re.compile(r"\b(10\.\d{4,9}/[^\s,;\"<>]+)")


def split_references(lines: list[str] | list[Line]) -> list[Reference]:
    """Entries of a reference list given as its visual lines, in order.

    Numbered and bracketed lists split at their labels. Author-year lists split where the layout
    says an entry starts, a line at the column's left edge with the next lines indented (a hanging
    indent), when the lines carry positions; by the shape of an entry's start otherwise.
    """
    boxed = [ln for ln in lines if isinstance(ln, Line) and ln.text.strip()]
    texts = [(ln.text if isinstance(ln, Line) else ln).strip() for ln in lines]
    texts = [t for t in texts if t]
    if not texts:
        return []
    if sum(bool(_BRACKET.match(ln)) for ln in texts) >= 3:
        groups = _group(texts, lambda ln, cur: bool(_BRACKET.match(ln)))
    elif _numbered_list(texts):
        groups = _group(texts, _next_number_starter())
    else:
        starts = _hanging_starts(boxed) if len(boxed) == len(texts) else None
        if starts is not None:
            groups = _group_at(texts, starts)
        else:
            groups = _group(texts, _author_year_start)
    return [_entry(g) for g in groups if len("".join(g)) > 15]


def _hanging_starts(lines: list[Line]) -> list[bool] | None:
    """Which lines start an entry, from a hanging indent; None when the list has none."""
    if len(lines) < 4 or not any(ln.x0 for ln in lines):
        return None
    margins: dict[tuple[int, int], float] = {}
    keys = []
    spans: dict[int, tuple[float, float]] = {}
    for ln in lines:
        low, high = spans.get(ln.page, (ln.x0, ln.x0))
        spans[ln.page] = (min(low, ln.x0), max(high, ln.x0))
    for ln in lines:
        key = (ln.page, _column(ln, spans[ln.page]))
        keys.append(key)
        margins[key] = min(margins.get(key, ln.x0), ln.x0)
    starts = [ln.x0 <= margins[k] + 2.0 for ln, k in zip(lines, keys)]
    indented = len(starts) - sum(starts)
    if indented < 0.2 * len(starts):  # every line at the margin: no hanging indent to read
        return None
    return starts


def _column(line: Line, span: tuple[float, float]) -> int:
    """0 for the left column, 1 for the right one (two-column pages have a wide x gap)."""
    low, high = span
    return 0 if high - low < 150 else int(line.x0 > (low + high) / 2)


def _group_at(texts: list[str], starts: list[bool]) -> list[list[str]]:
    groups: list[list[str]] = []
    for text, start in zip(texts, starts):
        if start or not groups:
            groups.append([text])
        else:
            groups[-1].append(text)
    return groups


def _group(lines: list[str], starts) -> list[list[str]]:
    groups: list[list[str]] = []
    for ln in lines:
        if not groups or starts(ln, groups[-1]):
            groups.append([ln])
        else:
            groups[-1].append(ln)
    return groups


def _numbered_list(lines: list[str]) -> bool:
    nums = [int(m.group(1)) for ln in lines if (m := _NUMBER.match(ln))]
    return len(nums) >= 3 and nums[:3] == list(range(nums[0], nums[0] + 3))


def _next_number_starter():
    expected = {"n": None}

    def starts(line: str, current: list[str]) -> bool:
        m = _NUMBER.match(line)
        if not m:
            return False
        n = int(m.group(1))
        if expected["n"] is None or n == expected["n"]:
            expected["n"] = n + 1
            return True
        return False

    return starts


def _author_year_start(line: str, current: list[str]) -> bool:
    if not _AUTHOR_START.match(line):
        return False
    prev = current[-1].rstrip()
    # an entry ends with a period, a year, a page range or a URL; a wrapped author list does not
    return bool(re.search(r"(\.|\d|\)|/)$", prev)) and len(" ".join(current)) > 40


def _entry(group: list[str]) -> Reference:
    text = join_lines(group)
    key = None
    m = _BRACKET.match(text) or _NUMBER.match(text)
    if m:
        key = m.group(1)
        text = text[m.end():]
    arxiv = ARXIV.search(text)
    doi = DOI.search(text)
    return Reference(
        text=text.strip(),
        key=key,
        arxiv=arxiv.group(1) if arxiv else None,
        doi=doi.group(1).rstrip(".") if doi else None,
    )
