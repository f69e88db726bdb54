"""rolebot: answers questions about an article by quoting it (see corpus/ and its rolebot.toml profile)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import CorpusError, EmptyQuestionError, IndexLoadError, ModelError, RolebotError

if TYPE_CHECKING:
    from .chat import Chatbot, Part, Question, Reply, Source

__all__ = [
    "Chatbot",
    "CorpusError",
    "EmptyQuestionError",
    "IndexLoadError",
    "ModelError",
    "Part",
    "Question",
    "Reply",
    "RolebotError",
    "Source",
]


def __getattr__(name: str):
    """PEP 562 lazy attributes: `import bot.cli` (for `rolebot --help`) need not load NumPy, FAISS and bm25s."""
    if name in ("Chatbot", "Part", "Question", "Reply", "Source"):
        from . import chat

        return getattr(chat, name)
    raise AttributeError(f"module 'bot' has no attribute {name!r}")
