"""Finding a paper's headings: from its PDF outline (repaired or refused when it is not the real
tree) or detected in the text from numbering, standard names, capitals, size and weight."""

from __future__ import annotations

import re

from paper_reader.reading.clean import body_size, normalize
from paper_reader.reading.sections import _Heading, kind_of, split_number, squash
from paper_reader.types import Line


_STANDARD = re.compile(
    r"(abstract|introduction|background|related work|prior work|preliminaries|methods?|methodology|"
    r"approach|model|experiments?|experimental (setup|results)|results|evaluation|"
    r"results and discussion|discussion|limitations|conclusions?|conclusions? and future work|"
    r"future work|acknowledge?ments?|references|bibliography|appendix|appendices|appendix for .{3,120}|"
    r"supplementary materials?|supplemental materials?|supplementary information|declarations|funding|"
    r"authors?[’']? contributions?|availability of data( and materials?)?|data availability|code availability|"
    r"competing interests|conflicts? of interests?|ethics approval( and consent to participate)?|"
    r"consent for publication|abbreviations|summary|résumé|materials and methods|additional files?|"
    r"credit authorship contribution statement|declaration of competing interest|"
    r"摘\s*要|引\s*言|前\s*言|绪\s*论|相关工作|方法|实验|实验结果|讨论|"
    r"结\s*论|结\s*束\s*语|参\s*考\s*文\s*献|致\s*谢|附\s*录|作者贡献说明|"
    r"概\s*要|要\s*旨|目\s*次|はじめに|序\s*論|結\s*論|おわりに|謝\s*辞|"
    r"요\s*약|초\s*록|서\s*론|결\s*론|참\s*고\s*문\s*헌|감사의 글)[.:：]?",
    re.I,
)



_NUMBERED = re.compile(
    r"^(?P<num>\d{1,2}(?:\.\d{1,2}){0,3}|[A-H](?:\.\d{1,2}){0,2}|[IVX]{1,4})(?:\.\s*|\s+|(?=[\u4e00-\u9fff]))"
    r"(?P<title>[A-Z\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af][^\n]{1,90})$"
)



_BACK_MATTER = re.compile(
    r"(declarations|funding|authors?[’']? contributions?|availability of data( and materials?)?|"
    r"data availability|code availability|supplementary (information|materials?)|supplemental materials?|"
    r"competing interests|conflicts? of interests?|abbreviations|acknowledge?ments?)", re.I)



def find_headings(outline, lines: list[Line]) -> tuple[list[_Heading], str]:
    """Headings from the outline when it is usable, detected ones otherwise; and which it was.
    A bibliography printed without a heading (REVTeX letters) still gets its References."""
    headings, source = _find_headings(outline, lines)
    if not any(kind_of(h.title) == "references" for h in headings):
        start = _unheaded_bibliography(lines)
        if start is not None:
            headings = sorted([h for h in headings if h.index < start] + [_Heading(start, "References", None, 1, printed=False)]
                              + [h for h in headings if h.index > start], key=lambda h: h.index)
    return headings, source



