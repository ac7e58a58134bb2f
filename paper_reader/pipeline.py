"""Sections -> digests -> answers: the two model stages, each run concurrently, within the window."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from .document import Paper, Reference, Section
from .errors import ModelError
from .grounding import check_numbers, ground_related, paper_numbers, related_from_citations
from .evidence import Chunk, chunk_section, pack_chunks, pick_evidence, sentences
from .llm import LLM, Completion
from .parse import check_citations, clean_answer, content_words, grounded
from .prompts import render
from .template import Question, QuestionSet

Progress = Callable[[str, str, int, int], None]  # (stage, detail, done, total)
SKIP_KINDS = ("references", "acknowledgements")


@dataclass
class Usage:
    calls: int = 0
    cached: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, c: Completion) -> None:
        with self._lock:
            if c.cached:
                self.cached += 1
                return
            self.calls += 1
            self.input_tokens += c.input_tokens
            self.output_tokens += c.output_tokens
            self.cost += c.cost


@dataclass(frozen=True)
class Digest:
    """The condensed text of one or more consecutive chunks (a pack of short sections)."""

    chunks: tuple[Chunk, ...]
    text: str

    @property
    def cite(self) -> str:
        return " ".join(dict.fromkeys(c.cite for c in self.chunks[:3]))

    @property
    def sections(self) -> list[Section]:
        return [c.section for c in self.chunks]


@dataclass(frozen=True)
class Answer:
    question: Question
    text: str
    citations_kept: int
    citations_removed: int
    numbers_checked: int = 0
    numbers_flagged: int = 0
    related_dropped: int = 0  # papers named that are not in the bibliography


@dataclass
class Notes:
    paper: Paper
    questions: QuestionSet
    answers: list[Answer]
    model: str
    lang: str
    usage: Usage
    chunks: int
    seconds: float
    generated: str = field(default_factory=lambda: datetime.now(timezone.utc).strftime("%Y-%m-%d"))


@dataclass(frozen=True)
class Budget:
    """Token budgets derived from the model's context window."""

    chunk: int
    answer_context: int
    digest_out: int
    answer_out: int
    pack: int = 0  # short sections share a digest call up to this many tokens (0: never)

    @classmethod
    def for_model(cls, model: LLM, paper_tokens: int) -> Budget:
        small = model.small
        digest_out, answer_out = (160, 220) if small else (400, 700)
        # 15% headroom: litellm counts with a generic tokenizer where it does not know the model's
        usable = int(model.context_window * 0.85) - 260
        chunk = max(200, min(usable - digest_out, 6000))
        # a 2k window leaves ~1.2k for the material of one answer; a large one gets ~6% of the paper
        context = max(300, min(usable - answer_out, max(400, int(paper_tokens * 0.06))))
        pack = chunk if small else min(chunk, 3000)  # tiny models: one focused section per call
        return cls(chunk, context, digest_out, answer_out, pack)


def make_notes(paper: Paper, questions: QuestionSet, model: LLM, lang: str = "en",
               concurrency: int = 4, progress: Progress | None = None) -> Notes:
    """Answer every question of the set about the paper, section by section."""
    started = time.monotonic()
    report = progress or (lambda *a: None)
    usage = Usage()
    # title-and-authors front matter says nothing worth a call once an abstract follows it
    sections = [s for s in paper.sections if s.kind not in SKIP_KINDS and s.text.strip()
                and not (s.kind == "front" and len(s.text) < 400)]
    paper_tokens = sum(model.count_tokens(s.text) for s in sections)
    budget = Budget.for_model(model, paper_tokens)
    chunks = [c for s in sections for c in chunk_section(s, budget.chunk, model.count_tokens)]
    packs = pack_chunks(chunks, budget.pack, model.count_tokens) if not model.small else [[c] for c in chunks]

    def digest(pack: list[Chunk]) -> Digest:
        first = pack[0]
        bullets = 4 if model.small else min(16, 6 + 2 * len(pack))
        messages = _messages(model, lang, "digest.j2", title=paper.title, label=first.section.label,
                             section_title=first.section.title, part=first.part, parts=first.parts,
                             pack=pack if len(pack) > 1 else [], text=first.text, bullets=bullets)
        c = model.complete(messages, budget.digest_out * (1 if len(pack) == 1 else 2))
        usage.add(c)
        text = clean_answer(c.text)
        if model.small:  # keep only what the section itself supports
            text = grounded(text, set(content_words(first.text)))
        return Digest(tuple(pack), text)

    digests = _run(digest, packs, concurrency, report, "digest",
                   lambda p: f"{p[0].section.label} {p[0].section.title}"[:60])

    vocabulary = set(content_words(paper.full_text)) if model.small else set()
    numbers = paper_numbers(paper)
    # what the paper itself cites most, computed once for the questions that draw on references
    cited = related_from_citations(paper) if any("references" in q.sources for q in questions.questions) else ""

    def answer(q: Question) -> Answer:
        if model.small and "references" in q.sources and cited:
            # a tiny model cannot match papers to a bibliography; the paper's own citations can
            return _finish(paper, q, "", digests, vocabulary, [], numbers, cited)
        messages, refs = _answer_messages(paper, q, digests, model, lang, budget)
        c = model.complete(messages, budget.answer_out)
        usage.add(c)
        return _finish(paper, q, c.text, digests, vocabulary, refs, numbers, cited)

    answers = _run(answer, list(questions.questions), concurrency, report, "answer", lambda q: q.id)
    return Notes(paper, questions, answers, model.name, lang, usage, len(packs),
                 time.monotonic() - started)


