"""Does a passage support a sentence? The check that stands between a language model's answer and the reader.

Three tests, all cheap and all run with what rolebot already has:

1. **Meaning**: the sentence's cosine with the closest piece of the passages it cites (a sentence, a list
   item, a table row or one cell of it, embedded by the same MiniLM model that ranks passages) must reach
   SUPPORT_THRESHOLD. It catches a sentence about something else: an invented topic, an injected poem.
2. **Names and numbers**: every specific term of the sentence (a number, a capitalised word inside the
   sentence, a word with a digit or a "+" in it) must occur in those passages or in the question. It catches
   the invented detail on the right topic ("SREs use Go and Scala"), which embeddings score high.
3. **New words**: at most NEW_WORDS_MAX of the sentence's content words (stopwords aside, compared by stem)
   may be absent from those passages and the question. It catches the claim added in ordinary words
   ("responsible for hiring the software developers", cosine 0.81 with the passage it misquotes).

What neither catches: a sentence that recombines the passage's own words into a false claim ("UX Designers
use Sketch", where the passage gives Sketch to UI Designers). The writer's prompt and the citation shown
beside each sentence are the remaining defence; docs/llm.md says so.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .chunking import row_sentence, split_sentences
from .text import stem, word_list

Encode = Callable[[list[str]], np.ndarray]

SUPPORT_THRESHOLD = 0.54
"""Least cosine between a sentence and the closest piece of its cited passages for the sentence to be shown."""

NEW_WORDS_MAX = 0.20
"""Largest share of a shown sentence's content words that its cited passages and the question lack.