def _unheaded_bibliography(lines: list[Line]) -> int | None:
    """Where "[1] ..." starts a run of "[2]", "[3]", ... entries in the second half of the paper."""
    for i in range(len(lines) // 2, len(lines)):
        if not lines[i].text.startswith(("[1] ", "[1]")):
            continue
        following = " ".join(ln.text[:5] for ln in lines[i + 1:i + 40])
        if "[2]" in following and "[3]" in following:
            return i
    return None



def _find_headings(outline, lines: list[Line]) -> tuple[list[_Heading], str]:
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
    titles = {squash(h.title) for h in placed}
    last = max(h.index for h in placed)
    # outlines often leave out the abstract, the references and the back matter after them
    extra = [
        h for h in detected
        if squash(h.title) not in titles and all(h.index != p.index for p in placed) and (
            kind_of(h.title) in ("abstract", "references", "acknowledgements") and kind_of(h.title) not in kinds
            or h.index > last and (not h.number or h.number[0].isalpha())
            or not h.number and h.level == 1 and _BACK_MATTER.fullmatch(h.title))
    ]
    return sorted(placed + extra, key=lambda h: h.index), "outline"



def outline_headings(outline: list[tuple[int, str, int]], lines: list[Line]) -> list[_Heading]:
    """Place the PDF outline's entries on lines; [] when the outline is not the paper's headings.

    Word exports name bookmarks by id ("Proliferation_of_Conventional_and_Unconv", "_Toc123"),
    and some outlines jump levels (1 -> 7): ids make the outline unusable, jumps are closed up.
    """
    entries = [(d, normalize(t).strip(), p) for d, t, p in outline if normalize(t).strip()]
    if not entries or not lines or sum(bool(_BOOKMARK_ID.fullmatch(t)) for _, t, _ in entries) > len(entries) / 2:
        return []
    roots = [e for e in entries if e[0] == min(d for d, _, _ in entries)]
    # Some outlines have the paper's title as the single root: drop it, promote the rest.
    if len(roots) == 1 and len(entries) > 1 and (roots[0][2] == 1 and entries[0] is roots[0]):
        entries = entries[1:]
    headings: list[_Heading] = []
    start, found = 0, 0
    levels: list[int] = []  # the outline depths open above the current entry
    for depth, text, page in entries:
        while levels and levels[-1] >= depth:
            levels.pop()
        levels.append(depth)
        idx, hit = _locate(lines, text, page, start)
        found += hit
        number, name = split_number(text)
        headings.append(_Heading(idx, name, number, len(levels)))  # 1 -> 7 becomes 1 -> 2
        start = idx
    if found < 0.5 * len(headings):  # the titles are not on their pages: not this paper's headings
        return []
    return headings



_BOOKMARK_ID = re.compile(r"_?[A-Za-z0-9]+(_[A-Za-z0-9]*)+|_?(Toc|Ref|Hlk|bookmark|page|section)\d+", re.I)



def _locate(lines: list[Line], title: str, page: int, start: int) -> tuple[int, bool]:
    """Index of the line where an outline heading starts, searching its page from `start`, and
    whether the title was found there (else the page's first line stands in)."""
    want = squash(title)[:40]
    first_on_page = None
    for i in range(start, len(lines)):
        ln = lines[i]
        if ln.page < page:
            continue
        if ln.page > page:
            break
        if first_on_page is None:
            first_on_page = i
        got = squash(ln.text)
        # the printed heading may carry a number or letter the outline leaves out ("A Position Bias")
        if got and want and (0 <= got.find(want) <= 5 or (len(got) >= 4 and want.startswith(got))):
            return i, True
    if first_on_page is not None:
        return max(first_on_page, start), False
    # the outline points past the text we kept: attach to the next line after `start`
    return next((i for i in range(start, len(lines)) if lines[i].page >= page), len(lines) - 1), False



# An affiliation line such as "1Carnegie Mellon University" or "1 NLP Lab, ..." is never a heading
_AFFILIATION = re.compile(r"universit|institut|laborator|\blab\b|department|research|college|school of|"
                          r"inc\.|corporation|@|大学|学院|研究所", re.I)



def detect_headings(lines: list[Line]) -> list[_Heading]:
    """Find headings in the text: numbering patterns, standard names, font size and weight."""
    state = _Detect(lines)
    for i in range(len(lines)):
        if i not in state.consumed:
            state.line(i)
    return state.found



# "Abstract—", "Abstract:", "ABSTRACT.", "摘 要：" opening a paragraph: the abstract set run-in
_RUN_IN_ABSTRACT = re.compile(r"[【\[]?(abstract|summary|摘\s*要)[】\]]?\s*[-—–.:：]\s*\S|[【\[]?(摘\s*要)[】\]]?\s*(?=[\u4e00-\u9fff])",
                              re.I)



# OCR reads the Roman numerals of scanned IEEE headings as digits: "11. MINIMAL TASK", "111. SIMPLE"
_OCR_ROMAN = re.compile(r"^([1l]{2,3}|I[vV]|V[iI]{0,3}|[iI]V)(\.\s+[A-Z]{3})")



_CJK_HEADING = re.compile(r"[\u4e00-\u9fff]+")
# a thesis's chapters: "第1章 導入", "第二章 相关工作"
_CHAPTER = re.compile(r"第\s*(\d{1,2}|[一二三四五六七八九十]{1,3})\s*章(?:\s*(\S.{0,40}))?")
# a label set letter by letter ("A B S T R A C T", "요 약", "结 束 语") or in brackets ("【摘要】")
# "Abstract Knowledge graph ..." with only the label bold (the line's first letter is sampled)
_BOLD_ABSTRACT = re.compile(r"(abstract)()\s+(?=[A-Z])", re.I)
_SPACED = re.compile(r"(?:\w )+\w")
_BRACKETS = re.compile(r"^[【\[〔(（]\s*(.+?)\s*[】\]〕)）]$")


def _label_form(text: str) -> str:
    """A line as the label it may be: letter spacing closed up, enclosing brackets dropped."""
    if _SPACED.fullmatch(text):
        text = text.replace(" ", "")
    m = _BRACKETS.match(text)
    return m.group(1) if m else text


def _all_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters if c.isascii())and \
        sum(c.isupper() for c in letters) >= 0.9 * len(letters)