def _run(fn, items, concurrency, report, stage, describe):
    """Run fn over items with at most `concurrency` at once, reporting each finished item."""
    results = [None] * len(items)
    done = 0
    lock = threading.Lock()
    report(stage, "", 0, len(items))

    def one(i):
        nonlocal done
        results[i] = fn(items[i])
        with lock:
            done += 1
            report(stage, describe(items[i]), done, len(items))

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for f in [pool.submit(one, i) for i in range(len(items))]:
            f.result()  # re-raises the first failure (a ModelError) after the pool drains
    return results


def _messages(model: LLM, lang: str, template: str, **values) -> list[dict]:
    return [
        {"role": "system", "content": render("system.j2", small=model.small, lang=lang).strip()},
        {"role": "user", "content": render(template, small=model.small, lang=lang, **values).strip()},
    ]


def _wanted(section: Section, q: Question) -> bool:
    return "any" in q.sources or section.kind in q.sources


def _answer_messages(paper, q: Question, digests, model: LLM, lang: str,
                     budget: Budget) -> tuple[list[dict], list[Reference]]:
    """Fill the answer's window: evidence sentences, then digests of its sections, then raw text."""
    left = budget.answer_context
    count = model.count_tokens

    def take(items, text_of, share):
        nonlocal left
        picked, cap = [], int(budget.answer_context * share)
        for item in items:
            cost = count(text_of(item)) + 8
            if cost > min(left, cap):
                continue
            picked.append(item)
            left -= cost
            cap -= cost
        return picked

    evidence = take(pick_evidence(paper, q.sources, q.cues, limit=6 if model.small else 10),
                    lambda s: s.text, 0.45)
    ordered = sorted(digests, key=lambda d: not any(_wanted(s, q) for s in d.sections))
    chosen = take([d for d in ordered if d.text], lambda d: d.text, 1.0 if not model.small else 0.6)
    refs = []
    if "references" in q.sources and paper.references:
        refs = take(paper.references, lambda r: r.text[:300], 0.5)
    raw = [] if model.small else take([c for d in ordered for c in d.chunks if _wanted(c.section, q)],
                                      lambda c: c.text, 1.0)
    chosen_ids = {id(d) for d in chosen}
    messages = _messages(model, lang, "answer.j2", title=paper.title, evidence=evidence,
                         digests=[d for d in digests if id(d) in chosen_ids], raw=raw,
                         references=[r.text[:300] for r in refs], question=q.ask(lang), shape=q.shape)
    return messages, refs


def _finish(paper: Paper, q: Question, text: str, digests: list[Digest], vocabulary: set[str],
            refs: list[Reference], numbers: set[str], cited: str) -> Answer:
    """Clean the answer, check its citations and figures, and make sure it cites what it rests on.

    With a tiny model (`vocabulary` given) sentences the paper does not support are dropped; if
    nothing is left, the answer is the paper's own most relevant sentences, cited. An answer about
    related papers keeps only papers of the bibliography.
    """
    cleaned = clean_answer(text)
    dropped = 0
    if "references" in q.sources:
        related = ground_related(cleaned, refs or paper.references, paper)
        dropped = related.dropped
        cleaned = related.text or cited or (
            _NO_MATCH if paper.references else _NO_REFERENCES)
    elif vocabulary:
        cleaned = grounded(cleaned, vocabulary)
        if len(re.findall(r"[A-Za-z]+|[\u4e00-\u9fff]", cleaned)) < 12:  # a fragment says nothing
            cleaned = _extractive(paper, q)
    if not cleaned:
        raise ModelError(f"The model gave an empty answer to '{q.id}'. Re-run, or choose another model.")
    checked = check_citations(cleaned, paper)
    body, kept = checked.text, checked.kept
    if checked.complete == 0:  # no citation names both a section and a page: say what it rests on
        cites = _sources_for(paper, q, digests)
        body = f"{body}\n\nSources: {', '.join(cites)}" if cites else body
        kept += len(cites)
    count, flagged = check_numbers(body, numbers)
    if flagged:
        body += f"\n\n*Unverified figures (not found in the paper): {', '.join(flagged)}*"
    return Answer(q, body, kept, checked.removed, count, len(flagged), dropped)


_NO_REFERENCES = "- The paper's reference list could not be read, so no related papers are named here."
_NO_MATCH = "- No paper named for this answer matched an entry of the paper's bibliography."


def _extractive(paper: Paper, q: Question, limit: int = 3) -> str:
    """The paper's own words as the answer: its most relevant sentences, each cited."""
    picked = pick_evidence(paper, q.sources, q.cues, limit=limit)
    if not picked:  # no cue phrase anywhere: the opening sentences of its sections
        wanted = [s for s in paper.sections if _wanted(s, q) and s.text] or paper.sections
        picked = [sent for sec in wanted[:2] for sent in sentences(sec)[:2]][:limit]
    return "\n".join(f"- {s.text} {s.cite}" for s in picked)


def _sources_for(paper: Paper, q: Question, digests: list[Digest]) -> list[str]:
    """Citations for an answer that gave none: its evidence's sections, else its sections' digests."""
    cites: list[str] = []
    for sent in pick_evidence(paper, q.sources, q.cues, limit=6):
        if sent.cite not in cites:
            cites.append(sent.cite)
    for c in sorted((c for d in digests for c in d.chunks), key=lambda c: not _wanted(c.section, q)):
        if c.cite not in cites:
            cites.append(c.cite)
    return cites[:3]
