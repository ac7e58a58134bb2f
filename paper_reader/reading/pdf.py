"""Read a PDF into visual lines with page numbers, font sizes, weights and positions.

PDFium (pypdfium2) reads the characters: ~10x faster than pypdf and it expands ligature glyphs
itself. Per-character calls cost ~0.6 µs each, so each line samples a few characters for its font
rather than asking about every one. Every page is PDFium's unless its text is garbled, or it is a
CJK page where PDFium gives no text for some text objects (a font it cannot map); such pages are
read by pypdf too, and pypdf's reading is kept where it is real text and holds more. The engines
decode fonts differently, and on the shared papers each is right where the other fails (PDFium
reads the Japanese and CNKI fonts pypdf turns into Thaana and Tibetan letters; pypdf keeps the
labels and surnames PDFium drops in the Founder-typeset Chinese journals, at 5-20 pages/s).

Text built from PDFium's per-character API is UTF-16: a character beyond the BMP (the maths
italic letters of formulas) arrives as a surrogate pair. Lines are combined from those pairs and
any lone surrogate becomes U+FFFD, so nothing that is not valid UTF-8 leaves the reader.
"""

from __future__ import annotations

import ctypes
import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from paper_reader.types import Line
from paper_reader.errors import InputError, PdfUnreadable
from paper_reader.files import file_kind, is_regular

# pypdf logs a warning for every odd font; none of it is actionable for a reader of notes.
logging.getLogger("pypdf").setLevel(logging.ERROR)
log = logging.getLogger(__name__)

_BOLD = re.compile(r"bold|black|heavy|semibold|medi|demi|[-,+]b[dx]?$|黑体|粗", re.I)
_BREAK = re.compile(r"\r\n|\r|\n")
_LETTER = re.compile(r"[^\W\d_]")
_DROP_CAP = re.compile(r"[A-Z] [A-Z]")
# PDFium is not thread-safe (a batch reading two papers at once crashed in FPDF_LoadPage): every
# use of it in the process holds this lock. Reading takes ~0.1 s a paper, so nobody waits long.
PDFIUM_LOCK = threading.RLock()


@dataclass
class RawPdf:
    """What the PDF gives us before any cleaning."""

    path: Path
    lines: list[Line]
    page_count: int
    metadata: dict[str, str] = field(default_factory=dict)
    outline: list[tuple[int, str, int]] = field(default_factory=list)  # (depth, title, page)
    garbled: list[int] | None = None  # pages (1-based) still garbled after both engines; None: not checked


def read_pdf(path: str | Path, max_pages: int | None = None) -> RawPdf:
    """Open a PDF and rebuild its lines; raise a clear error for anything unreadable."""
    path = Path(path)
    with PDFIUM_LOCK:
        return _read(path, max_pages)


def _read(path: Path, max_pages: int | None) -> RawPdf:
    doc = _open(path)
    try:
        count = len(doc)
        if max_pages and count > max_pages:
            raise PdfUnreadable(
                f"{path} has {count} pages, more than the {max_pages} allowed: it looks like a book "
                f"or proceedings. Pass --max-pages {count} to read it anyway, or split it.")
        lines: list[Line] = []
        doubtful: list[int] = []
        garbled: set[int] = set()
        for index in range(count):
            page_lines, drops = _page(doc, index)
            if _garbled(page_lines):
                garbled.add(index + 1)
            if drops or index + 1 in garbled:
                doubtful.append(index)
            lines.extend(page_lines)
        if doubtful:
            lines, replaced = _second_opinion(path, lines, doubtful)
            garbled -= replaced
        return RawPdf(path=path, lines=lines, page_count=count, metadata=_metadata(doc), outline=_outline(doc),
                      garbled=sorted(garbled))
    finally:
        doc.close()


