"""Sections -> digests -> answers: the two model stages, run concurrently, each prompt sized by the window.

When the whole paper fits the window, every call after the first starts with the same prefix
(system prompt + the paper), which providers cache: one answer goes first to warm that cache, then
the digests and the other answers follow all at once, each naming only its part. When it does not
fit, sections are digested from their text and each answer's window is filled by relevance
(material.py).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

from paper_reader.types import SKIP_KINDS, Answer, Notes, Paper, Question, QuestionSet, Section, Usage
from paper_reader.writing.evidence import Chunk, chunk_section, key_sentences, pack_chunks
from paper_reader.writing.finish import finish
from paper_reader.writing.grounding import paper_numbers, related_from_citations
from paper_reader.models.llm import LLM
from paper_reader.writing.material import REF_CHARS, Material, fill_window, make_passages, paper_text, question_part
from paper_reader.writing.parse import clean_answer
from paper_reader.writing.profile import Profile
from paper_reader.writing.prompts import render

Progress = Callable[[str, str, int, int], None]  # (stage, detail, done, total)
WHOLE_PACK = 12  # sections one digest call covers when the whole paper is the cached prefix
CACHE_CONTROL_PROVIDERS = ("anthropic/", "bedrock/", "vertex_ai/claude", "claude-")


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
class Budget:
    """Token budgets derived from the model's context window (never from the paper's length)."""

    chunk: int
    window: int  # input tokens one call may use, with headroom
    digest_out: int
    answer_out: int
    pack: int = 0  # short sections share a digest call up to this many tokens (0: never)
    passage: int = 200  # retrieval passages for filling an answer's window

    @classmethod
    def for_model(cls, model: LLM, profile: Profile | None = None) -> Budget:
        profile = profile or Profile.of(model)
        # 15% headroom: litellm counts with a generic tokenizer where it does not know the model's
        window = int(model.context_window * 0.85)
        chunk = max(200, min(window - 260 - profile.digest_out, 6000))
        pack = min(chunk, 3000) if profile.pack_sections else chunk
        return cls(chunk, window, profile.digest_out, profile.answer_out, pack, profile.passage)


def make_notes(paper: Paper, questions: QuestionSet, model: LLM, lang: str = "en",
               concurrency: int = 4, progress: Progress | None = None) -> Notes:
    """Answer every question of the set about the paper, section by section."""
    started = time.monotonic()
    note = _Note(paper, model, lang, questions)
    items = list(questions.questions)
    with _Stages(concurrency, progress or (lambda *a: None)) as stages:
        if note.prefix is None:  # digests first: the answers' windows are filled with them
            note.digests[:] = stages.gather(stages.submit("digest", note.digest, note.packs, _describe_pack))
            answers = stages.gather(stages.submit("answer", note.answer, items, _describe_question))
        else:
            # one answer (question 9 where there is one) warms the provider's cache with the prefix;
            # then every digest and every other answer reads it from the cache, all at once
            warm = next((i for i, q in enumerate(items) if "references" in q.sources), 0)
            warming = stages.submit("answer", note.answer, items[warm:warm + 1], _describe_question, total=len(items))
            others = items[:warm] + items[warm + 1:]
            for q in others:  # built while the first call is in flight: the rest go the moment it returns
                note.prepare(q)
            first = stages.gather(warming)
            pending = stages.submit("digest", note.digest, note.packs, _describe_pack)
            rest = stages.submit("answer", note.answer, others, _describe_question, total=len(items))
            note.digests[:] = stages.gather(pending)
            late = stages.gather(rest)
            answers = late[:warm] + first + late[warm:]
    return Notes(paper, questions, answers, model.name, lang, note.usage, len(note.packs),
                 time.monotonic() - started, digests=list(note.digests))


class _Note:
    """One note in the making: what is sent for each digest and each answer, and what it cost."""

    def __init__(self, paper: Paper, model: LLM, lang: str, questions: QuestionSet):
        self.paper, self.model, self.lang = paper, model, lang
        self.usage = Usage()
        # title-and-authors front matter says nothing worth a call once an abstract follows it
        self.sections = [s for s in paper.sections if s.kind not in SKIP_KINDS and s.text.strip()
                         and not (s.kind == "front" and len(s.text) < 400)]
        self.profile = Profile.of(model)
        self.budget = Budget.for_model(model, self.profile)
        count = model.count_tokens
        chunks = [c for s in self.sections for c in chunk_section(s, self.budget.chunk, count)]
        self.prefix = _prefix(paper, self.sections, model, lang, self.budget) if self.profile.whole_paper else None
        if self.prefix is not None:
            # the paper is in the cached prefix: a digest call names sections, not their text, so one
            # call digests many (each repeated call costs a tenth of the paper again)
            self.packs = [chunks[i:i + WHOLE_PACK] for i in range(0, len(chunks), WHOLE_PACK)]
        elif self.profile.pack_sections:
            self.packs = pack_chunks(chunks, self.budget.pack, count)
        else:
            self.packs = [[c] for c in chunks]
        self.passages = make_passages(self.sections, self.budget.passage, count) if self.prefix is None else []
        self.numbers = paper_numbers(paper)
        # what the paper itself cites most, computed once for the questions that draw on references
        self.cited = related_from_citations(paper) if any("references" in q.sources for q in questions.questions) \
            else ""
        self.digests: list[Digest] = []
        self._prepared: dict[str, tuple] = {}  # question id -> (messages, material), built ahead

    def digest(self, pack: list[Chunk]) -> Digest:
        """A section (or a pack of short ones) condensed; the paper's own key sentences for a tiny model."""
        first, model = pack[0], self.model
        if not self.profile.digest_by_model:  # a tiny model restates a few at best: the paper's own, no call
            return Digest(tuple(pack), "\n".join(f"- {s} (p. {page})" for page, s in key_sentences(first)))
        bullets = min(16, 6 + 2 * len(pack)) if self.prefix is None else min(48, 4 + 3 * len(pack))
        if self.prefix is not None:  # the paper is in the cached prefix: name the sections, not their text
            user = render("digest_whole.j2", title=self.paper.title, pack=pack, bullets=bullets, small=False,
                          lang=self.lang).strip()
            messages = [_system_message(model, self.prefix), {"role": "user", "content": user}]
        else:
            messages = _messages(model, self.lang, "digest.j2", title=self.paper.title, label=first.section.label,
                                 section_title=first.section.title, part=first.part, parts=first.parts,
                                 pack=pack if len(pack) > 1 else [], text=first.text, bullets=bullets)
        out = self.budget.digest_out * (1 if len(pack) == 1 else 2) if self.prefix is None else \
            min(2400, self.budget.digest_out * (1 + len(pack) // 3))
        c = model.complete(messages, out)
        self.usage.add(c)
        return Digest(tuple(pack), clean_answer(c.text))

    def prepare(self, q: Question, keep: bool = True):
        """The answer's prompt and material (with the whole paper: no digests, so ready at once)."""
        seen = self.digests if self.prefix is None else []
        built = _answer_messages(self.paper, self.sections, q, seen, self.passages, self.model,
                                 self.lang, self.budget, self.prefix)
        if keep:
            self._prepared[q.id] = built
        return built

    def answer(self, q: Question) -> Answer:
        """One question answered from the whole paper, or from its window filled by relevance."""
        seen = self.digests if self.prefix is None else []  # with the whole paper in front of it, no digest
        if self.profile.related_from_citations and "references" in q.sources and self.cited:
            # a tiny model cannot match papers to a bibliography; the paper's own citations can
            return finish(self.paper, q, "", seen, self.model, Material(), self.numbers, self.cited)
        messages, material = self._prepared.pop(q.id, None) or self.prepare(q, keep=False)
        c = self.model.complete(messages, self.budget.answer_out)
        self.usage.add(c)
        return finish(self.paper, q, c.text, seen, self.model, material, self.numbers, self.cited,
                      whole=self.prefix is not None)


def _describe_pack(p: list[Chunk]) -> str:
    section = p[0].section  # "§4 Results", but "Results" once when the heading has no number
    return (section.title if section.label == section.title else f"{section.label} {section.title}")[:60]


def _describe_question(q: Question) -> str:
    return q.id


class _Stages:
    """One pool for all calls (never more than `concurrency` in flight), with progress per stage."""

    def __init__(self, concurrency: int, report: Progress):
        self.pool = ThreadPoolExecutor(max_workers=max(1, concurrency))
        self.report = report
        self.done: dict[str, int] = {}
        self.lock = threading.Lock()

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        self.pool.shutdown(wait=True, cancel_futures=exc is not None)
        return False

    def submit(self, stage: str, fn, items, describe, total: int | None = None) -> list[Future]:
        total = len(items) if total is None else total
        with self.lock:
            if stage not in self.done:
                self.done[stage] = 0
                self.report(stage, "", 0, total)

        def one(item):
            result = fn(item)
            with self.lock:
                self.done[stage] += 1
                self.report(stage, describe(item), self.done[stage], total)
            return result

        return [self.pool.submit(one, item) for item in items]

    def gather(self, futures: list[Future]) -> list:
        return [f.result() for f in futures]  # re-raises the first failure (a ModelError)


def _system(model: LLM, lang: str) -> str:
    return render("system.j2", small=model.small, lang=lang).strip()


def _messages(model: LLM, lang: str, template: str, **values) -> list[dict]:
    return [
        {"role": "system", "content": _system(model, lang)},
        {"role": "user", "content": render(template, small=model.small, lang=lang, **values).strip()},
    ]


def _prefix(paper: Paper, sections: list[Section], model: LLM, lang: str, budget: Budget) -> str | None:
    """System prompt + the whole paper, when that and a question's own part fit the window."""
    if not sections:
        return None
    text = _system(model, lang) + "\n\n" + render("paper.j2", title=paper.title, text=paper_text(sections)).strip()
    need = model.count_tokens(text) + budget.answer_out + 1500  # 1.5k: the question's own part
    return text if need <= budget.window else None


def cache_marked(model_name: str) -> bool:
    """Providers that cache a prompt prefix only where it is marked with `cache_control`."""
    return model_name.startswith(CACHE_CONTROL_PROVIDERS) or "/anthropic." in model_name


def _answer_messages(paper: Paper, sections: list[Section], q: Question, digests: list[Digest],
                     passages: list[Chunk], model: LLM, lang: str, budget: Budget,
                     prefix: str | None) -> tuple[list[dict], Material]:
    """The answer prompt: [prefix, question part] when the paper fits, else the window filled by relevance."""
    related = "references" in q.sources
    values = dict(title=paper.title, question=q.ask(lang), shape=q.shape, small=model.small, lang=lang,
                  whole=prefix is not None)
    empty = render("answer.j2", **values, **_template_material(Material()))
    system = prefix if prefix is not None else _system(model, lang)
    room = max(300, budget.window - budget.answer_out - model.count_tokens(system) - model.count_tokens(empty))
    if prefix is not None:
        material = question_part(paper, sections, digests, q, room, model.count_tokens, related)
    else:
        material = fill_window(paper, sections, passages, digests, q, room, model.count_tokens,
                               model.small, related)
    user = render("answer.j2", **values, **_template_material(material)).strip()
    message = _system_message(model, prefix) if prefix is not None else {"role": "system", "content": system}
    return [message, {"role": "user", "content": user}], material


def _system_message(model: LLM, prefix: str) -> dict:
    """The system prompt and the paper, marked for caching where the provider needs a mark."""
    if cache_marked(model.name):
        return {"role": "system", "content": [{"type": "text", "text": prefix, "cache_control": {"type": "ephemeral"}}]}
    return {"role": "system", "content": prefix}


def _template_material(m: Material) -> dict:
    return dict(evidence=m.evidence, passages=m.passages, digests=m.digests, contexts=m.contexts,
                references=[(n, r.excerpt(REF_CHARS)) for n, r in m.references], references_left_out=m.references_left_out)
