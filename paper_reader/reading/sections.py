"""Headings -> the section tree: text and page ranges per section, and each section's kind."""

from __future__ import annotations

import re
from dataclasses import dataclass

from paper_reader.reading.clean import join_lines, normalize
from paper_reader.types import Line, Section


# Section kinds and the title words that mark them (English and Chinese). Order matters: first hit.
KINDS: list[tuple[str, str]] = [
    ("abstract", r"abstract|摘\s*要|概\s*要|要\s*旨|요\s*약|초\s*록"),
    ("references", r"references|bibliography|works cited|literature cited|参\s*考\s*文\s*献|참\s*고\s*문\s*헌"),
    # administrative back matter goes with the acknowledgements: no question draws on it
    ("acknowledgements", r"acknowledg|funding|致\s*谢|authors?[’']? contributions?|availability of data|"
                         r"data availability|code availability|declarations|competing interests|"
                         r"conflicts? of interests?|ethics approval|consent for publication|謝\s*辞|감사의 글|credit authorship|"
                         r"description of authors|作者贡献"),
    ("related_work", r"related work|prior work|previous work|background|literature|相关工作|研究现状"),
    ("limitations", r"limitation|threats to validity|broader impact|ethic|局限|不足"),
    ("conclusion", r"conclu|summary|future work|outlook|结\s*论|结\s*束\s*语|总结|展望|結論|おわりに|まとめ|결론"),
    ("discussion", r"discussion|analysis|ablation|讨论|分析"),
    ("introduction", r"introduction|overview|motivation|引\s*言|前\s*言|绪\s*论|概述|はじめに|序論|서\s*론"),
    ("experiments", r"experiment|evaluation|results?\b|benchmark|empirical|实验|结果|评估|评价"),
    ("method", r"method|approach|model|architecture|framework|algorithm|design|theory|方法|模型|算法|框架|理论"),
    ("appendix", r"appendi|supplement|附\s*录"),
]



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
    printed: bool = True  # False for a heading the reader supplies (an unheaded bibliography)



def squash(text: str) -> str:
    """Letters and digits only, lower-cased: how headings and titles are compared."""
    return re.sub(r"[\W_]+", "", text.lower())



def build_sections(lines: list[Line], headings: list[_Heading]) -> list[Section]:
    """Cut the line list at the headings; text before the first heading becomes front matter."""
    sections: list[Section] = []
    headings = sorted(headings, key=lambda h: h.index)
    if not headings or headings[0].index > 0:
        end = headings[0].index if headings else len(lines)
        head = lines[:end]
        if head:
            sections.append(_section("Front matter", None, 1, head, "front"))
            sections[-1].printed = False
    for n, h in enumerate(headings):
        end = headings[n + 1].index if n + 1 < len(headings) else len(lines)
        body = lines[h.index + 1 : end] if _is_heading_line(lines[h.index], h) else lines[h.index : end]
        page = lines[h.index].page if h.index < len(lines) else (lines[-1].page if lines else 1)
        sec = _section(h.title, h.number, h.level, body, kind_of(h.title), page)
        sec.printed = h.printed
        sections.append(sec)
    sections = _split_long_abstract(sections)
    _extend_ranges(sections)
    _refine_kinds(sections)
    return sections



_PRIOR = re.compile(r"previous(ly)? (studies|work|reports?)|prior (studies|work)|earlier (studies|work)|"
                    r"consistent with|in line with|in agreement with|contrast to|et al\.|\[\d+(?:[,–-]\s*\d+)*\]", re.I)



def _refine_kinds(sections: list[Section]) -> None:
    """Kinds from a section's place and content, where its title alone misleads.

    "Background" opening a paper (no Introduction) is its introduction; a Discussion that compares
    with prior studies serves as related work too; an untitled-kind section between the
    introduction and the experiments is method.
    """
    top = [s for s in sections if s.level == 1 and s.kind not in ("front", "abstract")]
    kinds = {s.kind for s in top}
    if top and top[0].kind == "related_work" and "introduction" not in kinds and \
            re.match(r"background", top[0].title, re.I):
        top[0].kind, top[0].also = "introduction", ("related_work",)
    for sec in sections:
        if sec.kind == "discussion" and len(_PRIOR.findall(sec.text)) >= 2:
            sec.also = tuple(dict.fromkeys((*sec.also, "related_work")))
    seen_intro = False
    for sec in top:
        if sec.kind in ("introduction", "related_work"):
            seen_intro = True
        elif sec.kind in ("experiments", "discussion", "conclusion", "references", "appendix"):
            break
        elif sec.kind == "other" and seen_intro:
            sec.kind = "method"
    for i, sec in enumerate(sections):  # subsections inherit the refined kind
        for child in sections[i + 1:]:
            if child.level <= sec.level:
                break
            if child.kind == "other":
                child.kind = sec.kind



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
                               join_lines([t for _, t in rest]), "other", rest, printed=False))
        else:
            out.append(sec)
    return out



def _is_heading_line(line: Line, h: _Heading) -> bool:
    got, want = squash(line.text), squash(((h.number or "") + h.title))
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

