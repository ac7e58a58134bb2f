"""Defensive, pure handling of model output: clean-up, repetition guards, citations, Markdown safety."""

from __future__ import annotations

import re
from dataclasses import dataclass

from paper_reader.types import Paper

_THINK = re.compile(r"<think>.*?(</think>|$)", re.S | re.I)
_FENCE = re.compile(r"^\s*```[\w-]*\n(.*?)\n```\s*$", re.S)
_LEAD = re.compile(r"^\s*(answer|response|回答|答案)\s*[:：]\s*", re.I)
# lines where a model echoes the prompt's own labels back
_ECHO = re.compile(r"^\s*[-*]?\s*(paper|question|section\b[^:]{0,60}|sentences from the paper( that bear on the question)?|"
                   r"notes on its sections|text of the paper|entries of the paper's bibliography|"
                   r"where the paper cites other work)\s*(\([^()]*\))?\s*:", re.I)
_MARKER = re.compile(r"^\s*\[[^\]]{0,6}\]\s*(?:\d{1,3}\))?\s*")  # "[p] 10)" debris at a line start
_BULLET = re.compile(r"^\s*(?:[-*•·●▪]|\d{1,2}[.)、])\s+")
# "(§3.2, p. 5)", "(§3, pp. 4–5)", "(Introduction, p. 2)", "(p. 7)", "[§2; p. 3]"
CITATION = re.compile(
    r"[(\[](?P<body>(?:§\s?[\w.\-]+|[A-Z][\w \-]{2,40}?)?\s*[,;:]?\s*(?:pp?\.?|pages?)\s?\d+(?:\s?[–-]\s?\d+)?"
    r"|§[^()\[\]]{0,60})[)\]]"
)
_STOP = frozenset(
    "this that with from have been were their they them which also into such these than then when "
    "where what more most other some only over each both very will would could should paper work "
    "based using used uses about between while because however there here does show shows".split()
)


def content_words(text: str) -> list[str]:
    """Lower-case words of 4+ letters that carry meaning (for grounding checks)."""
    return [w for w in re.findall(r"[a-z][a-z\-]{3,}", text.lower()) if w not in _STOP]


def grounded(text: str, vocabulary: set[str], threshold: float = 0.75) -> str:
    """Keep only sentences whose content words mostly occur in the source; drop the invented rest.

    A tiny model pads answers with names, numbers and claims from nowhere; those sentences share
    few words with the paper. CJK text is kept as is (no word boundaries to check).
    """
    kept_lines: list[str] = []
    for line in text.splitlines():
        bullet = line.startswith("- ")
        body = line[2:] if bullet else line
        parts = [s for s in re.split(r"(?<=[.!?])(?<!\bp\.)(?<!\bpp\.)\s+(?![(\[]p)", body) if s.strip()]  # a trailing "(p. 2)" stays
        good = []
        for sent in parts:
            words = content_words(sent)
            if re.search(r"[\u4e00-\u9fff]", sent) or (
                len(words) >= 3 and sum(w in vocabulary for w in words) >= threshold * len(words)
            ):
                good.append(sent)
        if good:
            kept_lines.append(("- " if bullet else "") + " ".join(good))
    return "\n".join(kept_lines).strip()


def clean_answer(text: str) -> str:
    """Strip think-blocks, wrapping fences and labels; drop degenerate repeated lines and loops."""
    text = _THINK.sub("", text).strip()
    m = _FENCE.match(text)
    if m:
        text = m.group(1)
    text = _LEAD.sub("", text)
    lines: list[str] = []
    seen: list[set[str]] = []
    for raw in text.splitlines():
        line = _MARKER.sub("", raw.rstrip())
        if _ECHO.match(line):
            continue
        words = set(re.findall(r"\w{3,}", line.lower()))
        if words and any(len(words & s) >= 0.6 * len(words | s) or len(words & s) >= 0.8 * len(words)
                         for s in seen):
            continue  # a tiny model repeating itself: word for word, nearly, or a piece of a line above
        if words:
            seen.append(words)
        if _BULLET.match(line):
            line = _BULLET.sub("- ", line, count=1)
        lines.append(cut_loops(line))
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def cut_loops(line: str, n: int = 4) -> str:
    """Cut a line where an n-word phrase starts to repeat for the third time."""
    words = line.split()
    seen: dict[tuple[str, ...], int] = {}
    for i in range(len(words) - n + 1):
        gram = tuple(w.lower() for w in words[i : i + n])
        seen[gram] = seen.get(gram, 0) + 1
        if seen[gram] == 3:
            return " ".join(words[:i]).rstrip(",;: ") + " …"
    return line


