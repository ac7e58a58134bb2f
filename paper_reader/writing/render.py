"""Notes -> Markdown (jinja2), file names safe on every OS, and atomic writes."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import yaml

from paper_reader import __version__
from paper_reader.errors import OutputError
from paper_reader.files import atomic_write
from paper_reader.writing.parse import safe_markdown
from paper_reader.types import Notes
from paper_reader.writing.prompts import render, render_file

NOTE_TEMPLATE = "notes.md.j2"
# Windows device names, reserved with any extension: COM0-9 and LPT0-9 include the superscript digits
_RESERVED = {"con", "prn", "aux", "nul", "conin$", "conout$", "clock$",
             *(f"{port}{d}" for port in ("com", "lpt") for d in "0123456789\u00b9\u00b2\u00b3")}


def front_matter(notes: Notes) -> dict:
    """The YAML header of a note: what the paper is and how the note was made."""
    p, u = notes.paper, notes.usage
    data = {
        "title": p.title,
        "authors": p.authors,
        "year": p.year,
        "source": p.source,
        "doi": p.doi,
        "tags": list(p.tags),
        "arxiv": p.arxiv_id,
        "model": notes.model,
        "template": notes.questions.name,
        "language": notes.lang,
        "generated": notes.generated,
        "generator": f"paper-reader {__version__}",
        "pages": p.page_count,
        "sections": len(p.sections),
        "references": len(p.references),
        "calls": u.calls,
        "cached_calls": u.cached,
        "tokens": {"input": u.input_tokens, "cached_input": u.cached_input_tokens, "output": u.output_tokens},
        "cost_usd": round(u.cost, 6),
        "citations": {
            "kept": sum(a.citations_kept for a in notes.answers),
            "removed": sum(a.citations_removed for a in notes.answers),
        },
        "numbers": {
            "checked": sum(a.numbers_checked for a in notes.answers),
            "flagged": sum(a.numbers_flagged for a in notes.answers),
        },
        "related_papers_dropped": sum(a.related_dropped for a in notes.answers),
        "answer_material": _material(notes),
    }
    return {k: v for k, v in data.items() if v not in (None, [], "")}


def _material(notes: Notes) -> dict:
    """How much of the paper each answer saw: the whole paper, or what was left out of its window."""
    whole = sum(a.whole_paper for a in notes.answers)
    data: dict = {"whole_paper": whole, "window_filled": len(notes.answers) - whole}
    left = {a.question.id: list(a.left_out) for a in notes.answers if a.left_out}
    if left:
        data["left_out"] = left
    replaced = sum(a.sentences_replaced for a in notes.answers)
    if replaced:
        data["sentences_replaced"] = replaced
    return data


def section_digests(notes: Notes) -> list[dict]:
    """The section digests for the note's "Section by section" part: heading, pages, text."""
    out = []
    for d in notes.digests:
        if not d.text.strip():
            continue
        first, last = d.chunks[0], d.chunks[-1]
        sec = first.section
        heading = sec.label + (f" {sec.title}" if sec.label != sec.title else "")
        if len({id(c.section) for c in d.chunks}) > 1:
            tail = last.section
            heading += f" – {tail.label}" + (f" {tail.title}" if tail.label != tail.title else "")
        elif first.parts > 1:
            heading += f" (part {first.part} of {first.parts})"
        pages = f"p. {first.first_page}" if first.first_page == last.last_page else \
            f"pp. {first.first_page}–{last.last_page}"
        text = re.sub(r"</?details", lambda m: m.group(0).replace("<", "&lt;"), safe_markdown(d.text), flags=re.I)
        labels = "; ".join(dict.fromkeys(c.section.label.replace("--", "- -") for c in d.chunks))
        out.append({"heading": heading, "pages": pages, "text": text, "labels": labels})
    return out


def render_notes(notes: Notes, template: str | Path | None = None,
                 images: list[tuple[str, str]] | None = None) -> str:
    """The note as Markdown. Paper text and model output are values, never template source.

    `images` are (label, relative path) pairs shown at the top, as the reference notes do.
    """
    values = {
        "images": [(label, path.replace(" ", "%20")) for label, path in images or []],
        "front_matter": yaml.safe_dump(front_matter(notes), allow_unicode=True, sort_keys=False, width=100),
        "answers": [{"question": a.question.ask(notes.lang), "id": a.question.id,
                     "text": safe_markdown(a.text)} for a in notes.answers],
        "sections": section_digests(notes),
        "section_heading": "逐节摘要" if notes.lang == "zh" else "Section by section",
        "paper": notes.paper,
        "notes": notes,
    }
    text = render_file(template, **values) if template else render(NOTE_TEMPLATE, **values)
    return text.rstrip() + "\n"


