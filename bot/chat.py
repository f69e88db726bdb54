"""The one engine behind the terminal, the web page and the API: ``Chatbot.load().ask(...)``."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import config
from .answer import Composer
from .build import LoadedIndex, Progress, load_or_build
from .embeddings import Embedder, get_embedder
from .errors import ModelError
from .followup import resolve
from .retrieval import Hit, Retriever
from .scope import ScopeJudge
from .text import clean_question, prepare_question

EXAMPLE_QUESTIONS = (
    "How is an AI Engineer different from an ML Engineer?",
    "What are the key responsibilities of an AI Engineer?",
    "What tools and frameworks do ML Engineers use?",
    "What skills do I need to become an AI Engineer?",
    "How do AI Engineers optimize and deploy models?",
    "Who do AI Engineers work with?",
)
"""Shown in the web UI and offered when a question is out of scope; they are questions, not answers."""

History = Sequence[tuple[str, str]]

TRACE_HITS = 8
"""How many ranked passages a reply's trace keeps (for "How it works" and the CLI)."""


def _sources(hits: list[Hit], units: list, top_k: int) -> list[Hit]:
    """The passages the answer quotes, then the best of the rest; at most top_k, best first by fused score."""
    used = {u.id for u in units}
    quoting = [h for h in hits if used & set(h.chunk.unit_ids)][:top_k]
    taken = {h.chunk.id for h in quoting}
    others = [h for h in hits if h.chunk.id not in taken][: max(0, top_k - len(quoting))]
    return sorted(quoting + others, key=lambda h: -h.fused)


@dataclass
class Source:
    section: str  # heading path, e.g. "Roles & Responsibilities of an AI Engineer › 6. Ethical AI & Bias Mitigation"
    text: str  # the retrieved passage
    score: float  # fused relevance, 1.0 = ranked first by both dense and BM25 retrieval


@dataclass
class Trace:
    """How an answer came about: for "How it works", the CLI's search and feedback logs."""

    resolved_question: str
    truncated: bool
    hits: list[dict]
    key_terms: list[str]
    uncovered_terms: list[str]
    scope_reason: str
    timings_ms: dict[str, float]


@dataclass
class Reply:
    question: str
    answer: str
    in_scope: bool
    sources: list[Source]
    trace: Trace | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        """The public JSON shape shared by the CLI's --json and the web API."""
        return {
            "question": self.question,
            "answer": self.answer,
            "in_scope": self.in_scope,
            "sources": [asdict(s) for s in self.sources],
        }


