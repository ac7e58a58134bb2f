"""Benchmarks: token economy, latency, PDF reading speed and memory, start-up, cache, embedded model.

    python benchmarks/run.py                  # everything on ../shared/papers, table + JSON
    python benchmarks/run.py --only papers    # one part: papers, economy, pdf, startup, cache, embedded

Model calls go to a local OpenAI-compatible server on 127.0.0.1 that answers after a set latency,
so the figures are about paper-reader, not a provider. Not part of the test suite's pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import threading
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from paper_reader.errors import PaperReaderError  # noqa: E402
from paper_reader.models.llm import LiteLLM  # noqa: E402
from paper_reader.writing.parse import check_citations  # noqa: E402
from paper_reader.types import SKIP_KINDS  # noqa: E402
from paper_reader.writing.pipeline import make_notes  # noqa: E402
from paper_reader.reading.reader import read_paper  # noqa: E402
from paper_reader.writing.render import render_notes  # noqa: E402
from paper_reader.writing.questions import load_questions  # noqa: E402
from tests.support.openai_server import OpenAIServer  # noqa: E402

PAPERS = ROOT.parent / "shared" / "papers"


class Counting:
    """Wraps a model and counts the input tokens it is sent (with litellm's counter)."""

    def __init__(self, inner):
        self.inner, self.name = inner, inner.name
        self.context_window, self.small = inner.context_window, inner.small
        self.sent = 0
        self.calls = 0
        self._lock = threading.Lock()

    def count_tokens(self, text):
        return self.inner.count_tokens(text)

    def complete(self, messages, max_tokens):
        tokens = sum(self.inner.count_tokens(m["content"]) for m in messages)
        with self._lock:  # calls run in threads: += on a shared int would lose updates
            self.sent += tokens
            self.calls += 1
        return self.inner.complete(messages, max_tokens)


def paper_tokens(paper, model) -> int:
    return sum(model.count_tokens(s.text) for s in paper.sections if s.kind not in SKIP_KINDS)


def bench_papers(window: int | None, latency: float, concurrency: int, model_name: str = "openai/bench",
                 out_dir: Path | None = None) -> list[dict]:
    """Per shared paper: sections, calls, input tokens / paper tokens, seconds, seconds / latency.

    Also checks the note: ten headings in order, every answer non-empty and citing a page.
    """
    rows = []
    with OpenAIServer(latency=latency) as server:
        os.environ["OPENAI_API_BASE"], os.environ["OPENAI_API_KEY"] = server.base_url, "sk-bench"
        for pdf in sorted(PAPERS.glob("*.pdf")):
            paper = read_paper(pdf)
            model = Counting(LiteLLM(model_name, context_window=window, retries=2))
            started = time.monotonic()
            notes = make_notes(paper, load_questions(), model, concurrency=concurrency)
            seconds = time.monotonic() - started
            markdown = render_notes(notes)
            if out_dir:
                out_dir.mkdir(parents=True, exist_ok=True)
                (out_dir / f"{pdf.stem}.md").write_text(markdown)
            bodies = re.split(r"^# \d+\. .+$", markdown, flags=re.M)[1:]
            note_ok = len(bodies) == 10 and all(
                b.strip() and re.search(r"\([^()]+, pp?\. \d+", b) for b in bodies)
            own = paper_tokens(paper, model)
            rows.append({
                "paper": pdf.stem, "pages": paper.page_count, "sections": len(paper.sections),
                "section_source": paper.section_source, "references": len(paper.references),
                "calls": model.calls, "paper_tokens": own, "input_tokens": model.sent,
                "economy": round(model.sent / max(own, 1), 2), "seconds": round(seconds, 1),
                "latency_ratio": round(seconds / latency, 1) if latency else None,
                "citations_removed": sum(a.citations_removed for a in notes.answers),
                # re-checked on the final text: a citation of a page or section the paper lacks
                "bad_citations_left": sum(check_citations(a.text, paper).removed for a in notes.answers),
                "related_dropped": sum(a.related_dropped for a in notes.answers),
                "note_ok": bool(note_ok),
            })
            print_row(rows[-1])
    return rows


def bench_naive(window: int) -> list[dict]:
    """The naive baseline: ten calls, each with the paper's full text (where it fits the window)."""
    rows = []
    with OpenAIServer() as server:
        os.environ["OPENAI_API_BASE"], os.environ["OPENAI_API_KEY"] = server.base_url, "sk-bench"
        model = Counting(LiteLLM("openai/bench", context_window=window, retries=2))
        for pdf in sorted(PAPERS.glob("*.pdf")):
            paper = read_paper(pdf)
            own = paper_tokens(paper, model)
            before = model.sent
            for q in load_questions().questions:
                model.complete([{"role": "user", "content": paper.full_text + "\n\nQuestion: " + q.ask("en")}], 300)
            rows.append({"paper": pdf.stem, "naive_economy": round((model.sent - before) / max(own, 1), 2),
                         "fits_window": own < window})
    return rows


def bench_pdf() -> list[dict]:
    """Pages per second for reading plus section detection, and peak memory, in a fresh process."""
    code = ("import sys, time, resource; from paper_reader.reading.reader import read_paper\n"
            "t = time.perf_counter(); p = read_paper(sys.argv[1]); dt = time.perf_counter() - t\n"
            "print(p.page_count, dt, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    rows = []
    for pdf in sorted(PAPERS.glob("*.pdf")):
        proc = subprocess.run([sys.executable, "-c", code, str(pdf)], capture_output=True, text=True, cwd=ROOT)
        if proc.returncode:  # refused (no text layer): not a reading speed
            rows.append({"paper": pdf.stem, "refused": proc.stderr.strip().splitlines()[-1][:120]})
            continue
        out = proc.stdout.split()
        pages, seconds, rss_kb = int(out[0]), float(out[1]), int(out[2])
        rows.append({"paper": pdf.stem, "pages": pages, "seconds": round(seconds, 2),
                     "pages_per_s": round(pages / seconds, 1), "peak_mb": round(rss_kb / 1024)})
    return rows


def bench_headings() -> dict:
    """Heading detection with the outline withheld, scored against the outline's top level."""
    rows, hits, found_total, truth_total = [], 0, 0, 0
    for pdf in sorted(PAPERS.glob("*.pdf")):
        try:
            with_outline = read_paper(pdf)
        except PaperReaderError:  # refused (no text layer)
            continue
        if with_outline.section_source != "outline":
            continue
        truth = {_key(s) for s in with_outline.sections if s.level == 1 and s.kind != "front"}
        detected = {_key(s) for s in read_paper(pdf, use_outline=False).sections
                    if s.level == 1 and s.kind != "front"}
        both = truth & detected
        hits, found_total, truth_total = hits + len(both), found_total + len(detected), truth_total + len(truth)
        rows.append({"paper": pdf.stem, "outline_top": len(truth), "detected_top": len(detected),
                     "precision": round(len(both) / max(len(detected), 1), 2),
                     "recall": round(len(both) / max(len(truth), 1), 2),
                     "missed": sorted(truth - detected), "extra": sorted(detected - truth)})
        print_row(rows[-1])
    total = {"precision": round(hits / max(found_total, 1), 2), "recall": round(hits / max(truth_total, 1), 2)}
    print_row(total)
    return {"papers": rows, "overall": total}


def _key(section) -> str:
    return re.sub(r"\W+", " ", section.title.lower()).strip()


def bench_throughput(latency: float) -> list[dict]:
    """A 20-paper batch (the shared papers and 10 generated ones) at concurrency 1, 4 and 16."""
    from paper_reader.batch import run_batch
    from paper_reader.sources.readinglist import Entry
    from paper_reader.settings import Settings
    from tests.support.pdfgen import sample_paper

    rows = []
    with tempfile.TemporaryDirectory() as tmp, OpenAIServer(latency=latency) as server:
        os.environ["OPENAI_API_BASE"], os.environ["OPENAI_API_KEY"] = server.base_url, "sk-bench"
        extra = [sample_paper(Path(tmp) / f"g{i}.pdf", extra_pages=4, title=f"Generated Paper {i}") for i in range(10)]
        entries = [Entry(str(p)) for p in [*sorted(PAPERS.glob("*.pdf")), *extra]]
        for c in (1, 4, 16):
            settings = Settings(model="openai/bench", output=str(Path(tmp) / f"out{c}"), concurrency=c,
                                cache=False, context_window=128_000)
            t = time.perf_counter()
            results = run_batch(entries, settings)
            seconds = time.perf_counter() - t
            done = sum(r.status == "done" for r in results)
            rows.append({"concurrency": c, "papers": done, "seconds": round(seconds, 1),
                         "papers_per_minute": round(60 * done / seconds, 1)})
            print_row(rows[-1])
    base = rows[0]["papers_per_minute"]
    for r in rows:
        r["speedup"] = round(r["papers_per_minute"] / base, 1)
    return rows


def bench_startup() -> dict:
    exe = ["paper-reader"] if shutil_which("paper-reader") else [sys.executable, "-m", "paper_reader"]
    times = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([*exe, "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - t)
    return {"help_seconds_median": round(sorted(times)[2], 3)}


def shutil_which(name):
    import shutil

    return shutil.which(name)


def bench_cache(latency: float) -> dict:
    """A re-run of a finished paper: model calls and wall time of the whole CLI process."""
    pdf = PAPERS / "attention_is_all_you_need.pdf"
    with OpenAIServer(latency=latency) as server, tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "OPENAI_API_BASE": server.base_url, "OPENAI_API_KEY": "sk-bench",
               "XDG_CACHE_HOME": tmp}
        cmd = ["paper-reader", "read", str(pdf), "-m", "openai/bench", "-o", tmp, "--force"]
        subprocess.run(cmd, env=env, capture_output=True, check=True)
        first = len(server.requests)
        t = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=True)
        forced = time.perf_counter() - t
        reading = Path(tmp) / "list.txt"
        reading.write_text(f"{pdf}\n")
        t = time.perf_counter()
        subprocess.run(["paper-reader", "batch", str(reading), "-m", "openai/bench", "-o", tmp],
                       env=env, capture_output=True, check=True)
        return {"first_run_calls": first, "read_force_rerun_calls": len(server.requests) - first,
                "read_force_rerun_seconds": round(forced, 2),
                "batch_rerun_calls": len(server.requests) - first,
                "batch_rerun_seconds": round(time.perf_counter() - t, 2)}


def bench_embedded() -> dict:
    """Seconds for a full note with the default embedded model (no cache)."""
    pdf = PAPERS / "distillation.pdf"
    paper = read_paper(pdf)
    model = Counting(LiteLLM("embedded/smollm2-135m"))
    t = time.perf_counter()
    make_notes(paper, load_questions(), model, concurrency=2)
    return {"paper": pdf.stem, "pages": paper.page_count, "calls": model.calls,
            "seconds": round(time.perf_counter() - t, 1)}


def print_row(row: dict) -> None:
    print("  ".join(f"{k}={v}" for k, v in row.items()), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["papers", "economy", "pdf", "startup", "cache", "embedded",
                                       "embedded-all", "headings", "throughput"])
    ap.add_argument("--notes", help="also write each paper's note into this folder")
    ap.add_argument("--latency", type=float, default=0.5, help="seconds the local server waits per call")
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "results.json"))
    args = ap.parse_args()
    if not PAPERS.is_dir():
        sys.exit(f"{PAPERS} is absent: the benchmarks run on the shared papers.")
    results: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                 "platform": platform.platform()}}
    parts = [args.only] if args.only else ["pdf", "headings", "startup", "papers", "economy", "throughput",
                                           "cache", "embedded"]
    for part in parts:
        print(f"== {part}", flush=True)
        notes_dir = Path(args.notes) if args.notes else None
        if part == "papers":
            results["papers_128k"] = bench_papers(128_000, args.latency, concurrency=16, out_dir=notes_dir)
        elif part == "embedded-all":
            results["embedded_all"] = bench_papers(None, 0.0, concurrency=2, out_dir=notes_dir,
                                                   model_name="embedded/smollm2-135m")
        elif part == "economy":
            results["papers_4k"] = bench_papers(4096, 0.0, concurrency=16)
            results["naive_128k"] = bench_naive(128_000)
            for r in results["naive_128k"]:
                print_row(r)
        elif part == "throughput":
            results["throughput"] = bench_throughput(args.latency)
        elif part == "headings":
            results["headings"] = bench_headings()
        elif part == "pdf":
            results["pdf"] = bench_pdf()
            for r in results["pdf"]:
                print_row(r)
        elif part == "startup":
            results["startup"] = bench_startup()
            print_row(results["startup"])
        elif part == "cache":
            results["cache"] = bench_cache(args.latency)
            print_row(results["cache"])
        elif part == "embedded":
            results["embedded"] = bench_embedded()
            print_row(results["embedded"])
    Path(args.json).write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
