"""Question sets (YAML) -> validated objects, and the packaged templates' location."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

from paper_reader import plainyaml
from paper_reader.errors import TemplateError
from paper_reader.types import Question, QuestionSet
from paper_reader.reading.sections import KINDS

LANGS = ("en", "zh")
SHAPES = ("bullets", "paragraph")
SOURCE_KINDS = {k for k, _ in KINDS} | {"front", "other", "any"}
DEFAULT_QUESTIONS = "questions.yaml"


def templates_dir():
    """The packaged templates: `paper_reader.templates` when installed, `templates/` in a checkout."""
    try:
        return resources.files("paper_reader.templates")
    except ModuleNotFoundError:  # imported from a source checkout that shadows the installed package
        return Path(__file__).resolve().parents[2] / "templates"


def load_questions(path: str | Path | None = None) -> QuestionSet:
    """Load and validate a question set; None loads the packaged ten questions."""
    if path is None:
        source = templates_dir().joinpath(DEFAULT_QUESTIONS)
        name, text = "ten-questions", source.read_text("utf-8")
    else:
        from paper_reader.files import decode_utf8, read_small_file

        p = Path(path)
        raw = read_small_file(p, what="Template", limit=2**20, error=TemplateError)
        name, text = p.stem, decode_utf8(raw, p, what="Template", error=TemplateError)
    where = str(path or DEFAULT_QUESTIONS)
    try:
        data = plainyaml.load(text)
    except yaml.YAMLError as exc:
        raise TemplateError(f"Template {where}: not valid YAML ({_one_line(exc)}).") from exc
    return parse_questions(data, where, default_name=name)


MAX_QUESTIONS = 50  # the reference template asks ten; a set may come from a cloned repository
MAX_QUESTION_CHARS = 2000


def parse_questions(data, where: str, default_name: str = "custom") -> QuestionSet:
    """Validate a loaded YAML document; errors name the file and the field."""
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise TemplateError(f"Template {where}: needs a top-level 'questions:' list.")
    if not data["questions"]:
        raise TemplateError(f"Template {where}: 'questions' is empty.")
    if len(data["questions"]) > MAX_QUESTIONS:
        raise TemplateError(f"Template {where}: {len(data['questions'])} questions; a question set holds at most "
                            f"{MAX_QUESTIONS} (each one is at least one model call per paper).")
    questions = []
    seen: set[str] = set()
    for i, item in enumerate(data["questions"], start=1):
        questions.append(_question(item, f"{where}: questions[{i}]", i, seen))
    return QuestionSet(name=str(data.get("name") or default_name), questions=tuple(questions), path=where)


def _question(item, at: str, index: int, seen: set[str]) -> Question:
    if isinstance(item, str):  # the short form: just the question text
        item = {"text": item}
    if not isinstance(item, dict):
        raise TemplateError(f"Template {at}: must be a mapping with at least 'text'.")
    unknown = set(item) - {"id", "text", "sources", "shape", "cues"}
    if unknown:
        raise TemplateError(f"Template {at}: unknown field '{sorted(unknown)[0]}'.")
    qid = str(item.get("id") or f"q{index}")
    if qid in seen:
        raise TemplateError(f"Template {at}.id: '{qid}' is used twice.")
    seen.add(qid)
    text = item.get("text")
    if isinstance(text, str):
        text = {"en": text}
    if not isinstance(text, dict) or not text or not all(
        isinstance(v, str) and v.strip() for v in text.values()
    ):
        raise TemplateError(f"Template {at}.text: give the question as a string or {{en: ..., zh: ...}}.")
    long = [k for k, v in text.items() if len(v) > MAX_QUESTION_CHARS]
    if long:
        raise TemplateError(f"Template {at}.text: {len(text[long[0]]):,} characters; a question is at most "
                            f"{MAX_QUESTION_CHARS:,} (it goes into every prompt that answers it).")
    bad_lang = [k for k in text if k not in LANGS]
    if bad_lang:
        raise TemplateError(f"Template {at}.text: unknown language '{bad_lang[0]}' (use en or zh).")
    sources = item.get("sources", ["any"])
    if isinstance(sources, str):
        sources = [sources]
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise TemplateError(f"Template {at}.sources: must be a list of section kinds.")
    bad = [s for s in sources if s not in SOURCE_KINDS]
    if bad:
        kinds = ", ".join(sorted(SOURCE_KINDS))
        raise TemplateError(f"Template {at}.sources: unknown section kind '{bad[0]}' (one of {kinds}).")
    shape = item.get("shape", "bullets")
    if shape not in SHAPES:
        raise TemplateError(f"Template {at}.shape: '{shape}' is not one of {', '.join(SHAPES)}.")
    cues = item.get("cues", [])
    if not isinstance(cues, list):
        raise TemplateError(f"Template {at}.cues: must be a list of phrases.")
    return Question(
        id=qid,
        text={k: v.strip() for k, v in text.items()},
        sources=tuple(sources),
        shape=shape,
        cues=tuple(str(c).lower() for c in cues),
    )


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())
