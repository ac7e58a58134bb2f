"""Follow-up questions about one paper: routed to a page, a section, or the best-matching sentences."""

from __future__ import annotations

import re
from dataclasses import dataclass

from paper_reader.types import SKIP_KINDS, Paper, Section, Word
from paper_reader.writing.profile import Profile
from paper_reader.writing.evidence import sentences
from paper_reader.models.llm import LLM
from paper_reader.writing.parse import check_citations, clean_answer, content_words
from paper_reader.writing.prompts import render

_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九十", start=0)}
_PAGE = re.compile(r"\bpage\s+(\d+)\b|\bp\.\s?(\d+)\b|第\s*([\d一二三四五六七八九十]+)\s*页", re.I)
_SECTION = re.compile(
    r"\b(?:section|chapter|sec\.|§)\s*([A-Z]?\d+(?:\.\d+)*|[A-Z](?:\.\d+)*)\b|§\s*(\d+(?:\.\d+)*)"
    r"|第\s*([\d一二三四五六七八九十]+)\s*[章节]", re.I)
_NAMED = re.compile(r"(?:the\s+)?[\"“']?([A-Za-z][\w \-&:]{2,60}?)[\"”']?\s+section\b"
                    r"|section\s+(?:called|named|titled)\s+[\"“']?([^\"”']+)", re.I)


def _number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _CN_DIGITS.get(text[1:], 0)
    if text.endswith("十"):
        return _CN_DIGITS.get(text[0], 0) * 10
    if "十" in text:
        tens, ones = text.split("十")
        return _CN_DIGITS.get(tens, 0) * 10 + _CN_DIGITS.get(ones, 0)
    return _CN_DIGITS.get(text, 0)


class RouteKind(Word):
    """Where a question goes: a page, a section, its stored digest, the best sentences, or nowhere."""

    PAGE = "page"
    SECTION = "section"
    DIGEST = "digest"
    GENERAL = "general"
    MISSING = "missing"


@dataclass(frozen=True)
class Route:
    """What part of the paper a question is about."""

    kind: RouteKind
    material: list[tuple[str, str]]  # (citation, text) to answer from
    reply: str = ""  # for "missing" and "digest": the answer itself, no model call needed


_SUMMARY = re.compile(r"summar|overview|gist|in short|tl;?dr|概括|总结|摘要|讲了什么|讲什么|主要内容|说了什么", re.I)
_DIGEST_BLOCK = re.compile(r"^### (?P<heading>.+?)\n<!-- sections: (?P<labels>.*?) -->\n"
                           r"(?P<text>.*?)(?=^### |^</details>|\Z)", re.S | re.M)


def note_digests(note_text: str) -> list[tuple[list[str], str, str]]:
    """The note's "Section by section" digests as (section labels, heading, text)."""
    m = re.search(r"<details>\s*<summary>[^<]*</summary>(.*?)</details>", note_text, re.S)
    if not m:
        return []
    blocks = _DIGEST_BLOCK.finditer(m.group(1) + "\n")
    return [([x.strip() for x in b["labels"].split(";") if x.strip()], b["heading"].strip(), b["text"].strip())
            for b in blocks]


def _stored(paper: Paper, sec: Section, digests: list[tuple[list[str], str, str]]) -> list[tuple[str, str]]:
    """The stored digests that cover a section or its subsections, as (heading, text)."""
    start = paper.sections.index(sec)
    family = {s.label for s in [sec, *paper.sections[start + 1:][: _subtree_len(paper, start)]]}
    return [(heading, text) for labels, heading, text in digests if family & set(labels)]


