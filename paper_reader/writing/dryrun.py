"""Know the cost first: the calls, tokens and estimated cost of a note, without calling a model.

The whole pipeline runs against `DryRun`, a model that answers every call with a placeholder of
a typical answer's length, so the prompts counted are the prompts a real run would send (answers
are sized from digests of that length). A prefix sent again is counted as cached, as providers do
for 1,024+ tokens.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from paper_reader.models.llm import LLM, Completion, Wrapper

MIN_CACHED = 1024
OUTPUT_SHARE = 0.6  # answers and digests use about this share of their max_tokens


@dataclass(frozen=True)
class Estimate:
    """What one note would cost."""

    paper: str
    model: str
    calls: int
    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    cost: float | None  # None: litellm has no price for the model

    def line(self) -> str:
        cost = "no price known" if self.cost is None else f"~${self.cost:.4f}"
        return (f"{self.paper}: {self.calls} calls, {self.input_tokens:,} tokens in "
                f"({self.cached_input_tokens:,} cached), ~{self.output_tokens:,} out, {cost} ({self.model})")


class DryRun(Wrapper):
    """The LLM protocol without a model: counts what would be sent, returns placeholders."""

    def __init__(self, inner: LLM):
        super().__init__(inner)
        self.calls = self.input_tokens = self.cached_tokens = self.output_tokens = 0
        self._prefixes: set[str] = set()
        self._lock = threading.Lock()

    def complete(self, messages: list[dict], max_tokens: int) -> Completion:
        texts = [m["content"] if isinstance(m["content"], str) else "".join(b.get("text", "") for b in m["content"])
                 for m in messages]
        tokens = [self.count_tokens(t) for t in texts]
        out = int(max_tokens * OUTPUT_SHARE)
        with self._lock:
            cached = tokens[0] if texts[0] in self._prefixes and tokens[0] >= MIN_CACHED else 0
            self._prefixes.add(texts[0])
            self.calls += 1
            self.input_tokens += sum(tokens)
            self.cached_tokens += cached
            self.output_tokens += out
        filler = " ".join(["placeholder"] * max(1, out // 2))
        return Completion(text=f"- **Dry run**: no model was called; {filler}.", input_tokens=sum(tokens),
                          output_tokens=out, cached_tokens=cached)

    def estimate(self, paper: str) -> Estimate:
        return Estimate(paper, self.name, self.calls, self.input_tokens, self.cached_tokens, self.output_tokens,
                        price(self.name, self.input_tokens, self.cached_tokens, self.output_tokens))


def price(model: str, input_tokens: int, cached: int, output: int) -> float | None:
    """litellm's price for these tokens, cache reads priced as cache reads; None when unknown."""
    from paper_reader.models.llm import _litellm

    if model.startswith("gguf:"):  # a local file: no bill
        return 0.0
    try:
        prompt_cost, completion_cost = _litellm().cost_per_token(
            model=model, prompt_tokens=input_tokens, completion_tokens=output, cache_read_input_tokens=cached)
        return float(prompt_cost + completion_cost)
    except Exception:  # litellm raises a bare Exception for a model it has no price for
        return None


def dry_run(source: str | Path, settings, model: LLM | None = None) -> Estimate:
    """Read the paper and estimate its note's calls, tokens and cost; no model is called."""
    from dataclasses import replace

    from paper_reader.core import open_model, open_paper
    from paper_reader.writing.pipeline import make_notes
    from paper_reader.writing.questions import load_questions

    questions = load_questions(settings.template)
    paper = open_paper(source, settings)
    inner = model or open_model(replace(settings, cache=False))
    counter = DryRun(inner)
    make_notes(paper, questions, counter, lang=settings.lang, concurrency=settings.concurrency)
    return counter.estimate(paper.title)
