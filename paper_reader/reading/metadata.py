"""What page 1 says the paper is: title, authors, year, arXiv ID, DOI, language (no model).

Works on the raw lines (before running headers are removed: the venue line and the arXiv stamp
live there) and trusts the PDF's info dictionary only where the page agrees with it.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from itertools import takewhile

from paper_reader.reading.clean import body_size, join_lines, normalize
from paper_reader.reading.sections import squash
from paper_reader.types import Line

STAMP = re.compile(r"arXiv:\s?(\d{4}\.\d{4,5}(?:v\d+)?|[a-z\-]+(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?)"
                   r"(?:\s*\[[^\]]+\]\s*(\d{1,2})\s+([A-Z][a-z]{2})\s+((?:19|20)\d\d))?")
DOI = re.compile(r"\b(10\.\d{4,9}/[^\s,;\"<>]+[^\s,;\"<>.)\]])")
_YEAR = r"((?:19|20)\d\d)"
# How a journal cites itself in its header or footer: volume, issue, pages and year
_CITED = re.compile(
    r"\b\d{1,4}\s*\(\s*" + _YEAR + r"\s*\)\s*[,:]?\s*\d"  # 55 (2011) 3197–3217; 649 (2024) 129956
    r"|\(" + _YEAR + r"\),?\s*\d+\s*[:(,]"  # (2021) 13:206; (2014), 26:1, 147–154; (2014) 126, 305
    r"|\d+\s*\(\s*\d+\s*\)\s*:\s*\d+\s*[-–]\s*\d+\s*,\s*" + _YEAR + r"\b"  # 40(3):454-459,2017
    r"|\d+\s*,\s*\d+\s*[-–]\s*\d+\s*\(" + _YEAR + r"\)"  # 000, 000–000 (2007)
    r"|\bVolume\s+" + _YEAR + r"\b"  # Volume 2010, Article ID 157939
    r"|\b" + _YEAR + r",?\s+\d+:\d+\b", re.I)  # 2010, 4:1
_COPYRIGHT = re.compile(r"(?:©|\(c\)|\bc|Copyright)\s*(?:©\s*)?(?:The Author\(s\)\s*)?" + _YEAR + r"\b", re.I)
_VENUE = re.compile(
    r"(?:(?:NIPS|NeurIPS|ICLR|ICML|ACL|EMNLP|NAACL|COLING|CVPR|ICCV|ECCV|AAAI|IJCAI|KDD|SIGIR|WWW|BMVC|"
    r"AISTATS|UAI|COLT|CoRL|Interspeech|ICASSP)\W{0,3}((?:19|20)\d\d)\b"
    r"|\b((?:19|20)\d\d)\s+IEEE\b|((?:19|20)\d\d)\s*年"
    r"|Proceedings\b.*?\b((?:19|20)\d\d)\b"
    r"|\bVOL\.\s*\d+.*\b((?:19|20)\d\d)\b)", re.I)
_DATE = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?\s+(?:\d{1,2},\s*)?" + _YEAR + r"\b")
_ANY_YEAR = re.compile(r"(?:19|20)\d\d")
_MADE = re.compile(r"\b(?:printed|typeset|compiled|generated)\s+(?:on\s+)?$", re.I)  # the file's making
_MARKS = re.compile(r"[\d*∗†‡§¶♣♢♡♠♦♥⋄◇•+#\u2020-\u2021\u00b9\u00b2\u00b3\u2070-\u209f"
                    r"\U0001d400-\U0001d7ff\u0370-\u03ff]+")
_ORG = re.compile(
    r"universit|institut|college|school|department|dept\b|faculty|laborator|\blab\b|\blabs\b|research|"
    r"\bcent(?:er|re)\b|academy|hospital|foundation|\binc\b|corporation|company|\bltd\b|\bgmbh\b|"
    r"google|microsoft|facebook|\bmeta\b|deepmind|openai|amazon|\bibm\b|nvidia|baidu|alibaba|tencent|"
    r"brain\b|\bai\b|\bview\b|\bcity\b|street|\bbox\b|"
    r"\busa\b|\buk\b|china|germany|netherlands|france|canada|japan|israel|singapore|california|"
    r"dated|preprint|abstract|equal contribution|correspond|大学|大學|学院|研究|公司|实验室|学部|学科|"
    r"대학|학과|연구|학교|센터", re.I)
_MARKED = re.compile(r"[a-z][\d∗*†‡♣♢♡♠⋄]|,\s*[A-Z][a-z]+ [A-Z]")
_HEADER = re.compile(r"arxiv:|published as|proceedings|conference|journal|transactions|vol\.|doi|https?://|"
                     r"www\.|preprint|under review|et al\.|©|copyright|^research$|^article$|^original|"
                     r"aps/|^\(?dated|workshop|accepted|submitted|[|]", re.I)
_ABSTRACT = re.compile(r"^(?:(?:abstract|summary|a b s t r a c t)\b|摘\s*要|要\s*旨|概\s*要|抄\s*録|요\s*약|초\s*록)", re.I)
# where the front matter ends: keywords, a numbered first heading ("1. 緒言", "1 Introduction")
_FRONT_END = re.compile(r"^(key\s*words?|index terms|关\s*键\s*词|キーワード|주제어)\b", re.I)
_NUMBERED = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*\.?|[IVX]{1,4}\.)\s+\S|^\d{1,2}\.\s*[^\W\d]")
# article-type labels and badges set beside or above a title (compared with spaces removed:
# publishers letter-space them, "R EVI EW")
_LABEL = re.compile(
    r"^(?:(?:original|research|review|short|brief|rapid|regular|full|invited|technical|case|systematic|mini|"
    r"clinical|scientific)?(?:research)?(?:article|paper|report|communication|letter|note|review|study|"
    r"contribution|perspective|commentary|editorial|protocol)s?|openaccess|abstract|introduction|contents|"
    r"articleinfo|preprint)$")
_PRIVATE = re.compile(r"[\ue000-\uf8ff\ufffd]")  # glyphs without a Unicode meaning: nothing a reader can use
_SMALL = frozenset("a an the of for to in on and or with via by at from as vs".split())


def marks(line: Line) -> list[bool]:
    """Which of the line's runs are superscript marks (affiliation and footnote marks), told by
    how they are set: smaller than the nearest larger run beside them and raised above its
    baseline by 0.12-0.8 of its size. A raised letter inside a word is not one (the A of the
    LaTeX logo sits between letters of the same word). Lines without runs have none."""
    runs = line.runs
    flags = []
    for i, (text, size, base, _cell) in enumerate(runs):
        mark = False
        for j in (_larger(runs, i, -1), _larger(runs, i, 1)):
            if j is not None and 0.12 * runs[j][1] <= runs[j][2] - base <= 0.8 * runs[j][1]:
                mark = True
        if mark and 0 < i < len(runs) - 1 and text.isalpha() and runs[i - 1][0][-1:].isalpha() \
                and runs[i + 1][0][:1].isalpha():
            mark = False
        flags.append(mark)
    return flags


def _larger(runs, i: int, step: int) -> int | None:
    """The nearest run before (step -1) or after (+1) run i that is set clearly larger."""
    j = i + step
    while 0 <= j < len(runs):
        if runs[j][1] * 0.88 >= runs[i][1] and runs[j][0].strip():
            return j
        j += step
    return None


def plain(line: Line, sep: str = "") -> str:
    """The line's text with its superscript marks replaced by `sep`."""
    if not line.runs:
        return line.text
    out = []
    for (text, *_), mark in zip(line.runs, marks(line)):
        out.append(sep + text[len(text.rstrip()):] if mark else text)
    return "".join(out).strip()


