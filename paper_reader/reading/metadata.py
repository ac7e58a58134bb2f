"""What page 1 says the paper is: title, authors, year, arXiv ID, DOI, language (no model).

Works on the raw lines (before running headers are removed: the venue line and the arXiv stamp
live there) and trusts the PDF's info dictionary only where the page agrees with it.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from paper_reader.reading.clean import body_size, join_lines, normalize
from paper_reader.types import Line

STAMP = re.compile(r"arXiv:\s?(\d{4}\.\d{4,5}(?:v\d+)?|[a-z\-]+(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?)"
                   r"(?:\s*\[[^\]]+\]\s*(\d{1,2})\s+([A-Z][a-z]{2})\s+((?:19|20)\d\d))?")
DOI = re.compile(r"\b(10\.\d{4,9}/[^\s,;\"<>]+[^\s,;\"<>.)\]])")
_VENUE = re.compile(
    r"(?:(?:NIPS|NeurIPS|ICLR|ICML|ACL|EMNLP|NAACL|COLING|CVPR|ICCV|ECCV|AAAI|IJCAI|KDD|SIGIR|WWW|BMVC|"
    r"AISTATS|UAI|COLT|CoRL|Interspeech|ICASSP)\W{0,3}((?:19|20)\d\d)\b"
    r"|(?:©|\(c\)|\bc|Copyright)\s*(?:©\s*)?(?:The Author\(s\)\s*)?((?:19|20)\d\d)\b"
    r"|\b((?:19|20)\d\d)\s+IEEE\b|\(((?:19|20)\d\d)\)\s*\d+:\d+|((?:19|20)\d\d)\s*年"
    r"|Proceedings\b.*?\b((?:19|20)\d\d)\b"
    r"|\b(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    r"\s+(?:\d{1,2},\s*)?((?:19|20)\d\d)\b"
    r"|\bVOL\.\s*\d+.*\b((?:19|20)\d\d)\b)", re.I)
_MARKS = re.compile(r"[\d*∗†‡§¶♣♢♡♠♦♥⋄◇•+#\u2020-\u2021\u00b9\u00b2\u00b3\u2070-\u209f"
                    r"\U0001d400-\U0001d7ff\u0370-\u03ff]+")
_ORG = re.compile(
    r"universit|institut|college|school|department|dept\b|faculty|laborator|\blab\b|\blabs\b|research|"
    r"\bcent(?:er|re)\b|academy|hospital|foundation|\binc\b|corporation|company|\bltd\b|\bgmbh\b|"
    r"google|microsoft|facebook|\bmeta\b|deepmind|openai|amazon|\bibm\b|nvidia|baidu|alibaba|tencent|"
    r"brain\b|\bai\b|\bview\b|\bcity\b|street|\bbox\b|"
    r"\busa\b|\buk\b|china|germany|netherlands|france|canada|japan|israel|singapore|california|"
    r"dated|preprint|abstract|equal contribution|correspond|大学|学院|研究|公司|实验室", re.I)
_MARKED = re.compile(r"[a-z][\d∗*†‡♣♢♡♠⋄]|,\s*[A-Z][a-z]+ [A-Z]")
_HEADER = re.compile(r"arxiv:|published as|proceedings|conference|journal|transactions|vol\.|doi|https?://|"
                     r"www\.|preprint|under review|et al\.|©|copyright|^research$|^article$|^original|"
                     r"aps/|^\(?dated|workshop|accepted|submitted|[|]", re.I)
_ABSTRACT = re.compile(r"^(abstract|summary|a b s t r a c t|摘\s*要)\b", re.I)
_SMALL = frozenset("a an the of for to in on and or with via by at from as vs".split())


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
    """Venue, copyright or dateline year on the first pages; then the stamp; then the file's date."""
    latest = date.today().year + 1
    for ln in lines:
        if ln.page > 2:
            break
        if ln.page == 2 and ln.top > 80:  # page 2: only its running header
            continue
        text = normalize(ln.text)
        if "et al." in text and "(" not in text[:3] and not re.search(r"\(\d{4}\)\s*\d+:", text):
            continue  # a citation ("Smith et al., 2017"), not a dateline
        if re.search(r"\b(received|revised|submitted|accepted)\b", text, re.I):
            continue  # a manuscript's history, not its publication
        for m in _VENUE.finditer(text):
            year = next((int(g) for g in m.groups() if g), None)
            if year and 1900 < year <= latest:
                return year
    if stamp_year:
        return stamp_year
    for key in ("Published", "Date", "Created", "CreationDate"):  # not ModDate: a later edit
        m = re.search(r"((?:19|20)\d\d)", metadata.get(key, ""))
        if m and 1990 <= int(m.group(1)) <= latest:  # some producers write 1910 for 2010
            return int(m.group(1))
    return None


def language(lines: list[Line]) -> str:
    text = "".join(ln.text for ln in lines[:2000])
    cjk = len(re.findall(r"[\u4e00-\u9fff]", text))
    return "zh" if text and cjk > 0.2 * len(re.sub(r"\s", "", text)) else "en"


