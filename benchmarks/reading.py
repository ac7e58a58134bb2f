"""How well and how fast the reader reads: scored against ../shared/papers/truth.json.

    python benchmarks/reading.py            # table per paper, then the totals
    python benchmarks/reading.py --json     # the same as JSON
    python benchmarks/reading.py --set new  # only the 30 papers added in December 2026 (or: old)

Prints title, author-list, year and arXiv-ID accuracy, top-level heading F1 with the PDF outline
and with it withheld, reference counts (within 5 %), and reading speed (read + sections, pages/s,
best of 3) with peak memory, then the same figures per family of papers (truth.json's `family`).
A paper that crashes the reader or is refused is a row, not the end of the run. Entries marked
`partial` are scored on reading without a crash and on their title only. "Fragments" counts words
broken at a line-end hyphen in the PDF that reach the text the model reads as two pieces. Strings are compared after NFKC, case folding and whitespace
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
    cjk = "\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af"
    text = re.sub(rf"(?<=[{cjk}])\s+(?=[{cjk}])", "", text)  # "摘 要", "요 약" are letter-spaced "摘要", "요약"
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


# The 25 papers every rule was first tuned on; the others arrived in December 2026.
DEVELOPMENT = frozenset("""attention_is_all_you_need distillation fasttext_bag_of_tricks star bert resnet opt
phys_drop_impact epigenetic_smoking_cc_by zh_mutual_info_ir lima longnet retnet rlaif gae self_instruct lightxml
skip_thought han distant_supervision_2009 bengio_1994_longterm pnas_bio jds_bio no_text_layer chatfield_devil""".split())

_BROKEN = re.compile(r"([^\W\d_]{2,})[-\ufffe\x02]$")
_FIRST = re.compile(r"^([^\W\d_]{2,})")


def fragments(path: Path, paper) -> int:
    """Words the PDF breaks at a line-end hyphen that reach the paper's text as two pieces."""
    from paper_reader.reading.pdf import read_pdf

    lines = read_pdf(path).lines
    text = " ".join([*(s.text for s in paper.sections), *(r.text for r in paper.references)])
    count = 0
    for a, b in zip(lines, lines[1:]):
        left, right = _BROKEN.search(a.text.rstrip()), _FIRST.match(b.text.lstrip())
        if left and right and right.group(1)[0].islower():
            pieces = re.compile(rf"(?<!\w){re.escape(left.group(1))}\s+{re.escape(right.group(1))}(?!\w)")
            count += bool(pieces.search(text))
    return count


def score(name: str, truth: dict) -> dict:
    path = PAPERS / f"{name}.pdf"
    row: dict = {"paper": name, "family": truth.get("family") or [], "partial": bool(truth.get("partial"))}
    try:
        return _score(path, truth, row)
    except PaperReaderError as exc:
        row["refused"] = str(exc).splitlines()[0][:300]
    except Exception as exc:  # a crash is a finding, not the end of the run
        row["crashed"] = f"{type(exc).__name__}: {exc}"[:300]
    return row


def _score(path: Path, truth: dict, row: dict) -> dict:
    if truth.get("no_text"):
        try:
            read_paper(path)
            row["refused_ok"] = False
        except PaperReaderError:
            row["refused_ok"] = True
        return row
    times = []
    for _ in range(3):
        started = time.perf_counter()
        paper = read_paper(path)
        times.append(time.perf_counter() - started)
    row["pages"] = paper.page_count
    row["pages_per_s"] = round(paper.page_count / min(times), 1)
    want_title = {norm(truth.get("title")), norm(truth.get("title_normalised"))} - {""}
    got_title = "" if paper.title == path.stem.replace("_", " ") else paper.title
    row["title_ok"] = norm(got_title) in want_title if want_title else not got_title
    row["title"] = paper.title
    row["fragments"] = fragments(path, paper)
    if row["partial"]:
        return row
    no_outline = read_paper(path, use_outline=False)
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
    full = [r for r in read if not r["partial"]]

    def share(key, among):
        return round(sum(bool(r[key]) for r in among) / len(among), 3) if among else None

    def mean(key):
        return round(statistics.mean(r[key] for r in full), 3) if full else None

    rates = [r["pages_per_s"] for r in read]
    return {
        "papers": len(rows), "read": len(read), "scored_in_full": len(full),
        "crashed": [r["paper"] for r in rows if "crashed" in r],
        "refused": [r["paper"] for r in rows if "refused" in r],
        "title": share("title_ok", read), "authors": share("authors_ok", full), "year": share("year_ok", full),
        "arxiv_id": share("arxiv_ok", full), "doi": share("doi_ok", full),
        "heading_f1_outline": mean("f1_outline"), "heading_f1_detected": mean("f1_detected"),
        "references_within_5pct": share("refs_ok", full),
        "fragments": sum(r["fragments"] for r in read),
        "pages_per_s_median": round(statistics.median(rates), 1) if rates else None,
        "pages_per_s_min": round(min(rates), 1) if rates else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "refused_no_text": all(r.get("refused_ok") for r in rows if "refused_ok" in r),
        "machine": f"{platform.machine()}, {platform.python_version()}, {__import__('os').cpu_count()} cores",
    }


