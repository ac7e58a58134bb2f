"""The typed values that cross stages: what a PDF says (Line, Section, Reference, Paper), the
questions asked of it (Question, QuestionSet) and the notes written (Answer, Usage, Notes).

Imports nothing of paper_reader: every stage may import it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import Enum
from datetime import datetime, timezone
from typing import Any


class Word(str, Enum):
    """A string protocol as an enum: members compare equal to their strings and print as them
    (so JSON and messages are unchanged), but a typo is an AttributeError, not a silent miss."""

    def __str__(self) -> str:
        return self.value


# Section kinds no question draws on: the bibliography and the administrative back matter
# (acknowledgements, funding, declarations, ...). One place: prompts, evidence and checks agree.
SKIP_KINDS = ("references", "acknowledgements")


@dataclass(frozen=True)
class Line:
    """One visual line of a page, as rebuilt from the PDF's text runs."""

    page: int  # 1-based
    text: str
    size: float = 0.0  # largest font size on the line, in points
    bold: bool = False
    x0: float = 0.0  # left edge, points from the page's left (0 when the engine gives no boxes)
    x1: float = 0.0  # right edge
    top: float = 0.0  # top edge, points from the page's top
    page_height: float = 0.0
    cells: tuple[str, ...] = ()  # on page 1's upper part: the line split at wide gaps (author grids)
    # on page 1's upper part, when the line mixes sizes or baselines: (text, size, baseline from the
    # page top, index of its cell) per run of characters set alike, so superscript marks can be told
    # by how they are set
    runs: tuple[tuple[str, float, float, int], ...] = ()


@dataclass
class Section:
    """A heading and the text under it (up to the next heading of any level)."""

    title: str
    level: int = 1  # 1 = top level
    number: str | None = None  # "3.2", "A.1", or None for unnumbered headings
    first_page: int = 1
    last_page: int = 1  # end of this section's subtree
    text: str = ""
    kind: str = "other"  # abstract, introduction, related_work, method, ... (see sections.KINDS)
    spans: list[tuple[int, str]] = field(default_factory=list)  # (page, text) runs of `text`
    printed: bool = True  # False for the reader's own parts: "Front matter", "Main text", an unheaded bibliography
    also: tuple[str, ...] = ()  # further kinds it serves: a Discussion comparing with prior studies is related work too

    def is_kind(self, kind: str) -> bool:
        return kind == self.kind or kind in self.also

    @property
    def label(self) -> str:
        """How answers cite it: "§3.2" for numbered sections, the title otherwise."""
        return f"§{self.number}" if self.number else self.title

    @property
    def pages(self) -> str:
        if self.first_page == self.last_page:
            return f"p. {self.first_page}"
        return f"pp. {self.first_page}–{self.last_page}"


@dataclass(frozen=True)
class Reference:
    """One entry of the paper's bibliography."""

    text: str
    key: str | None = None  # "12" for a numbered list, None for author-year lists
    arxiv: str | None = None
    doi: str | None = None

    def excerpt(self, limit: int) -> str:
        """The entry in at most `limit` characters, cut at a word boundary and marked with "…"."""
        text = " ".join(self.text.split())
        if len(text) <= limit:
            return text
        cut = text[: limit - 1]
        return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(",;: ") + "…"


@dataclass
class Paper:
    """A paper as read from its PDF: metadata, pages, sections and references."""

    source: str
    title: str
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    abstract: str = ""
    arxiv_id: str | None = None
    doi: str | None = None
    language: str = "en"  # en or zh: the script most of the text is in
    pages: list[str] = field(default_factory=list)  # cleaned text per page, pages[0] is page 1
    sections: list[Section] = field(default_factory=list)  # reading order, flat, with levels
    references: list[Reference] = field(default_factory=list)
    section_source: str = "outline"  # "outline" or "detected"
    local_path: str = ""  # the PDF file read (source may be a URL)
    warnings: list[str] = field(default_factory=list)  # what the reader could not read well
    tags: list[str] = field(default_factory=list)  # the reader's own (a reading list's tags:), for the note and index

    @property
    def page_count(self) -> int:
        return len(self.pages)

    @property
    def full_text(self) -> str:
        return "\n\n".join(s.text for s in self.sections if s.text)

    def find_section(self, label: str) -> Section | None:
        """The section with this number ("3.2"), label ("§3.2") or title (case-insensitive)."""
        want = label.strip().lstrip("§").strip().lower()
        for s in self.sections:
            if (s.number and s.number.lower() == want) or s.title.lower() == want:
                return s
        return None


# -- what is asked and what is written --------------------------------------------------------

@dataclass(frozen=True)
class Question:
    """One question of a set: its wording per language, the sections it draws on, answer shape."""

    id: str
    text: dict[str, str]
    sources: tuple[str, ...] = ("any",)
    shape: str = "bullets"
    cues: tuple[str, ...] = ()

    def ask(self, lang: str) -> str:
        return self.text.get(lang) or self.text.get("en") or next(iter(self.text.values()))


@dataclass(frozen=True)
class QuestionSet:
    name: str
    questions: tuple[Question, ...]
    path: str = ""


@dataclass(frozen=True)
class Answer:
    question: Question
    text: str
    citations_kept: int
    citations_removed: int
    numbers_checked: int = 0
    numbers_flagged: int = 0
    related_dropped: int = 0  # papers named that are not in the bibliography
    whole_paper: bool = False  # the prompt carried the whole paper
    left_out: tuple[str, ...] = ()  # sections that reached the prompt in no form
    sentences_replaced: int = 0  # small model: unsupported sentences replaced by the paper's own


@dataclass
class Usage:
    calls: int = 0
    cached: int = 0  # calls answered from the on-disk cache (free)
    input_tokens: int = 0
    cached_input_tokens: int = 0  # of input_tokens, read from the provider's prompt cache
    output_tokens: int = 0
    cost: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, c: Any) -> None:
        """Count one model completion (models.llm.Completion)."""
        with self._lock:
            if c.cached:
                self.cached += 1
                return
            self.calls += 1
            self.input_tokens += c.input_tokens
            self.cached_input_tokens += getattr(c, "cached_tokens", 0) or 0
            self.output_tokens += c.output_tokens
            self.cost += c.cost


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
    digests: list[Any] = field(default_factory=list)  # writing.pipeline.Digest, in reading order
