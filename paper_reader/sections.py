"""Lines -> section tree: from the PDF outline where there is a usable one, detected otherwise."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from .clean import join_lines, normalize
from .document import Line, Section

# Section kinds and the title words that mark them (English and Chinese). Order matters: first hit.
KINDS: list[tuple[str, str]] = [
    ("abstract", r"abstract|摘\s*要"),
    ("references", r"references|bibliography|works cited|literature cited|参考文献"),
    ("acknowledgements", r"acknowledg|funding|致\s*谢"),
    ("related_work", r"related work|prior work|previous work|background|literature|相关工作|研究现状"),
    ("limitations", r"limitation|threats to validity|broader impact|ethic|局限|不足"),
    ("conclusion", r"conclu|summary|future work|outlook|结论|结束语|总结|展望"),
    ("discussion", r"discussion|analysis|ablation|讨论|分析"),
    ("introduction", r"introduction|overview|motivation|引\s*言|前\s*言|绪\s*论|概述"),
    ("experiments", r"experiment|evaluation|results?\b|benchmark|empirical|实验|结果|评估|评价"),
    ("method", r"method|approach|model|architecture|framework|algorithm|design|theory|方法|模型|算法|框架|理论"),
    ("appendix", r"appendi|supplement|附\s*录"),
]

_STANDARD = re.compile(
    r"(abstract|introduction|background|related work|prior work|preliminaries|methods?|methodology|"
    r"approach|model|experiments?|experimental (setup|results)|results|evaluation|"
    r"results and discussion|discussion|limitations|conclusions?|conclusions? and future work|"
    r"future work|acknowledge?ments?|references|bibliography|appendix|appendices|"
    r"supplementary materials?|摘\s*要|引\s*言|前\s*言|绪\s*论|相关工作|方法|实验|实验结果|讨论|"
    r"结\s*论|结束语|参考文献|致\s*谢|附\s*录)[.:：]?",
    re.I,
)
_NUMBERED = re.compile(
    r"^(?P<num>\d{1,2}(?:\.\d{1,2}){0,3}|[A-H](?:\.\d{1,2}){0,2}|[IVX]{1,4})\.?\s*"
    r"(?P<title>[A-Z\u4e00-\u9fff][^\n]{1,90})$"
)


def kind_of(title: str) -> str:
    """Classify a heading into one of KINDS ("other" when nothing matches)."""
    low = title.lower()
    for kind, pattern in KINDS:
        if re.search(pattern, low):
            return kind
    return "other"


def split_number(title: str) -> tuple[str | None, str]:
    """'3.2 Attention' -> ('3.2', 'Attention'); 'Abstract' -> (None, 'Abstract')."""
    title = normalize(title).strip()
    m = re.match(r"^(\d{1,2}(?:\.\d{1,2}){0,3}|[A-Z](?:\.\d{1,2}){1,2}|[A-Z](?=\s))\.?\s+(.+)$", title)
    if m:
        return m.group(1), m.group(2).strip().rstrip(":：")
    return None, title.rstrip(":：").strip()


@dataclass
class _Heading:
    index: int  # position in the line list
    title: str
    number: str | None
    level: int


def body_size(lines: list[Line]) -> float:
    """The font size most characters are set in."""
    counts: Counter[float] = Counter()
    for ln in lines:
        counts[ln.size] += len(ln.text)
    return counts.most_common(1)[0][0] if counts else 0.0


def find_headings(outline, lines: list[Line]) -> tuple[list[_Heading], str]:
    """Headings from the outline when it is usable, detected ones otherwise; and which it was.

    Outlines often stop before the references and appendices, and thin ones (only Abstract and
    References) say little: the detected headings fill in what the outline leaves out.
    """
    placed = outline_headings(outline, lines) if outline else []
    detected = detect_headings(lines)
    body = [h for h in placed if kind_of(h.title) not in ("abstract", "references", "acknowledgements")]
    if len(body) < 3:
        taken = {h.index for h in detected}
        merged = detected + [h for h in placed if all(abs(h.index - t) > 1 for t in taken)]
        return sorted(merged, key=lambda h: h.index), "detected"
    kinds = {kind_of(h.title) for h in placed}
    last = max(h.index for h in placed)
    extra = [
        h for h in detected
        if kind_of(h.title) in ("references", "acknowledgements") and kind_of(h.title) not in kinds
        or h.index > last and (kind_of(h.title) not in kinds or h.number and h.number[0].isalpha())
    ]
    return placed + extra, "outline"


def outline_headings(outline: list[tuple[int, str, int]], lines: list[Line]) -> list[_Heading]:
    """Place the PDF outline's entries on lines."""
    entries = [(d, normalize(t).strip(), p) for d, t, p in outline if normalize(t).strip()]
    roots = [e for e in entries if e[0] == 0]
    # Some outlines have the paper's title as the single root: drop it, promote the rest.
    if len(roots) == 1 and len(entries) > 1 and (roots[0][2] == 1 and entries[0] is roots[0]):
        entries = [(d - 1, t, p) for d, t, p in entries[1:]]
    headings: list[_Heading] = []
    start = 0
    for depth, text, page in entries:
        idx = _locate(lines, text, page, start)
        number, name = split_number(text)
        headings.append(_Heading(idx, name, number, max(depth, 0) + 1))
        start = idx
    return headings


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def _locate(lines: list[Line], title: str, page: int, start: int) -> int:
    """Index of the line where an outline heading starts, searching its page from `start`."""
    want = _squash(title)[:40]
    first_on_page = None
    for i in range(start, len(lines)):
        ln = lines[i]
        if ln.page < page:
            continue
        if ln.page > page:
            break
        if first_on_page is None:
            first_on_page = i
        got = _squash(ln.text)
        if got and want and (got.startswith(want) or (len(got) >= 4 and want.startswith(got))):
            return i
    if first_on_page is not None:
        return max(first_on_page, start)
    # the outline points past the text we kept: attach to the next line after `start`
    return next((i for i in range(start, len(lines)) if lines[i].page >= page), len(lines) - 1)


