"""Are a note's sentences the paper's? Support by one place, and figures the paper lacks.

    python benchmarks/faithfulness.py distillation                    # the embedded model (slow: minutes)
    python benchmarks/faithfulness.py distillation --notes notes.md   # check an existing note instead

A sentence of an answer is supported when one sentence of the paper, or two adjacent ones, hold
most (60 %) of its content words and all its figures — the rule the pipeline applies to a small
model's answers, here applied to the whole paper (bibliography entries included: question 9 names them). Figures are checked with their unit ("30%"
needs "30%", "30 %" or "30 percent"); a figure the paper lacks counts unless the note flags it.
Prints seconds, calls, supported share and unflagged invented figures per paper.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from paper_reader.writing.evidence import sentences, split_sentences  # noqa: E402
from paper_reader.writing.grounding import figures, known_figure, paper_numbers, supported  # noqa: E402
from paper_reader.types import SKIP_KINDS  # noqa: E402
from paper_reader.reading.reader import read_paper  # noqa: E402

PAPERS = ROOT.parent / "shared" / "papers"


def answer_sentences(note: str) -> list[str]:
    """The sentences of the ten answers (not headings, Sources lines, flags or the digests part)."""
    body = note.split("<details>", 1)[0]
    body = re.split(r"^---\n.*?^---\n", body, maxsplit=1, flags=re.S | re.M)[-1]
    out = []
    for line in body.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "Sources:", "*Unverified", "![")):
            continue
        line = re.sub(r"\([^()]*\bpp?\. \d+[^()]*\)|\[[^\]]*\]\([^)]*\)", " ", line)  # citations and links
        out += [s for s in split_sentences(line.lstrip("-* ").strip()) if len(re.findall(r"[a-z]{4,}", s.lower())) >= 3]
    return out


def score(paper, note: str) -> dict:
    source = [(s.text, s.cite) for sec in paper.sections if sec.kind not in SKIP_KINDS for s in sentences(sec)]
    source += [(r.text, "(References)") for r in paper.references]  # question 9 names bibliography entries
    said = answer_sentences(note)
    ok = sum(1 for s in said if supported(s, source)[1] == 0 and supported(s, source)[0].strip())
    flagged = set(re.findall(r"\*Unverified figures \(not found in the paper\): (.*)\*", note))
    flagged = {f.strip() for line in flagged for f in line.split(",")}
    known = paper_numbers(paper)
    invented = [shown for s in said for shown, value, unit in figures(s)
                if not known_figure(value, unit, known) and shown not in flagged]
    return {"sentences": len(said), "supported": ok, "share": round(ok / max(len(said), 1), 3),
            "invented_unflagged": invented}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("papers", nargs="+", help="names of ../shared/papers PDFs (without .pdf)")
    ap.add_argument("--notes", help="score this note instead of writing one (one paper only)")
    ap.add_argument("--model", default="embedded/smollm2-135m")
    ap.add_argument("--out", help="folder to write the notes to")
    args = ap.parse_args()
    for name in args.papers:
        paper = read_paper(PAPERS / f"{name}.pdf")
        row = {"paper": name}
        if args.notes:
            note = Path(args.notes).read_text("utf-8")
        else:
            from paper_reader.models.llm import LiteLLM
            from paper_reader.writing.pipeline import make_notes
            from paper_reader.writing.render import render_notes
            from paper_reader.writing.questions import load_questions

            model = LiteLLM(args.model)
            t = time.monotonic()
            notes = make_notes(paper, load_questions(), model, concurrency=2)
            note = render_notes(notes)
            row.update(seconds=round(time.monotonic() - t, 1), calls=notes.usage.calls, pages=paper.page_count)
            if args.out:
                Path(args.out).mkdir(parents=True, exist_ok=True)
                (Path(args.out) / f"{name}.md").write_text(note, "utf-8")
        row.update(score(paper, note))
        print("  ".join(f"{k}={v}" for k, v in row.items()), flush=True)


if __name__ == "__main__":
    main()
