import pytest

from paper_reader.types import Reference
from paper_reader.writing.grounding import check_numbers, match_reference, mentions, paper_numbers
from paper_reader.reading.reader import read_paper
from tests.conftest import shared_pdf

REFS = [
    Reference("Ashish Vaswani, Noam Shazeer, and Niki Parmar. 2017. Attention is all you need. In NIPS.", "1"),
    Reference("J. Devlin, M. Chang. BERT: Pre-training of deep bidirectional transformers. arXiv:1810.04805, 2019.", "2"),
]


@pytest.mark.parametrize("line, index", [
    ("- **Builds on** [2] the BERT paper", 1),
    ("- Vaswani et al. (2017) introduced the Transformer", 0),
    ("- pre-training of deep bidirectional transformers", 1),
    ("- LoRa: long range radio networks (Smith 2020)", None),
    ("- [7] out of range", None),
])
def test_match_reference(line, index):
    assert match_reference(line, REFS) == index


@pytest.mark.parametrize("answer, checked, flagged", [
    ("It reaches 28.4 BLEU (§6.1, p. 8).", 1, []),
    ("It reaches 99.9 BLEU.", 1, ["99.9"]),
    ("Trained on 8 GPUs in 2017 for 3.5 days.", 1, []),
    ("A 175B model and 3,141,592 steps.", 2, ["175B", "3,141,592"]),
])
def test_check_numbers_on_a_real_paper(answer, checked, flagged):
    known = paper_numbers(read_paper(shared_pdf("attention_is_all_you_need.pdf")))
    assert check_numbers(answer, known) == (checked, flagged)


def test_mentions_find_numeric_and_author_year_citations():
    bert = read_paper(shared_pdf("bert.pdf"))  # author-year
    cited = mentions(bert)
    assert len(cited) >= 20
    attention = read_paper(shared_pdf("attention_is_all_you_need.pdf"))  # numeric [12]
    assert len(mentions(attention)) >= 20
