"""Reading a PDF into a Paper: characters, cleaning, metadata, sections, references.

Knows no model. May import: paper_reader.types, errors, files, settings."""
