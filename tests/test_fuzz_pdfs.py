"""Fuzz (issue 16, item 1): real PDFs damaged on purpose give a Paper or one clear error, never a traceback.

Each source PDF (the shipped example, generated papers, two small shared papers where
../shared is present) is damaged deterministically (a seeded random.Random): cut short at
several points, bytes flipped in the middle, one object (`N 0 obj ... endobj`) deleted, the
cross-reference table or the `startxref` pointer removed. `read_paper` must return a Paper whose
text is valid UTF-8, or raise a PaperReaderError; `paper-reader sections --json` must print JSON
and exit 0, or exit non-zero with exactly one line of error and no traceback.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paper_reader.cli import app
from paper_reader.errors import PaperReaderError
from paper_reader.reading.reader import read_paper
from paper_reader.types import Paper
from tests.conftest import EXAMPLE, SHARED
from tests.support.pdfgen import Text, sample_paper, write_pdf
from tests.support.utf8 import assert_utf8

SEED = 16
SHARED_NAMES = ("distillation.pdf", "fasttext_bag_of_tricks.pdf")
_OBJECT = re.compile(rb"(?<![0-9])\d+ \d+ obj\b.*?\bendobj\b", re.S)


# -- the damage -----------------------------------------------------------------------------------

def truncated(data: bytes, rng: random.Random) -> list[tuple[str, bytes]]:
    n = len(data)
    cuts = sorted({0, 9, 400, n // 10, n // 2, (9 * n) // 10, n - 200, n - 30, n - 6, rng.randrange(10, n)})
    return [(f"cut at byte {c} of {n}", data[:c]) for c in cuts if 0 <= c < n]


def flipped(data: bytes, rng: random.Random, count: int = 3) -> list[tuple[str, bytes]]:
    """Bits flipped in the middle third: 1, 16 or 256 bytes within 4 kB."""
    out, n = [], len(data)
    for k, flips in enumerate((1, 16, 256)[:count]):
        damaged = bytearray(data)
        start = rng.randrange(n // 3, 2 * n // 3)
        for _ in range(flips):
            i = min(n - 1, start + rng.randrange(4096))
            damaged[i] ^= 1 << rng.randrange(8)
        out.append((f"{flips} byte(s) flipped near {start}", bytes(damaged)))
    return out


def objects_deleted(data: bytes, rng: random.Random, extra: int = 2) -> list[tuple[str, bytes]]:
    """One object cut out: the catalog, the page tree, a page, a font, a content stream, the xref
    stream, an object stream (those the file has), and `extra` chosen at random."""
    spans = [m.span() for m in _OBJECT.finditer(data)]
    picks: list[tuple[str, tuple[int, int]]] = []
    for label, pattern in (("catalog", rb"/Catalog"), ("page tree", rb"/Type\s*/Pages"), ("a page", rb"/Type\s*/Page\b"),
                           ("a font", rb"/Type\s*/Font"), ("a stream", rb"\bstream\b"), ("xref stream", rb"/XRef"),
                           ("object stream", rb"/ObjStm")):
        hits = [s for s in spans if re.search(pattern, data[s[0]:s[1]][:2000])]
        if hits:
            picks.append((label, rng.choice(hits)))
    picks += [("an object", rng.choice(spans)) for _ in range(extra) if spans]
    return [(f"{label} deleted (bytes {a}-{b})", data[:a] + data[b:]) for label, (a, b) in picks]


def xref_removed(data: bytes, rng: random.Random) -> list[tuple[str, bytes]]:
    out = []
    tables = list(re.finditer(rb"(?m)^xref\s.*?(?=trailer)", data, re.S))
    if tables:
        a, b = tables[-1].span()
        out.append(("xref table removed", data[:a] + data[b:]))
    start = data.rfind(b"startxref")
    if start >= 0:
        out.append(("startxref removed", data[:start] + b"%%EOF\n"))
    out.append(("every xref and startxref removed",
                re.sub(rb"startxref\s*\d+", b"", re.sub(rb"(?m)^xref\s.*?(?=trailer)", b"", data, flags=re.S))))
    return out


DAMAGE = {"truncated": truncated, "flipped": flipped, "object deleted": objects_deleted, "xref removed": xref_removed}


def variants(data: bytes, kind: str, seed: int = SEED) -> list[tuple[str, bytes]]:
    return DAMAGE[kind](data, random.Random(f"{seed}:{kind}:{len(data)}"))


# -- the sources ----------------------------------------------------------------------------------

def _generated(tmp: Path, name: str) -> Path:
    if name == "generated-sample":
        return sample_paper(tmp / "sample.pdf", extra_pages=2)
    # a second shape: no bold headings, one long page, characters WinAnsi cannot say (written as "?")
    body = "We study damaged files. " * 8
    pages = [[Text("Reading Broken Files Carefully", 18, True), "Grace Hopper", "Abstract", body,
              "1 Introduction", body, "ﬁ ligatures, 𝑊 and 中文 in a WinAnsi font", body,
              "References", "[1] A. B. One. 2001.", "[2] C. D. Two. 2002.", "[3] E. F. Three. 2003."]]
    return write_pdf(tmp / "plain.pdf", pages, title="Reading Broken Files Carefully")


SOURCES = ["example", "generated-sample", "generated-plain", *(f"shared:{n}" for n in SHARED_NAMES)]


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, bytes]:
    tmp = tmp_path_factory.mktemp("fuzz-sources")
    out = {"example": EXAMPLE.read_bytes()}
    for name in ("generated-sample", "generated-plain"):
        out[name] = _generated(tmp, name).read_bytes()
    for name in SHARED_NAMES:
        if (SHARED / name).is_file():
            out[f"shared:{name}"] = (SHARED / name).read_bytes()
    return out


def _source(sources: dict[str, bytes], name: str) -> bytes:
    if name not in sources:
        pytest.skip(f"{SHARED / name.split(':', 1)[1]} is absent: the shared real papers live beside the checkout")
    return sources[name]


def _last_frames(exc: BaseException, n: int = 4) -> str:
    frames = traceback.extract_tb(exc.__traceback__)[-n:]
    return " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))


# -- read_paper -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(DAMAGE))
@pytest.mark.parametrize("source", SOURCES)
def test_damaged_pdf_gives_a_paper_or_a_clear_error(source, kind, sources, tmp_path):
    data = _source(sources, source)
    crashes = []
    for name, damaged in variants(data, kind):
        path = tmp_path / "damaged.pdf"
        path.write_bytes(damaged)
        try:
            paper = read_paper(path)
        except PaperReaderError as exc:
            message = str(exc)
            assert message.strip() and "Traceback" not in message, f"{name}: {message!r}"
            continue
        except Exception as exc:  # noqa: BLE001 - what this test is for: every crash, listed
            crashes.append(f"{source}, {name}: {type(exc).__name__}: {exc} [{_last_frames(exc)}]")
            continue
        assert isinstance(paper, Paper)
        assert_utf8(paper, f"{source}, {name}: paper")
    assert not crashes, "read_paper raised something other than PaperReaderError:\n" + "\n".join(crashes)


# -- undamaged generated papers of other shapes ---------------------------------------------------

_BODY = "We propose a simple method for testing readers of papers and it works well on every test we ran. " * 3
SHAPES = {
    # IEEE/REVTeX: Roman-numbered headings in capitals, an appendix after the references
    "roman headings, appendix after references": [
        [Text("A Paper With an Appendix After Its References", 16, True), "Ada Lovelace", "Abstract", _BODY,
         Text("I. INTRODUCTION", 12, True), _BODY, _BODY, Text("II. METHOD", 12, True), _BODY, _BODY],
        [Text("REFERENCES", 12, True), "[1] J. Smith. Summaries of papers. 2020.",
         "[2] M. Chen. Reading at scale. 2021.", "[3] A. Kumar. Page numbers matter. 2019.",
         Text("II. DERIVATION OF THE BOUND", 12, True), _BODY, _BODY],
    ],
    "lettered appendices after references": [
        [Text("Lettered Appendices Follow", 16, True), "Alan Turing", "Abstract", _BODY,
         Text("1 Introduction", 12, True), _BODY, Text("2 Method", 12, True), _BODY],
        [Text("References", 12, True), "[1] J. Smith. One. 2020.", "[2] M. Chen. Two. 2021.",
         "[3] A. Kumar. Three. 2019.", Text("A Proofs", 12, True), _BODY, Text("B Extra Results", 12, True), _BODY],
    ],
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_generated_paper_reads_and_its_sections_print(shape, tmp_path):
    """Real text, no damage: a Paper, and `sections --json` prints JSON (in a real process: no traceback)."""
    path = write_pdf(tmp_path / "shaped.pdf", SHAPES[shape])
    try:
        paper = read_paper(path)
    except PaperReaderError as exc:
        pytest.fail(f"{shape}: a readable paper was refused: {exc}")
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"{shape}: read_paper raised {type(exc).__name__}: {exc} [{_last_frames(exc)}]")
    assert_utf8(paper)
    proc = subprocess.run([sys.executable, "-m", "paper_reader", "sections", "--json", str(path)],
                          capture_output=True, text=True, encoding="utf-8", timeout=60)
    _check_cli(proc.returncode, proc.stdout, proc.stderr, shape)
    assert proc.returncode == 0


# -- the command line -----------------------------------------------------------------------------

def _check_cli(exit_code: int, stdout: str, stderr: str, what: str) -> None:
    assert "Traceback" not in stdout + stderr, f"{what}: a traceback\n{stderr[-2000:]}"
    if exit_code == 0:
        data = json.loads(stdout)
        assert isinstance(data["sections"], list) and isinstance(data["title"], str), what
        return
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert exit_code == 1, f"{what}: exit {exit_code}\n{stderr[-2000:]}"
    assert len(lines) == 1 and lines[0].startswith("Error: "), f"{what}: not one error line:\n{stderr[-2000:]}"
    assert not stdout.strip(), f"{what}: output besides the error: {stdout[:300]!r}"


CLI_CASES = [(s, k) for s in SOURCES for k in DAMAGE]


@pytest.mark.parametrize("source, kind", CLI_CASES)
def test_sections_json_on_damaged_pdf_prints_json_or_one_error_line(source, kind, sources, tmp_path):
    data = _source(sources, source)
    cases = variants(data, kind)
    if not source.startswith("generated"):  # every variant of the small generated files, a third of the real ones
        cases = cases[1::3]
    runner = CliRunner()
    for name, damaged in cases:
        path = tmp_path / "damaged paper.pdf"
        path.write_bytes(damaged)
        result = runner.invoke(app, ["sections", "--json", str(path)])
        what = f"{source}, {name}"
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            exc = result.exception
            pytest.fail(f"{what}: sections --json raised {type(exc).__name__}: {exc} [{_last_frames(exc)}]")
        _check_cli(result.exit_code, result.stdout, result.stderr, what)


def test_sections_json_in_a_real_process(sources, tmp_path):
    """The installed command itself, as a user runs it: three damaged files, one of each outcome."""
    data = sources["generated-sample"]
    cases = [variants(data, "truncated")[3], variants(data, "flipped")[0], variants(data, "xref removed")[-1],
             ("not a PDF at all", b"hello\x00\xff\xfe" * 10)]
    outcomes = set()
    for name, damaged in cases:
        path = tmp_path / "damaged.pdf"
        path.write_bytes(damaged)
        proc = subprocess.run([sys.executable, "-m", "paper_reader", "sections", "--json", str(path)],
                              capture_output=True, text=True, encoding="utf-8", timeout=60)
        _check_cli(proc.returncode, proc.stdout, proc.stderr, name)
        outcomes.add(proc.returncode == 0)
    assert outcomes == {True, False}  # both paths were exercised: a JSON document and an error line
