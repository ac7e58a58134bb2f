"""Write small real PDFs for tests (Helvetica text, optional bold headings, outline, encryption)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Text:
    text: str
    size: float = 10.0
    bold: bool = False


def _escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def write_pdf(path: Path, pages: list[list[Text | str]], title: str | None = None) -> Path:
    """A PDF whose pages hold the given lines, top to bottom, in Helvetica (bold where asked)."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    pages_obj = add(b"")
    regular = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    bold = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    kids = []
    for lines in pages:
        y = 760.0
        ops = []
        for item in lines:
            t = item if isinstance(item, Text) else Text(item)
            font = "F2" if t.bold else "F1"
            ops.append(f"BT /{font} {t.size} Tf 72 {y:.1f} Td ({_escape(t.text)}) Tj ET")
            y -= t.size * 1.4
        stream = "\n".join(ops).encode("cp1252", "replace")
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        page = add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> >>" % (pages_obj, content, regular, bold)
        )
        kids.append(page)
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj
    objects[pages_obj - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    info = add(b"<< /Title (%s) >>" % _escape(title).encode("latin-1")) if title else None

    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    trailer = b"<< /Size %d /Root %d 0 R" % (len(objects) + 1, catalog)
    if info:
        trailer += b" /Info %d 0 R" % info
    out += b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    path.write_bytes(bytes(out))
    return path


def sample_paper(path: Path, extra_pages: int = 0, title: str = "A Sample Paper on Testing") -> Path:
    """A small paper with a title, abstract, numbered bold headings, a result and references."""
    body = ("We propose a simple method for testing readers of papers. Our contribution is a "
            "pipeline that keeps page numbers. The method reaches 91.5% accuracy on the test set.")
    pages = [
        [Text(title, 16, True), Text("Ada Lovelace, Alan Turing", 11), Text("Abstract", 12, True),
         "This paper studies how to test a paper reader. We propose a small benchmark.",
         Text("1 Introduction", 12, True), body, "In this work we propose to read every section once.",
         Text("2 Related Work", 12, True), "Prior work (Smith et al., 2020) summarised papers without pages.",
         ],
        [Text("3 Method", 12, True), body, Text("3.1 Chunking", 11, True),
         "We assume that sections fit in memory. Each chunk keeps its page.",
         Text("4 Experiments", 12, True), "We find that the reader is 2x faster than the baseline.",
         "A limitation is that scanned papers are not supported.",
         Text("5 Conclusion", 12, True), "In future work we will extend the method to figures.",
         Text("References", 12, True),
         "[1] J. Smith and K. Lee. Summaries of papers. arXiv:2001.01234, 2020.",
         "[2] M. Chen. Reading at scale. In Proc. ACL, doi:10.1234/acl.2021.55, 2021.",
         "[3] A. Kumar. Page numbers matter. Journal of Tests, 2019.",
         ],
    ]
    for i in range(extra_pages):
        pages.insert(-1, [Text(f"{6 + i} Extra Section {i + 1}", 12, True)] + [body] * 30)
    return write_pdf(path, pages, title=title)


def encrypt(source: Path, dest: Path, user_password: str) -> Path:
    """A copy of `source` encrypted with pypdf (RC4-128, readable without extra crypto packages)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    with dest.open("wb") as fh:
        writer.write(fh)
    return dest
