"""Clean rebuilt PDF lines: width forms, ligatures, margins, figure debris, hyphens, CJK runs.

All functions are pure: lines in, lines (or text) out.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import replace
from functools import lru_cache

from paper_reader.reading.lexicon import (LIGATURES, SOFT_HYPHEN, join_soft_hyphens, keeps_hyphen, known,
                                          ligature_words)
from paper_reader.types import Line

_LIGATURES = {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"}
# Full-width ASCII (U+FF01..FF5E) as Chinese journals typeset Latin text and digits
_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
# U+2010/U+2011 are the typographer's hyphens: one hyphen for the line-break joiner to reason about
_TRANSLATE = str.maketrans({**{ord(k): v for k, v in _LIGATURES.items()}, **_WIDTH, 0x3000: " ", 0xA0: " ",
                            0x2010: "-", 0x2011: "-"})

_ARXIV_STAMP = re.compile(
    r"^arXiv:\s?\d{4}\.\d{4,5}(v\d+)?\s*\[[\w.\- ]+\]\s*\d{1,2}\s+[A-Z][a-z]{2}\s+\d{4}$"
)
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
_WORD = re.compile(r"[A-Za-z]+")
# English words that a ligature insertion would "repair" into something else ("ill" -> "fill")
_KEEP = frozenset("ill ills lied lies ling ore our air ash ask ate ave led lit".split())


def is_cjk(ch: str) -> bool:
    return bool(ch) and bool(_CJK.match(ch))


# PDFium marks a line-break hyphen with U+0002 in some fonts, and a producer may set U+00AD (the
# soft hyphen) there: both mean "this word continues on the next line", at a line's end or (where
# PDFium joined the lines) between the halves
_STX_HYPHEN = re.compile(r"(?<=[^\W\d_])[\x02\xad]\s*(?=[^\W\d_]|$)")
_UNREADABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xad\ufffd]")
# the maths alphanumerics, and the letter-like symbols that fill their holes (italic h is U+210E)
_MATH_LETTER = re.compile(r"[\U0001d400-\U0001d7ff\u210a-\u210c\u210e\u2110\u2112\u2113\u211b\u212c\u212f-\u2131"
                          r"\u2133\u2134]")
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff]")


def _with_text(line: Line, text: str) -> Line:
    """The line with new text; the same object when nothing changed (most lines: no copy)."""
    return line if text == line.text else replace(line, text=text)


_PLAIN = re.compile(r"[\x20-\x7e]*")


def normalize(text: str) -> str:
    """Map ligatures and full-width forms to plain characters; squeeze CJK-internal spaces.

    Control characters (math fonts without a Unicode map decode to them) and U+FFFD carry nothing
    a reader or a model can use: they go (garbage_ratio counts them first).
    """
    if _PLAIN.fullmatch(text):  # printable ASCII, most lines: only spaces to squeeze
        return _SPACES.sub(" ", text).strip() if "  " in text else text.strip()
    # PDFium marks some line-break hyphens with U+0002 instead of U+FFFE ("per\x02forming")
    # a space, not nothing: dropping a glyph inside a word would fuse its halves into a new word
    text = _INVISIBLE.sub("", text)
    text = _UNREADABLE.sub(" ", _STX_HYPHEN.sub(SOFT_HYPHEN, text.translate(_TRANSLATE)))
    # maths italic/bold letters (U+1D44A 𝑊) read as the letters they are: W
    text = _MATH_LETTER.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    # pypdf puts stray spaces between CJK characters ("信 息检 索"); they carry no meaning
    text = re.sub(r"(?<=[\u4e00-\u9fff，。、；：]) +(?=[\u4e00-\u9fff，。、；：])", "", text)
    return _SPACES.sub(" ", text).strip()


_SPACES = re.compile(r"[ \t]{2,}")


def clean_lines(lines: list[Line], page_count: int) -> list[Line]:
    """The full cleaning pass over a document's lines, in reading order."""
    lines = [_with_text(ln, normalize(ln.text)) for ln in lines]
    lines = [ln for ln in lines if ln.text and not _ARXIV_STAMP.match(ln.text)]
    lines = drop_margins(lines, page_count)
    lines = drop_figure_debris(lines)
    lines = join_soft_hyphen_lines(lines)
    lines = map_private_use(lines)
    return repair_dropped_ligatures(lines)


def body_size(lines: list[Line]) -> float:
    """The font size most characters are set in."""
    counts: Counter[float] = Counter()
    for ln in lines:
        counts[ln.size] += len(ln.text)
    return counts.most_common(1)[0][0] if counts else 0.0


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


def _is_debris(ln: Line, body: float = 0.0) -> bool:
    text = ln.text
    if len(text) > 16:
        return False
    # a heading ("1 Introduction", "Abstract") is set larger or bold; an author grid sits at the top of page 1
    if body and ln.size > body + 0.4 or ln.bold and text[:1].isalnum() or "@" in text:
        return False
    if ln.page == 1 and ln.page_height and ln.top < 0.45 * ln.page_height:
        return False
    if _CJK.search(text):
        return len(text) <= 2
    return len(text.split()) <= 2 and len(text) <= 16