@dataclass(frozen=True)
class CitationCheck:
    text: str
    kept: int
    removed: int
    complete: int = 0  # kept citations that name both a section and a page


def check_citations(text: str, paper: Paper) -> CitationCheck:
    """Keep citations whose pages exist and whose section exists; remove the others."""
    kept = removed = complete = 0

    def repl(m: re.Match) -> str:
        nonlocal kept, removed, complete
        body = m.group("body")
        page_part = re.search(r"(?:pp?\.?|pages?)\s?(\d+)(?:\s?[–-]\s?(\d+))?", body)
        where = body[: page_part.start()] if page_part else body
        where = where.strip(" ,;")
        section_ok = not where or paper.find_section(where.rstrip(".")) is not None
        pages = [int(p) for p in page_part.groups() if p] if page_part else []
        pages_ok = all(1 <= p <= paper.page_count for p in pages)
        if section_ok and pages_ok:
            kept += 1
            complete += bool(where and pages)
            return _canonical(where, _within_section(paper, where, pages))
        removed += 1
        return ""

    out = CITATION.sub(repl, text)
    out = re.sub(r"[ \t]+([.,;])", r"\1", out)
    return CitationCheck(re.sub(r"[ \t]{2,}", " ", out).strip(), kept, removed, complete)


def _within_section(paper: Paper, where: str, pages: list[int]) -> list[int]:
    """A cited page must lie in the cited section: "(§4, p. 5)" where §4 spans pp. 6–7 becomes
    "(§4, pp. 6–7)", the section being what the claim rests on."""
    if not where or not pages:
        return pages
    want = where.rstrip(".").strip().lstrip("§").strip().lower()
    # every section the label may mean ("Conclusions" can be the abstract's part and a section of its own)
    named = [sec for sec in paper.sections if (sec.number or "").lower() == want or sec.title.lower() == want]
    if not named or any(pages[0] <= sec.last_page and pages[-1] >= sec.first_page for sec in named):
        return pages  # at least in part where a section of that name is
    return [named[0].first_page, named[0].last_page]


def _canonical(where: str, pages: list[int]) -> str:
    """One citation style whatever the model wrote: "(§3.2, p. 5)", "(§3, pp. 4–6)", "(p. 2)"."""
    where = re.sub(r"^§\s+", "§", where.rstrip(".").strip())
    page = "" if not pages else f"p. {pages[0]}" if len(pages) == 1 or pages[0] == pages[-1] else f"pp. {pages[0]}–{pages[-1]}"
    return "(" + ", ".join(x for x in (where, page) if x) + ")"


def safe_markdown(text: str) -> str:
    """Make model text safe inside a note: no headings, rules or front-matter markers of its own,
    and no unbalanced code fence that would swallow the rest of the note."""
    out: list[str] = []
    for line in text.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("#"):
            line = line.replace("#", r"\#", 1)
        elif re.fullmatch(r"(-{3,}|={3,}|\*{3,}|_{3,})\s*", stripped):
            line = "\\" + stripped
        out.append(line)
    text = "\n".join(out)
    if len(re.findall(r"^\s*(```|~~~)", text, re.M)) % 2:
        text = re.sub(r"^(\s*)(```|~~~)", r"\1\\\2", text, flags=re.M)
    return text