def _open(path: Path):
    import pypdfium2 as pdfium

    if not path.exists():
        raise InputError(f"{path}: no such file.")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a PDF file.")
    if not is_regular(path):  # a FIFO or device would hang or never end
        raise InputError(f"{path} is {file_kind(path)}, not a PDF file. Give the PDF itself.")
    try:
        with path.open("rb") as fh:
            head = fh.read(1024)
    except OSError as exc:
        raise InputError(f"Could not open {path}: {exc.strerror}.") from exc
    if b"%PDF-" not in head:
        raise PdfUnreadable(f"{path} is not a PDF (it does not start with %PDF-).")
    try:
        doc = pdfium.PdfDocument(str(path))  # tries the empty password that "restricted" PDFs use
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower() and _has_encrypt_dict(path):
            raise PdfUnreadable(
                f"Could not read {path}: it is encrypted. Decrypt it first, e.g. with "
                f"`qpdf --decrypt --password=... {path.name} decrypted.pdf`.") from exc
        if _pypdf_page_count(path) == 0:
            raise PdfUnreadable(f"{path} has no pages.") from exc
        raise PdfUnreadable(f"Could not read {path}: the file is damaged or cut short ({exc}). "
                            "Download it again.") from exc
    if len(doc) == 0:
        doc.close()
        raise PdfUnreadable(f"{path} has no pages.")
    return doc


def _pypdf_page_count(path: Path) -> int | None:
    """A second opinion from pypdf on a file PDFium refused (it tells an empty file from a broken one)."""
    try:
        import pypdf

        return len(pypdf.PdfReader(str(path)).pages)
    except Exception:  # pypdf cannot read it either
        return None


def _has_encrypt_dict(path: Path) -> bool:
    """PDFium reports some damaged files (no pages tree) as password-protected: check the trailer."""
    try:
        with path.open("rb") as fh:
            return b"/Encrypt" in fh.read(64 * 2**20)
    except OSError:
        return False


def _page(doc, index: int) -> tuple[list[Line], bool]:
    """The page's lines, and whether PDFium dropped glyphs of a CJK font there."""
    import pypdfium2 as pdfium

    try:
        page = doc[index]
    except pdfium.PdfiumError as exc:
        log.warning("page %d of %s unreadable: %s", index + 1, doc, exc)
        return [], False
    try:
        textpage = page.get_textpage()
        try:
            lines = _lines_of(textpage, index + 1, page.get_height())
            return lines, _mostly_cjk(lines) and _drops_glyphs(page, textpage)
        finally:
            textpage.close()
    finally:
        page.close()


def _mostly_cjk(lines: list[Line]) -> bool:
    text = "".join(ln.text for ln in lines)
    return len(text) > 50 and len(_CJK.findall(text)) > 0.2 * len(text)


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def _drops_glyphs(page, textpage) -> bool:
    """Whether several text objects of the page give PDFium no text at all: a CJK font PDFium
    cannot map (measured on the shared Chinese journals: the 方正 *_GBK fonts' labels, 摘要 and
    authors' surnames, are missing from PDFium's text and present in pypdf's). ~10 ms a page,
    paid only on CJK pages."""
    import pypdfium2.raw as raw

    empty = 0
    for obj in page.get_objects(filter=[raw.FPDF_PAGEOBJ_TEXT], max_depth=2):
        if raw.FPDFTextObj_GetText(obj.raw, textpage.raw, None, 0) <= 2:  # the terminator alone
            empty += 1
            if empty >= 3:
                return True
    return False


def _page_text(textpage) -> str:
    """The page's characters, one per character index (PDFium's own numbering)."""
    import pypdfium2.raw as raw

    count = textpage.count_chars()
    text = textpage.get_text_range() if count > 0 else ""
    if len(text) != count:  # FPDFText_GetText leaves out characters beyond the BMP (𝜇): index by index
        text = "".join(chr(raw.FPDFText_GetUnicode(textpage, i) or 0xFFFD) for i in range(count))
    return text


