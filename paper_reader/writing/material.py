"""What an answer sees: the whole paper as a shared prefix when it fits, else the window filled by relevance.

Pure functions over a `Paper`; token counting is passed in. Nothing is cut silently: what did not
fit is named in `Material.left_out`.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from paper_reader.types import Paper, Reference, Section
from paper_reader.writing.evidence import Chunk, Sentence, chunk_section, pick_evidence, sentences

Count = Callable[[str], int]

_WORD = re.compile(r"[a-z][a-z0-9\-]{2,}|[\u4e00-\u9fff]")
_STOP = frozenset(
    "the and for are was were with that this from have has had been its their they them which also into "
    "such these than then when where what more most other some only over each both very will would could "
    "should can may our its not but all any one two how why who paper work based using used use about "
    "between while because there here does did show shows what".split())
# "[12]", "[3, 7–9]", "Smith et al.", "(Smith, 2019)", "Smith and Lee (2020)", "[ALdJ+23]"
CITING = re.compile(
    r"\[\d{1,3}(?:\s*[,–-]\s*\d{1,3})*\]|\b[A-Z][\w'’\-]+ et al\.|\([A-Z][\w'’\-]+(?: et al\.)?,? \d{4}[a-z]?[);]"
    r"|\b[A-Z][\w'’\-]+ (?:and|&) [A-Z][\w'’\-]+,? \(?\d{4}|\[[A-Z][A-Za-z+]{1,8}\d{2}\]")

REF_CHARS = 220  # of a bibliography entry in a prompt: authors, year and title, enough to say how it relates


def terms(text: str) -> list[str]:
    """Retrieval terms: lower-case words cut to 6 letters ("attention" finds "attend"), CJK characters."""
    return [w[:6] for w in _WORD.findall(text.lower()) if w not in _STOP]


class BM25:
    """Okapi BM25 over a fixed list of texts."""

    def __init__(self, docs: list[str], k1: float = 1.5, b: float = 0.75):
        self.k1, self.b = k1, b
        self.tf = [Counter(terms(d)) for d in docs]
        self.length = [sum(t.values()) or 1 for t in self.tf]
        self.avg = sum(self.length) / max(1, len(docs))
        df = Counter(w for t in self.tf for w in t)
        n = len(docs)
        self.idf = {w: math.log(1 + (n - d + 0.5) / (d + 0.5)) for w, d in df.items()}

    def scores(self, query: str) -> list[float]:
        q = set(terms(query))
        out = []
        for tf, length in zip(self.tf, self.length):
            norm = self.k1 * (1 - self.b + self.b * length / self.avg)
            out.append(sum(self.idf[w] * tf[w] * (self.k1 + 1) / (tf[w] + norm) for w in q if w in tf))
        return out


def paper_text(sections: list[Section]) -> str:
    """The paper as one text: a heading line per section, "[§3.2, p. 5]" where a section or page starts."""
    blocks = []
    for s in sections:
        head = f"## {s.label}" + (f" {s.title}" if s.label != s.title else "")
        body = [f"[{s.label}, p. {page}] {text.strip()}"
                for page, text in (s.spans or [(s.first_page, s.text)]) if text.strip()]
        blocks.append("\n".join([head, *body]))
    return "\n\n".join(blocks)


def citing_sentences(sections: list[Section]) -> list[Sentence]:
    """Sentences that cite other work ("[12]", "Smith et al."), related-work sections first."""
    found = [s for sec in sections for s in sentences(sec) if CITING.search(s.text) and len(s.text) < 700]
    return sorted(found, key=lambda s: s.section.kind != "related_work")


@dataclass(frozen=True)
class Material:
    """Everything one answer prompt carries besides the question."""

    evidence: list[Sentence] = field(default_factory=list)
    passages: list[Chunk] = field(default_factory=list)  # raw text, in reading order
    digests: list = field(default_factory=list)  # pipeline.Digest, in reading order
    contexts: list[Sentence] = field(default_factory=list)  # where the paper cites other work
    references: list[tuple[int, Reference]] = field(default_factory=list)  # (number in the list, entry)
    left_out: tuple[str, ...] = ()  # sections with nothing in the prompt (not even a digest)
    references_left_out: int = 0


def wanted(section: Section, sources: tuple[str, ...]) -> bool:
    return "any" in sources or section.kind in sources


def lineage(sections: list[Section]) -> dict[int, set[str]]:
    """Each section's kind with its parents' ("2.1 Feature-based Approaches" under "2 Related Work")."""
    out: dict[int, set[str]] = {}
    stack: list[Section] = []
    for s in sections:
        while stack and stack[-1].level >= s.level:
            stack.pop()
        out[id(s)] = {s.kind, *(p.kind for p in stack)}
        stack.append(s)
    return out


def wanted_in(section: Section, sources: tuple[str, ...], kinds: dict[int, set[str]]) -> bool:
    return "any" in sources or bool(kinds.get(id(section), {section.kind}) & set(sources))


class Filler:
    """Takes items while they fit a token budget; an item that does not fit is skipped, not cut."""

    def __init__(self, room: int, count: Count):
        self.left, self.count = room, count

    def take(self, items, text_of, cap: int | None = None) -> list:
        picked, cap = [], self.left if cap is None else min(cap, self.left)
        for item in items:
            cost = self.count(text_of(item)) + 8
            if cost <= cap and cost <= self.left:
                picked.append(item)
                self.left -= cost
                cap -= cost
        return picked


def rank_passages(passages: list[Chunk], query: str, sources: tuple[str, ...], cues: tuple[str, ...] = (),
                  kinds: dict[int, set[str]] | None = None) -> list[Chunk]:
    """Passages by relevance to the question: BM25, plus the question's cue phrases, plus a bonus for
    the question's own kinds of section (a subsection counts as its parent's kind too)."""
    if not passages:
        return []
    scores = BM25([p.text for p in passages]).scores(query)
    top = max(scores) or 1.0
    kinds = kinds or {}

    def cue_hits(text: str) -> int:
        low = text.lower()
        return min(3, sum(c in low for c in cues))

    boosted = [(s / top + (0.6 if wanted_in(p.section, sources, kinds) else 0.0) + 0.3 * cue_hits(p.text), -i, p)
               for i, (s, p) in enumerate(zip(scores, passages))]
    return [p for _, _, p in sorted(boosted, key=lambda t: (t[0], t[1]), reverse=True)]


def make_passages(sections: list[Section], size: int, count: Count) -> list[Chunk]:
    """Every section cut into retrieval passages of about `size` tokens, at sentence boundaries."""
    return [c for s in sections for c in chunk_section(s, size, count)]


def fill_window(paper: Paper, sections: list[Section], passages: list[Chunk], digests: list, q, room: int,
                count: Count, small: bool, related: bool) -> Material:
    """The question's material when the paper does not fit: the window filled by relevance.

    Cue-phrase evidence first (a sixth of the room), for question 9 the citing sentences and the
    bibliography, then the passages most relevant to the question, then digests of the sections
    not yet seen; whatever still does not fit is listed in `left_out`.
    """
    fill = Filler(room, count)
    evidence = fill.take(pick_evidence(paper, q.sources, q.cues, limit=6 if small else 12),
                         lambda s: s.text, room // 6)
    contexts, refs, refs_out = [], [], 0
    if related:
        contexts = fill.take(citing_sentences(sections), lambda s: s.text, room // 4)
        numbered = list(enumerate(paper.references, start=1))
        refs = fill.take(numbered, lambda r: r[1].excerpt(REF_CHARS), room // 3)
        refs_out = len(numbered) - len(refs)
    query = " ".join([q.ask("en"), *q.cues] + ([q.ask("zh")] if "zh" in q.text else []))
    reserve = sum(count(d.text) + 8 for d in digests if d.text) if not small else 0
    kinds = lineage(sections)
    ranked = rank_passages(passages, query, q.sources, q.cues, kinds)
    picked = fill.take(ranked, lambda c: c.text, max(fill.left - min(reserve, fill.left // 4), 0))
    seen = {id(c.section) for c in picked}
    rest = [d for d in digests if d.text and not all(id(s) in seen for s in d.sections)]
    rest.sort(key=lambda d: not any(wanted_in(s, q.sources, kinds) for s in d.sections))
    chosen = {id(d) for d in fill.take(rest, lambda d: d.text)}
    if fill.left > 0:  # room left after the digests: more raw text
        picked += fill.take([c for c in ranked if c not in picked], lambda c: c.text)
    shown = {id(c.section) for c in picked} | {id(s) for d in digests if id(d) in chosen for s in d.sections}
    order = {id(c): i for i, c in enumerate(passages)}
    return Material(
        evidence=evidence, passages=sorted(picked, key=lambda c: order[id(c)]),
        digests=[d for d in digests if id(d) in chosen], contexts=contexts, references=refs,
        left_out=tuple(dict.fromkeys(s.label for s in sections if id(s) not in shown and s.text.strip()))
        + ((f"{refs_out} bibliography entries",) if refs_out else ()),
        references_left_out=refs_out)


def question_part(paper: Paper, sections: list[Section], digests: list, q, room: int, count: Count,
                  related: bool) -> Material:
    """The question's own part when the whole paper is in the prefix: evidence, its sections' digests,
    and for question 9 the citing sentences and every bibliography entry that fits."""
    fill = Filler(room, count)
    # the paper is already in the prefix: these only point at what bears on the question, and are
    # kept short because they are paid for at full price on every call
    evidence = fill.take(pick_evidence(paper, q.sources, q.cues, limit=5), lambda s: s.text, 350)
    contexts, refs, refs_out = [], [], 0
    if related:
        contexts = fill.take(citing_sentences(sections), lambda s: s.text, 800)  # pointers: the text is above
        numbered = list(enumerate(paper.references, start=1))
        refs = fill.take(numbered, lambda r: r[1].excerpt(REF_CHARS))
        refs_out = len(numbered) - len(refs)
    kinds = lineage(sections)
    own = [d for d in digests if d.text and any(wanted_in(s, q.sources, kinds) for s in d.sections)]
    chosen = fill.take(own, lambda d: d.text, 800)
    return Material(evidence=evidence, digests=chosen, contexts=contexts, references=refs,
                    left_out=(f"{refs_out} bibliography entries",) if refs_out else (), references_left_out=refs_out)
