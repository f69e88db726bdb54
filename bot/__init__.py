"""rolebot: answers questions about the AI Engineer role, grounded in one article."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import CorpusError, EmptyQuestionError, IndexLoadError, ModelError, RolebotError

if TYPE_CHECKING:
    from .chat import EXAMPLE_QUESTIONS, Chatbot, Reply, Source

__all__ = [
    "EXAMPLE_QUESTIONS",
    "Chatbot",
    "CorpusError",
    "EmptyQuestionError",
    "IndexLoadError",
    "ModelError",
    "Reply",
    "RolebotError",
    "Source",
]


def __getattr__(name: str):
    """PEP 562 lazy attributes: `import bot.cli` (for `rolebot --help`) need not load NumPy, FAISS and bm25s."""
    if name in ("EXAMPLE_QUESTIONS", "Chatbot", "Reply", "Source"):
        from . import chat

        return getattr(chat, name)
    raise AttributeError(f"module 'bot' has no attribute {name!r}")