def _lines_of(textpage, number: int, height: float) -> list[Line]:
    import pypdfium2.raw as raw

    text = _page_text(textpage)
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    font = ctypes.create_string_buffer(128)
    flags = ctypes.c_int()
    matrix = raw.FS_MATRIX()
    lines: list[Line] = []
    start = 0
    for m in [*_BREAK.finditer(text), None]:
        end = m.start() if m else len(text)
        span, first = text[start:end], start
        start = m.end() if m else len(text)
        stripped = span.strip()
        if not stripped:
            continue
        lead = first + (len(span) - len(span.lstrip()))
        tail = first + len(span.rstrip()) - 1
        # a body line's size is any of its letters'; a short line (title, heading) may mix sizes
        samples = {(lead + tail) // 2} if tail - lead > 60 else {lead, (lead + tail) // 2}
        sizes = sorted(_size(textpage, i, matrix) for i in samples)
        # the largest: small caps ("1 INTRODUCTION" with its capital larger) are set in the line's
        # size; a drop cap ("W E ARE ...") is not, so the smallest there
        size = sizes[0] if _DROP_CAP.match(stripped) else sizes[-1]
        alpha = _LETTER.search(span)
        letter = first + alpha.start() if alpha else lead  # not a "," before a name
        weight = raw.FPDFText_GetFontWeight(textpage, letter)
        raw.FPDFText_GetFontInfo(textpage, letter, font, 128, flags)
        name = font.value.decode("latin-1", "replace").split("+")[-1]
        bold = weight >= 600 or bool(_BOLD.search(name))
        raw.FPDFText_GetCharBox(textpage, lead, left, right, bottom, top)
        x0, y_top = left.value, height - top.value
        raw.FPDFText_GetCharBox(textpage, tail, left, right, bottom, top)
        cells, runs = _cells(textpage, text, lead, tail, size, height) \
            if number == 1 and y_top < 0.45 * height and tail - lead < 160 else ((), ())
        lines.append(Line(number, valid_text(stripped), round(size, 1), bold, x0=round(x0, 1), x1=round(right.value, 1),
                          top=round(y_top, 1), page_height=round(height, 1), cells=cells, runs=runs))
    return lines


def _size(textpage, index: int, matrix) -> float:
    """The font size as printed: the nominal size times the text matrix's vertical scale
    (some producers set every font at 1 pt and scale it by the matrix)."""
    import pypdfium2.raw as raw

    nominal = raw.FPDFText_GetFontSize(textpage, index)
    if not raw.FPDFText_GetMatrix(textpage, index, matrix):
        return nominal
    return nominal * ((matrix.c ** 2 + matrix.d ** 2) ** 0.5 or 1.0)


def _cells(textpage, text: str, lead: int, tail: int, size: float, height: float):
    """A title-block line split where the gap between characters is wider than 1 em, and its
    runs of characters set alike (size, baseline) when it mixes them.

    "Jacob Devlin    Ming-Wei Chang    Kenton Lee" is one text line with wide gaps; the gaps are
    where one author ends and the next begins. "Qian Ren^a, Sudipto Banerjee^a,*" is one run at
    11 pt and marks at 7.8 pt set 4.6 pt higher: the runs let metadata drop the marks by how they
    are set, not by guessing which letters are names. Only page 1's upper lines pay for this.
    """
    import pypdfium2.raw as raw

    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    ox, oy = ctypes.c_double(), ctypes.c_double()
    matrix = raw.FS_MATRIX()
    cells, current, prev_right = [], [], None
    runs: list[list] = []  # [text, size, baseline, cell]
    char_size, last_nominal = 0.0, None
    for i in range(lead, tail + 1):
        ch = text[i]
        if ch.isspace():
            current.append(ch)
            if runs:
                runs[-1][0] += ch
            continue
        raw.FPDFText_GetCharBox(textpage, i, left, right, bottom, top)
        # wider than any word space of an unjustified line (~0.25-0.8 em; "K. Ravi" 0.77 em),
        # narrower than the gaps between names set side by side (1.3 em and more)
        if prev_right is not None and left.value - prev_right > 1.0 * max(size, 4.0):
            cells.append("".join(current).strip())
            current = []
        current.append(ch)
        prev_right = right.value
        nominal = raw.FPDFText_GetFontSize(textpage, i)
        if nominal != last_nominal or nominal < 2:  # the matrix only when the size may have changed
            char_size, last_nominal = round(_size(textpage, i, matrix), 1), nominal
        raw.FPDFText_GetCharOrigin(textpage, i, ox, oy)
        baseline = round(height - oy.value, 1)
        if runs and abs(runs[-1][1] - char_size) < 0.3 and abs(runs[-1][2] - baseline) < 0.5 \
                and runs[-1][3] == len(cells):
            runs[-1][0] += ch
        else:
            runs.append([ch, char_size, baseline, len(cells)])
    cells.append("".join(current).strip())
    cells = [valid_text(c) for c in cells if c]
    mixed = len({(z, b) for _, z, b, _ in runs}) > 1
    kept = tuple((valid_text(t), z, b, c) for t, z, b, c in runs) if mixed else ()
    return (tuple(cells) if len(cells) > 1 else ()), kept


def _garbled(lines: list[Line]) -> bool:
    from paper_reader.reading.clean import garbled_pages

    return bool(garbled_pages(lines, GARBLED))


GARBLED = 0.3  # share of characters that cannot be prose above which a page's text is garbled


def _second_opinion(path: Path, lines: list[Line], indexes: list[int]) -> tuple[list[Line], set[int]]:
    """Pages whose PDFium text is garbled or missing glyphs go to pypdf; its reading is kept where
    it is real text and either PDFium's is garbled or pypdf's holds more CJK characters."""
    from paper_reader.reading.clean import garbage_ratio
    from paper_reader.reading.pdf_pypdf import pypdf_lines

    theirs = pypdf_lines(path, indexes)
    better = {}
    for page, got in theirs.items():
        ours = " ".join(ln.text for ln in lines if ln.page == page)
        text = " ".join(ln.text for ln in got)
        mine, other = garbage_ratio(ours), garbage_ratio(text)
        if other < GARBLED and (mine > GARBLED and other < mine
                                or other <= mine + 0.02 and len(_CJK.findall(text)) > 1.005 * len(_CJK.findall(ours))):
            better[page] = got
    return (_replace_pages(lines, better) if better else lines), set(better)


def valid_text(text: str) -> str:
    """Combine UTF-16 surrogate pairs into their characters; a lone surrogate becomes U+FFFD."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _replace_pages(lines: list[Line], replacement: dict[int, list[Line]]) -> list[Line]:
    """Swap in another engine's lines for some pages (1-based numbers), keeping reading order."""
    out: list[Line] = []
    done: set[int] = set()
    for ln in lines:
        if ln.page in replacement:
            if ln.page not in done:
                out.extend(replacement[ln.page])
                done.add(ln.page)
            continue
        out.append(ln)
    return out


def _metadata(doc) -> dict[str, str]:
    try:
        found = {k: valid_text(str(v).strip()) for k, v in doc.get_metadata_dict(skip_empty=True).items()
                 if str(v).strip()}
        for key in ("Published", "Date", "Created"):  # publishers' own keys (NeurIPS proceedings)
            value = doc.get_metadata_value(key)
            if value and value.strip():
                found[key] = valid_text(value.strip())
        return found
    except Exception:  # a broken info dictionary: no metadata rather than no paper
        return {}


def _outline(doc) -> list[tuple[int, str, int]]:
    """(depth, title, page) of the PDF's bookmarks. On the 13 shared papers with an outline, PDFium
    gives the same entries and pages as pypdf, without pypdf parsing the file a second time."""
    out: list[tuple[int, str, int]] = []
    try:
        for item in doc.get_toc(max_depth=8):
            dest = item.get_dest()
            index = dest.get_index() if dest is not None else None
            if index is not None and index >= 0:
                out.append((item.level, valid_text(item.get_title() or ""), index + 1))
    except Exception:  # a looping or broken outline: headings are detected instead
        return []
    return out