def note_filename(title: str, max_len: int = 120) -> str:
    """A file name from the title, safe on Windows, macOS and Linux: 'Attention Is All You Need.md'."""
    name = unicodedata.normalize("NFC", title)
    # bidi overrides and other invisible format characters (U+202E, U+200E, U+2066-2069, ...) can
    # disguise a name ("evil\u202efdp.md"): removed; other control and separator characters are spaces
    name = "".join(c for c in name if unicodedata.category(c) != "Cf")
    name = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in name)
    name = re.sub(r'[<>:"/\\|?*\x00-\x1f\x7f]', " ", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    if len(name.encode("utf-8")) > max_len:
        name = name.encode("utf-8")[:max_len].decode("utf-8", "ignore").rsplit(" ", 1)[0].strip(" .")
    if not name or name.lower().split(".")[0].rstrip(" ") in _RESERVED:
        name = f"paper {name}".strip()
    return f"{name}.md"


def write_atomic(path: Path, text: str, force: bool = False) -> Path:
    """Write the whole file or nothing; refuse to replace an existing note unless forced."""
    if path.exists() and not force:
        raise OutputError(f"{path} already exists. Pass --force to replace it.")
    try:
        return atomic_write(path, text.encode("utf-8"))
    except OSError as exc:
        raise OutputError(f"Cannot write {path}: {exc.strerror or exc}.") from exc


# A citation as _canonical writes it: "(§3.2, p. 5)", "(Results, pp. 4–6)", "(p. 2)"
_CITATION = re.compile(r"(?<!\[)\((?P<label>(?:[^()\[\]\n]{1,80}?, )?pp?\. (?P<page>\d+)(?:–\d+)?)\)")


def pdf_link(paper, note_dir: Path | None) -> str | None:
    """Where a citation's page can be opened: the PDF relative to the note, or its arXiv/PDF URL."""
    import os
    from urllib.parse import quote

    source = paper.source or ""
    if source.startswith(("http://", "https://")):
        return None if "?" in source else source  # a signed URL was cut from the note: it would not open
    if not paper.local_path:
        return None
    try:
        rel = os.path.relpath(Path(paper.local_path).resolve(), (note_dir or Path(".")).resolve())
    except ValueError:  # another drive (Windows)
        return None
    return quote(Path(rel).as_posix())


def link_citations(markdown: str, link: str | None) -> str:
    """Each "(§4, p. 5)" in the note's body becomes a link to that page ("[(§4, p. 5)](paper.pdf#page=5)"):
    the text stays as it was, clickable where the PDF is known. Front matter and comments are left."""
    if not link:
        return markdown
    head, body = _front(markdown)
    parts = re.split(r"(<!--.*?-->)", body, flags=re.S)
    for i in range(0, len(parts), 2):  # even parts: outside comments
        parts[i] = _CITATION.sub(lambda m: f"[{m.group(0)}]({link}#page={m.group('page')})", parts[i])
    return head + "".join(parts)


def _front(markdown: str) -> tuple[str, str]:
    if markdown.startswith("---\n"):
        end = markdown.find("\n---\n", 4)
        if end != -1:
            return markdown[: end + 5], markdown[end + 5:]
    return "", markdown


def placeholder_notes(questions, lang: str) -> Notes:
    """A note with a few of everything (sections, references, digests, an answer per question),
    to render a user's note template before any model call: what fails on it would fail on the
    real note after all the paid-for calls."""
    from paper_reader.types import Answer, Paper, Reference, Section, Usage
    from paper_reader.writing.evidence import Chunk
    from paper_reader.writing.pipeline import Digest

    sections = [Section(title=title, number=str(i), first_page=i, last_page=i, text="Placeholder text.", kind=kind)
                for i, (title, kind) in enumerate([("Introduction", "introduction"), ("Method", "method"),
                                                   ("Experiments", "experiments")], start=1)]
    paper = Paper(source="placeholder.pdf", title="Placeholder title", authors=["A. Author", "B. Author"], year=2000,
                  abstract="Placeholder abstract.", arxiv_id="2000.00001", doi="10.0000/placeholder",
                  pages=["Placeholder text."] * 3, sections=sections, local_path="placeholder.pdf",
                  references=[Reference(f"A. Author. Paper {i}.", str(i)) for i in (1, 2, 3)], tags=["placeholder"])
    answers = [Answer(question=q, text="- Placeholder answer (§1, p. 1).", citations_kept=1, citations_removed=0)
               for q in questions.questions]
    digests = [Digest(chunks=(Chunk(s, "Placeholder text.", s.first_page, s.last_page),), text="Placeholder digest.")
               for s in sections]
    return Notes(paper=paper, questions=questions, answers=answers, model="placeholder", lang=lang, usage=Usage(),
                 chunks=3, seconds=0.0, digests=digests)


def check_template_renders(template: str | Path, questions, lang: str) -> None:
    """Render the user's note template on a placeholder note (TemplateError if it fails)."""
    from paper_reader.errors import TemplateError

    try:
        render_notes(placeholder_notes(questions, lang), template, [("Page 1", "assets/placeholder/page-1.png")])
    except TemplateError as exc:
        raise TemplateError(f"{str(exc).rstrip('.')} (on a placeholder note, before any model call).") from None