def title_lines(lines: list[Line]) -> list[Line]:
    """The title: the run of page 1's largest-set lines in its upper half (not a header or stamp)."""
    first = [ln for ln in lines if ln.page == 1][:60]
    upper = [ln for ln in first if not ln.page_height or ln.top < 0.6 * ln.page_height]
    candidates = [ln for ln in upper if _title_like(ln.text)]
    if not candidates:
        return []
    top = max(ln.size for ln in candidates)
    start = next(i for i, ln in enumerate(first) if ln in candidates and ln.size == top)
    picked = [first[start]]
    for ln in first[start + 1:]:
        prev = picked[-1]
        gap = ln.top - prev.top if ln.top and prev.top else 0
        close = not gap or 0 < gap < 2.6 * max(ln.size, 1)
        same = abs(ln.size - top) <= 0.6
        # a bold subtitle set a little smaller, right under the title; author lines sit further
        # down and carry marks (Wang♣, Jiang1) or several names
        subtitle = (ln.bold and prev.bold and ln.size >= 0.75 * top and ln.size > body_size(first) + 1.5
                    and (not gap or gap < 1.6 * prev.size) and not ln.cells and not _MARKED.search(ln.text))
        if close and (same or subtitle) and _title_like(ln.text) and len(picked) < 5:
            picked.append(ln)
        else:
            break
    return picked


def _title_like(text: str) -> bool:
    text = normalize(text)
    letters = sum(c.isalpha() for c in text)
    return letters >= 3 and not _HEADER.search(text) and not STAMP.search(text) and len(text) < 200


def title_text(picked: list[Line]) -> str:
    """The title lines as one string: line-break hyphens joined, all-caps set in title case."""
    text = join_lines([normalize(ln.text) for ln in picked])
    text = re.sub(r"(\w)- (\w)", lambda m: m.group(1) + m.group(2) if m.group(2).islower() else m.group(0), text)
    text = re.sub(r"\s+", " ", text).strip()
    letters = [c for c in text if c.isalpha()]
    if len(letters) > 12 and sum(c.isupper() for c in letters) > 0.85 * len(letters):
        text = _title_case(text)
    return text


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
    """Every author named between the title and the abstract, marks and affiliations stripped."""
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
        names = [n.strip() for n in re.split(r";|,| and ", normalize(metadata["Author"])) if n.strip()]
    return names[:100]


def _author_block(lines: list[Line], picked: list[Line]) -> list[Line]:
    if not picked:
        return []
    page_one = [ln for ln in lines if ln.page == 1]
    try:
        start = page_one.index(picked[-1]) + 1
    except ValueError:
        return []
    block = []
    for ln in page_one[start:start + 40]:
        text = normalize(ln.text)
        if _ABSTRACT.match(text) or (len(text) > 110 and not ln.cells):
            break
        block.append(ln)
    return block


def _continues(line: Line) -> bool:
    """A line an author's superscript broke off: ", Stephen Roller*" (its comma set in roman)."""
    return normalize(line.text).startswith((",", "and "))


def _looks_like_names(line: Line) -> bool:
    return not _ORG.search(line.text) and "@" not in line.text


def _segments(block: list[Line]) -> list[str]:
    """The block's text split into candidate names: at cells, commas, semicolons, 'and', '&'."""
    texts: list[str] = []
    for ln in block:
        if _ORG.search(ln.text) or re.search(r"(?<![\d,])\b\d{3,}\b", ln.text):
            continue  # an affiliation or address line (a whole line: its cells may hide the keyword)
        parts = list(ln.cells) if ln.cells else [ln.text]
        for part in parts:
            part = normalize(part)
            if texts and (part.startswith(",") or texts[-1].rstrip().endswith(",")) and not ln.cells:
                texts[-1] += " " + part
            else:
                texts.append(part)
    out: list[str] = []
    for text in texts:
        if "@" in text or re.search(r"https?://|www\.|\.com\b|\.edu\b|\.org\b", text) or _ORG.search(text):
            continue
        cjk = len(re.findall(r"[\u4e00-\u9fff]", text)) > 1
        pieces = re.split(r"[,;，、]|\band\b|&|(?<=[∗*†‡♣♢♡♠⋄])\s+(?=[A-Z])", text)
        if cjk:
            pieces = [re.sub(r"\s", "", p) for p in pieces]
        out.extend(p for p in pieces if p.strip())
    return out


_ROLE = re.compile(r"\b(member|ieee|student|fellow|senior|life)\b", re.I)


def _names(segment: str) -> list[str]:
    """A cleaned name, or a run of two-word names split in pairs ("Li Dong Xingxing Zhang")."""
    if _ROLE.search(segment):
        return []  # "Student Member, IEEE"
    text = _MARKS.sub(" ", unicodedata.normalize("NFC", segment))
    text = re.sub(r"\s+", " ", text).strip(" .,*")
    if re.fullmatch(r"[\u4e00-\u9fff]{2,4}", text):
        return [text]
    tokens = text.split()
    if not tokens or not all(_name_token(t) for t in tokens):
        return []
    if 2 <= len(tokens) <= 4:
        return [text]
    if len(tokens) >= 4 and len(tokens) % 2 == 0 and not any(t.endswith(".") for t in tokens):
        return [f"{a} {b}" for a, b in zip(tokens[::2], tokens[1::2])]
    return []


def _name_token(token: str) -> bool:
    if token.lower() in ("van", "von", "de", "der", "den", "la", "le", "du", "di", "da", "del", "bin", "al"):
        return True
    return bool(re.fullmatch(r"[A-Z\u00c0-\u024f][\w'’\u00c0-\u024f.-]*", token)) and not token.isupper() \
        or bool(re.fullmatch(r"[A-Z]\.(?:-?[A-Z]\.)?", token))
