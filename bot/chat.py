"""The one engine behind the terminal, the web page and the API: ``Chatbot.load().ask(...)``."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from . import config
from .answer import Composer
from .blocks import Block, Note, Offer, markdown
from .build import LoadedIndex, Progress, load_or_build
from .chunking import PATH_SEPARATOR, Unit
from .corpus import load_corpus
from .embeddings import Embedder, get_embedder
from .errors import ModelError
from .followup import FollowUps
from .profile import Profile, load_profile
from .question import History, Question, QuestionReader
from .retrieval import Hit, Retriever
from .scope import ScopeDecision, ScopeJudge
from .text import clean_question

__all__ = ["Chatbot", "History", "Part", "Question", "Reply", "Source", "Trace"]

_PLAIN = re.compile(r"[\w\s,.'’?!-]+")
"""A question part a note may quote back: words and plain punctuation, no markup."""

_ANAPHORA = re.compile(
    r"\b(?:it|its|they|them|their)\b"
    r"|\b(?:does|do|did|is|was|are|were)\s+(?:that|this|these|those)\b|\b(?:that|this|these|those)\s*(?:[?.!,]|$)",
    re.I,
)
"""A pronoun pointing back ("what does that catch?", "why is it used?"; not "this field"): a part of a question
still holding one after resolution is about the part before it and is not decided on its own."""

TRACE_HITS = 8
"""How many ranked passages a reply's trace keeps (for "How it works" and the CLI)."""


@dataclass
class Source:
    """A passage behind an answer: one per section the answer quotes, then at most one "see also"."""

    section: str  # heading path, e.g. "Roles & Responsibilities … › 6. Ethical AI & Bias Mitigation"
    text: str  # what the answer quotes from this section (or, for a "see also", the passage)
    score: float  # fused relevance of the passage, 1.0 = ranked first by both dense and BM25 retrieval
    source: str = ""  # the document's file name
    chunk_id: int = -1  # the passage's id in the index (index/chunks.json)
    heading: str = ""  # the section's own heading: the last step of ``section``
    quoted: bool = True  # False for the "see also" passage the answer does not quote


@dataclass
class Part:
    """One block of an answer: the article's words ("quote"), or the bot's own ("note", "offer")."""

    kind: str  # "quote" | "note" | "offer" ("written": a language model's sentence, bot/writer.py)
    text: str  # Markdown: the block's, made by bot/blocks.py
    sources: list[int] = field(default_factory=list)  # 1-based positions in Reply.sources
    block: Block | None = None  # the structured form (bot/blocks.py): the shells render it at the edge

    @classmethod
    def of(cls, kind: str, block: Block) -> Part:
        """The part for ``block``: its Markdown and its sources."""
        return cls(kind, markdown(block), list(block.sources), block)


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
    scope_features: dict[str, float] = field(default_factory=dict)
    other_entities: list[str] = field(default_factory=list)  # declined by rule, not by the fitted model
    quoted_units: list[int] = field(default_factory=list)  # unit ids, in the order the answer quotes them


@dataclass
class Reply:
    question: str
    answer: str
    in_scope: bool  # False only when declined
    sources: list[Source]
    suggestions: list[str] = field(default_factory=list)  # questions the article answers (set for refusals)
    parts: list[Part] = field(default_factory=list)
    trace: Trace | None = field(default=None, repr=False)
    # "answered"; "partial": the article answers part, and a note says what it does not; "declined".
    outcome: str = "answered"
    written_by: str | None = None  # the language model that wrote the answer; None: quoted from the article

    def to_dict(self) -> dict:
        """The public JSON shape shared by the CLI's --json and the web API (it only ever gains keys)."""
        return {
            "question": self.question,
            "answer": self.answer,
            "in_scope": self.in_scope,
            "outcome": self.outcome,
            "sources": [asdict(s) for s in self.sources],
            "suggestions": list(self.suggestions),
            "parts": [asdict(p) for p in self.parts],
            **({"written_by": self.written_by} if self.written_by else {}),  # only for a model-written answer
        }


@dataclass(frozen=True)
class Replaced:
    """In ``Chatbot.stream``, after a language model's words and before the final reply: the checked answer is not
    the text that was streamed (sentences left out, or the quoted answer instead), so a shell that showed that
    text must show it replaced. ``reason`` is plain text, for people."""

    reason: str


Streamed = str | Replaced | Reply
"""What ``Chatbot.stream`` yields: pieces of a model's unchecked text (plain text, never markup), at most one
``Replaced``, and last the checked ``Reply``."""


