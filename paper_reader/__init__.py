"""paper-reader: turn a research paper into structured, cited reading notes."""

__version__ = "0.1.0"