def route(question: str, paper: Paper, budget_chars: int = 12000,
          digests: list[tuple[list[str], str, str]] | None = None) -> Route:
    """Route a question to the exact page or section it names, or to the most relevant sentences.

    With the note's stored section digests, "summarize section 4" is answered by section 4's digest.
    """
    m = _PAGE.search(question)
    if m:
        n = _number(next(g for g in m.groups() if g))
        if not 1 <= n <= paper.page_count:
            return Route(RouteKind.MISSING, [], f"The paper has no page {n}: it has pages 1–{paper.page_count}.")
        return Route(RouteKind.PAGE, [(f"(p. {n})", paper.pages[n - 1][:budget_chars])])
    m = _SECTION.search(question)
    if m:
        label = next(g for g in m.groups() if g)
        label = str(_number(label)) if not re.search(r"[\dA-Z]", label) else label
        sec = paper.find_section(label)
        if sec is None:
            return Route(RouteKind.MISSING, [], f"The paper has no section {label}. Its sections are: {_listing(paper)}.")
        return _section_route(question, paper, sec, budget_chars, digests)
    m = _NAMED.search(question)
    if m:
        name = (m.group(1) or m.group(2)).strip().lower()
        name = re.sub(r"^(summari[sz]e|explain|describe|what is in|what does)\s+(the\s+)?", "", name)
        sec = next((s for s in paper.sections if s.title.lower() == name), None) or next(
            (s for s in paper.sections if name in s.title.lower()), None)
        if sec is None:
            return Route(RouteKind.MISSING, [], f"The paper has no section called '{name}'. Its sections are: {_listing(paper)}.")
        return _section_route(question, paper, sec, budget_chars, digests)
    sec = _bare_section(question, paper)  # "summarize the conclusion": a section named without the word
    if sec is not None:
        return _section_route(question, paper, sec, budget_chars, digests)
    return Route(RouteKind.GENERAL, _best_sentences(question, paper, budget_chars))


_BARE = re.compile(r"^\s*(?:please\s+)?(?:summari[sz]e|explain|describe|what is in|what's in)\s+(?:the\s+)?"
                   r"(?P<name>[\w' -]{3,60}?)\s*[?.!]*\s*$", re.I)


def _bare_section(question: str, paper: Paper) -> Section | None:
    """The section a request names by its title or kind ("the conclusion", "the related work")."""
    from paper_reader.reading.sections import kind_of

    m = _BARE.match(question)
    if not m:
        return None
    name = m.group("name").strip().lower()
    by_title = next((s for s in paper.sections if s.printed and s.title.lower() == name), None)
    if by_title is not None:
        return by_title
    kind = kind_of(name)
    if kind in ("other", "front") or len(name.split()) > 3:
        return None  # "explain the attention mechanism" is a question about the paper, not a section
    return next((s for s in paper.sections if s.kind == kind and s.level == 1), None)


def _section_route(question: str, paper: Paper, sec: Section, budget: int, digests) -> Route:
    """A section's own text; a summary request with a stored digest is answered by the digest itself."""
    stored = _stored(paper, sec, digests or [])
    if stored and _SUMMARY.search(question):
        text = "\n\n".join(f"**{heading}**\n\n{body}" for heading, body in stored)
        return Route(RouteKind.DIGEST, [(f"({sec.label}, {sec.pages})", text)], text)
    material = _section_material(paper, sec, budget)
    if stored:  # the digest first: it says what the section is about in a few lines
        material = [(f"({sec.label}, {sec.pages})", body) for _, body in stored] + material
    return Route(RouteKind.SECTION, material)


def _listing(paper: Paper) -> str:
    return "; ".join(f"{s.number + ' ' if s.number else ''}{s.title} ({s.pages})"
                     for s in paper.sections if s.level == 1 and s.kind != "front")


def _section_material(paper: Paper, sec: Section, budget: int) -> list[tuple[str, str]]:
    """A section and its subsections, page by page, cited."""
    start = paper.sections.index(sec)
    family = [sec] + [s for s in paper.sections[start + 1:]][: _subtree_len(paper, start)]
    out, used = [], 0
    for s in family:
        for page, text in s.spans or [(s.first_page, s.text)]:
            if used + len(text) > budget:
                text = text[: max(0, budget - used)]
            if text:
                out.append((f"({s.label}, p. {page})", text))
                used += len(text)
    return out


def _subtree_len(paper: Paper, start: int) -> int:
    level, n = paper.sections[start].level, 0
    for s in paper.sections[start + 1:]:
        if s.level <= level:
            break
        n += 1
    return n


def _stems(text: str) -> set[str]:
    return {w[:6] for w in content_words(text)}  # "proposed" finds "propose", "models" "model"


def _best_sentences(question: str, paper: Paper, budget: int) -> list[tuple[str, str]]:
    """Sentences sharing the most words with the question; with none, the paper's opening."""
    words = _stems(question)
    scored = []
    for order, sent in enumerate(s for sec in paper.sections if sec.kind not in SKIP_KINDS
                                 for s in sentences(sec)):
        score = len(words & _stems(sent.text))
        if score or order < 12:  # the abstract and introduction answer what nothing else matches
            scored.append((score + (0.5 if order < 12 else 0), sent))
    scored.sort(key=lambda t: -t[0])
    out, used = [], 0
    for _, sent in scored:
        if used + len(sent.text) > budget:
            break
        out.append((sent.cite, sent.text))
        used += len(sent.text)
    return out


