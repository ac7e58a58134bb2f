from pathlib import Path

import pytest

from paper_reader.errors import InputError
from paper_reader.sources.readinglist import Entry, load_list, parse_bibtex, parse_text, parse_yaml


def test_text_list_with_comments_topics_and_tags():
    text = """# my reading list
2112.11446   topic: LLM  tags: scaling, gopher
papers/attention.pdf            # a local file
https://example.org/paper.pdf topic: RAG
"""
    entries = parse_text(text, Path("/lists"))
    assert entries == [
        Entry("2112.11446", "LLM", ("scaling", "gopher"), None, 2),
        Entry("/lists/papers/attention.pdf", None, (), None, 3),
        Entry("https://example.org/paper.pdf", "RAG", (), None, 4),
    ]


def test_yaml_list():
    entries = parse_yaml("- 1706.03762\n- {source: bert.pdf, topic: NLP, tags: [pretraining], lang: zh}\n")
    assert entries[0].source == "1706.03762"
    assert (entries[1].source, entries[1].topic, entries[1].tags, entries[1].lang) == ("bert.pdf", "NLP", ("pretraining",), "zh")


@pytest.mark.parametrize("doc, message", [("{a: 1}", "expected a list"), ("- {topic: x}", "entry 1 has no 'source'")])
def test_bad_yaml_lists(doc, message):
    with pytest.raises(InputError, match=message):
        parse_yaml(doc)


def test_bibtex_as_zotero_exports_it():
    bib = r"""
@article{rae2021scaling,
  title = {Scaling Language Models: Methods, Analysis {\&} Insights from Training {Gopher}},
  author = {Rae, Jack W. and others},
  eprint = {2112.11446},
  archivePrefix = {arXiv},
  keywords = {LLM, scaling},
}
@inproceedings{vaswani2017,
  title = "Attention Is All You Need",
  url = {https://arxiv.org/abs/1706.03762},
}
@article{local,
  file = {Full Text PDF:files/12/Devlin - BERT.pdf:application/pdf},
}
@misc{nothing, title = {No way to get it}}
"""
    entries = parse_bibtex(bib, Path("/zotero"))
    assert [e.source for e in entries] == ["2112.11446", "1706.03762", "/zotero/files/12/Devlin - BERT.pdf", "bibtex:nothing"]
    assert entries[0].tags == ("LLM", "scaling")
    assert entries[3].extra["missing"]


def test_load_list_errors(tmp_path):
    with pytest.raises(InputError, match="Reading list .*no such file"):
        load_list(tmp_path / "none.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    with pytest.raises(InputError, match="no entries"):
        load_list(empty)


class _Hung(Exception):
    pass


def _bounded(seconds: int, fn, *args):
    """fn(*args), failing the test if it runs past `seconds` (a margin of a hundred times or more
    over its linear cost here: this catches quadratic parsing, it does not time anything)."""
    import signal

    def stop(signum, frame):
        raise _Hung(f"still running after {seconds} s: the parsing is not linear in the input")

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        return fn(*args)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_a_bibtex_list_of_entries_never_closed_parses_in_linear_time():
    """Each unclosed entry once scanned to the end of the file (and counted lines from its start)."""
    from paper_reader.sources.readinglist import parse_bibtex

    entries = _bounded(60, parse_bibtex, "@a{k,\n" * 40_000)
    assert len(entries) == 40_000 and entries[-1].line == 40_000
    assert all(e.extra.get("missing") for e in entries[:3])


def test_a_bibtex_entry_runs_to_the_next_entry_when_its_brace_is_missing():
    from paper_reader.sources.readinglist import parse_bibtex

    entries = parse_bibtex("@article{a,\n eprint = {2101.00001}\n\n@article{b,\n eprint = {2101.00002}}\n")
    assert [e.source for e in entries] == ["2101.00001", "2101.00002"]
    assert [e.line for e in entries] == [1, 4]


def test_a_note_heading_line_of_any_length_is_read_in_linear_time():
    from paper_reader.library.merge import headings

    line = "# x" + " " * 200_000 + "y"
    assert _bounded(60, headings, line) == [(0, 1, "x" + " " * 200_000 + "y")]
    assert headings("## Title ##\n# C# notes\n#Not\n# \n### Done #  ") == [
        (0, 2, "Title"), (1, 1, "C# notes"), (3, 1, ""), (4, 3, "Done")]
