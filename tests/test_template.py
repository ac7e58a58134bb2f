import pytest
import yaml

from paper_reader.errors import TemplateError
from paper_reader.writing.questions import load_questions

ZH = [
    "这篇论文的主要贡献是什么？",
    "这个贡献重要吗？为什么？",
    "这篇论文的局限是什么？",
    "根据这篇文章的结果，你得到什么启发？",
    "这篇论文的研究假设是什么？这些假设是否合理、局限或过于简化？",
    "基于这篇论文的可能应用有哪些？",
    "在该文基础上，有些工作可以继续延伸下去？如何延伸？",
    "这篇论文中，哪些是你还没明白的地方？",
    "还有什么其他相关的论文？它们之间有什么关系？",
    "基于这篇论文的思想，若要做一个项目，能否用两句话描述一下这个项目的大致思想？",
]
EN = [
    "What is the main contribution of this paper?",
    "Is this contribution important? Why?",
    "What are the limitations of this paper?",
    "What insights do you draw from its results?",
    "What are the research assumptions? Are they reasonable, limited, or oversimplified?",
    "What applications could build on this paper?",
    "What work could extend this paper, and how?",
    "What in this paper is still unclear?",
    "What other papers are related, and how?",
    "If you built a project on this paper's ideas, what is it, in two sentences?",
]


def test_default_questions_match_the_reference_notes_exactly():
    qs = load_questions()
    assert [q.ask("zh") for q in qs.questions] == ZH
    assert [q.ask("en") for q in qs.questions] == EN
    limits = next(q for q in qs.questions if q.id == "limitations")
    assert {"limitations", "discussion", "conclusion", "experiments"} <= set(limits.sources)
    assert "references" in next(q for q in qs.questions if q.id == "related").sources


def test_a_users_own_short_template(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("questions:\n  - What dataset is used?\n  - text: {en: 'Who funded it?'}\n    shape: paragraph\n")
    qs = load_questions(path)
    assert [q.ask("en") for q in qs.questions] == ["What dataset is used?", "Who funded it?"]
    assert qs.name == "mine"


@pytest.mark.parametrize("doc, message", [
    ("questions: nope", "needs a top-level 'questions:' list"),
    ("questions: []", "'questions' is empty"),
    ("questions:\n  - {text: {fr: Quoi}}", r"questions\[1\].text: unknown language 'fr'"),
    ("questions:\n  - {text: Q, shape: table}", r"questions\[1\].shape: 'table' is not one of"),
    ("questions:\n  - {text: Q, sources: [kitchen]}", r"questions\[1\].sources: unknown section kind 'kitchen'"),
    ("questions:\n  - {text: Q}\n  - {txt: R}", r"questions\[2\]: unknown field 'txt'"),
    ("questions:\n  - {id: a, text: Q}\n  - {id: a, text: R}", r"questions\[2\].id: 'a' is used twice"),
    ("questions: [unclosed", "not valid YAML"),
    ("questions: [" + ", ".join(["Q"] * 3000) + "]", "3000 questions; a question set holds at most 50"),
    ("questions:\n  - " + "why " * 600, r"questions\[1\].text: 2,399 characters; a question is at most 2,000"),
])
def test_bad_templates_name_file_and_field(tmp_path, doc, message):
    path = tmp_path / "bad.yaml"
    path.write_text(doc)
    with pytest.raises(TemplateError, match=message) as err:
        load_questions(path)
    assert str(path) in str(err.value)


def test_a_set_of_the_largest_size_loads(tmp_path):
    from paper_reader.writing.questions import MAX_QUESTIONS

    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump({"questions": [f"Question {i}?" for i in range(MAX_QUESTIONS)]}))
    assert len(load_questions(path).questions) == MAX_QUESTIONS


def test_missing_template_file(tmp_path):
    with pytest.raises(TemplateError, match="no such file"):
        load_questions(tmp_path / "absent.yaml")


def test_packaged_yaml_is_plain_data():
    from paper_reader.writing.questions import templates_dir

    data = yaml.safe_load(templates_dir().joinpath("questions.yaml").read_text("utf-8"))
    assert len(data["questions"]) == 10