_DECLARED = re.compile(r"ethics|consent|competing|conflicts? of", re.I)



class _Detect:
    """The running state of heading detection over a document's lines."""

    def __init__(self, lines: list[Line]):
        self.lines, self.size = lines, body_size(lines)
        self.found: list[_Heading] = []
        self.last_top, self.last_sub = 0, {}
        self.next_letter = "A"
        self.after_refs = False
        self.in_declarations = False
        self.romans = 0  # Roman-numbered headings seen: "V. ALTERNATIVE APPROACHES" follows "IV."
        self.consumed: set[int] = set()
        self.numbered_seen = False
        # where most of the text is bold (a producer that marks every font bold), bold marks nothing
        weight = sum(len(ln.text) for ln in lines if ln.bold)
        self.bold_marks = weight < 0.5 * max(sum(len(ln.text) for ln in lines), 1)

    def _first_abstract_in(self, label: str) -> bool:
        """No abstract yet in this script: a Chinese paper has 摘要 and then an English Abstract."""
        cjk = bool(_CJK_HEADING.search(label))
        return not any(kind_of(h.title) == "abstract" and bool(_CJK_HEADING.search(h.title)) == cjk
                       for h in self.found)

    def line(self, i: int) -> None:
        ln = self.lines[i]
        text = _OCR_ROMAN.sub(lambda m: _roman(m.group(1)) + m.group(2), ln.text.strip())
        run_in = _RUN_IN_ABSTRACT.match(text) or ln.bold and self.bold_marks and _BOLD_ABSTRACT.match(text)
        if run_in and ln.page <= 2 and self._first_abstract_in(run_in.group(1) or run_in.group(2)):
            self.found.append(_Heading(i, run_in.group(1) or run_in.group(2), None, 1))  # "Abstract— ...", "摘要：..."
            return
        larger = ln.size > self.size + 0.4
        # where every line is "bold", only numbering and the sequence check stand behind a bold line
        emphasized = ln.bold and (self.bold_marks or bool(_NUMBERED.match(text))) or larger or _caps_heading(text)
        label = _label_form(text)
        if label != text and _STANDARD.fullmatch(label) and len(text) < 40:
            self.standard(i, label, ln)  # "A B S T R A C T", "【摘要】": set apart, so a heading
            return
        chapter = _CHAPTER.fullmatch(text)
        if chapter and larger and not re.search(r"\s\d+$", text):  # not a contents line ending in its page
            nxt = self.lines[i + 1] if i + 1 < len(self.lines) else None
            if chapter.group(2) is None and nxt and nxt.page == ln.page and nxt.size > self.size + 2 \
                    and len(nxt.text) <= 40:  # "第 1 章" over "導入", both display type
                text = f"{text} {nxt.text.strip()}"
                self.consumed.add(i + 1)
            self.found.append(_Heading(i, re.sub(r"第\s*(\w+?)\s*章\s*", r"第\1章 ", text).strip(), None, 1))
            return
        if len(text) > 90 or not emphasized and not _STANDARD.fullmatch(text):
            return
        m = _NUMBERED.match(text)
        if m and emphasized and _plausible_title(m.group("title"), larger):
            title = m.group("title").strip()
            if _CJK_HEADING.fullmatch(title):
                title = self.merged(i, title, cjk=True)  # "2 基于改进互信息的信息检索扩展" + "模型"
            self.numbered(i, m.group("num"), title, larger or _caps_heading(text))
            return
        std = _STANDARD.fullmatch(text) or _STANDARD.fullmatch(split_number(text)[1])
        if not std and self.after_refs and ln.size > self.size + 1 and _back_matter_title(text):
            self.found.append(_Heading(i, self.merged(i, text).rstrip(".:"), None, 1))  # "Attention Visualizations"
            return
        # a plain-weight "Model" is a table header unless the line before it ends a sentence
        lines = self.lines
        ends_sentence = i == 0 or lines[i - 1].page != ln.page or lines[i - 1].text.rstrip()[-1:] in ".:!?。"
        # a line of capitals alone is set apart as a label ("ABSTRACT" in AASTeX, "MATERIALS AND METHODS")
        nxt = lines[i + 1].text if i + 1 < len(lines) else ""
        set_apart = _all_caps(text) and len(nxt) >= 50 and nxt[:1].isalpha() and not _all_caps(nxt)  # over its paragraph
        if std and (emphasized or len(text) < 40 and (ends_sentence or set_apart)) \
                and not split_number(text)[1][:1].islower():
            self.standard(i, self.merged(i, text) if text.lower().startswith("appendix for") else text, ln)

    def standard(self, i: int, text: str, ln: Line) -> None:
        number, name = split_number(text)
        name = name.rstrip(".:：")
        self.after_refs = self.after_refs or kind_of(name) == "references"
        # BMC/Springer back matter: "Ethics approval", "Competing interests" sit under "Declarations"
        level = 2 if self.in_declarations and _DECLARED.match(name) else 1
        self.in_declarations = name.lower() == "declarations" or (self.in_declarations and level == 2)
        self.found.append(_Heading(i, name, number, level))

    def numbered(self, i: int, num: str, name: str, strong: bool) -> None:
        if _AFFILIATION.search(name):
            return
        level = num.count(".") + 1
        if num.isdigit():
            first_zero = num == "0" and not self.numbered_seen  # Chinese journals open with "0 引言"
            if not (self.last_top < int(num) <= self.last_top + 2 or first_zero):
                return
            self.last_top, self.last_sub, self.numbered_seen = int(num), {}, True
        elif num[0].isdigit():
            top = num.partition(".")[0]
            parent, last = num.rsplit(".", 1)
            if int(top) != self.last_top or int(last) > self.last_sub.get(parent, 0) + 2:
                return
            self.last_sub[parent] = int(last)
        elif num[0] in "IVX" and not self.after_refs and (len(num) > 1 or num == "I" or self.last_top or self.romans):
            level = 1
            self.romans += 1
        elif not self._letter_ok(num, name, strong):
            return
        self.found.append(_Heading(i, name, num, level))

    def _letter_ok(self, num: str, name: str, strong: bool) -> bool:
        """Lettered headings (A, B.1) are appendices: after the references, or in sequence from A
        after the numbered sections; "B ERT" (small caps split) is a word, not a heading."""
        if len(num.partition(".")[0]) > 1:  # "II" after the references: a Roman numeral, not a letter
            return False
        if re.fullmatch(r"[A-Z]{2,5}", name.split()[0]) and len(name.split()) == 1 and len(name) < 6:
            return False
        if "." in num:
            return self.after_refs or self.next_letter > "A"
        if self.after_refs or (strong and self.last_top >= 2 and num == self.next_letter):
            self.next_letter = chr(ord(num) + 1)
            return True
        return False

    def merged(self, i: int, text: str, cjk: bool = False, joiner: str = "") -> str:
        """A heading set over several lines ("Appendix for BERT: Pre-training of / Deep ...")."""
        ln = self.lines[i]
        for j in range(i + 1, min(i + 4, len(self.lines))):
            nxt = self.lines[j]
            more = _CJK_HEADING.search(nxt.text.strip()) and len(nxt.text.strip()) <= 20 if cjk \
                else _back_matter_title(nxt.text.strip())
            if nxt.page != ln.page or abs(nxt.size - ln.size) > 0.3 or nxt.bold != ln.bold or not more:
                break
            text = f"{text}{joiner if cjk else ' '}{nxt.text.strip()}"
            self.consumed.add(j)
        return text



