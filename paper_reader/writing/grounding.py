"""Checks that tie answers to the paper: related papers from its bibliography, numbers from its text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from paper_reader.types import SKIP_KINDS, Paper, Reference, Section

_NUMBER = re.compile(
    r"(?<![\w.§])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(\s?%|\s(?:percent|per cent)\b|\s?[kKMBT]\b|x\b|×)?(?![\w])"
)
_YEAR = re.compile(r"^(19|20)\d\d$")


def _surname(ref: Reference) -> str:
    """The first author's family name: "Ashish Vaswani, ..." / "J. Devlin, ..." / "Vaswani, A. ..."."""
    first = re.split(r",| and |:|\(|\d", ref.text, maxsplit=1)[0]
    names = [w for w in re.findall(r"[A-Z][A-Za-z'’\-\u00C0-\u017F]+", first) if len(w) > 1]
    return names[-1] if names else ""


def _year(ref: Reference) -> str:
    """The publication year: the last year-like number that is not part of an arXiv ID or DOI."""
    text = re.sub(r"\d{4}\.\d{4,5}|10\.\d{4,9}/\S+", " ", ref.text)
    years = re.findall(r"\b((?:19|20)\d\d)[a-z]?\b", text)
    return years[-1] if years else ""


def _title_words(ref: Reference) -> set[str]:
    return {w for w in re.findall(r"[a-z]{5,}", ref.text.lower())}


def mentions(paper: Paper) -> dict[int, list[Section]]:
    """Which sections cite each reference (by index), from "[12]" markers or "Surname ... year"."""
    out: dict[int, list[Section]] = {}
    numeric = {r.key: i for i, r in enumerate(paper.references) if r.key and r.key.isdigit()}
    for sec in paper.sections:
        if sec.kind in SKIP_KINDS:
            continue
        cited: set[int] = set()
        for group in re.findall(r"\[(\d{1,3}(?:\s*[,–-]\s*\d{1,3})*)\]", sec.text):
            for a, b in re.findall(r"(\d+)(?:\s*[–-]\s*(\d+))?", group):
                for n in range(int(a), int(b or a) + 1) if int(b or a) - int(a) < 30 else [int(a)]:
                    if str(n) in numeric:
                        cited.add(numeric[str(n)])
        for i, ref in enumerate(paper.references):
            name, year = _surname(ref), _year(ref)
            if name and year and re.search(rf"\b{re.escape(name)}\b[^()\[\]]{{0,40}}{year}", sec.text):
                cited.add(i)
        for i in cited:
            out.setdefault(i, []).append(sec)
    return out


def match_reference(text: str, refs: list[Reference]) -> int | None:
    """The bibliography entry a line of an answer names: its [n] in the list, its author and year,
    or most of its title's words. None when it names no entry (an invented paper)."""
    m = re.search(r"\[(\d{1,3})\]", text)
    if m and 1 <= int(m.group(1)) <= len(refs):
        return int(m.group(1)) - 1
    low = text.lower()
    best, best_score = None, 0.0
    for i, ref in enumerate(refs):
        name, year = _surname(ref), _year(ref)
        if name and year and name.lower() in low and year in low:
            return i
        words = _title_words(ref)
        if len(words) >= 3:
            score = sum(w in low for w in words) / len(words)
            if score > best_score:
                best, best_score = i, score
    return best if best_score >= 0.5 else None


def link(ref: Reference) -> str:
    if ref.arxiv:
        return f"[arXiv:{ref.arxiv}](https://arxiv.org/abs/{ref.arxiv})"
    if ref.doi:
        return f"[doi:{ref.doi}](https://doi.org/{ref.doi})"
    return ""


@dataclass(frozen=True)
class Related:
    text: str
    kept: int
    dropped: int


def ground_related(answer: str, refs: list[Reference], paper: Paper) -> Related:
    """Keep only the lines of a related-papers answer that name a bibliography entry; show the entry
    and its link. `refs` is the list as numbered in the prompt."""
    lines, kept, dropped = [], 0, 0
    for line in answer.splitlines():
        if not line.strip():
            continue
        i = match_reference(line, refs)
        if i is None:
            dropped += 1
            continue
        kept += 1
        ref = refs[i]
        body = re.sub(r"\s*\[\d{1,3}\]", "", line.lstrip("- ").strip())
        extra = " ".join(x for x in (f"— {ref.excerpt(160)}", link(ref)) if x)
        lines.append(f"- {body} {extra}")
    return Related("\n".join(lines), kept, dropped)


_RELATION = {"method": "builds on", "experiments": "compared against", "related_work": "related work",
             "introduction": "background", "discussion": "discussed"}


def related_from_citations(paper: Paper, limit: int = 6) -> str:
    """The entries the paper itself cites most, with where and how it cites them (no model needed)."""
    cited = mentions(paper)
    ranked = sorted(cited.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:limit]
    lines = []
    for i, sections in ranked:
        ref = paper.references[i]
        kind = next((s.kind for s in sections if s.kind in _RELATION), "")
        where = " ".join(dict.fromkeys(f"({s.label}, p. {s.first_page})" for s in sections[:2]))
        relation = _RELATION.get(kind, "cited")
        lines.append(f"- **{relation.capitalize()}**: {ref.excerpt(160)} {where} {link(ref)}".rstrip())
    return "\n".join(lines)


