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
