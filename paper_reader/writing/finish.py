"""An answer made fit to keep: cleaned, held to its material (small models), cited, figures checked."""

from __future__ import annotations

import re

from paper_reader.types import Paper
from paper_reader.errors import ModelError
from paper_reader.writing.evidence import pick_evidence, sentences, split_sentences
from paper_reader.writing.grounding import check_numbers, ground_related, supported
from paper_reader.models.llm import LLM
from paper_reader.writing.material import Material, wanted
from paper_reader.writing.profile import Profile
from paper_reader.writing.parse import check_citations, clean_answer
from paper_reader.types import SKIP_KINDS, Answer, Question


def finish(paper: Paper, q: Question, text: str, digests: list, model: LLM, material: Material,
           numbers: dict, cited: str, whole: bool = False) -> Answer:
    """Clean the answer, check its citations and figures, and make sure it cites what it rests on.

    With a tiny model every sentence must be supported by one place in the material it was given,
    or it is replaced by that place's own sentence, cited; if nothing is left, the answer is the
    paper's own most relevant sentences. An answer about related papers keeps only papers of the
    bibliography.
    """
    cleaned = clean_answer(text)
    dropped = replaced = 0
    if "references" in q.sources:
        related = ground_related(cleaned, paper.references, paper)
        dropped = related.dropped
        cleaned = related.text or cited or (_NO_MATCH if paper.references else _NO_REFERENCES)
    elif Profile.of(model).sentence_support:
        cleaned, replaced = supported(cleaned, _support_sentences(material))
        if len(re.findall(r"[A-Za-z]+|[\u4e00-\u9fff]", cleaned)) < 12:  # a fragment says nothing
            cleaned, replaced = _extractive(paper, q), 0
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
    return Answer(q, body, kept, checked.removed, count, len(flagged), dropped, whole,
                  material.left_out, replaced)


def _support_sentences(material: Material) -> list[tuple[str, str]]:
    """The paper's sentences an answer was given, in order, as (text, citation)."""
    out = [(s.text, s.cite) for s in material.evidence]
    chunks = [*material.passages, *(c for d in material.digests for c in d.chunks)]
    for c in chunks:
        for page, text in re.findall(r"\[p\. (\d+)\] ((?:(?!\[p\. \d+\]).)*)", c.text, re.S):
            out += [(s, f"({c.section.label}, p. {page})") for s in split_sentences(text)]
    return out


_NO_REFERENCES = "- The paper's reference list could not be read, so no related papers are named here."
_NO_MATCH = "- No paper named for this answer matched an entry of the paper's bibliography."


def _extractive(paper: Paper, q: Question, limit: int = 3) -> str:
    """The paper's own words as the answer: its most relevant sentences, each cited."""
    picked = pick_evidence(paper, q.sources, q.cues, limit=limit)
    if not picked:  # no cue phrase anywhere: the opening sentences of its sections
        chosen = [s for s in paper.sections if wanted(s, q.sources) and s.text] or paper.sections
        picked = [sent for sec in chosen[:2] for sent in sentences(sec)[:2]][:limit]
    return "\n".join(f"- {s.text} {s.cite}" for s in picked)


def _sources_for(paper: Paper, q: Question, digests: list) -> list[str]:
    """Citations for an answer that gave none: its evidence's sections, else the sections it drew on."""
    cites: list[str] = []
    for sent in pick_evidence(paper, q.sources, q.cues, limit=6):
        if sent.cite not in cites:
            cites.append(sent.cite)
    drawn = [c.section for d in digests for c in d.chunks] or [
        s for s in paper.sections if s.kind not in SKIP_KINDS and s.text.strip()]
    unique = list({id(sec): sec for sec in drawn}.values())
    for sec in sorted(unique, key=lambda s: not wanted(s, q.sources)):
        cite = f"({sec.label}, p. {sec.first_page})"
        if cite not in cites:
            cites.append(cite)
    return cites[:3]