def _pieces(line: Line) -> list[str]:
    """The line cut where a name must end: at wide gaps (side-by-side author blocks) and at
    superscript marks; the marks themselves dropped."""
    if not line.runs:
        return list(line.cells) if line.cells else [line.text]
    pieces, current, cell = [], "", line.runs[0][3]
    for (text, _size, _base, index), mark in zip(line.runs, marks(line)):
        if index != cell or mark:
            pieces.append(current)
            current, cell = "", index
        if not mark:
            current += text
    pieces.append(current)
    return [p.strip() for p in pieces if p.strip()]


def _ends_open(line: Line) -> bool:
    """A line of a comma-separated name list that stops mid-list without a comma or a mark:
    the line break fell inside a name ("..., Sue Manning, Scott" / "Shenker, Howard Sturgis")."""
    text = normalize(line.text).rstrip()
    if not re.search(r"[,，、;]", text) or re.search(r"[,，、;&]$|\band$", text):
        return False
    return not (line.runs and marks(line)[-1])


def arxiv_stamp(lines: list[Line]) -> tuple[str | None, int | None]:
    """The arXiv ID (with version) and year of the stamp arXiv prints in page 1's margin."""
    for ln in lines:
        if ln.page > 1:
            break
        m = STAMP.search(normalize(ln.text))
        if m and m.group(4):
            return m.group(1), int(m.group(4))
    return None, None


