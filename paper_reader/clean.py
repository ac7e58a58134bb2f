"""Clean rebuilt PDF lines: width forms, ligatures, margins, figure debris, hyphens, CJK runs.

All functions are pure: lines in, lines (or text) out.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from functools import lru_cache
from importlib import resources

from .document import Line

_LIGATURES = {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"}
# Full-width ASCII (U+FF01..FF5E) as Chinese journals typeset Latin text and digits
_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_TRANSLATE = str.maketrans({**{ord(k): v for k, v in _LIGATURES.items()}, **_WIDTH, 0x3000: " ", 0xA0: " "})

_ARXIV_STAMP = re.compile(
    r"^arXiv:\s?\d{4}\.\d{4,5}(v\d+)?\s*\[[\w.\- ]+\]\s*\d{1,2}\s+[A-Z][a-z]{2}\s+\d{4}$"
)
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
_WORD = re.compile(r"[A-Za-z]+")
# English words that a ligature insertion would "repair" into something else ("ill" -> "fill")
_KEEP = frozenset("ill ills lied lies ling ore our air ash ask ate ave led lit".split())


def is_cjk(ch: str) -> bool:
    return bool(ch) and bool(_CJK.match(ch))


def normalize(text: str) -> str:
    """Map ligatures and full-width forms to plain characters; squeeze CJK-internal spaces."""
    text = text.translate(_TRANSLATE)
    # pypdf puts stray spaces between CJK characters ("信 息检 索"); they carry no meaning
    text = re.sub(r"(?<=[\u4e00-\u9fff，。、；：]) +(?=[\u4e00-\u9fff，。、；：])", "", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def clean_lines(lines: list[Line], page_count: int) -> list[Line]:
    """The full cleaning pass over a document's lines, in reading order."""
    lines = [replace(ln, text=normalize(ln.text)) for ln in lines]
    lines = [ln for ln in lines if ln.text and not _ARXIV_STAMP.match(ln.text)]
    lines = drop_margins(lines, page_count)
    lines = drop_figure_debris(lines)
    return repair_dropped_ligatures(lines)


def _margin_key(text: str) -> str:
    return re.sub(r"\d+", "#", text.lower()).strip()


def drop_margins(lines: list[Line], page_count: int, depth: int = 3) -> list[Line]:
    """Remove running headers and footers (repeated near the page edge) and bare page numbers."""
    by_page: dict[int, list[int]] = {}
    for i, ln in enumerate(lines):
        by_page.setdefault(ln.page, []).append(i)
    edge: set[int] = set()
    for idxs in by_page.values():
        edge.update(idxs[:depth] + idxs[-depth:])
    counts = Counter(_margin_key(lines[i].text) for i in edge)
    repeated = {k for k, n in counts.items() if page_count >= 3 and n >= max(3, page_count * 0.4)}
    drop = {
        i
        for i in edge
        if _margin_key(lines[i].text) in repeated or re.fullmatch(r"\d{1,4}", lines[i].text)
    }
    return [ln for i, ln in enumerate(lines) if i not in drop]


def _is_debris(ln: Line) -> bool:
    text = ln.text
    if any(is_cjk(c) for c in text):
        return len(text) <= 2
    return len(text.split()) <= 2 and len(text) <= 16


def drop_figure_debris(lines: list[Line], run: int = 4) -> list[Line]:
    """Drop runs of `run` or more one- or two-token lines: axis ticks and labels of figures."""
    out: list[Line] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and lines[j].page == lines[i].page and _is_debris(lines[j]):
            j += 1
        if j - i >= run:
            i = j
            continue
        out.extend(lines[i : max(j, i + 1)])
        i = max(j, i + 1)
    return out


@lru_cache(maxsize=1)
def _ligature_words() -> frozenset[str]:
    text = resources.files("paper_reader").joinpath("ligature_words.txt").read_text("utf-8")
    return frozenset(w.strip() for w in text.split() if w.strip())


def repair_dropped_ligatures(lines: list[Line]) -> list[Line]:
    """Restore ligatures some PDFs drop ("efcient" -> "efficient") where a dictionary can tell.

    A word is repaired only when it is not itself a word of the paper written elsewhere with its
    ligature intact, and exactly one ligature insertion turns it into a known word.
    """
    vocab = set(_ligature_words())
    # halves of words broken at a line end ("classi -" / "fier") are not words: never learn them
    fragments: set[str] = set()
    for before, after in zip(lines, lines[1:]):
        head, tail = re.search(r"([A-Za-z]+) ?-$", before.text), re.match(r"([a-z]+)", after.text)
        if head and tail:
            fragments |= {head.group(1).lower(), tail.group(1).lower()}
    seen = Counter(w.lower() for ln in lines for w in _WORD.findall(ln.text))
    vocab.update(w for w in seen if re.search("f[fil]", w) and w not in fragments)
    fixes: dict[str, str] = {}
    for word in seen:
        if word in vocab or word in _KEEP or word in fragments or len(word) < 3 or re.search("f[fil]", word):
            continue
        hits = {
            word[:i] + lig + word[i:]
            for i in range(len(word) + 1)
            for lig in ("fi", "fl", "ff", "ffi", "ffl")
            if word[:i] + lig + word[i:] in vocab
        }
        if len(hits) == 1:
            fixes[word] = hits.pop()
    if not fixes:
        return lines

    def fix(m: re.Match) -> str:
        w = m.group(0)
        new = fixes.get(w.lower())
        if not new:
            return w
        return new.capitalize() if w[0].isupper() else new

    return [replace(ln, text=_WORD.sub(fix, ln.text)) for ln in lines]


def join_lines(texts: list[str]) -> str:
    """Join visual lines into running text: undo hyphenation, no spaces between CJK characters."""
    out = ""
    for text in texts:
        text = text.strip()
        if not text:
            continue
        if not out:
            out = text
        elif re.search(r"[a-z] ?-$", out) and text[:1].islower():
            out = _join_hyphen(out, text)
        elif is_cjk(out[-1]) or is_cjk(text[0]):
            out += text
        else:
            out += " " + text
    return out


def _join_hyphen(left: str, right: str) -> str:
    left = re.sub(r" -$", "-", left)  # some typesetters put a space before the break hyphen
    head = re.search(r"([\w-]*)-$", left).group(1)
    # "left-to-" + "right": a compound already hyphenated keeps its hyphen
    if "-" in head:
        return left + right
    return left[:-1] + right


def garbage_ratio(text: str) -> float:
    """Share of characters that cannot be prose: control, private-use, replacement characters.

    Also counts Latin "words" with no vowel among words of 4+ letters (what a font without a
    Unicode map turns prose into).
    """
    if not text:
        return 1.0
    bad = sum(1 for c in text if (ord(c) < 32 and c not in "\n\t") or 0xE000 <= ord(c) <= 0xF8FF
              or c == "\ufffd")
    words = [w for w in _WORD.findall(text) if len(w) >= 4]
    vowelless = sum(1 for w in words if not re.search(r"[aeiouyAEIOUY]", w))
    word_ratio = vowelless / len(words) if len(words) >= 50 else 0.0
    return max(bad / len(text), word_ratio)
