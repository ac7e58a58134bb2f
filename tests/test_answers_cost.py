"""Honest cost: --dry-run counts calls, tokens and cost without calling a model."""

from typer.testing import CliRunner

from paper_reader.cli.common import app
from paper_reader.writing.dryrun import DryRun, price
from paper_reader.writing.pipeline import make_notes
from paper_reader.reading.reader import read_paper
from paper_reader.writing.questions import load_questions
from tests.conftest import FakeLLM

runner = CliRunner()


class NoCalls(FakeLLM):
    def complete(self, messages, max_tokens):
        raise AssertionError("a dry run called the model")


def test_dry_run_counts_the_calls_a_real_run_makes(sample_pdf):
    paper = read_paper(sample_pdf)
    real = FakeLLM(context_window=128_000)
    make_notes(paper, load_questions(), real)
    dry = DryRun(NoCalls(context_window=128_000))
    make_notes(paper, load_questions(), dry)
    assert dry.calls == len(real.history)
    assert dry.input_tokens > 0 and dry.output_tokens > 0


def test_a_repeated_long_prefix_counts_as_cached():
    dry = DryRun(NoCalls())
    long = "word " * 2000
    for question in ("a?", "b?"):
        dry.complete([{"role": "system", "content": long}, {"role": "user", "content": question}], 100)
    assert dry.cached_tokens == dry.count_tokens(long)


def test_cache_reads_are_priced_below_fresh_input():
    fresh = price("gpt-4o-mini", 100_000, 0, 1000)
    cached = price("gpt-4o-mini", 100_000, 90_000, 1000)
    assert fresh and cached and cached < fresh
    assert price("no-such-provider/no-such-model", 1, 0, 1) is None


def test_read_and_batch_dry_runs_print_an_estimate_and_write_nothing(sample_pdf, tmp_path):
    obj = {"open_model": lambda settings: NoCalls(context_window=128_000)}
    out = tmp_path / "notes"
    result = runner.invoke(app, ["read", str(sample_pdf), "-o", str(out), "--dry-run"], obj=obj)
    assert result.exit_code == 0, result.output
    assert "A Sample Paper on Testing: 11 calls" in result.output and "tokens in" in result.output
    assert not out.exists()
    listing = tmp_path / "list.txt"
    listing.write_text(f"{sample_pdf}\n{sample_pdf}\n")
    result = runner.invoke(app, ["batch", str(listing), "-o", str(out), "--dry-run"], obj=obj)
    assert result.exit_code == 0, result.output
    assert result.output.count("A Sample Paper on Testing: 11 calls") == 2 and "total:" in result.output
    assert not out.exists()
