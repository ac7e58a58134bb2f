"""How well and how fast the reader reads: scored against ../shared/papers/truth.json.

    python benchmarks/reading.py            # table per paper, then the totals
    python benchmarks/reading.py --json     # the same as JSON

Prints title, author-list, year and arXiv-ID accuracy, top-level heading F1 with the PDF outline
and with it withheld, reference counts (within 5 %), and reading speed (read + sections, pages/s,
best of 3) with peak memory. Strings are compared after NFKC, case folding and whitespace
collapsing, as truth.json's README says. No model is involved.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import resource
import statistics
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from paper_reader.errors import PaperReaderError  # noqa: E402
from paper_reader.reading.reader import read_paper  # noqa: E402

PAPERS = ROOT.parent / "shared" / "papers"


def norm(text) -> str:
    text = unicodedata.normalize("NFKC", str(text or "")).casefold()
    return " ".join(text.split())


def heading_key(text: str) -> str:
    """'1. INTRODUCTION', '1 Introduction' and 'Introduction' all -> 'introduction'."""
    text = norm(text)
    text = re.sub(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", "", text)  # "摘 要" is letter-spaced "摘要"
    text = re.sub(r"^(?:appendix\s+)?(?:[0-9]{1,2}|[ivx]{1,4}|[a-h])(?:\.\d+)*\.?\s+", "", text)
    return re.sub(r"[^\w]+", " ", text).strip()


def top_level(paper) -> list[str]:
    """Printed top-level headings: not the reader's own parts ("Front matter", "Main text", ...)."""
    return [s.title for s in paper.sections if s.level == 1 and s.printed]


def f1(found: list[str], truth: list[str]) -> float:
    got, want = {heading_key(h) for h in found}, {heading_key(h) for h in truth}
    if not got and not want:
        return 1.0
    hits = len(got & want)
    if not hits:
        return 0.0
    precision, recall = hits / len(got), hits / len(want)
    return 2 * precision * recall / (precision + recall)


def score(name: str, truth: dict) -> dict:
    path = PAPERS / f"{name}.pdf"
    row: dict = {"paper": name}
    if truth.get("no_text"):
        try:
            read_paper(path)
            row["refused"] = False
        except PaperReaderError:
            row["refused"] = True
        return row
    times = []
    for _ in range(3):
        started = time.perf_counter()
        paper = read_paper(path)
        times.append(time.perf_counter() - started)
    row["pages"] = paper.page_count
    row["pages_per_s"] = round(paper.page_count / min(times), 1)
    no_outline = read_paper(path, use_outline=False)
    want_title = {norm(truth.get("title")), norm(truth.get("title_normalised"))} - {""}
    got_title = "" if paper.title == path.stem.replace("_", " ") else paper.title
    row["title_ok"] = norm(got_title) in want_title if want_title else not got_title
    row["title"] = paper.title
    row["authors_ok"] = [norm(a) for a in paper.authors] == [norm(a) for a in truth.get("authors") or []]
    row["authors"] = f"{len(paper.authors)}/{len(truth.get('authors') or [])}"
    row["year_ok"] = paper.year == truth.get("year")
    row["year"] = paper.year
    want_id = norm(truth.get("arxiv_id") or "").replace("arxiv:", "")
    row["arxiv_ok"] = norm(paper.arxiv_id or "") == want_id
    want_doi = norm(truth.get("doi") or "")
    row["doi_ok"] = norm(paper.doi or "") == want_doi
    headings = truth.get("top_level_sections") or []
    row["f1_outline"] = round(f1(top_level(paper), headings), 2)
    row["f1_detected"] = round(f1(top_level(no_outline), headings), 2)
    want_refs, got_refs = truth.get("references_count") or 0, len(paper.references)
    row["refs"] = f"{got_refs}/{want_refs}"
    row["refs_ok"] = abs(got_refs - want_refs) <= 0.05 * want_refs if want_refs else got_refs == 0
    return row


def summary(rows: list[dict]) -> dict:
    read = [r for r in rows if "pages" in r]

    def share(key):
        return round(sum(bool(r[key]) for r in read) / len(read), 3)

    rates = [r["pages_per_s"] for r in read]
    return {
        "papers": len(read),
        "title": share("title_ok"), "authors": share("authors_ok"), "year": share("year_ok"),
        "arxiv_id": share("arxiv_ok"), "doi": share("doi_ok"),
        "heading_f1_outline": round(statistics.mean(r["f1_outline"] for r in read), 3),
        "heading_f1_detected": round(statistics.mean(r["f1_detected"] for r in read), 3),
        "references_within_5pct": share("refs_ok"),
        "pages_per_s_median": round(statistics.median(rates), 1),
        "pages_per_s_min": round(min(rates), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "refused_no_text": all(r.get("refused") for r in rows if "refused" in r),
        "machine": f"{platform.machine()}, {platform.python_version()}, {__import__('os').cpu_count()} cores",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("papers", nargs="*", help="only these (names without .pdf)")
    args = parser.parse_args()
    truth = json.loads((PAPERS / "truth.json").read_text("utf-8"))
    names = args.papers or sorted(truth)
    read_paper(PAPERS / "distillation.pdf")  # warm-up: imports, the dictionary
    rows = [score(n, truth[n]) for n in names]
    result = {"rows": rows, "summary": summary(rows)}
    if args.json:
        print(json.dumps(result, indent=1, ensure_ascii=False))
        return
    for r in rows:
        if "pages" not in r:
            print(f"{r['paper']:<26} refused: {r['refused']}")
            continue
        marks = "".join("T" if r["title_ok"] else "t") + ("A" if r["authors_ok"] else "a") + \
            ("Y" if r["year_ok"] else "y") + ("X" if r["arxiv_ok"] else "x") + ("D" if r["doi_ok"] else "d") + \
            ("R" if r["refs_ok"] else "r")
        print(f"{r['paper']:<26} {marks} {r['pages_per_s']:>6} p/s  auth {r['authors']:<6} year {r['year']} "
              f"F1 {r['f1_outline']:.2f}/{r['f1_detected']:.2f} refs {r['refs']:<7} {r['title'][:50]}")
    print(json.dumps(result["summary"], indent=1))


if __name__ == "__main__":
    main()