def find_doi(lines: list[Line], metadata: dict[str, str]) -> str | None:
    for ln in lines:
        if ln.page > 1:
            break
        m = DOI.search(normalize(ln.text))
        if m:
            return m.group(1)
    m = DOI.search(" ".join(metadata.values()))
    return m.group(1) if m else None


def find_year(lines: list[Line], metadata: dict[str, str], stamp_year: int | None) -> int | None:
    """The year page 1's furniture gives (the journal's citation line, a venue or copyright line, a
    dateline), then the stamp's, then the file's date.

    The journal's citation line in the header ("Physica A 649 (2024)", "Volume 2010",
    "40(3):454-459,2017") beats the rest (a copyright or venue line, a date, in reading order): a
    footer's "© 2013" or a "Printed 1 February 2008" is a later or earlier event. Years in running text are the paper's
    history or its citations ("早在2006年", "Google's 2012 launch"), not its date: a line set in
    the body size below the title is passed over unless it is a dateline on its own."""
    latest = date.today().year + 1
    head = list(takewhile(lambda ln: ln.page <= 3, lines))  # lines come in page order
    picked = title_lines(head)
    title = picked[0] if picked else None
    title_at = next((i for i, ln in enumerate(head) if ln is title), 0)
    body = body_size(head)
    best: tuple[int, int, int, int] | None = None
    for i, ln in enumerate(head):
        if ln.page > 2:
            break
        if ln.page == 2 and ln.top > 80:  # page 2: only its running header
            continue
        text = normalize(ln.text)
        if not _ANY_YEAR.search(text):
            continue  # most lines: no need to try the patterns
        if re.search(r"\b(received|revised|submitted|accepted)\b|收稿|修回", text, re.I):
            continue  # a manuscript's history, not its publication
        below = ln.page > 1 or (title is not None and (ln.top > title.top if ln.top and title.top else i > title_at))
        prose = below and abs(ln.size - body) < 0.3
        citation = "et al." in text and "(" not in text[:3]  # "Smith et al., 2017"
        found = []
        for rank, pattern in enumerate((_CITED, _COPYRIGHT, _VENUE, _DATE)):
            for m in pattern.finditer(text):
                year = next((int(g) for g in m.groups() if g), None)
                if not year or not 1900 < year <= latest or (pattern is _DATE and _MADE.search(text[:m.start()])):
                    continue
                if pattern is not _COPYRIGHT and prose and not _dateline(text, m):
                    continue
                if citation and pattern in (_VENUE, _DATE):
                    continue
                # the citation line ranks first where journals print it: in the header, above the title
                found.append((0 if rank == 0 and not below else 1, i, m.start(), year))
        if found:
            best = min([*found, *([best] if best else [])])
    if best:
        return best[3]
    if stamp_year:
        return stamp_year
    for key in ("Published", "Date", "Created", "CreationDate"):  # not ModDate: a later edit
        m = re.search(r"((?:19|20)\d\d)", metadata.get(key, ""))
        if m and 1990 <= int(m.group(1)) <= latest:  # some producers write 1910 for 2010
            return int(m.group(1))
    return None


