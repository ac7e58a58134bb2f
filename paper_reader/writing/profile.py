"""What to ask of a model, decided once from the model: budgets and behaviours in one place.

A tiny model (the embedded SmolLM2-135M, or any window of 4k or less) restates a few sentences at
best and invents the rest, so it is given less, asked less, and checked sentence by sentence.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    small: bool  # the prompts speak to a tiny model more plainly
    digest_out: int  # tokens a digest may take
    answer_out: int  # tokens an answer may take
    passage: int  # tokens per retrieval passage when an answer's window is filled by relevance
    pack_sections: bool  # short sections share one digest call
    digest_by_model: bool  # else a section's digest is its own key sentences (no call)
    whole_paper: bool  # the whole paper may go as a cached prefix when it fits
    related_from_citations: bool  # question 9 from the paper's own citations, not the model
    sentence_support: bool  # every answer sentence must be supported by one place, else replaced
    ask_material_chars: int  # what `ask` puts in front of the model
    ask_answer_tokens: int

    @classmethod
    def of(cls, model) -> "Profile":
        if model.small:
            return cls(small=True, digest_out=160, answer_out=220, passage=120, pack_sections=False,
                       digest_by_model=False, whole_paper=False, related_from_citations=True,
                       sentence_support=True, ask_material_chars=3000, ask_answer_tokens=300)
        return cls(small=False, digest_out=400, answer_out=700, passage=200, pack_sections=True,
                   digest_by_model=True, whole_paper=True, related_from_citations=False,
                   sentence_support=False, ask_material_chars=24000, ask_answer_tokens=800)
