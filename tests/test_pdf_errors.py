"""Bad input: one clear error, nothing else."""

import pytest
from pypdf import PdfWriter

from paper_reader.errors import InputError, PdfUnreadable
from paper_reader.reading.reader import read_paper
from tests.support.pdfgen import encrypt, write_pdf


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_paper(tmp_path / "nope.pdf")


def test_not_a_pdf(tmp_path):
    path = tmp_path / "notes.pdf"
    path.write_text("<html><body>Not a PDF</body></html>")
    with pytest.raises(PdfUnreadable, match="not a PDF"):
        read_paper(path)


def test_truncated_pdf(tmp_path, sample_pdf):
    data = sample_pdf.read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(PdfUnreadable, match="damaged or cut short|no text layer"):
        read_paper(cut)


def test_encrypted_pdf(tmp_path, sample_pdf):
    locked = encrypt(sample_pdf, tmp_path / "locked.pdf", "secret")
    with pytest.raises(PdfUnreadable, match="encrypted"):
        read_paper(locked)


def test_scanned_pdf_without_text_layer(tmp_path):
    path = write_pdf(tmp_path / "scan.pdf", [[], [], []])
    with pytest.raises(PdfUnreadable, match="no text layer"):
        read_paper(path)


def test_zero_pages(tmp_path):
    path = tmp_path / "empty.pdf"
    with path.open("wb") as fh:
        PdfWriter().write(fh)
    with pytest.raises(PdfUnreadable, match="no pages"):
        read_paper(path)


def test_garbled_text_is_refused(tmp_path):
    junk = " ".join(["xqzt", "brrk", "mnpq", "tsvw", "glkr"] * 12)
    path = write_pdf(tmp_path / "garbled.pdf", [[junk] * 40])
    with pytest.raises(PdfUnreadable, match="garbled"):
        read_paper(path)


def test_empty_password_encryption_is_opened(tmp_path, sample_pdf):
    path = encrypt(sample_pdf, tmp_path / "print-protected.pdf", "")
    assert read_paper(path).title == "A Sample Paper on Testing"