class Chatbot:
    """Thread-safe: the index is read-only after loading and the embedder serialises its tokenizer."""

    def __init__(self, loaded: LoadedIndex, embedder: Embedder | None = None) -> None:
        self.loaded = loaded
        self.index = loaded.index
        self._embedder = embedder
        self.retriever = Retriever(self.index)
        self.scope = ScopeJudge(self.index)
        self.composer = Composer(self.index)
        self._example_vectors: np.ndarray | None = None

    @classmethod
    def load(
        cls,
        corpus: Path | None = None,
        index: Path | None = None,
        *,
        rebuild: bool = False,
        progress: Progress | None = None,
    ) -> Chatbot:
        """Load ``index/`` (rebuilt when missing, stale or damaged). The model loads on first use."""
        return cls(load_or_build(corpus, index, rebuild=rebuild, progress=progress))

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            embedder = get_embedder("query")
            if embedder.dimension != self.index.dimension:
                raise ModelError(
                    f"The model {embedder.model_id!r} gives {embedder.dimension}-number vectors but the index in "
                    f"{self.loaded.folder} holds {self.index.dimension}: rebuild it with `rolebot index --rebuild`"
                )
            self._embedder = embedder
        return self._embedder

    def warm_up(self) -> None:
        """Load the model and run it once, so the first user does not wait (servers call this at start)."""
        self.embedder.encode(["warm up"])

    def search(self, query: str, k: int = 8) -> list[Hit]:
        text = clean_question(query, config.max_question_chars())
        return self.retriever.search(text, self.embedder.encode([text])[0], k)

    def ask(self, question: str, history: History | None = None, top_k: int = config.TOP_K_SOURCES) -> Reply:
        """Answer one question; ``history`` holds earlier (user message, bot answer) pairs, oldest first.

        Raises EmptyQuestionError for an empty question; anything else gets a string answer.
        """
        started = time.perf_counter()
        limit = config.max_question_chars()
        text, truncated = prepare_question(question, limit)
        previous = self._previous_questions(history or [], limit)
        resolved = self.scope.corrected(resolve(text, previous))
        t_resolve = time.perf_counter()

        terms = self.scope.key_terms(resolved)
        unknown = self.scope.lexically_uncovered(terms)
        # The words the article lacks literally get their own, separate pass: batched with the question
        # they would be padded to its length, tripling the work for a typical refusal.
        vectors = self.embedder.encode([resolved])
        term_vectors = self.embedder.encode(unknown) if unknown else None
        t_embed = time.perf_counter()

        decision = self.scope.decide(terms, unknown, term_vectors, self.retriever.best_dense(vectors[0]))
        # Lexical matching also looks for the corpus words that stand in for the question's own.
        lexical_query = " ".join([resolved, *decision.synonyms])
        # Every chunk gets its scores (the article is small), so any passage an answer quotes has one.
        hits = self.retriever.search(lexical_query, vectors[0], k=len(self.index.chunks))
        t_retrieve = time.perf_counter()

        if decision.in_scope:
            answer, units = self.composer.compose(lexical_query, vectors[0], hits)
            sources = [Source(h.chunk.section, h.chunk.text, round(h.fused, 4)) for h in _sources(hits, units, top_k)]
        else:
            answer, sources = self._refusal(vectors[0], hits, decision.uncovered), []
        if truncated:
            answer += f"\n\n_(Your message was cut to its first {limit:,} characters.)_"
        done = time.perf_counter()

        trace = Trace(
            resolved_question=resolved,
            truncated=truncated,
            hits=[
                {
                    "chunk_id": h.chunk.id,
                    "source": h.chunk.source,
                    "section": h.chunk.section,
                    "text": h.chunk.text,
                    "dense": round(h.dense, 4),
                    "bm25": round(h.bm25, 4),
                    "fused": round(h.fused, 4),
                }
                for h in hits[:TRACE_HITS]
            ],
            key_terms=terms,
            uncovered_terms=decision.uncovered,
            scope_reason=decision.reason,
            timings_ms={
                name: round(ms * 1000, 2)
                for name, ms in (
                    ("resolve", t_resolve - started),
                    ("embed", t_embed - t_resolve),
                    ("retrieve", t_retrieve - t_embed),
                    ("compose", done - t_retrieve),
                    ("total", done - started),
                )
            },
        )
        return Reply(text, answer, decision.in_scope, sources, trace)

    def _previous_questions(self, history: History, limit: int) -> list[str]:
        """Earlier user messages, each resolved against those before it, oldest first."""
        resolved: list[str] = []
        for turn in list(history)[-config.MAX_HISTORY_TURNS :]:
            user = turn[0] if isinstance(turn, (tuple, list)) and turn else turn
            if not isinstance(user, str):
                continue
            try:
                cleaned = clean_question(user, limit)
            except ValueError:
                continue
            resolved.append(resolve(cleaned, resolved))
        return resolved

    def _refusal(self, vector: np.ndarray, hits: list[Hit], uncovered: list[str]) -> str:
        what = f" (it never mentions {', '.join(uncovered[:3])})" if uncovered else ""
        lines = [
            f"The article doesn't cover that{what}, so I can't answer it from the article.",
            "",
            "I can answer questions about the AI Engineer role and how it differs from an ML Engineer, for example:",
        ]
        lines += [f"- {q}" for q in self._closest_examples(vector)]
        return "\n".join(lines)

    def _closest_examples(self, vector: np.ndarray, n: int = 3) -> list[str]:
        if self._example_vectors is None:
            self._example_vectors = self.embedder.encode(list(EXAMPLE_QUESTIONS))
        order = np.argsort(-(self._example_vectors @ vector))
        return [EXAMPLE_QUESTIONS[i] for i in order[:n]]
