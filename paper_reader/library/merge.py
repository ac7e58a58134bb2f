"""Hand edits survive regeneration: front matter, user-owned sections, a hash of the generated part."""

from __future__ import annotations

import hashlib
import re

import yaml

from paper_reader import plainyaml
from paper_reader.errors import RepoError  # raised here; callers may import it from errors

_FRONT = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S | re.M)
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*)$")  # its closing #s are cut by _heading_text: linear on any line
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
_NUMBERED = re.compile(r"^(\d+)\s*[.、)．]")  # "# 1. What is ..." and "# 1、这篇论文 ..."
_SHA_LINE = re.compile(r"^generated_sha256:[^\r\n]*\r?\n", re.M)
_PARTS_LINE = re.compile(r"^generated_parts:[^\r\n]*\r?\n", re.M)
_PARTS_VALUE = re.compile(r"^generated_parts:[ \t]*['\"]?([^'\"\r\n]*)", re.M)
_SHA_VALUE = re.compile(r"^generated_sha256:[ \t]*['\"]?([0-9a-fA-F]{64})\b", re.M)
_GENERATOR = re.compile(r"^generator:[ \t]*['\"]?paper-reader\b", re.M)
_MY_NOTES = {"mynotes", "我的笔记"}
_QA = {"q&a", "疑难解答"}
# Keys render.front_matter writes; any other key in an old note (tags, status, ...) is the user's.
_GENERATED_KEYS = {
    "title", "authors", "year", "source", "arxiv", "doi", "model", "template", "language", "generated",
    "generator", "pages", "sections", "references", "calls", "cached_calls", "tokens", "cost_usd",
    "citations", "numbers", "related_papers_dropped", "generated_sha256", "generated_parts", "answer_material",  # keep in step with render.front_matter
}


def split_front_matter(text: str) -> tuple[str, str]:
    """(header with its --- delimiters, body); the header is "" when the note has none."""
    match = _FRONT.match(text)
    return (match.group(0), text[match.end():]) if match else ("", text)


def front_matter_data(text: str) -> dict:
    """The front matter as a dict; {} when absent or malformed (never raises)."""
    match = _FRONT.match(text)
    if not match:
        return {}
    for loader in (plainyaml.SafeLoader, plainyaml.BaseLoader):  # BaseLoader: values as text, 2023-02-30 is fine
        try:
            data = plainyaml.load(match.group(1), loader)
            return data if isinstance(data, dict) else {}
        except plainyaml.BadValue:
            continue
        except yaml.YAMLError:
            return {}
    return {}


def _heading_text(text: str) -> str:
    """An ATX heading's text without its optional closing sequence ("## Title ##" -> "Title")."""
    text = text.rstrip(" \t")
    bare = text.rstrip("#")
    if bare != text and (not bare or bare[-1] in " \t"):
        text = bare
    return text.strip()


def headings(body: str) -> list[tuple[int, int, str]]:
    """(line number, level, text) of each ATX heading outside fenced code blocks."""
    out, fence = [], ""
    for number, line in enumerate(body.splitlines()):
        mark = _FENCE.match(line)
        if mark and not fence:
            fence = mark.group(1)
        elif mark and mark.group(1).startswith(fence) and not line.strip()[len(mark.group(1)):]:
            fence = ""
        elif not fence and (heading := _HEADING.match(line)):
            out.append((number, len(heading.group(1)), _heading_text(heading.group(2))))
    return out


def section_kind(level: int, text: str) -> str | None:
    """'notes' for a My notes heading, 'qa' for a top-level Q&A heading, else None."""
    key = re.sub(r"\s+", "", text).casefold().rstrip(":：")
    if key in _MY_NOTES:
        return "notes"
    return "qa" if level == 1 and key in _QA else None


def _number(text: str) -> int | None:
    match = _NUMBERED.match(text)
    return int(match.group(1)) if match else None


def is_numbered(text: str) -> bool:
    """Whether a heading is one of the generated numbered questions ("1. What is ...")."""
    return _number(text) is not None


def _ends(kind: str, level: int, heading: tuple[int, int, str]) -> bool:
    _, h_level, h_text = heading
    if kind == "notes":
        return h_level <= level
    return h_level == 1 and (is_numbered(h_text) or section_kind(1, h_text) is not None)


