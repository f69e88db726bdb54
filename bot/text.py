"""Text helpers shared by retrieval, scope checks and follow-ups: cleaning, tokens, stems."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import Stemmer

from .errors import EmptyQuestionError

# Tokens keep "+" and "#" so that "C++" and "C#" survive; single letters stay ("R" is a language).
_TOKEN = re.compile(r"[a-z0-9]+(?:[+#]+|(?:[.'’-][a-z0-9]+)*)")


@lru_cache(maxsize=64)
def word_list(name: str) -> frozenset[str]:
    """A word list in bot/data (one word per line, # comments)."""
    path = Path(__file__).resolve().parent / "data" / name
    return frozenset(w.strip() for w in path.read_text(encoding="utf-8").splitlines() if w.strip() and w[0] != "#")


# Words asking how the compared entities differ (bot/data/comparison_words.txt): one pattern for every stage.
COMPARING = re.compile(r"\b(?:" + "|".join(sorted(word_list("comparison_words.txt"))) + r")\b", re.I)

# A maintained English stopword list (provenance in the file's first line).
STOPWORDS = word_list("stopwords.txt")

_stemmer = Stemmer.Stemmer("english")


# Invisible characters that can arrive in bulk (C0 controls, DEL, soft hyphen, zero-width and bidi marks,
# BOM): one C-level regex pass turns them into spaces or drops them, so the per-character Unicode filter
# below only ever sees a bounded window, however long the input.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]+")
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]+")
_SPACES = re.compile(r"\s+")


def prepare_question(question: str, max_chars: int) -> tuple[str, bool]:
    """Normalise user text and say whether it was cut to ``max_chars``.

    Unicode NFKC, no control or zero-width characters, single spaces. Raises EmptyQuestionError
    when nothing readable is left.
    """
    if not isinstance(question, str):
        raise TypeError(f"question must be a str, not {type(question).__name__}")
    visible = _SPACES.sub(" ", _INVISIBLE.sub("", _CONTROLS.sub(" ", question))).strip()
    window = visible[: max_chars * 2]  # NFKC below may lengthen text a little; the filter only shortens it
    text = unicodedata.normalize("NFKC", window)
    # Cc = control, Cf = format (zero-width, bidi marks), Cs = lone surrogates, Co/Cn = private/unassigned.
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
        for ch in text
        if unicodedata.category(ch) not in ("Cf", "Cs", "Co", "Cn")
    )
    text = _SPACES.sub(" ", text).strip()
    if not text:
        raise EmptyQuestionError()
    truncated = len(text) > max_chars or len(window) < len(visible)
    return text[:max_chars].rstrip(), truncated


def clean_question(question: str, max_chars: int) -> str:
    """The normalised question (see ``prepare_question``), without the truncation flag."""
    return prepare_question(question, max_chars)[0]


# A sentence that sets two things apart: "Essentially, X focus on…, while Y…", "Unlike traditional system
# administrators, SREs…" (the composer's contrast sentence; the scope check's passage comparing another title).
CONTRAST = re.compile(r"\b(while|whereas|whilst|unlike|but|however|instead|rather than|differ\w*)\b", re.I)

_EXPANDED = re.compile(r"\b([A-Z][A-Za-z]{1,5})\s*\(([^()]{3,60})\)")


def without_expansions(text: str) -> str:
    """ "an SRE (Site Reliability Engineering) team" → "an SRE team": an abbreviation's expansion in brackets dropped, so
    the words around it read as the name they are. Only when the bracket's initials spell the abbreviation."""

    def drop(match: re.Match[str]) -> str:
        initials = "".join(w[0] for w in re.findall(r"[A-Za-z]+", match.group(2)))
        return match.group(1) if initials.lower() == match.group(1).lower() else match.group(0)

    return _EXPANDED.sub(drop, text)


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens, stopwords included (BM25 tolerates them; phrases need them).

    A hyphenated word yields its parts and the joined form: "pre-trained" → pre, trained, pretrained,
    so "pretrained" and "trained" both find it.
    """
    out: list[str] = []
    for token in _TOKEN.findall(text.lower().replace("’", "'")):
        if "-" in token:
            parts = [p for p in token.split("-") if p]
            out += [*parts, "".join(parts)]
        else:
            out.append(token)
    return out


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer.stemWord(word)


def document_words() -> frozenset[str]:
    """Nouns a document uses for itself: "article", "blog", "guide" (bot/data/document_words.txt)."""
    return word_list("document_words.txt")


def asks_about_document(question: str, entity_stems: set[str]) -> bool:
    """ "What is this article about?", "what does the blog cover?": a word for the document, and otherwise only
    stopwords, entity names, words about the document (framing_words.txt) and asking words
    (definition_words.txt); not one asking for its conclusion (closing_words.txt)."""
    if not set(tokens(question)) & document_words():
        return False
    ignored = {stem(w) for name in ("framing_words.txt", "definition_words.txt") for w in word_list(name)}
    ignored -= {stem(w) for w in word_list("closing_words.txt")}
    return not set(stems(question)) - entity_stems - ignored - {stem(w) for w in document_words()}


_THIS_DOCUMENT = re.compile(r"^\W*(?:in\s+)?this\s+([a-z-]+)", re.I)


def describes_document(sentence: str) -> bool:
    """Does the sentence describe the text itself ("In this blog, we'll explore…", "This guide covers…")?"""
    match = _THIS_DOCUMENT.match(sentence)
    return match is not None and match.group(1).lower().replace("-", "") in document_words()


def stems(text: str) -> list[str]:
    """Stemmed content tokens: what BM25 indexes and what term coverage compares."""
    return [stem(t) for t in tokens(text) if t not in STOPWORDS]


def edit_distance_at_most_one(a: str, b: str) -> bool:
    """True when a and b differ by one insertion, deletion, substitution or adjacent swap."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
        )
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


def title_pattern(title: str) -> re.Pattern[str]:
    """A job title as a phrase to find in text: its last two words, singular or plural ("data scientist" finds
    "Data Scientists (who analyze data…)"; "senior data scientist" finds it too)."""
    words = title.split()[-2:]
    return re.compile(r"\b" + r"\s+".join(re.escape(w) for w in words) + r"s?\b", re.I)


# "What is X, and how does it differ from Y?", "How do I start? What should I learn?": where a question asks twice.
_TWO_PARTS = re.compile(
    r"\?\s+(?=[^\s(])|\s+and\s+(?=(?:how|what|why|who|where|which|when|do|does|is|are|can)\b)|;\s*", re.I
)


def question_parts(question: str) -> list[str]:
    """The questions a message asks, in order, each of three words at least: one for most messages."""
    parts = (part.strip().rstrip(",;:").strip() for part in _TWO_PARTS.split(question))
    return [part for part in parts if len(part.split()) >= 3]


# "who uses XGBoost?", "which role deploys chatbots?" asks which role; "who are product managers?" does not.
WHICH_ROLE = re.compile(
    r"^\s*(?:and\s+)?(?:who(?!\s+(?:is|are|was|were)\b)|which (?:role|one|engineer|of them|job|type)s?)\b", re.I
)