Both values were chosen together by ``scripts/fit_support.py`` on tests/data/writer_support.jsonl: 60
sentences written from the article beside a passage, 31 supported (paraphrases, one synthesis), 29 not
(invented details, outside facts, contradictions, injected text), split in alternate lines. The pair is the
strictest of those that show the most supported "train" sentences while showing no unsupported one: train
13/14 supported shown, 0/16 unsupported; held-out 16/17 supported shown, 0/13 unsupported. Cosine alone
(with the names-and-numbers test) needed 0.81 and dropped 6 of 31 supported sentences. 60 sentences by one
writer are a small set: the figures bound what the check catches on such sentences, not on every model."""

PIECE_CACHE = 20_000
"""Passage pieces whose vectors are kept (MiniLM: 1.5 KB each, so 30 MB at most); past it the cache starts over."""

_TABLE_RULE = re.compile(r"^\s*\|?[\s:|-]*-[\s:|-]*\|?\s*$")
_LIST_MARK = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9+#.'’-]*[A-Za-z0-9+#]|[A-Za-z0-9]")
_COMMON_CAPITALS = frozenset(
    {"I", "The", "A", "An", "This", "That", "These", "Those", "They", "It", "Both", "While", "And", "Or", "But"}
)


def segments(passage: str) -> list[str]:
    """The pieces of a passage a sentence may rest on: its sentences and list items, and for a Markdown table
    each row as one sentence ("Key Tools: UX Designer: Figma, Miro. UI Designer: Figma, Sketch.") and each
    cell with its row and column ("UI Designer Key Tools: Figma, Sketch")."""
    out: list[str] = []
    header: list[str] = []
    for line in passage.splitlines():
        if not line.strip() or _TABLE_RULE.fullmatch(line):
            continue
        if line.lstrip().startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not header:
                header = cells
                continue
            out.append(row_sentence(header, cells))
            out.extend(f"{name} {cells[0]}: {value}" for name, value in zip(header[1:], cells[1:], strict=False))
            continue
        header = []
        out.extend(split_sentences(_LIST_MARK.sub("", line).strip()))
    return out or [passage.strip()]


def specific_terms(sentence: str) -> list[str]:
    """Names and numbers a sentence states: capitalised words after its first, and any word holding a digit
    or "+"/"#" (C++, GPT-4, 2015). A passage that supports the sentence names them too."""
    words = _WORD.findall(sentence)
    numbered = [any(ch.isdigit() or ch in "+#" for ch in word) for word in words]
    named = [i > 0 and word[0].isupper() and word not in _COMMON_CAPITALS for i, word in enumerate(words)]
    return [word for word, n, c in zip(words, numbered, named, strict=True) if n or c]


def _vocabulary(texts: Sequence[str]) -> set[str]:
    return {_key(w) for text in texts for w in _WORD.findall(text)}


def _key(word: str) -> str:
    """Case, possessives and plurals aside: "Engineers'" and "engineer" are one term."""
    word = word.lower().replace("’", "'").removesuffix("'s").rstrip("'.")
    return word if any(ch.isdigit() or ch in "+#" for ch in word) else stem(word)


@dataclass
class Judgement:
    """Why a sentence is (not) shown: its best cosine, the piece it matched and the terms no passage names."""

    sentence: str
    cosine: float
    closest: str
    unknown_terms: list[str]
    new_words: float  # share of the sentence's content words that the passages and question lack
    supported: bool


class SupportChecker:
    """Judges sentences against passages with the embedding model rolebot already has (unit vectors in)."""

    def __init__(
        self, encode: Encode, threshold: float = SUPPORT_THRESHOLD, new_words_max: float = NEW_WORDS_MAX
    ) -> None:
        self.encode = encode
        self.threshold, self.new_words_max = threshold, new_words_max
        # Passages come from one article, so their pieces recur: each is embedded once (bounded, for a corpus
        # swapped under a running server). Only the model's sentences are embedded per answer.
        self._pieces: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def judge(
        self,
        sentences: Sequence[str],
        evidence: Sequence[Sequence[str]],
        question: str = "",
        embedded: Mapping[str, np.ndarray] | None = None,
    ) -> list[Judgement]:
        """One judgement per sentence; ``evidence[i]`` holds the passages sentence ``i`` cites. Sentences and
        passage pieces not embedded yet are embedded in one batch; ``embedded`` holds vectors of sentences
        embedded earlier (``embed``, while a model was still writing), which are not embedded again."""
        pieces = sorted({piece for passages in evidence for passage in passages for piece in segments(passage)})
        if not sentences:
            return []
        embedded = embedded or {}
        fresh = list(dict.fromkeys(s for s in sentences if s not in embedded))
        with self._lock:
            new = [p for p in pieces if p not in self._pieces]
        vectors = self.encode([*fresh, *new]) if fresh or new else np.zeros((0, 0), dtype=np.float32)
        embedded = {**embedded, **dict(zip(fresh, vectors[: len(fresh)], strict=True))}
        sentence_vectors = np.array([embedded[s] for s in sentences])
        with self._lock:
            if len(self._pieces) + len(new) > PIECE_CACHE:
                self._pieces.clear()
            self._pieces.update((p, v.copy()) for p, v in zip(new, vectors[len(fresh) :], strict=True))
            known = {p: self._pieces[p] for p in pieces if p in self._pieces}
        missed = [p for p in pieces if p not in known]  # evicted between the two locks: embed again
        known.update(zip(missed, self.encode(missed), strict=True) if missed else ())
        piece_vectors = np.array([known[p] for p in pieces]) if pieces else np.zeros((0, len(sentence_vectors[0])))
        where = {piece: i for i, piece in enumerate(pieces)}
        known_question = _vocabulary([question])
        out = []
        for sentence, vector, passages in zip(sentences, sentence_vectors, evidence, strict=True):
            own = [where[p] for passage in passages for p in segments(passage)]
            if not own:
                out.append(Judgement(sentence, 0.0, "", specific_terms(sentence), 1.0, False))
                continue
            scores = piece_vectors[own] @ vector
            best = int(np.argmax(scores))
            known = _vocabulary(passages) | known_question
            unknown = [t for t in specific_terms(sentence) if _key(t) not in known]
            new = new_words(sentence, known)
            cosine = float(scores[best])
            ok = cosine >= self.threshold and not unknown and new <= self.new_words_max
            out.append(Judgement(sentence, cosine, pieces[own[best]], unknown, new, ok))
        return out

    def embed(self, sentences: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors of sentences, to hand to ``judge`` as ``embedded`` later (one batch)."""
        return dict(zip(sentences, self.encode(list(sentences)), strict=True)) if sentences else {}


def new_words(sentence: str, known: set[str]) -> float:
    """The share of ``sentence``'s content words (three letters or more, not stopwords) whose stem is not in
    ``known``; 0.0 for a sentence without any."""
    stopwords = word_list("stopwords.txt")
    words = [w for w in _WORD.findall(sentence) if len(w) > 2 and w.lower() not in stopwords]
    return sum(_key(w) not in known for w in words) / len(words) if words else 0.0