def _dateline(text: str, m: re.Match) -> bool:
    """A line that is a date and little else: "(Dated: August 22, 2024)", "2015 年 3 月 2 日"."""
    rest = text[:m.start()] + text[m.end():]
    return sum(c.isalpha() for c in rest) <= 15


def language(lines: list[Line]) -> str:
    text = "".join(ln.text for ln in lines[:2000])
    cjk = len(re.findall(r"[\u4e00-\u9fff]", text))
    return "zh" if text and cjk > 0.2 * len(re.sub(r"\s", "", text)) else "en"


def title_lines(lines: list[Line], metadata: dict[str, str] | None = None) -> list[Line]:
    """The title: the run of page 1's largest-set lines in its upper part that are not a journal's
    masthead, an article-type label or badge, a header or a stamp.

    Where the info dictionary's title is printed on page 1 in display type, that is where the
    title starts (evidence the page agrees with); otherwise the page alone decides.
    """
    first = list(takewhile(lambda ln: ln.page == 1, lines))[:60]
    upper = [ln for ln in first if not ln.page_height or ln.top < 0.6 * ln.page_height]
    journals = _citation_lines(lines)
    candidates = [ln for ln in upper if _title_like(plain(ln)) and not _label(ln) and not _masthead(ln, journals)]
    if not candidates:
        return []
    top = max(ln.size for ln in candidates)
    start = next(i for i, ln in enumerate(first) if ln in candidates and ln.size == top)
    agreed = _info_start(first, candidates, (metadata or {}).get("Title", ""))
    if agreed is not None:
        start, top = agreed, first[agreed].size
    picked = [first[start]]
    body = body_size(first)
    # weight tells a subtitle from the names under it only where the body is set in roman (all of
    # an Elsevier page 1 may be flagged bold)
    text_bold = sum(len(ln.text) for ln in first if ln.bold and abs(ln.size - body) < 1.5)
    text_all = sum(len(ln.text) for ln in first if abs(ln.size - body) < 1.5)
    weight_speaks = text_bold < 0.5 * text_all
    for ln in first[start + 1:]:
        prev = picked[-1]
        gap = ln.top - prev.top if ln.top and prev.top else 0
        close = not gap or 0 < gap < 2.6 * max(ln.size, 1)
        same = abs(ln.size - top) <= 0.6
        # a bold subtitle set a little smaller, right under the title; author lines sit further
        # down and carry marks (Wang♣, Jiang1) or several names
        subtitle = (weight_speaks and ln.bold and prev.bold and ln.size >= 0.75 * top and ln.size > body + 1.5
                    and (not gap or gap < 1.6 * prev.size) and not ln.cells and not _MARKED.search(ln.text))
        if close and (same or subtitle) and ln in candidates and len(picked) < 5:
            picked.append(ln)
        else:
            break
    return picked


def _label(line: Line) -> bool:
    """An article-type label or badge ("Research Article", "RESEARCH ARTICLE", "Original Paper",
    "Open Access", "ABSTRACT"): the whole line, or each of its cells, is one."""
    parts = line.cells or (line.text,)
    return all(_LABEL.match(squash(normalize(p))) for p in parts)


_YEAR_TAIL = re.compile(r"^[\s,:;.]*(?:vol(?:ume)?\.?\s*)?(?:\d{1,4}\s*)?[(\[]?\s*(?:19|20)\d\d\b")