def answer_question(paper: Paper, question: str, model: LLM, lang: str = "en",
                    history: list[dict] | None = None, note: str | None = None) -> str:
    """Answer one question from the part of the paper it is about, with checked citations.

    `note` is the paper's note, if any: its stored section digests answer summary requests.
    """
    r = route(question, paper, budget_chars=Profile.of(model).ask_material_chars,
              digests=note_digests(note) if note else None)
    if r.kind in ("missing", "digest"):
        return r.reply
    if not r.material:
        return "Nothing in the paper's text matches this question."
    user = render("ask.j2", title=paper.title, material=r.material, question=question, lang=lang,
                  small=model.small).strip()
    messages = [{"role": "system", "content": render("system.j2", small=model.small, lang=lang).strip()},
                *(history or []), {"role": "user", "content": user}]
    text = clean_answer(model.complete(messages, Profile.of(model).ask_answer_tokens).text)
    checked = check_citations(text, paper)
    if checked.complete == 0:
        cites = list(dict.fromkeys(c for c, _ in r.material))[:3]
        return f"{checked.text}\n\nSources: {', '.join(cites)}"
    return checked.text


QA_HEADINGS = {"en": "# Q&A", "zh": "# 疑难解答"}


_FENCE_OPEN = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^[ \t]{0,3}(#{1,6})(?=[ \t]|$)")
_RULER = re.compile(r"^[ \t]{0,3}(?:(?:[-*_=][ \t]*){3,}|[-=]+)[ \t]*$")


def quote_answer(answer: str) -> str:
    """A model's answer made safe inside a Q&A entry: it cannot end the entry or the note's structure.

    Headings become level 3 or deeper (under the entry's '## question'), thematic breaks and setext
    underlines ('---', '===') are escaped, HTML comments cannot open, and an unclosed code fence is
    closed (with a fence longer than any inside it).
    """
    out, fence = [], ""
    for line in answer.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        mark = _FENCE_OPEN.match(line)
        if fence:
            if mark and mark.group(1)[0] == fence[0] and len(mark.group(1)) >= len(fence) \
                    and not line.strip()[len(mark.group(1)):].strip():
                fence = ""
            out.append(line)
            continue
        if mark:
            fence = mark.group(1)
            out.append(line)
            continue
        heading = _ATX.match(line)
        if heading:
            level = max(3, len(heading.group(1)) + 2)
            line = ("#" * min(level, 6)) + line[heading.end():] if level <= 6 else "\\" + line.lstrip()
        elif _RULER.match(line):
            line = "\\" + line.lstrip()
        line = line.replace("<!--", "&lt;!--")
        out.append(line)
    if fence:
        out.append(fence[0] * len(fence))
    return "\n".join(out).strip()


def append_qa(note: str, question: str, answer: str, lang: str = "en") -> str:
    """Add a question and its answer to the note's Q&A section (created at the end if missing)."""
    lines = note.rstrip("\n").split("\n")
    heading = next((i for i, ln in enumerate(lines) if ln.strip() in QA_HEADINGS.values()), None)
    asked = " ".join(question.split()).replace("<!--", "&lt;!--")  # one line: a heading
    entry = ["", f"## {asked}", "", quote_answer(answer)]
    if heading is None:
        return "\n".join(lines + ["", QA_HEADINGS.get(lang, "# Q&A")] + entry) + "\n"
    end = next((i for i in range(heading + 1, len(lines))
                if re.match(r"# (?!#)", lines[i]) and lines[i].strip() not in QA_HEADINGS.values()), len(lines))
    while end > heading + 1 and not lines[end - 1].strip():
        end -= 1
    return "\n".join(lines[:end] + entry + ([""] + lines[end:] if end < len(lines) else [])) + "\n"


def note_source(note_text: str) -> str | None:
    """The paper a note was made from (its front matter's `source`, when it is text)."""
    from paper_reader.library.merge import front_matter_data

    source = front_matter_data(note_text).get("source")
    return source.strip() or None if isinstance(source, str) else None