def detect_headings(lines: list[Line]) -> list[_Heading]:
    """Find headings in the text: numbering patterns, standard names, font size and weight."""
    size = body_size(lines)
    found: list[_Heading] = []
    last_top = 0
    last_sub: dict[str, int] = {}
    after_refs = False
    for i, ln in enumerate(lines):
        text = ln.text.strip()
        emphasized = ln.bold or ln.size > size + 0.4
        if len(text) > 90 or not emphasized and not _STANDARD.fullmatch(text):
            continue
        m = _NUMBERED.match(text)
        if m and emphasized and _plausible_title(m.group("title")):
            num, name = m.group("num"), m.group("title").strip()
            level = num.count(".") + 1
            if num.isdigit():
                if not (last_top < int(num) <= last_top + 2):
                    continue
                last_top, last_sub = int(num), {}
            elif num[0].isdigit():
                top, _, rest = num.partition(".")
                parent = num.rsplit(".", 1)[0]
                if int(top) != last_top or int(num.rsplit(".", 1)[1]) > last_sub.get(parent, 0) + 2:
                    continue
                last_sub[parent] = int(num.rsplit(".", 1)[1])
            elif num[0] in "IVX" and not after_refs:
                level = 1
            elif not after_refs or re.match(r"[A-Z]{2,}\b", name):
                continue  # lettered headings (A, B.1) only in appendices; "B ERT" is a split word
            found.append(_Heading(i, name, num, level))
            continue
        std = _STANDARD.fullmatch(text) or _STANDARD.fullmatch(split_number(text)[1])
        # a plain-weight "Model" is a table header unless the line before it ends a sentence
        ends_sentence = i == 0 or lines[i - 1].page != ln.page or lines[i - 1].text.rstrip()[-1:] in ".:!?。"
        if std and (emphasized or len(text) < 40 and ends_sentence) and not split_number(text)[1][:1].islower():
            number, name = split_number(text)
            name = name.rstrip(".:：")
            after_refs = after_refs or kind_of(name) == "references"
            found.append(_Heading(i, name, number, 1))
    return found


