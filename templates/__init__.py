"""Default question set, prompts and note template; installed as the package `paper_reader.templates`."""