def drop_figure_debris(lines: list[Line], run: int = 4) -> list[Line]:
    """Drop runs of `run` or more one- or two-token lines: axis ticks and labels of figures."""
    out: list[Line] = []
    body = body_size(lines)
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and lines[j].page == lines[i].page and _is_debris(lines[j], body):
            j += 1
        if j - i >= run:
            i = j
            continue
        out.extend(lines[i : max(j, i + 1)])
        i = max(j, i + 1)
    return out


def repair_dropped_ligatures(lines: list[Line]) -> list[Line]:
    """Restore ligatures a PDF dropped ("efcient" -> "efficient"), only where the document shows it.

    Evidence first: at least three distinct non-words that one ligature insertion turns into a
    common ligature word. Then never a dictionary word ("full", "chain", "age"), never an all-caps
    acronym ("NER"), and a capitalised word only if the paper also writes it in lower case (so
    names such as "Nal" or "Cong" stay as printed).
    """
    words = _WORD.findall("\n".join(ln.text for ln in lines))
    vocabulary = set(words)
    fixes = _ligature_fixes({w.lower() for w in vocabulary if not w.isupper() or len(w) == 1})
    if len(fixes) < 3 or sum(1 for w in words if w.lower() in fixes) < 5:
        return lines
    lower = {w for w in vocabulary if w.islower()}

    def fix(m: re.Match) -> str:
        w = m.group(0)
        new = fixes.get(w.lower())
        if not new or w.isupper() or (w[0].isupper() and w.lower() not in lower):
            return w
        return new.capitalize() if w[0].isupper() else new

    return [_with_text(ln, _WORD.sub(fix, ln.text)) for ln in lines]


def _ligature_fixes(words: set[str]) -> dict[str, str]:
    """Non-words that exactly one ligature insertion turns into a known ligature word."""
    dropped = _dropped_forms()
    fixes = {w: next(iter(dropped[w])) for w in words
             if w in dropped and len(dropped[w]) == 1 and w not in _KEEP and len(w) >= 3}
    if len(fixes) < 3:
        return {}
    return {w: f for w, f in fixes.items() if not known(w)}  # the dictionary only when needed


@lru_cache(maxsize=1)
def _dropped_forms() -> dict[str, frozenset[str]]:
    """Each ligature word with one ligature left out ("efcient" -> {"efficient"})."""
    forms: dict[str, set[str]] = {}
    for word in ligature_words():
        for lig in LIGATURES:
            start = word.find(lig)
            while start >= 0:
                forms.setdefault(word[:start] + word[start + len(lig):], set()).add(word)
                start = word.find(lig, start + 1)
    return {k: frozenset(v) for k, v in forms.items() if not re.search("f[fil]", k)}


_PUA = re.compile(r"[-]")


def map_private_use(lines: list[Line]) -> list[Line]:
    """Private-use glyphs (U+E000...) that stand for fi/fl in some fonts: learn which from the
    words they complete; any other private-use character is dropped (the model cannot read it)."""
    found = Counter(c for ln in lines for c in _PUA.findall(ln.text))
    if not found:
        return lines
    mapping: dict[str, str] = {}
    for glyph in found:
        words = [w for ln in lines if glyph in ln.text for w in re.findall(rf"[A-Za-z]*{glyph}[A-Za-z]*", ln.text)]
        score = Counter(lig for w in words if len(w) > 2 for lig in LIGATURES if known(w.replace(glyph, lig)))
        best = score.most_common(2)
        mapping[glyph] = best[0][0] if best and (len(best) == 1 or best[0][1] > best[1][1]) else ""
    table = str.maketrans(mapping)
    return [_with_text(ln, ln.text.translate(table)) for ln in lines]


_HYPHENATED_WORD = re.compile(r"\w[\w-]*\w")  # U+FFFE is not \w: the broken halves never join the vocabulary


def join_soft_hyphen_lines(lines: list[Line]) -> list[Line]:
    """Resolve PDFium's line-break hyphen marks with the document's own spelling as first guide."""
    if not any(SOFT_HYPHEN in ln.text for ln in lines):
        return lines
    seen = frozenset(_HYPHENATED_WORD.findall("\n".join(ln.text for ln in lines).lower()))
    return [replace(ln, text=join_soft_hyphens(ln.text, seen)) if SOFT_HYPHEN in ln.text else ln for ln in lines]