def user_spans(body: str) -> list[tuple[str, int, int, int | None]]:
    """(kind, first line, end line, number of the question it follows) of each user-owned section."""
    heads, total = headings(body), len(body.splitlines())
    spans, question, i = [], None, 0
    while i < len(heads):
        line, level, text = heads[i]
        kind = section_kind(level, text)
        if kind is None:
            if level == 1 and is_numbered(text):
                question = _number(text)
            i += 1
            continue
        j = i + 1
        while j < len(heads) and not _ends(kind, level, heads[j]):
            j += 1
        spans.append((kind, line, heads[j][0] if j < len(heads) else total, question))
        i = j
    return spans


def generated_hash(body: str) -> str:
    """sha256 of the body without user-owned sections, whitespace-normalised."""
    lines = body.splitlines()
    for _, start, end, _ in reversed(user_spans(body)):
        del lines[start:end]
    return hashlib.sha256(" ".join("\n".join(lines).split()).encode("utf-8")).hexdigest()


def _blocks(body: str) -> list[tuple[str, str, str]]:
    """(key, heading, text) of each generated block: "0" before the first numbered question, then one
    per numbered question up to the next one; user-owned sections are left out of the text."""
    lines = body.splitlines(keepends=True)
    owned = set()
    for _, start, end, _ in user_spans(body):
        owned.update(range(start, end))
    starts = [(line, _number(text), text) for line, level, text in headings(body)
              if level == 1 and line not in owned and is_numbered(text)]
    bounds = [(0, None, "")] + starts
    out, seen = [], {}
    for i, (start, number, text) in enumerate(bounds):
        end = bounds[i + 1][0] if i + 1 < len(bounds) else len(lines)
        key = "0" if number is None else str(number)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:  # a question number used twice: still one block each
            key = f"{key}.{seen[key]}"
        out.append((key, text, "".join(lines[j] for j in range(start, end) if j not in owned)))
    return out


def _part_hash(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:12]


def _stored_parts(header: str) -> dict[str, str] | None:
    match = _PARTS_VALUE.search(header)
    if not match:
        return None
    return dict(item.split(":", 1) for item in match.group(1).split() if ":" in item)


def stamp(note_text: str, keep: dict[str, str] | None = None) -> str:
    """Add or update the `generated_sha256` and `generated_parts` front-matter keys.

    `generated_parts` holds a short hash per block (text before the questions, each question's answer),
    so a later run can tell which parts were edited by hand; `keep` gives blocks whose stored hash
    must stay as it was (hand-edited blocks carried over, still the user's).
    """
    header, body = split_front_matter(note_text)
    parts = {key: _part_hash(text) for key, _, text in _blocks(body) if key != "0" or text.strip()}
    parts.update({k: v for k, v in (keep or {}).items()})
    newline = "\r\n" if "\r\n" in header else "\n"
    lines = (f"generated_sha256: {generated_hash(body)}{newline}"
             f"generated_parts: \"{' '.join(f'{k}:{v}' for k, v in parts.items())}\"{newline}")
    if not header:
        return f"---\n{lines}---\n\n{body}"
    header = _PARTS_LINE.sub("", _SHA_LINE.sub("", header))
    close = header.rstrip("\r\n").rfind("\n") + 1
    return header[:close] + lines + header[close:] + body


def edited_parts(note_text: str) -> list[tuple[str, str]] | None:
    """(key, heading) of each generated block changed by hand since stamping; None if the note does
    not record its blocks (made by an older version, or by hand)."""
    header, body = split_front_matter(note_text)
    stored = _stored_parts(header) if header else None
    if stored is None:
        return None
    return [(key, heading) for key, heading, text in _blocks(body)
            if (key != "0" or text.strip()) and stored.get(key) != _part_hash(text)]


def is_hand_edited(note_text: str) -> bool:
    """Whether the generated part changed since stamping (a note without front matter counts as edited)."""
    header, body = split_front_matter(note_text)
    if not header:
        return True
    stored = _SHA_VALUE.search(header)
    if stored:
        return stored.group(1).lower() != generated_hash(body) or bool(edited_parts(note_text))
    return not _GENERATOR.search(header)


def describe_parts(parts: list[tuple[str, str]]) -> str:
    """'the text above the questions, "2. Is this contribution important?"' for a message."""
    names = ["the text above the questions" if key == "0" else f"'{heading[:60]}'" for key, heading in parts]
    return ", ".join(names)


def _trim(text: str) -> str:
    return re.sub(r"\A(?:[ \t]*\r?\n)+", "", text).rstrip()


