"""Does the answering prompt see the paper? Evidence reach, token economy and prompt caching.

    python benchmarks/evidence.py                      # the papers of gold_evidence.json, 128k and 8k
    python benchmarks/evidence.py --windows 128000 --papers bert,resnet --log /tmp/prompts.jsonl

Every prompt goes to a loopback OpenAI-compatible server that logs it, answers from the prompt
(tests/support/openai_server.grounded_reply) and simulates a provider's prefix cache: a request
whose first 1,024+ tokens repeat an earlier request's reports them as
`usage.prompt_tokens_details.cached_tokens` (in blocks of 128, as OpenAI does). Tokens are counted
as characters ÷ 4 on both sides of every ratio.

Printed per paper and window, then overall:
  reach      share of ../shared/papers/gold_evidence.json sentences (a careful reader's picks for
             questions 1, 3, 4, 5, 7, 9) found in the prompt that answers their question
  extracted  share of them found in the text the reader extracted (the ceiling for `reach`)
  raw        input tokens sent for the note ÷ the paper's tokens (references aside)
  billed50/90  the same with cached input billed at 50 % / 10 % of the price
  naive      ten calls each carrying the whole paper, ÷ the paper's tokens
  cached     input tokens the server reported as cached
  s/latency  wall time ÷ one call's latency
Targets (issue 9): reach ≥ 90 % at 128k and ≥ 60 % at 8k; billed90 ≤ 3.0; s/latency ≤ 3.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from paper_reader.models.llm import LiteLLM  # noqa: E402
from paper_reader.types import SKIP_KINDS  # noqa: E402
from paper_reader.writing.pipeline import make_notes  # noqa: E402
from paper_reader.reading.reader import read_paper  # noqa: E402
from paper_reader.writing.questions import load_questions  # noqa: E402
from tests.support.loopback import LoopbackServer, QuietHandler  # noqa: E402
from tests.support.openai_server import grounded_reply  # noqa: E402

PAPERS = ROOT.parent / "shared" / "papers"
GOLD = PAPERS / "gold_evidence.json"
MIN_CACHED, BLOCK = 1024, 128


def _flat(messages: list[dict]) -> str:
    """A request as the text a provider's prefix cache sees."""
    parts = []
    for m in messages:
        content = m.get("content", "")
        if isinstance(content, list):
            content = "".join(b.get("text", "") for b in content if isinstance(b, dict))
        parts.append(f"<{m.get('role')}>{content}")
    return "".join(parts)


class CachingServer(LoopbackServer):
    """OpenAI-compatible chat server that logs prompts and simulates prefix caching."""

    def __init__(self, latency: float = 0.0):
        self.latency = latency
        self.log: list[dict] = []  # {"messages", "prompt_tokens", "cached_tokens"}
        self._seen: list[str] = []
        self._lock = threading.Lock()
        self._listen()

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def cached_for(self, text: str) -> int:
        best = 0
        for old in self._seen:
            n = len(os.path.commonprefix([old, text]))
            best = max(best, n)
        tokens = best // 4 // BLOCK * BLOCK
        return tokens if tokens >= MIN_CACHED else 0

    def _handler(self):
        server = self

        class Handler(QuietHandler):
            def do_POST(self):
                payload = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                messages = payload.get("messages", [])
                text = _flat(messages)
                with server._lock:
                    cached = server.cached_for(text)
                    server._seen.append(text)
                if server.latency:
                    time.sleep(server.latency)
                plain = [{"role": m.get("role"), "content": _flat([m]).split(">", 1)[1]} for m in messages]
                reply = grounded_reply(plain)
                prompt_tokens = len(text) // 4
                with server._lock:
                    server.log.append({"messages": plain, "prompt_tokens": prompt_tokens, "cached_tokens": cached})
                body = {
                    "id": "chatcmpl-bench", "object": "chat.completion", "created": int(time.time()),
                    "model": payload.get("model", "bench"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": reply}}],
                    "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(reply) // 4,
                              "total_tokens": prompt_tokens + len(reply) // 4,
                              "prompt_tokens_details": {"cached_tokens": cached}},
                }
                data = json.dumps(body).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


_LIGATURES = {"ﬁ": "fi", "ﬂ": "fl", "ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl"}


def normalize(text: str) -> str:
    """Lower-case letters and digits only, page and section markers removed, hyphenation joined."""
    text = unicodedata.normalize("NFKC", text)
    for a, b in _LIGATURES.items():
        text = text.replace(a, b)
    text = re.sub(r"\[(?:§[^\]]{0,80}|[^\]]{0,60}), pp?\. \d+\]|\[p\. \d+\]", " ", text)
    text = re.sub(r"(\w)-\s+(\w)", r"\1\2", text)
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def reach(paper_name: str, gold: dict, prompts: dict[int, str], extracted: str) -> dict:
    """How many gold sentences reach their question's prompt, and how many the reader extracted."""
    found = total = in_text = 0
    missed = []
    for qn, fragments in gold.items():
        prompt = normalize(prompts.get(int(qn), ""))
        for fragment in fragments:
            f = normalize(fragment)
            total += 1
            in_text += f in extracted
            if f in prompt:
                found += 1
            else:
                missed.append(f"q{qn}: {fragment[:70]}")
    return {"found": found, "total": total, "in_text": in_text, "missed": missed}


