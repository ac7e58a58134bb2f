"""Writing notes from a Paper with a model: digests, answers, prompts, grounding checks, rendering.

May import: types, errors, files, models (through the LLM protocol), reading (for section kinds)."""
