"""rolebot: answers questions about the AI Engineer role, grounded in one article."""

from .chat import EXAMPLE_QUESTIONS, Chatbot, Reply, Source
from .errors import CorpusError, EmptyQuestionError, IndexLoadError, ModelError, RolebotError

__all__ = ["EXAMPLE_QUESTIONS", "Chatbot", "CorpusError", "EmptyQuestionError", "IndexLoadError", "ModelError",
           "Reply", "RolebotError", "Source"]
