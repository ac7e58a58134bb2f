"""Pure text functions with page provenance: sentences, evidence picking and chunking."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from paper_reader.types import SKIP_KINDS, Paper, Section

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"“])|(?<=[。！？])")
_ABBREV = re.compile(r"(?:\b(?:e\.g|i\.e|et al|Fig|Figs|Eq|Sec|Tab|vs|cf|approx|resp|No)\.)$", re.I)


@dataclass(frozen=True)
class Sentence:
    text: str
    section: Section
    page: int

    @property
    def cite(self) -> str:
        return f"({self.section.label}, p. {self.page})"


@dataclass(frozen=True)
class Chunk:
    """A piece of one section small enough for the model, with the pages it covers."""

    section: Section
    text: str  # with "[p. N]" markers where a new page starts
    first_page: int
    last_page: int
    part: int = 1
    parts: int = 1

    @property
    def cite(self) -> str:
        pages = f"p. {self.first_page}" if self.first_page == self.last_page else f"pp. {self.first_page}–{self.last_page}"
        return f"({self.section.label}, {pages})"


def split_sentences(text: str) -> list[str]:
    """Split running text into sentences, keeping abbreviations such as "et al." together."""
    out: list[str] = []
    for piece in _SENTENCE_END.split(text):
        piece = piece.strip()
        if not piece:
            continue
        if out and _ABBREV.search(out[-1]):
            out[-1] += " " + piece
        else:
            out.append(piece)
    return out


def sentences(section: Section) -> list[Sentence]:
    spans = section.spans or [(section.first_page, section.text)]
    return [Sentence(s, section, page) for page, text in spans for s in split_sentences(text)]


def pick_evidence(paper: Paper, kinds: tuple[str, ...], cues: tuple[str, ...], limit: int = 8,
                  max_chars: int = 320) -> list[Sentence]:
    """The paper's own sentences that best answer a question: cue phrases, in the right sections.

    Scored by cue hits, a bonus for sections of the wanted kinds and for numbers; ties keep
    reading order. A tiny model given these restates the paper instead of inventing.
    """
    scored: list[tuple[float, int, Sentence]] = []
    order = 0
    for sec in paper.sections:
        if sec.kind in SKIP_KINDS:
            continue
        wanted = "any" in kinds or sec.kind in kinds
        for sent in sentences(sec):
            order += 1
            low = sent.text.lower()
            if len(sent.text) < 30 or len(sent.text) > 2 * max_chars or _tabular(sent.text):
                continue
            hits = sum(1 for c in cues if c in low)
            if not hits:
                continue
            score = hits + (1.5 if wanted else 0) + (0.3 if re.search(r"\d", low) else 0)
            scored.append((score, order, sent))
    best = sorted(scored, key=lambda t: (-t[0], t[1]))[:limit]
    return [s for _, _, s in sorted(best, key=lambda t: t[1])]


def _tabular(text: str) -> bool:
    """A flattened table row rather than a sentence: mostly numbers, symbols and lone capitals."""
    tokens = text.split()
    odd = sum(1 for t in tokens if re.fullmatch(r"[\d.,%±()\-–/]+|[A-Z]{1,4}|NA|[<>=]", t))
    return len(tokens) >= 8 and odd / len(tokens) > 0.3


def chunk_section(section: Section, budget: int, count: Callable[[str], int]) -> list[Chunk]:
    """Split a section into chunks of at most `budget` tokens, at sentence boundaries.

    Every sentence lands in exactly one chunk: nothing is dropped, however long the section.
    """
    pieces: list[tuple[int, str]] = [(s.page, s.text) for s in sentences(section)]
    chunks: list[list[tuple[int, str]]] = [[]]
    used = 0
    for page, text in pieces:
        cost = count(text) + 1
        if cost > budget:  # one huge "sentence" (a table flattened to text): cut it by characters
            step = max(200, len(text) * budget // (cost + 1))
            parts = [(page, text[i : i + step]) for i in range(0, len(text), step)]
        else:
            parts = [(page, text)]
        for part in parts:
            c = count(part[1]) + 1
            if chunks[-1] and used + c > budget:
                chunks.append([])
                used = 0
            chunks[-1].append(part)
            used += c
    chunks = [c for c in chunks if c]
    return [_chunk(section, c, i + 1, len(chunks)) for i, c in enumerate(chunks)]


def _chunk(section: Section, pieces: list[tuple[int, str]], part: int, parts: int) -> Chunk:
    text_parts: list[str] = []
    last = None
    for page, text in pieces:
        if page != last:
            text_parts.append(f"[p. {page}]")
            last = page
        text_parts.append(text)
    return Chunk(section, " ".join(text_parts), pieces[0][0], pieces[-1][0], part, parts)


def pack_chunks(chunks: list[Chunk], budget: int, count: Callable[[str], int]) -> list[list[Chunk]]:
    """Group consecutive short sections into packs of at most `budget` tokens, in reading order.

    A section split into parts keeps a call of its own. With a large window this saves the fixed
    cost of a call per tiny section (a 5-page paper has a dozen of them).
    """
    packs: list[list[Chunk]] = [[]]
    used = 0
    for chunk in chunks:
        cost = count(chunk.text) + 12  # and its heading line
        if packs[-1] and (chunk.parts > 1 or used + cost > budget):
            packs.append([])
            used = 0
        packs[-1].append(chunk)
        used += cost
        if chunk.parts > 1:
            packs.append([])
            used = 0
    return [p for p in packs if p]


_SALIENT = ("we propose", "we present", "we introduce", "we show", "we find", "we observe", "we demonstrate",
            "results", "outperform", "improve", "achieve", "significant", "limitation", "however", "we use",
            "we train", "consists of", "is defined", "our method", "our model", "提出", "结果", "表明")


def key_sentences(chunk: Chunk, limit: int = 3) -> list[tuple[int, str]]:
    """A chunk's most telling sentences, as (page, sentence), in reading order: its opening, claims,
    results and figures. The digest of a section when the model is too small to condense it."""
    pieces = re.findall(r"\[p\. (\d+)\] ((?:(?!\[p\. \d+\]).)*)", chunk.text, re.S)
    candidates = [(int(page), s) for page, text in pieces for s in split_sentences(text)]
    scored = []
    for i, (page, s) in enumerate(candidates):
        if not 20 <= len(s) <= 400 or _tabular(s):
            continue
        low = s.lower()
        score = (1.0 if not scored else 0) + (0.5 if re.search(r"\d", s) else 0) + sum(c in low for c in _SALIENT)
        scored.append((score, i, page, s))
    best = sorted(scored, key=lambda t: (-t[0], t[1]))[:limit]
    if not best:  # only headings, formulas or table rows: its opening, whatever it is
        return candidates[:1]
    return [(page, s) for _, _, page, s in sorted(best, key=lambda t: t[1])]