class Chatbot:
    """Thread-safe: the index is read-only after loading and the embedder serialises its tokenizer.

    The stages are components passed in: the retriever, the scope judge (answered, partial or declined), the
    composer (the answer from the article's units), the follow-up resolver and the writer (a language model that
    writes the answer; None: quoted). Each left out is the default one built on ``loaded``; a caller swaps one by
    passing its own.
    """

    def __init__(
        self,
        loaded: LoadedIndex,
        embedder: Embedder | None = None,
        profile: Profile | None = None,
        writer=None,
        *,
        retriever: Retriever | None = None,
        scope: ScopeJudge | None = None,
        composer: Composer | None = None,
        followups: FollowUps | None = None,
    ) -> None:
        self.loaded = loaded
        self.writer = writer  # bot.writer.Writer: a language model writes answers the engine did not decline
        self.index = loaded.index
        self._embedder = embedder
        self.profile = profile or load_profile(loaded.corpus, load_corpus(loaded.corpus))
        self.retriever = retriever or Retriever(self.index)
        self.scope = scope or ScopeJudge(self.index, self.profile)
        self.composer = composer or Composer(self.index, self.profile)
        self.followups = followups or FollowUps(self.profile, lambda: self.scope.terms)  # found when first needed
        self.reader = QuestionReader(self.profile, self.scope, self.followups)
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
        """Load the model and answer one question, so the first user does not wait (servers call this at start)."""
        self.ask(self.profile.examples[0] if self.profile.examples else self.profile.title)

    def search(self, query: str, k: int = 8) -> list[Hit]:
        text = clean_question(query, config.max_question_chars())
        return self.retriever.search(text, self.embedder.encode([text])[0], k)

    def ask(self, question: str, history: History | None = None, top_k: int = config.TOP_K_SOURCES) -> Reply:
        """Answer one message; ``history`` holds earlier (user message, bot answer) pairs, oldest first.

        Raises EmptyQuestionError for an empty question; anything else gets a string answer. With a writer, the
        reply is the last of ``stream``'s.
        """
        reply = self.quote(question, history, top_k)
        if self.writer is None or reply.outcome == "declined":
            return reply
        return self.writer.write(reply.trace.resolved_question, reply)

    def stream(
        self, question: str, history: History | None = None, top_k: int = config.TOP_K_SOURCES
    ) -> Iterator[Streamed]:
        """``ask``, with a language model's words yielded as they arrive; the last item is the checked Reply."""
        yield from self.written(self.quote(question, history, top_k))

    def written(self, reply: Reply) -> Iterator[Streamed]:
        """The model's words for the engine's ``reply`` as they arrive, then the checked reply; only ``reply``
        for a declined question or without a writer. Holds no engine resource: servers run it outside their
        engine slots (bot/server.py)."""
        if self.writer is None or reply.outcome == "declined":
            yield reply
            return
        yield from self.writer.stream(reply.trace.resolved_question, reply)

    def quote(self, question: str, history: History | None = None, top_k: int = config.TOP_K_SOURCES) -> Reply:
        """The engine's own reply: decided and quoted from the article, no language model involved."""
        started = time.perf_counter()
        return self.answer(self.reader.read(question, history), top_k, started)

    def answer(self, question: Question, top_k: int = config.TOP_K_SOURCES, started: float | None = None) -> Reply:
        """The engine's reply to a question already read (``self.reader.read``): the flow runs one way from here,
        retrieval, the scope decision, composition (``written`` then hands it to the writer, if any)."""
        started = time.perf_counter() if started is None else started
        resolved, asked_again, last = question.resolved, question.asked_again, question.last
        t_resolve = time.perf_counter()

        # The words the article lacks are embedded with the question, in the same pass (see bot/minilm.py).
        absent = self.scope.absent_terms(resolved)
        vectors = self.embedder.encode([resolved, *absent])
        vector, word_vectors = vectors[0], dict(zip(absent, vectors[1:], strict=True))
        t_embed = time.perf_counter()
        # Every chunk gets its scores (the article is small), so any passage an answer quotes has one.
        hits = self.retriever.search(resolved, vector, k=len(self.index.chunks))
        t_retrieve = time.perf_counter()

        decision = self.scope.decide(resolved, vector, hits, self.embedder, word_vectors)
        if not decision.in_scope and asked_again and not decision.other_entities:
            decision = self._as_answered(decision, asked_again)
        unanswered, part_note = self._unanswered(question.parts) if decision.in_scope else ([], "")
        if decision.outcome == "answered" and not unanswered and part_note:
            # "What is machine learning? How does it differ from traditional programming?": one part the article
            # answers only in part; its note is the answer's.
            decision = replace(
                decision, outcome="partial", reason=f"{decision.reason}; a part partly", explanation=part_note
            )
        if unanswered and (decision.outcome == "answered" or self.scope.unexplained(resolved, vector)):
            # "What skills do they need, and how do I get into this field?": the article answers one question of
            # two. The answer gives that one, and says which it does not answer (more plainly than "The article
            # doesn't say how" on the whole message would).
            asked = " or ".join(f"“{part.rstrip(' ?.!,')}”" for part in unanswered)
            if all(_PLAIN.fullmatch(part) for part in unanswered):
                note = self.profile.say("partial_part", parts=asked)
            else:  # the user's own markup is never echoed into an answer (a page renders answers as Markdown)
                note = self.profile.say("partial_part_unquoted")
            decision = replace(decision, outcome="partial", reason=f"{decision.reason}; not: {asked}", explanation=note)
        if decision.in_scope:
            # The parts the article answers, when it leaves one out; else the composer splits the question itself.
            # A part pointing back ("… and why is it important?") is composed with the part before it: alone, "it
            # important" finds whatever sentence is nearest "important".
            parts = [part for part in question.parts if part not in unanswered]
            parts = [f"{parts[i - 1]} {part}" if i and _ANAPHORA.search(part) else part for i, part in enumerate(parts)]
            parts = parts if unanswered or parts != list(question.parts) else None
            units = self.composer.compose(resolved, vector, hits, self.embedder.encode, parts)
            if decision.other_entities and not self.composer.entities_in(resolved):
                # A title the article names only in passing, or qualifies with its words: what it says there.
                words = [w for title in decision.other_entities for w in self.scope.qualifiers(title)]
                units = self.composer.mentioning(decision.other_entities, resolved, vector, words) or units
            if asked_again:
                units = self._same_rows(asked_again) or units
            elif last and resolved != last and self._repeats_rows(units, last):
                units = self.composer.in_prose(resolved, vector) or units
            if question.more:
                units = self._more(units, question.mores)
            sources, parts = self._quote(units, hits, resolved, top_k, sure=decision.outcome == "answered")
            if (entity := question.other_name) is not None:
                # "What does an AI developer do?": answered as the entity the article calls it, saying so.
                say = self.profile.say("other_name", entity=entity.name, plural=entity.plural)
                parts.append(Part.of("note", Note(text=say)))
            if decision.outcome == "partial" and decision.explanation:
                # What the article answers first, then one plain sentence on what it does not say.
                parts.append(Part.of("note", Note(text=decision.explanation)))
            suggestions: list[str] = []
        else:
            units, sources = [], []
            suggestions = self._closest_examples(vector)
            parts = [Part.of("note", Note(text=decision.explanation)), self._offer(suggestions)]
        if question.truncated:
            limit = config.max_question_chars()
            parts.append(Part.of("note", Note(text=self.profile.say("truncated", limit=f"{limit:,}"))))
        done = time.perf_counter()

        trace = Trace(
            resolved_question=resolved,
            truncated=question.truncated,
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
            key_terms=decision.key_terms,
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
            scope_features=decision.features,
            other_entities=decision.other_entities,
            quoted_units=[u.id for u in units],
        )
        answer = "\n\n".join(p.text for p in parts)
        return Reply(question.text, answer, decision.in_scope, sources, suggestions, parts, trace, decision.outcome)

    def _quote(
        self, units: list[Unit], hits: list[Hit], question: str, top_k: int, sure: bool = True
    ) -> tuple[list[Source], list[Part]]:
        """The answer's parts and its sources: one per quoted section, in the order quoted, then one "see also".
        The composer's blocks say which units they quote; each is cited here by its sections' sources."""
        by_chunk = {h.chunk.id: h for h in hits}
        sources: list[Source] = []
        position: dict[str, int] = {}  # section -> 1-based source number
        blocks = self.composer.render(units, question, sure)
        for block in blocks:
            for unit in (self.composer.index.units[uid] for uid in block.units):
                if unit.section not in position:
                    quoted = [u for u in units if u.section == unit.section]
                    hit = by_chunk[self.composer.chunk_of(quoted)]
                    sources.append(self._source(hit, self.composer.quote_text(quoted), True))
                    position[unit.section] = len(sources)
                if position[unit.section] not in block.sources:
                    block.sources.append(position[unit.section])
        sources = sources[: max(top_k, 1)]
        quoted_sections = {s.section for s in sources} | set(position)
        if len(sources) < top_k:
            extra = next((h for h in hits if h.chunk.section not in quoted_sections), None)
            if extra is not None:
                sources.append(self._source(extra, extra.chunk.text, False))
        for block in blocks:
            block.sources = [n for n in block.sources if n <= len(sources)]
        return sources, [Part.of("quote", block) for block in blocks]

    @staticmethod
    def _source(hit: Hit, text: str, quoted: bool) -> Source:
        chunk = hit.chunk
        return Source(
            chunk.section,
            text,
            round(hit.fused, 4),
            source=chunk.source,
            chunk_id=chunk.id,
            heading=chunk.section.split(PATH_SEPARATOR)[-1],
            quoted=quoted,
        )

    def _more(self, units: list[Unit], mores: int) -> list[Unit]:
        """ "tell me more": the same question composes the same answer, and each "more" in a row (``mores`` came
        just before) goes on with the passage from where the one before stopped."""
        quoted = list(units)
        for _ in range(mores + 1):
            more = self.composer.continuation(quoted)
            if not more:  # the article ends here: the last part again
                return quoted[-1:]
            quoted += more
        return more

    def _unanswered(self, parts: tuple[str, ...]) -> tuple[list[str], str]:
        """The questions of a message asking more than one that the article does not answer at all (each decided
        as if asked alone), and the note of the first one it answers only in part ("" if none)."""
        if len(parts) < 2:
            return [], ""
        vectors = self.embedder.encode(list(parts))
        unanswered, note = [], ""
        for part, vector in zip(parts, vectors, strict=True):
            if _ANAPHORA.search(part):
                continue  # "what does that catch?": about the part before it, not a question of its own
            hits = self.retriever.search(part, vector, k=len(self.index.chunks))
            decided = self.scope.decide(part, vector, hits, self.embedder)
            if decided.outcome == "declined":
                unanswered.append(part)
            elif decided.outcome == "partial" and not note:
                note = decided.explanation
        return (unanswered, note) if len(unanswered) < len(parts) else ([], note)

    def _retrieved(self, question: str) -> tuple[np.ndarray, list[Hit]]:
        """An earlier question's vector and every passage's scores, as ``ask`` computes them."""
        vector = self.embedder.encode([question])[0]
        return vector, self.retriever.search(question, vector, k=len(self.index.chunks))

    def _repeats_rows(self, units: list[Unit], earlier: str) -> bool:
        """Would a follow-up get only table rows the answer to ``earlier`` (the last question, resolved) already
        quoted ("how do they fix it?" after the "Performance Concerns" row)? Then it asks for something the rows
        do not say. The earlier answer's units are composed again, not read back from its text."""
        if not units or any(u.kind != "row" for u in units):
            return False
        quoted = self.composer.compose(earlier, *self._retrieved(earlier), self.embedder.encode)
        return all(u in quoted for u in units)

    def _same_rows(self, earlier: str) -> list[Unit]:
        """ "and a UX designer?" after "what does a UI designer focus on?" was answered from the comparison table:
        the same rows, now with the other entity's column (``render`` shows the column the question names)."""
        units = self.composer.compose(earlier, *self._retrieved(earlier), self.embedder.encode)
        return units if units and all(u.kind == "row" for u in units) else []

    def _as_answered(self, decision: ScopeDecision, earlier: str) -> ScopeDecision:
        """ "What about DevOps engineers?" after an answered "What tools do SREs use?": the article compares
        the two, so the same question about the other entity is answered too (the model may doubt the rewrite)."""
        vector, hits = self._retrieved(earlier)
        if not self.scope.decide(earlier, vector, hits, self.embedder).in_scope:
            return decision
        reason = f"the question {earlier!r}, answerable, asked again about another entity"
        return replace(decision, outcome="answered", reason=reason, explanation="")

    def _offer(self, suggestions: list[str]) -> Part:
        return Part.of("offer", Offer(lead=self.profile.say("offer"), questions=list(suggestions)))

    def _closest_examples(self, vector: np.ndarray, n: int = 3) -> list[str]:
        examples = self.profile.examples
        if not examples:
            return []
        if self._example_vectors is None:
            self._example_vectors = self.embedder.encode(list(examples))
        order = np.argsort(-(self._example_vectors @ vector))
        return [examples[i] for i in order[:n]]
