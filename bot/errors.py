"""The exceptions rolebot raises. Only the CLI and the web UI turn them into messages."""

from __future__ import annotations


class RolebotError(Exception):
    """Base class: every error the library raises on purpose."""


class EmptyQuestionError(RolebotError, ValueError):
    """The question was empty or held only whitespace / invisible characters."""

    def __init__(self, message: str = "The question is empty: type a question.") -> None:
        super().__init__(message)  # the engine passes the corpus profile's wording


class CorpusError(RolebotError):
    """The corpus folder or one of its files cannot be used."""


class IndexError_(RolebotError):
    """The index on disk cannot be read (missing, truncated, garbage or from another model)."""


class ModelError(RolebotError):
    """The embedding model cannot be found or loaded."""


class MissingDependencyError(RolebotError):
    """A task needs packages this install lacks, e.g. building the index on a serving-only install."""


class DeployError(RolebotError):
    """Publishing to a Hugging Face Space failed (no token, Hub unreachable, access refused, stale index)."""


class VoteRefused(RolebotError, ValueError):
    """A feedback vote that breaks a rule (unknown vote, unknown answer, too many votes): nothing was written."""


class ServerError(RolebotError):
    """The web server cannot start (e.g. its port is taken)."""


class LLMError(RolebotError):
    """A language model could not write an answer: unreachable, too slow, refused or garbled. The writer
    catches it and shows the quoted answer; its message never holds a token."""


# A readable public name; the trailing underscore only avoids shadowing the builtin inside this module.
IndexLoadError = IndexError_
del IndexError_
