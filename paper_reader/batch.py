"""Many papers at once: concurrent, resumable, one failure never stops the others."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from paper_reader.sources.http import redact_source
from paper_reader.core import Job, NoteExists, check_note_template, open_model, read_job
from paper_reader.library.placement import repo_root
from paper_reader.errors import PaperReaderError
from paper_reader.files import redact_urls
from paper_reader.models.llm import LLM, Wrapper
from paper_reader.types import QuestionSet, Word
from paper_reader.sources.readinglist import Entry, check_entry
from paper_reader.settings import Settings
from paper_reader.writing.questions import load_questions

# (entry index, stage, detail) -> the display; stages: read, digest, answer, write, done, skipped, failed
BatchProgress = Callable[[int, str, str], None]


class Status(Word):
    """What became of one paper of a batch."""

    PENDING = "pending"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class _Stopped(Exception):
    """Raised inside a paper's work once the batch is interrupted."""


@dataclass
class PaperResult:
    entry: Entry
    status: Status = Status.PENDING
    seconds: float = 0.0
    calls: int = 0
    cached: int = 0
    tokens: int = 0
    cost: float = 0.0
    path: Path | None = None
    title: str = ""
    error: str = ""


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during a batch, carrying what each paper had reached (for the summary)."""

    def __init__(self, results: list[PaperResult]):
        super().__init__()
        self.results = results


class Throttled(Wrapper):
    """A model shared by a batch's papers with one limit on calls in flight across all of them
    (`-j 4` means four calls on the server, not four papers times four calls)."""

    def __init__(self, model: LLM, limit: int):
        super().__init__(model)
        self._slots = threading.BoundedSemaphore(max(1, limit))

    def complete(self, messages, max_tokens):
        with self._slots:
            return self.inner.complete(messages, max_tokens)


def run_batch(entries: list[Entry], settings: Settings, model: LLM | None = None, force: bool = False,
              progress: BatchProgress | None = None, stop: threading.Event | None = None,
              discard_edits: bool = False) -> list[PaperResult]:
    """Read every entry into a note; finished notes are skipped unless forced (so a re-run resumes)."""
    from paper_reader.library.repo import repo_lock

    report = progress or (lambda *a: None)
    questions = load_questions(settings.template)  # a broken question set fails once, too
    check_note_template(settings, questions)  # once, before any paper: template, git identity
    stop = stop or threading.Event()
    results = [PaperResult(e) for e in entries]
    llm = Throttled(model or open_model(settings), settings.concurrency)
    write_lock = threading.Lock()
    claims: dict[Path, str] = {}  # note path -> the paper that has it in this batch (titles may repeat)
    root = repo_root(settings)
    guard = repo_lock(root, wait=0) if root is not None else nullcontext()
    # papers in flight: enough to keep the calls busy while others read PDFs, never more than the calls
    with guard, ThreadPoolExecutor(max_workers=max(1, min(settings.concurrency, settings.papers))) as pool:
        futures = [pool.submit(_one, i, r, settings, llm, questions, force, report, stop, write_lock, claims,
                               discard_edits)
                   for i, r in enumerate(results)]
        try:
            for f in futures:
                f.result()
        except KeyboardInterrupt:
            from paper_reader.models.llm import cancel_calls

            stop.set()  # papers in flight stop; nothing half-written is left
            cancel_calls()  # and their model calls are abandoned now, not after their retries
            pool.shutdown(wait=True, cancel_futures=True)
            for r in results:
                if r.status == Status.PENDING:
                    r.status = Status.INTERRUPTED
            raise BatchInterrupted(results) from None
    return results


def _one(i: int, result: PaperResult, settings: Settings, llm: LLM, questions: QuestionSet, force: bool,
         report: BatchProgress, stop: threading.Event, write_lock: threading.Lock,
         claims: dict | None = None, discard_edits: bool = False) -> None:
    """One paper through the one read path; the batch keeps only its status and figures."""
    if stop.is_set():
        result.status = Status.INTERRUPTED
        return
    started = time.monotonic()
    entry = result.entry

    def progress(stage, detail, done, total):
        if stop.is_set():  # Ctrl-C: abandon this paper between calls; its finished calls are cached
            raise _Stopped
        if stage == "read":
            report(i, "read", redact_source(entry.source) if done == 0 else detail)
            if done:
                result.title = detail
        else:
            report(i, stage, detail if stage == "write" else f"{done}/{total}")  # the display reads the counts

    try:
        check_entry(entry)
        job = Job(entry.source, entry.topic, tuple(entry.tags), entry.lang)
        done = read_job(job, settings, llm, questions, progress=progress, force=force, discard_edits=discard_edits,
                        claims=claims if claims is not None else {}, save_guard=lambda target: write_lock)
        u = done.notes.usage
        result.title, result.path = done.notes.paper.title, done.path
        result.calls, result.cached, result.tokens, result.cost = u.calls, u.cached, u.input_tokens + u.output_tokens, u.cost
        result.status = Status.DONE
        report(i, "done", result.title)
    except NoteExists as exc:
        result.title, result.path, result.status = exc.paper.title, exc.path, Status.SKIPPED
        report(i, "skipped", exc.paper.title)
    except (_Stopped, KeyboardInterrupt):  # KeyboardInterrupt: llm.Cancelled, a call abandoned
        result.status = Status.INTERRUPTED
    except PaperReaderError as exc:
        result.status, result.error = Status.FAILED, redact_urls(str(exc))
        report(i, "failed", result.error)
    except Exception as exc:  # one paper's bug must not stop the batch; say what it was
        result.status, result.error = Status.FAILED, redact_urls(f"{type(exc).__name__}: {exc}")
        report(i, "failed", result.error)
    finally:
        result.seconds = time.monotonic() - started