def _citation_lines(lines: list[Line]) -> list[str]:
    """Page furniture that may cite the journal: page 1's lines and the running heads of pages 2-3."""
    out = []
    for ln in lines:
        if ln.page > 3:
            break
        if ln.page == 1 or (ln.top and ln.top < 80):
            out.append(normalize(ln.text).casefold())
    return out


def _masthead(line: Line, citations: list[str]) -> bool:
    """A journal's name in its banner (Elsevier's "Physica A" beside "Contents lists available at
    ScienceDirect"): the same words recur in the journal's citation line, followed by a volume and
    year ("Physica A 649 (2024) 129956"). A title is never cited that way on its own pages."""
    name = normalize(plain(line)).casefold().strip()
    if not 4 <= len(name) <= 100:
        return False
    for text in citations:
        at = text.find(name)
        while at >= 0:
            if _YEAR_TAIL.match(text[at + len(name):]):
                return True
            at = text.find(name, at + 1)
    return False


def _info_start(first: list[Line], candidates: list[Line], info: str) -> int | None:
    """Where the info dictionary's title begins on page 1, if it is printed there in display type
    (larger than the body text) as one of the title candidates."""
    want = squash(normalize(info))
    if len(want) < 8:
        return None
    body = body_size(first)
    for i, ln in enumerate(first):
        got = squash(normalize(plain(ln)))
        if ln in candidates and ln.size > body + 1 and len(got) >= min(12, len(want)) and want.startswith(got):
            return i
    return None


def _title_like(text: str) -> bool:
    text = normalize(text)
    letters = sum(c.isalpha() for c in text)
    return letters >= 3 and not _HEADER.search(text) and not STAMP.search(text) and len(text) < 200


def title_text(picked: list[Line]) -> str:
    """The title lines as one string: footnote marks (set small and raised, or a lone * or † at
    its end), private-use glyphs and lone specks of a scan dropped, line-break hyphens joined,
    all-caps set in title case."""
    text = join_lines([normalize(_PRIVATE.sub("", plain(ln))) for ln in picked])
    text = re.sub(r"(?<=\w) [.,·](?= \w)", "", text)  # a speck an OCR layer read as a stop: "Replicated . Database"
    # a footnote mark the text layer keeps apart ("Algorithm *") or glued to a CJK title ("模型*");
    # not "A*" at the end of a title about search
    text = re.sub(r"(?:\s+|(?<=[\u3040-\u9fff\uac00-\ud7a3]))[*∗†‡§¶]+$", "", text)
    text = re.sub(r"(\w)- (\w)", lambda m: m.group(1) + m.group(2) if m.group(2).islower() else m.group(0), text)
    text = re.sub(r"\s+", " ", text).strip()
    letters = [c for c in text if c.isalpha()]
    if len(letters) > 12 and sum(c.isupper() for c in letters) > 0.85 * len(letters):
        text = _title_case(text)
    return text