def _insert_at(body: str, question: int | None) -> int:
    """The line where a section that followed `question` goes: the end of that question's section."""
    top = [(line, _number(text)) for line, level, text in headings(body) if level == 1]
    total = len(body.splitlines())
    if question is None:  # it came before the questions: keep it there
        return next((line for line, number in top if number is not None), total)
    for i, (_, number) in enumerate(top):
        if number == question:
            return top[i + 1][0] if i + 1 < len(top) else total
    return total


def _place(new_body: str, old_body: str) -> str:
    """The new body with the old note's user-owned sections put back where they were."""
    old_lines = old_body.splitlines(keepends=True)
    carried = [(kind, q, "".join(old_lines[a:b])) for kind, a, b, q in user_spans(old_body)]
    if not carried:
        return new_body
    lines = new_body.splitlines(keepends=True)
    for kind, start, end, _ in reversed(user_spans(new_body)):
        if any(kind == k for k, _, _ in carried):  # the old section replaces the template's placeholder
            del lines[start:end]
    body = "".join(lines)
    inserts: dict[int, list[str]] = {}
    for _, question, text in carried:
        inserts.setdefault(_insert_at(body, question), []).append(text)
    lines, chunks, last = body.splitlines(keepends=True), [], 0
    for at in sorted(inserts):
        chunks += ["".join(lines[last:at]), *inserts[at]]
        last = at
    chunks.append("".join(lines[last:]))
    return "\n" + "\n\n".join(c for c in map(_trim, chunks) if c) + "\n"


def _carry_keys(new_header: str, old_text: str) -> str:
    """The new header plus front-matter keys the user added to the old note (tags, status, ...)."""
    known = set(front_matter_data(new_header)) | _GENERATED_KEYS
    extra = {k: v for k, v in front_matter_data(old_text).items() if k not in known}
    if not extra or not new_header:
        return new_header
    close = new_header.rstrip("\r\n").rfind("\n") + 1
    dumped = yaml.safe_dump(extra, allow_unicode=True, sort_keys=False, width=100)
    return new_header[:close] + dumped + new_header[close:]


def merge_note(new_text: str, old_text: str | None, force: bool = False, *, name: str | None = None,
               discard_edits: bool = False) -> str:
    """The new note, stamped, keeping the old one's '## My notes', Q&A and added front-matter keys.

    Parts of the generated text edited by hand are refused without `force`; with it they are carried
    over in place of the regenerated ones (and stay marked as edited); only `discard_edits` drops them.
    """
    if old_text is None:
        return stamp(new_text)
    title = front_matter_data(old_text).get("title")
    label = name or (f"The note '{title}'" if title else "The existing note")
    keep: dict[str, str] = {}
    carried: dict[str, str] = {}
    if not discard_edits and is_hand_edited(old_text):
        parts = edited_parts(old_text)
        if not force:
            what = f" ({describe_parts(parts)})" if parts else ""
            raise RepoError(f"{label} was edited by hand since it was generated{what}. Pass --force to "
                            "regenerate it keeping your edits, or --discard-edits to replace them; your "
                            "'## My notes' and Q&A sections are kept either way.")
        if parts is None:
            raise RepoError(f"{label} was edited by hand, and it does not record which parts (it was made "
                            "by hand or by an older paper-reader), so regenerating could lose the edits. Move "
                            "them under a '## My notes' heading, or pass --discard-edits to replace the note.")
        stored = _stored_parts(split_front_matter(old_text)[0]) or {}
        old_blocks = {key: text for key, _, text in _blocks(split_front_matter(old_text)[1])}
        for key, _ in parts:
            carried[key] = old_blocks[key]
            keep[key] = stored.get(key, "0" * 12)  # never the edited text's own hash: it stays the user's
    new_header, new_body = split_front_matter(new_text)
    _, old_body = split_front_matter(old_text)
    if carried:
        new_body = _carry_blocks(new_body, carried)
    return stamp(_carry_keys(new_header, old_text) + _place(new_body, old_body), keep)


def _carry_blocks(body: str, carried: dict[str, str]) -> str:
    """The body with the blocks named in `carried` replaced by the old (hand-edited) text."""
    blocks = _blocks(body)
    keys = [key for key, _, _ in blocks]
    out = []
    for key, _, text in blocks:
        out.append(carried.get(key, text))
    extra = [text for key, text in carried.items() if key not in keys]  # blocks only the old note had
    pieces = [_trim(t) for t in out + extra]
    return "\n" + "\n\n".join(p for p in pieces if p) + "\n"
