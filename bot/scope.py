"""Is the question answered by the article? Key-term coverage plus dense similarity.

A single cosine threshold cannot separate "what do AI engineers earn?" (refuse) from "what do AI
engineers build?" (answer): both are close to the article in embedding space. What differs is
that "earn" names something the article never talks about. So every *key term* of the question
(a content word that is not a stopword or a generic word about the two roles) must be covered
by the article: literally, by stem, with a one-letter typo, or by a close word embedding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from .index import KnowledgeIndex
from .text import STOPWORDS, edit_distance_at_most_one, stem, tokens

# Words that frame a question about the two roles without saying what is asked. They never count
# as key terms, so "what does an AI engineer do?" is judged by dense similarity alone.
GENERIC = frozenset(
    [
        "ai",
        "artificial",
        "intelligence",
        "ml",
        "machine",
        "learning",
        "engineer",
        "engineers",
        "engineering",
        "role",
        "roles",
        "job",
        "jobs",
        "position",
        "title",
        "work",
        "works",
        "working",
        "worker",
        "do",
        "does",
        "doing",
        "done",
        "need",
        "needs",
        "needed",
        "use",
        "uses",
        "using",
        "used",
        "someone",
        "somebody",
        "person",
        "people",
        "thing",
        "things",
        "stuff",
        "kind",
        "kinds",
        "type",
        "types",
        "sort",
        "main",
        "mainly",
        "key",
        "important",
        "exactly",
        "mean",
        "means",
        "meaning",
        "difference",
        "differences",
        "different",
        "differ",
        "differs",
        "compare",
        "compared",
        "comparing",
        "comparison",
        "versus",
        "vs",
        "v",
        "between",
        "become",
        "becoming",
        "became",
        "get",
        "gets",
        "getting",
        "make",
        "makes",
        "want",
        "wants",
        "help",
        "say",
        "says",
        "said",
        "article",
        "blog",
        "post",
        "text",
        "one",
        "ones",
        "part",
        "parts",
        "list",
        "examples",
        "example",
        "name",
        "names",
        "called",
        "actually",
        "typically",
        "usually",
        "generally",
        "basically",
        "specifically",
        "primarily",
        "mostly",
        "really",
        "also",
        "else",
        "more",
        "tell",
        "explain",
        "describe",
        "show",
        "summarize",
        "summary",
        "overview",
        "info",
        "information",
        "details",
        "detail",
        "question",
        "answer",
        "whats",
        "hows",
        "who's",
        "good",
        "best",
        "better",
        "should",
        "must",
        "can",
        "could",
        "would",
        "role's",
        "engineer's",
        "engineers'",
        "typical",
        "day",
        "responsible",
        "responsibility",
        "expected",
        "expect",
        "involved",
        "involve",
        "involves",
        "focus",
        "focuses",
        "handle",
        "handles",
        "deal",
        "deals",
        "apply",
        "applies",
        "look",
        "looks",
        "like",
        "go",
        "goes",
        "think",
        "way",
        "ways",
        "well",
        "something",
        "anything",
        "everything",
        "briefly",
        "short",
        "quick",
        "simple",
        "simply",
        "two",
        "three",
        "both",
        "either",
        "each",
        "first",
        "second",
        "mention",
        "mentions",
        "mentioned",
        "listed",
        "named",
        "discussed",
        "covered",
        "cover",
        "covers",
        "according",
        "run",
        "runs",
        "running",
        "ran",
    ]
)

WORD_MATCH = 0.65
"""A key term whose nearest corpus word embedding reaches this cosine counts as covered
(e.g. "duties" ~ "responsibilities"); calibrated on tests/eval, see README."""

TIE_DENSE = 0.55
"""When half of the key terms are missing, the best chunk must reach this cosine to answer."""

MINORITY_DENSE = 0.30
"""When fewer than half are missing, this cosine suffices."""

WORD_SYNONYM = 0.80
"""From this cosine on, a corpus word is a near-synonym and covers the term fully; between
WORD_MATCH and this it covers half (see ``decide``)."""

MIN_DENSE = 0.30
"""Below this cosine between question and best chunk, nothing in the article is about the question."""


@dataclass
class ScopeDecision:
    in_scope: bool
    key_terms: list[str]
    uncovered: list[str] = field(default_factory=list)
    reason: str = ""
    synonyms: list[str] = field(
        default_factory=list
    )  # corpus words standing in for key terms ("duties" → "responsibilities")


class ScopeJudge:
    def __init__(self, index: KnowledgeIndex) -> None:
        self.index = index
        self.words = set(index.vocabulary)
        self.word_stems = {stem(w) for w in index.vocabulary}
        self._by_length: dict[int, list[str]] = {}
        for word in index.vocabulary:
            self._by_length.setdefault(len(word), []).append(word)
        self._ignorable = STOPWORDS | GENERIC

    def key_terms(self, question: str) -> list[str]:
        seen: list[str] = []
        for t in tokens(question):
            t = t.strip("'’.-")
            if not t or t in self._ignorable or t.isdigit() or (len(t) == 1 and t != "r") or t in seen:
                continue
            if self._misspelt_filler(t):
                continue  # a misspelt stopword or generic word ("wich", "enginer")
            seen.append(t)
        return seen

    def lexically_uncovered(self, terms: list[str]) -> list[str]:
        """Key terms the article does not contain, even by stem or with a one-letter typo."""
        return [t for t in terms if not self._covered(t)]

    def decide(
        self, terms: list[str], uncovered: list[str], term_vectors: np.ndarray | None, best_dense: float
    ) -> ScopeDecision:
        """``term_vectors`` are the embeddings of ``uncovered`` (one row each), computed with the query."""
        missing = list(uncovered)
        synonyms: list[str] = []
        weight = float(len(missing))
        if missing and term_vectors is not None and len(term_vectors):
            similarity = term_vectors @ self.index.vocabulary_vectors.T
            best = similarity.max(axis=1)
            missing = [t for t, b in zip(uncovered, best, strict=True) if b < WORD_MATCH]
            synonyms = [
                self.index.vocabulary[int(row.argmax())] for row in similarity if float(row.max()) >= WORD_MATCH
            ]
            # A loose neighbour ("laptop" ~ "computer") covers a term only half: a near-synonym
            # ("duties" ~ "responsibilities") covers it fully.
            weight = sum(1.0 if b < WORD_MATCH else 0.5 if b < WORD_SYNONYM else 0.0 for b in best)
        share = weight / len(terms) if terms else 0.0
        # Most of what the question asks about is absent ("salary", "years of experience"): refuse.
        # One stray word among covered ones ("regular software engineers") is tolerated when the best
        # passage is close; a tie needs a closer passage than a minority does.
        if (
            share > 0.5
            or (share == 0.5 and best_dense < TIE_DENSE)
            or (0 < share < 0.5 and best_dense < MINORITY_DENSE)
        ):
            named = missing or uncovered
            return ScopeDecision(False, terms, named, f"the article never mentions {', '.join(named)}")
        if not terms and best_dense < MIN_DENSE:
            # Only generic words ("hello", "what's up?"): dense similarity alone must show a topic.
            # With key terms all covered ("XGBoost", "R"), short keyword queries pass despite a low cosine.
            return ScopeDecision(
                False, terms, [], f"no passage is close to the question (best cosine {best_dense:.2f})"
            )
        return ScopeDecision(True, terms, synonyms=synonyms)

    def _misspelt_filler(self, term: str) -> bool:
        """A misspelt stopword ("wich", "thier") or generic word ("enginer"); short words are too ambiguous
        ("paid" is one letter from "said", "hire" from "here")."""
        return (
            len(term) >= 4
            and any(edit_distance_at_most_one(term, w) for w in self._near(term, STOPWORDS) if len(w) >= 5)
        ) or (
            len(term) >= 6 and any(edit_distance_at_most_one(term, w) for w in self._near(term, GENERIC) if len(w) >= 6)
        )

    def _covered(self, term: str) -> bool:
        if term in self.words or stem(term) in self.word_stems:
            return True
        return self.correction(term) is not None

    def correction(self, term: str) -> str | None:
        """The corpus word a misspelt term stands for ("responsibilites" → "responsibilities").

        Five letters at least: shorter words are too often real, different words ("earn" ~ "learn").
        """
        if len(term) < 5:
            return None
        return next(
            (w for w in self._near(term, self.words) if len(w) >= 5 and edit_distance_at_most_one(term, w)), None
        )

    def corrected(self, question: str) -> str:
        """The question with misspelt key terms replaced by the corpus words they stand for."""
        fixes = {
            t: c
            for t in self.key_terms(question)
            if t not in self.words and stem(t) not in self.word_stems and (c := self.correction(t))
        }
        if not fixes:
            return question
        pattern = re.compile(r"\b(" + "|".join(map(re.escape, fixes)) + r")\b", re.I)
        return pattern.sub(lambda m: fixes[m.group(1).lower()], question)

    def _near(self, term: str, pool: frozenset[str] | set[str]) -> list[str]:
        if pool is self.words:
            return [w for n in (len(term) - 1, len(term), len(term) + 1) for w in self._by_length.get(n, [])]
        return [w for w in pool if abs(len(w) - len(term)) <= 1]