def _plausible_title(title: str) -> bool:
    words = title.split()
    if len(words) > 14 or title.endswith((",", ";")):
        return False
    if title.endswith(".") and len(words) > 6:
        return False  # a sentence, e.g. a numbered list item
    if len(words) > 5 and (re.match(r"(We|Our|This|These|It|In this|Here)\b", title) or "," in title and len(words) > 8):
        return False  # a bold list item such as "2. We complement rationale generation with ..."
    return sum(c.isalpha() or "\u4e00" <= c <= "\u9fff" for c in title) >= 0.6 * len(title)


def build_sections(lines: list[Line], headings: list[_Heading]) -> list[Section]:
    """Cut the line list at the headings; text before the first heading becomes front matter."""
    sections: list[Section] = []
    headings = sorted(headings, key=lambda h: h.index)
    if not headings or headings[0].index > 0:
        end = headings[0].index if headings else len(lines)
        head = lines[:end]
        if head:
            sections.append(_section("Front matter", None, 1, head, "front"))
    for n, h in enumerate(headings):
        end = headings[n + 1].index if n + 1 < len(headings) else len(lines)
        body = lines[h.index + 1 : end] if _is_heading_line(lines[h.index], h) else lines[h.index : end]
        page = lines[h.index].page if h.index < len(lines) else (lines[-1].page if lines else 1)
        sec = _section(h.title, h.number, h.level, body, kind_of(h.title), page)
        sections.append(sec)
    sections = _split_long_abstract(sections)
    _extend_ranges(sections)
    return sections


def _split_long_abstract(sections: list[Section]) -> list[Section]:
    """Letters often run on from the abstract with no heading: keep page one as the abstract and
    call the rest what it is, the main text."""
    out: list[Section] = []
    for sec in sections:
        if sec.kind == "abstract" and sec.text and len(sec.spans) > 2 and len(sec.text) > 5000:
            first, rest = sec.spans[:1], sec.spans[1:]
            out.append(Section(sec.title, sec.level, sec.number, sec.first_page, first[0][0],
                               join_lines([t for _, t in first]), "abstract", first))
            out.append(Section("Main text", sec.level, None, rest[0][0], rest[-1][0],
                               join_lines([t for _, t in rest]), "other", rest))
        else:
            out.append(sec)
    return out


def _is_heading_line(line: Line, h: _Heading) -> bool:
    got, want = _squash(line.text), _squash(((h.number or "") + h.title))
    return bool(got) and (want.startswith(got) or got.startswith(want)) and len(got) <= len(want) + 3


def _section(title, number, level, lines, kind, page=None) -> Section:
    first = page if page is not None else (lines[0].page if lines else 1)
    last = lines[-1].page if lines else first
    spans: list[tuple[int, str]] = []
    for ln in lines:
        if spans and spans[-1][0] == ln.page:
            spans[-1][1].append(ln.text)
        else:
            spans.append((ln.page, [ln.text]))
    joined = [(page, join_lines(texts)) for page, texts in spans]
    return Section(
        title=title, level=level, number=number, first_page=first, last_page=max(first, last),
        text=join_lines([t for _, t in joined]), kind=kind, spans=joined,
    )


def _extend_ranges(sections: list[Section]) -> None:
    """A section's page range covers its subsections; kinds are inherited from the parent."""
    for i, sec in enumerate(sections):
        for child in sections[i + 1 :]:
            if child.level <= sec.level:
                break
            sec.last_page = max(sec.last_page, child.last_page)
            if child.kind == "other":
                child.kind = sec.kind