def _norm(num: str) -> str:
    return num.replace(",", "")


_UNITS = {"%": "%", "percent": "%", "per cent": "%", "x": "×", "×": "×", "k": "k", "K": "k"}


def _unit(raw: str | None) -> str:
    raw = (raw or "").strip()
    return _UNITS.get(raw, raw)


def paper_numbers(paper: Paper) -> dict[str, set[str]]:
    """Every number written in the paper (commas removed: "1,000" -> "1000") with the units it is
    written with ("%" for "30%", "30 %" and "30 percent"; "" for a bare number)."""
    text = " ".join(paper.pages)
    known: dict[str, set[str]] = {}
    for m in _NUMBER.finditer(text):
        known.setdefault(_norm(m.group(1)), set()).add(_unit(m.group(2)))
    return known


def figures(text: str) -> list[tuple[str, str, str]]:
    """The figures a text quotes, as (as written, value, unit); years, citations, links and small
    counts (ten or less, no unit) are not figures."""
    body = re.sub(r"\([^()]*pp?\.\s?\d+[^()]*\)|§[\w.]+|\[[^\]]*\]\([^)]*\)|\[\d+\]", " ", text)
    out = []
    for m in _NUMBER.finditer(body):
        raw, value, unit = m.group(1), _norm(m.group(1)), _unit(m.group(2))
        if _YEAR.match(value) or (not unit and "." not in value and int(float(value)) <= 10):
            continue
        out.append((raw + (m.group(2) or ""), value, unit))
    return out


def known_figure(value: str, unit: str, known: dict[str, set[str]] | set[str]) -> bool:
    """Whether the paper has this figure in this form: "30%" needs "30%", "30 %" or "30 percent";
    "0.744" needs "0.744"; a bare number is found under any unit."""
    units = known.get(value) if isinstance(known, dict) else ({""} if value in known else None)
    return units is not None and (not unit or unit in units)


def check_numbers(answer: str, known: dict[str, set[str]] | set[str]) -> tuple[int, list[str]]:
    """How many figures an answer quotes, and those that appear nowhere in the paper in that form."""
    found = figures(answer)
    flagged: list[str] = []
    for shown, value, unit in found:
        if not known_figure(value, unit, known) and shown not in flagged:
            flagged.append(shown)
    return len(found), flagged


def supported(answer: str, source: list[tuple[str, str]], threshold: float = 0.6) -> tuple[str, int]:
    """Keep each sentence of an answer that one place of its source supports; replace the others.

    `source` is the material the model was given, in order, as (sentence, citation). A sentence is
    supported when one source sentence, or two adjacent ones, hold most of its content words and
    all its figures. An unsupported sentence is replaced by the source sentence closest to it,
    verbatim and cited, or dropped when nothing is close. Returns the text and how many were replaced.
    """
    from paper_reader.writing.evidence import split_sentences
    from paper_reader.writing.parse import content_words

    prepared = [(set(content_words(t)), figures(t), t, c) for t, c in source]
    lines, used, replaced = [], set(), 0
    for line in answer.splitlines():
        bullet = line.lstrip().startswith(("- ", "* "))
        body = line.lstrip()[2:] if bullet else line
        kept: list[str] = []
        for sent in split_sentences(body):
            plain = re.sub(r"\([^()]*\bpp?\.\s?\d+[^()]*\)|\*\*", " ", sent)
            words, figs = set(content_words(plain)), figures(plain)
            if re.search(r"[\u4e00-\u9fff]", sent) and not words:  # no word boundaries to check
                if all(any(_covers(f, p[1]) for p in prepared) for f in figs):
                    kept.append(sent)
                continue
            best, best_score = None, 0.0
            for i, (w, f, _, _) in enumerate(prepared):
                for j in (i, i + 1) if i + 1 < len(prepared) else (i,):
                    pool = w | prepared[j][0]
                    score = len(words & pool) / len(words) if words else 0.0
                    ok = all(_covers(x, f + prepared[j][1]) for x in figs)
                    if len(words) >= 3 and score >= threshold and ok:
                        best, best_score = None, 2.0
                        break
                    single = len(words & w) / len(words) if words else 0.0
                    if single > best_score:
                        best, best_score = i, single
                if best_score == 2.0:
                    break
            if best_score == 2.0:
                kept.append(sent)
            elif best is not None and len(words) >= 3 and best_score >= 0.3 and best not in used:
                used.add(best)
                replaced += 1
                lines.append(f"- {prepared[best][2]} {prepared[best][3]}")
        if kept:
            lines.append(("- " if bullet else "") + " ".join(kept))
    return "\n".join(lines).strip(), replaced


def _covers(fig: tuple[str, str, str], pool: list[tuple[str, str, str]]) -> bool:
    _, value, unit = fig
    return any(v == value and (not unit or u == unit) for _, v, u in pool)