def by_family(rows: list[dict]) -> dict[str, dict]:
    families = sorted({f for r in rows for f in r["family"]})
    out = {}
    for fam in families:
        s = summary([r for r in rows if fam in r["family"]])
        out[fam] = {k: s[k] for k in ("papers", "read", "title", "authors", "year", "heading_f1_detected",
                                      "fragments", "pages_per_s_median", "pages_per_s_min")}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--set", choices=("all", "new", "old"), default="all",
                        help="new: the papers added in December 2026; old: the 25 development papers")
    parser.add_argument("papers", nargs="*", help="only these (names without .pdf)")
    args = parser.parse_args()
    truth = json.loads((PAPERS / "truth.json").read_text("utf-8"))
    names = args.papers or [n for n in sorted(truth) if args.set == "all"
                            or (n in DEVELOPMENT) == (args.set == "old")]
    read_paper(PAPERS / "distillation.pdf")  # warm-up: imports, the dictionary
    rows = [score(n, truth[n]) for n in names]
    result = {"rows": rows, "summary": summary(rows), "families": by_family(rows)}
    if args.json:
        print(json.dumps(result, indent=1, ensure_ascii=False))
        return
    for r in rows:
        if "pages" not in r:
            what = r.get("crashed") or r.get("refused") or f"no text layer, refused: {r.get('refused_ok')}"
            print(f"{r['paper']:<36} {'CRASH' if 'crashed' in r else 'refused'}: {what[:110]}")
            continue
        if r["partial"]:
            print(f"{r['paper']:<36} {'T' if r['title_ok'] else 't'}       {r['pages_per_s']:>6} p/s  "
                  f"(partial) frag {r['fragments']:<3} {r['title'][:50]}")
            continue
        marks = ("T" if r["title_ok"] else "t") + ("A" if r["authors_ok"] else "a") + \
            ("Y" if r["year_ok"] else "y") + ("X" if r["arxiv_ok"] else "x") + ("D" if r["doi_ok"] else "d") + \
            ("R" if r["refs_ok"] else "r")
        print(f"{r['paper']:<36} {marks} {r['pages_per_s']:>6} p/s  auth {r['authors']:<6} year {r['year']} "
              f"F1 {r['f1_outline']:.2f}/{r['f1_detected']:.2f} refs {r['refs']:<7} frag {r['fragments']:<3} "
              f"{r['title'][:40]}")
    print(f"\n{'family':<24} {'papers':>6} {'read':>5} {'title':>6} {'authors':>8} {'year':>5} {'F1 det':>7} "
          f"{'frag':>5} {'p/s med':>8} {'p/s min':>8}")
    for fam, s in result["families"].items():
        cells = [("-" if v is None else f"{v:.2f}" if isinstance(v, float) and k != "pages_per_s_median"
                  and k != "pages_per_s_min" else str(v)) for k, v in s.items()]
        print(f"{fam:<24} " + " ".join(f"{c:>{w}}" for c, w in zip(cells, (6, 5, 6, 8, 5, 7, 5, 8, 8))))
    print(json.dumps(result["summary"], indent=1))


if __name__ == "__main__":
    main()