def _roman(ocr: str) -> str:
    """OCR's reading of a Roman numeral set in capitals: "11" -> "II", "Iv" -> "IV"."""
    return "I" * len(ocr) if set(ocr) <= set("1l") else ocr.upper()


def _caps_heading(text: str) -> bool:
    """'1. INTRODUCTION', 'IV. LEARNING TO LATCH': numbered and set in capitals (AASTeX, REVTeX, IEEE)."""
    m = _NUMBERED.match(text)
    letters = [c for c in m.group("title") if c.isalpha()] if m else []
    return len(letters) >= 4 and sum(c.isupper() for c in letters) >= 0.8 * len(letters)



def _back_matter_title(text: str) -> bool:
    words = text.split()
    return 1 <= len(words) <= 8 and text[:1].isupper() and not text.endswith((".", ",", ";")) and \
        not re.search(r"\d", text) and sum(c.isalpha() or c.isspace() for c in text) >= 0.9 * len(text)



def _plausible_title(title: str, larger: bool = False) -> bool:
    words = title.split()
    if len(words) > 16 or title.endswith((",", ";")):
        return False
    if title.endswith(".") and len(words) > 6:
        return False  # a sentence, e.g. a numbered list item
    if len(words) > 5 and (re.match(r"(We|Our|This|These|It|In this|Here)\b", title)
                           or "," in title and len(words) > 8 and not larger):
        return False  # a bold list item such as "2. We complement rationale generation with ..."
    return sum(c.isalpha() or "\u4e00" <= c <= "\u9fff" for c in title) >= 0.6 * len(title)

