"""Which strings are English words, so that no repair ever rewrites a correct one.

The dictionary is english-words' web2 + GCIDE lists (263k lower-case words, ~0.3 s to load, once
per process, and only when a document needs a repair decided).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

LIGATURES = ("fi", "fl", "ff", "ffi", "ffl")
SOFT_HYPHEN = "\ufffe"  # PDFium's mark for a hyphen that broke a word at a line end


@lru_cache(maxsize=1)
def dictionary() -> frozenset[str] | set[str]:
    """Lower-case English words; falls back to the ligature word list if the package is missing.

    The two word lists' pickles are read directly (0.1 s) rather than through the package's
    helper (0.25 s): a cold `read` pays it once.
    """
    words: set[str] = set()
    try:
        import pickle

        data = resources.files("english_words").joinpath("data")
        for name in ("web2_alpha_lower.pickle", "gcide_alpha_lower.pickle"):
            words |= pickle.loads(data.joinpath(name).read_bytes())  # the installed package's own data
    except Exception:  # not installed, or laid out differently: its helper, or no dictionary at all
        try:
            from english_words import get_english_words_set

            words = get_english_words_set(["web2", "gcide"], lower=True, alpha=True)
        except Exception:  # repairs become rarer, never wrong
            words = set()
    words |= ligature_words()
    return words


@lru_cache(maxsize=1)
def ligature_words() -> frozenset[str]:
    """Common words of papers that contain fi, fl, ff, ffi or ffl."""
    text = resources.files("paper_reader.reading").joinpath("ligature_words.txt").read_text("utf-8")
    return frozenset(w.strip() for w in text.split() if w.strip())


def is_word(word: str) -> bool:
    return word.lower() in dictionary()


def _stem_forms(word: str) -> tuple[str, ...]:
    """The word and what it may be inflected from ("transformers" -> "transformer")."""
    low = word.lower()
    forms = [low]
    for suffix, repl in (("s", ""), ("es", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e"), ("ly", "")):
        if low.endswith(suffix) and len(low) > len(suffix) + 2:
            forms.append(low[: -len(suffix)] + repl)
    return tuple(forms)


def known(word: str) -> bool:
    """A dictionary word, allowing plain inflections the lists leave out."""
    words = dictionary()
    return any(f in words for f in _stem_forms(word))


_SOFT = re.compile(rf"([A-Za-z][\w']*){SOFT_HYPHEN}\s*([\w'][\w'-]*)?")


def join_soft_hyphens(text: str, seen: frozenset[str] | set[str] = frozenset()) -> str:
    """Join words PDFium marked as broken at a line end (U+FFFE), keeping real hyphens.

    "represen|tation" -> "representation"; "task|specific" -> "task-specific" (both halves are
    words, the join is not); "English|to-German" and "BERT|Base" keep their hyphen. `seen` holds
    the document's own lower-case tokens: its own spelling elsewhere ("pre-train") decides first.
    """
    def join(m: re.Match) -> str:
        left, right = m.group(1), m.group(2)
        if not right:
            return left + "-"
        return left + ("-" if keeps_hyphen(left, right, seen) else "") + right

    # a word broken twice ("multi|lin|gual", merged onto one line) needs a pass per break
    for _ in range(text.count(SOFT_HYPHEN)):
        joined = _SOFT.sub(join, text)
        if joined == text:
            break
        text = joined
    return text


def keeps_hyphen(left: str, right: str, seen: frozenset[str] | set[str] = frozenset()) -> bool:
    """Whether a hyphen at a line break belongs to the word (a compound) rather than the layout."""
    low = (left + "-" + right.split("-")[0]).lower()
    if low in seen:
        return True
    if low.replace("-", "") in seen:
        return False
    if right[:1].isupper() or right[:1].isdigit() or left[-1:].isdigit():
        return True
    if known(left + right.split("-")[0]):
        return False
    if "-" in right or (left.isupper() and len(left) > 1):
        return True
    left_word, right_word = left.split("-")[-1], right.split("-")[0]
    shortest = 4 if left_word[:1].isupper() else 2  # "Rad|ford" is a name; "Task|specific" a compound
    def word(w: str) -> bool:
        return w.lower() in seen or known(w)

    return len(left_word) >= shortest and len(right_word) > 2 and word(left_word) and word(right_word)