def with_info_spelling(printed: str, info: str) -> str:
    """The printed title, with the words the info dictionary's title spells differently taken from
    it when the two agree on all other words (at most one word in six differs): both name the same
    title, and the page's text is the one that went through a font's decoding or an OCR layer
    ("X3: A Low Overhead ..." on the scan, "2Q: A Low Overhead ..." in the file's Title)."""
    page, info_words = printed.split(), normalize(info).split()
    if not page or len(page) != len(info_words):
        return printed
    differ = [i for i, (a, b) in enumerate(zip(page, info_words)) if squash(a) != squash(b)]
    if not differ or len(differ) > max(1, len(page) // 6):
        return printed
    for i in differ:
        page[i] = info_words[i]
    return " ".join(page)


def _title_case(text: str) -> str:
    words = text.split(" ")
    out = []
    for i, word in enumerate(words):
        parts = word.split("-")
        fixed = [p if not p.isalpha() and not p[:1].isalpha() else
                 (p.lower() if i and p.lower() in _SMALL else p[:1] + p[1:].lower()) for p in parts]
        out.append("-".join(fixed))
    return " ".join(out)


def authors(lines: list[Line], picked: list[Line], metadata: dict[str, str]) -> list[str]:
    """Every author named between the title and the abstract, marks and affiliations stripped.

    The info dictionary's Author field is used only when the page yields no name and every name
    it holds is printed on page 1 (a producer's "Cambridge Journals" or "iData" is not)."""
    block = _author_block(lines, picked)
    bold = [ln for ln in block if ln.bold]
    if bold and len(bold) < len(block) and all(_looks_like_names(ln) for ln in bold):
        block = [ln for ln in block if ln.bold or _continues(ln)]
    names: list[str] = []
    for segment in _segments(block):
        for name in _names(segment):
            if name not in names:
                names.append(name)
    if not names and metadata.get("Author"):
        listed = normalize(re.sub(r"\{?\bet al\.?\}?", "", metadata["Author"]))
        found = [n.strip() for n in re.split(r";|,| and ", listed) if n.strip()]
        page_one = squash(" ".join(ln.text for ln in lines if ln.page == 1))
        if found and all(squash(n) and squash(n) in page_one for n in found):
            names = found
    return names[:100]


def _author_block(lines: list[Line], picked: list[Line]) -> list[Line]:
    """Page 1's lines from the title to where the front matter's names end: the abstract, the
    keywords, a numbered first heading, running text, or a second title (the English title block
    of a Chinese, Japanese or Korean paper, set in the title's size)."""
    if not picked:
        return []
    page_one = [ln for ln in lines if ln.page == 1]
    try:
        start = page_one.index(picked[-1]) + 1
    except ValueError:
        return []
    body = body_size(page_one)
    title_size = max(ln.size for ln in picked)
    block = []
    for ln in page_one[start:start + 40]:
        text = normalize(ln.text)
        if _ABSTRACT.match(text) or _FRONT_END.match(text) or (len(text) > 110 and not ln.cells
                                                               and sum(c.isalpha() for c in text) > 50):
            break
        if _NUMBERED.match(text) and len(text) < 40 and (ln.bold or ln.size > body + 0.5) and not _ORG.search(text):
            break  # "1. 緒言": the body has begun
        if block and ln.size >= 0.9 * title_size and ln.size > body + 2:
            break  # another title
        block.append(ln)
    return block


def _continues(line: Line) -> bool:
    """A line an author's superscript broke off: ", Stephen Roller*" (its comma set in roman)."""
    return normalize(line.text).startswith((",", "and "))


def _looks_like_names(line: Line) -> bool:
    return not _ORG.search(line.text) and "@" not in line.text


def _segments(block: list[Line]) -> list[str]:
    """The block's text split into candidate names: at cells, marks, commas, semicolons, 'and', '&'."""
    texts: list[str] = []
    prev: Line | None = None
    for ln in block:
        if _ORG.search(ln.text) or re.search(r"(?<![\d,])\b\d{3,}\b", ln.text):
            prev = None
            continue  # an affiliation or address line (a whole line: its cells may hide the keyword)
        parts = _pieces(ln)
        for n, part in enumerate(parts):
            part = normalize(part)
            wrapped = n == 0 and prev is not None and _ends_open(prev) and abs(prev.size - ln.size) < 0.5 \
                and not ln.cells and not prev.cells
            if texts and (wrapped or ((part.startswith(",") or texts[-1].rstrip().endswith(","))
                                      and not ln.cells and not ln.runs)):
                texts[-1] += " " + part
            else:
                texts.append(part)
        prev = ln
    out: list[str] = []
    for text in texts:
        if "@" in text or re.search(r"https?://|www\.|\.com\b|\.edu\b|\.org\b", text) or _ORG.search(text):
            continue
        text = re.sub(r"\([^()]*\)|（[^（）]*）", " ", text)  # an ID, ORCID or note in brackets
        pieces = re.split(r"[,;，、；]|\band\b|&|(?<=[∗*†‡♣♢♡♠⋄])\s+(?=[A-Z])", text)
        for piece in pieces:
            if _CJK.search(piece) and not re.search(r"[A-Za-z]{2}", piece):
                out.extend(_cjk_names(piece, listed=len(pieces) > 1))
            elif piece.strip():
                out.append(piece)
    return out


_CJK = re.compile(r"[\u3005\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7a3]")


def _cjk_names(piece: str, listed: bool) -> list[str]:
    """CJK names in a piece. In a list separated by commas (，、) a space is inside a name (the
    Japanese family-given gap "藤本 將太郎", a letter-spaced "陈 宏"); without commas names are
    separated by spaces, but a two-character name letter-spaced to the width of three ("陈 宏",
    "涂　伟") still is one: a lone character joins its neighbour."""
    words = [re.sub(r"[^\w\u3005]", "", w) for w in piece.split()]
    words = [_MARKS.sub("", w) for w in words if w]
    if listed and 2 <= len("".join(words)) <= 6:
        return ["".join(words)]
    out: list[str] = []
    for i, word in enumerate(words):
        if not word:
            continue
        if out and (len(word) == 1 or len(out[-1]) == 1) and len(out[-1]) + len(word) <= 4:
            out[-1] += word
        else:
            out.append(word)
    return out


_ROLE = re.compile(r"\b(member|ieee|student|fellow|senior|life)\b", re.I)


def _names(segment: str) -> list[str]:
    """A cleaned name, or a run of two-word names split in pairs ("Li Dong Xingxing Zhang")."""
    if _ROLE.search(segment):
        return []  # "Student Member, IEEE"
    text = _MARKS.sub(" ", unicodedata.normalize("NFC", segment))
    text = re.sub(r"\s+", " ", text).strip(" .,*")
    text = re.sub(r"^[^\w(]+", "", text)  # a bullet before the first name ("■ 唐晓波")
    if re.fullmatch(r"[\u3005\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,6}|[\uac00-\ud7a3]{2,5}", text):
        return [text]
    if _LABEL.match(squash(text)):
        return []
    tokens = [_recase(t) for t in text.split()]
    if not tokens or not all(_name_token(t) for t in tokens) or re.fullmatch(r"[A-Z]\.?", tokens[-1]):
        return []  # a name ends in a surname, not an initial
    text = " ".join(tokens)
    if 2 <= len(tokens) <= 4:
        return [text]
    if len(tokens) >= 4 and len(tokens) % 2 == 0 and not any(t.endswith(".") for t in tokens):
        return [f"{a} {b}" for a, b in zip(tokens[::2], tokens[1::2])]
    return []


def _recase(token: str) -> str:
    """A name set in capitals or small caps ("DOUGLAS", "O’NEILL", "LARS-GÖRAN") as printed in
    running text: each letter run capitalised ("Douglas", "O’Neill", "Lars-Göran")."""
    letters = [c for c in token if c.isalpha()]
    if len(letters) < 2 or not all(c.isupper() for c in letters):
        return token
    return re.sub(r"[^\W\d_]+", lambda m: m.group(0)[0] + m.group(0)[1:].lower(), token)


def _name_token(token: str) -> bool:
    if token.lower() in ("van", "von", "de", "der", "den", "la", "le", "du", "di", "da", "del", "bin", "al"):
        return True
    return bool(re.fullmatch(r"[A-Z\u00c0-\u024f][\w'’\u00c0-\u024f.-]*", token)) and not token.isupper() \
        or bool(re.fullmatch(r"[A-Z]\.(?:-?[A-Z]\.)?|[A-Z]", token))  # "A.D.", "J.-P.", "G" (Vancouver style)