def run_paper(pdf: Path, window: int, latency: float, gold: dict | None, log_file) -> dict:
    """One note through the caching server; prompts scored against the gold sentences."""
    paper = read_paper(pdf)
    questions = load_questions()
    with CachingServer(latency) as server:
        os.environ["OPENAI_API_BASE"], os.environ["OPENAI_API_KEY"] = server.base_url, "sk-bench"
        model = LiteLLM("openai/bench", context_window=window, retries=1)
        started = time.monotonic()
        notes = make_notes(paper, questions, model, concurrency=16)
        seconds = time.monotonic() - started
    own = sum(len(s.text) for s in paper.sections if s.kind not in SKIP_KINDS) // 4
    by_question: dict[int, str] = {}
    for entry in server.log:
        user = entry["messages"][-1]["content"]
        for n, q in enumerate(questions.questions, start=1):
            if f"Question: {q.ask('en')}" in user:
                by_question[n] = "\n".join(m["content"] for m in entry["messages"])
        if log_file:
            log_file.write(json.dumps({"paper": pdf.stem, "window": window, **entry}, ensure_ascii=False) + "\n")
    sent = sum(e["prompt_tokens"] for e in server.log)
    cached = sum(e["cached_tokens"] for e in server.log)
    question_tokens = sum(len(q.ask("en")) // 4 + 20 for q in questions.questions)
    row = {
        "paper": pdf.stem, "window": window, "calls": len(server.log), "paper_tokens": own,
        "input_tokens": sent, "cached_tokens": cached,
        "cached_reported": notes.usage.cached_input_tokens,  # what reached the note through litellm
        "raw": round(sent / max(own, 1), 2),
        "billed50": round((sent - 0.5 * cached) / max(own, 1), 2),
        "billed90": round((sent - 0.9 * cached) / max(own, 1), 2),
        "naive": round((10 * own + question_tokens) / max(own, 1), 2),
        "whole_paper_answers": sum(a.whole_paper for a in notes.answers),
        "seconds": round(seconds, 1),
        "s_per_latency": round(seconds / latency, 1) if latency else None,
    }
    if gold is not None:
        extracted = normalize(paper.full_text)
        r = reach(pdf.stem, gold, by_question, extracted)
        row.update({"reach": round(r["found"] / max(r["total"], 1), 3), "found": r["found"],
                    "gold": r["total"], "extracted": round(r["in_text"] / max(r["total"], 1), 3),
                    "missed": r["missed"]})
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--windows", default="128000,8192", help="context windows to measure, comma-separated")
    ap.add_argument("--papers", help="paper names (default: those of gold_evidence.json)")
    ap.add_argument("--all", action="store_true", help="every shared paper (reach only where gold exists)")
    ap.add_argument("--latency", type=float, default=0.2, help="seconds the server waits per call")
    ap.add_argument("--log", help="write every prompt sent to this JSON-lines file")
    ap.add_argument("--json", help="write the rows to this file")
    ap.add_argument("--missed", action="store_true", help="list the gold sentences that did not reach")
    args = ap.parse_args()
    if not GOLD.is_file():
        sys.exit(f"{GOLD} is absent: this benchmark runs on the shared papers.")
    gold = json.loads(GOLD.read_text("utf-8"))
    if args.all:
        names = sorted(p.stem for p in PAPERS.glob("*.pdf") if p.stem not in ("no_text_layer", "pnas_bio"))
    else:
        names = args.papers.split(",") if args.papers else list(gold)
    log_file = open(args.log, "w", encoding="utf-8") if args.log else None
    LiteLLM("openai/bench")._litellm  # import litellm (seconds) before any paper is timed
    rows = []
    for window in [int(w) for w in args.windows.split(",")]:
        for name in names:
            row = run_paper(PAPERS / f"{name}.pdf", window, args.latency, gold.get(name), log_file)
            rows.append(row)
            shown = {k: v for k, v in row.items() if k != "missed"}
            print("  ".join(f"{k}={v}" for k, v in shown.items()), flush=True)
            if args.missed:
                for m in row.get("missed", []):
                    print("    missed", m)
        scored = [r for r in rows if r["window"] == window and "gold" in r]
        if scored:
            found, total = sum(r["found"] for r in scored), sum(r["gold"] for r in scored)
            extracted = sum(r["extracted"] * r["gold"] for r in scored)
            print(f"== window {window}: reach {found}/{total} = {found / total:.1%} "
                  f"(extracted {extracted / total:.1%})", flush=True)
        mine = [r for r in rows if r["window"] == window]
        own = sum(r["paper_tokens"] for r in mine)
        sent, cached = sum(r["input_tokens"] for r in mine), sum(r["cached_tokens"] for r in mine)
        print(f"== window {window}: raw {sent / own:.2f}, billed50 {(sent - .5 * cached) / own:.2f}, "
              f"billed90 {(sent - .9 * cached) / own:.2f}, cached tokens {cached:,}, "
              f"s/latency max {max((r['s_per_latency'] or 0) for r in mine)}", flush=True)
    if log_file:
        log_file.close()
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