def join_lines(texts: list[str]) -> str:
    """Join visual lines into running text: undo hyphenation, no spaces between CJK characters."""
    parts: list[str] = []  # joined once at the end: appending to a growing string is quadratic
    for text in texts:
        text = text.strip()
        if not text:
            continue
        if not parts:
            parts.append(text)
            continue
        last = parts[-1]
        if last.endswith("-") and _HYPHEN_END.search(last[-3:]) and text[:1].islower():
            parts[-1] = _join_hyphen(last, text)
        elif is_cjk(last[-1]) or is_cjk(text[0]):
            parts.append(text)
        else:
            parts.append(" " + text)
    return "".join(parts)


_HYPHEN_END = re.compile(r"[a-z] ?-$")


def _join_hyphen(left: str, right: str) -> str:
    left = re.sub(r" -$", "-", left)  # some typesetters put a space before the break hyphen
    head = re.search(r"([\w-]*)-$", left).group(1)
    tail = re.match(r"[\w-]*", right).group(0)
    # "left-to-" + "right": a compound already hyphenated keeps its hyphen; so does "task-" "specific"
    if "-" in head or (head and tail and keeps_hyphen(head, tail)):
        return left + right
    return left[:-1] + right


# Letters of the scripts the tool reads papers in: Latin with diacritics, Greek, Cyrillic, CJK
# (Han, kana, Hangul), maths alphanumerics, letter-like symbols, punctuation. A font without a
# Unicode map decodes to glyph indices that land in scripts no paper here is written in (the
# Armenian, Thai, Georgian, Thaana, Tibetan soup), to C0/C1 controls or to private-use points.
_READABLE = re.compile(r"[\x20-\x7e\s\u00a0-\u024f\u0250-\u02ff\u0300-\u036f\u0370-\u03ff\u0400-\u04ff"
                       r"\u1100-\u11ff\u1e00-\u1fff\u2000-\u2bff\u2e80-\u2fdf\u3000-\u30ff\u3130-\u318f"
                       r"\u31f0-\u31ff\u3200-\u33ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
                       r"\ufb00-\ufb06\ufe30-\ufe4f\uff00-\uffef\ufffe\U0001d400-\U0001d7ff\U00020000-\U0002fa1f]")


_VOWEL = re.compile(r"[aeiouyAEIOUY]")
_LONG_WORD = re.compile(r"[A-Za-z]{4,}")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def garbage_ratio(text: str) -> float:
    """Share of characters that cannot be prose: control, private-use and replacement characters,
    and letters of scripts neither English nor Chinese papers are written in.

    Also counts Latin "words" with no vowel among words of 4+ letters (what a font without a
    Unicode map turns prose into).
    """
    chars = "".join(text.split())
    if not chars:
        return 1.0
    # control characters, and among the non-ASCII ones private-use, U+FFFD and foreign letters
    bad = len(_ASCII_CONTROL.findall(chars))
    if not chars.isascii():
        bad += sum(1 for c in _NON_ASCII.findall(chars) if not _READABLE.match(c) and not "\x7f" <= c <= "\x9f")
    words = _LONG_WORD.findall(text)
    vowelless = sum(1 for w in words if not _VOWEL.search(w))
    word_ratio = vowelless / len(words) if len(words) >= 50 else 0.0
    return max(min(bad / len(chars), 1.0), word_ratio, _symbol_soup(text))


# A word as prose and tables print it: letters (with inner hyphens or apostrophes) or a number,
# wrapped in brackets or quotes, followed by punctuation
_WORDLIKE = re.compile(r"[(\[\"'“‘]*[^\W\d_]+(?:[-'’.][^\W\d_]+)*[)\]\"'”’.,;:!?]*|[(\[]?[\d.,%]+[)\]]?[.,;:]?")


_ASCII_LETTER = re.compile(r"[A-Za-z]")


def _symbol_soup(text: str) -> float:
    """A simple font without a Unicode map can also decode to printable ASCII ("6,AI4*7A :35=*,<"):
    on the 55 shared papers at least half of every readable page's ASCII tokens are words or
    numbers (maths-heavy pages: 0.5-0.7), and under 5 % of such a soup's."""
    sample = text[:4000]  # a page's first 4000 characters tell
    if len(_ASCII_LETTER.findall(sample)) > 0.6 * len(sample):  # prose: letters are most of it
        return 0.0
    tokens = [t for t in sample.split() if t.isascii()]
    total = sum(map(len, tokens))
    if total < 200:
        return 0.0
    share = sum(len(t) for t in tokens if _WORDLIKE.fullmatch(t)) / total  # by characters: "/G21/G22..." is one token
    return 1.0 - share if share < 0.25 else 0.0


def garbled_pages(lines: list[Line], threshold: float = 0.3) -> list[int]:
    """Pages (1-based) whose raw text is mostly unreadable characters."""
    by_page: dict[int, list[str]] = {}
    for ln in lines:
        by_page.setdefault(ln.page, []).append(ln.text)
    return [p for p, texts in sorted(by_page.items())
            if len("".join(texts)) >= 200 and garbage_ratio(" ".join(texts)) > threshold]
