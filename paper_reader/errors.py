"""Errors a user can act on. The CLI prints their text as one line and exits 1."""

from __future__ import annotations


class PaperReaderError(Exception):
    """Base class: the message says what happened and what to do."""


class InputError(PaperReaderError):
    """The paper given cannot be found or is not usable as given."""


class PdfUnreadable(PaperReaderError):
    """The PDF exists but its text cannot be read (corrupt, encrypted, scanned, garbled)."""


class TemplateError(PaperReaderError):
    """A question set or notes template is malformed."""


class ModelError(PaperReaderError):
    """The language model could not produce an answer."""


class OutputError(PaperReaderError):
    """The note cannot be written where asked."""


class ConfigError(PaperReaderError):
    """A setting, flag value or config file is invalid."""


class FetchError(InputError):
    """The paper could not be fetched from arXiv or the URL given."""


class RepoError(PaperReaderError):
    """The notes repository, or a note in it, cannot be updated as asked."""
