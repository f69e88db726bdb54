"""How much of a question does the article answer? Three outcomes, from signals that carry to any article.

- **declined**: nothing in the article bears on the question: no informative word of it is in the article
  and no unit of the article comes close to it (``BEARS_COSINE``); or it asks squarely about a topic such
  articles do not discuss (pay, degrees, the job market: bot/data/out_of_scope.toml) and nothing else; or it
  asks about a job title the article never names.
- **partial**: the article speaks to part of it. The reply gives that part and names, plainly, what the article
  does not say: a stock topic, an informative word the article never uses (never a filler word, a typo or a
  number), or a job title the article names only in passing.
- **answered**: everything else.

When unsure between partial and declined, the answer is partial: a reader forgives a hedged partial answer far
more easily than the refusal of a fair question (../shared/ANSWERS.md). Nothing here is fitted on phrasings:
a word's weight is its rarity in English (bot/data/word_frequency.tsv), a word counts as present literally, by
stem, with a one-letter typo or through a near-synonym among the article's words, and the few thresholds are
named constants below.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import numpy as np

from .embeddings import Embedder
from .index import KnowledgeIndex
from .profile import DATA_DIR, Entity, Profile, job_words, tomllib
from .retrieval import Hit
from .text import (
    COMPARING,
    CONTRAST,
    STOPWORDS,
    WHICH_ROLE,
    asks_about_document,
    describes_document,
    edit_distance_at_most_one,
    stem,
    title_pattern,
    tokens,
    word_list,
)

TOPIC_LABEL_MIN = 0.55
"""A refusal names an out-of-scope topic ("salaries") only when the question is this close to one of its phrasings."""

MISSPELT_STOPWORD_ZIPF = 4.0
"""A word one letter from a stopword is read as a misspelt stopword when it is rarer than this in English."""


@lru_cache(maxsize=1)
def word_frequencies() -> dict[str, float]:
    """English word → Zipf frequency (3 = once per million words... 7 = "the")."""
    # Split once and convert each of the ~400 distinct values once: every question reads this list, and a loop over
    # its 40,000 lines was ~10 ms more of a one-shot ask.
    text = (DATA_DIR / "word_frequency.tsv").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    fields = "\t".join(lines).split("\t")
    if len(fields) != 2 * len(lines):
        raise ValueError("word_frequency.tsv: every line must be a word, a tab and its Zipf frequency")
    zipfs = fields[1::2]
    value = {zipf: float(zipf) for zipf in set(zipfs)}
    return dict(zip(fields[::2], map(value.__getitem__, zipfs), strict=True))


def rarity(word: str) -> float:
    """How much a word says about what is asked: nothing for very common words ("does", Zipf 6.3), up to 4
    for rare ones and words English lists do not know."""
    zipf = word_frequencies().get(word)
    if zipf is None:
        return 4.0
    return min(4.0, max(0.0, 6.0 - zipf))


def closing_words() -> frozenset[str]:
    """Words asking for the article's conclusion or a summary (bot/data/closing_words.txt)."""
    return word_list("closing_words.txt")


def framing_words() -> frozenset[str]:
    """Words about the document or the conversation, not a topic (bot/data/framing_words.txt)."""
    return word_list("framing_words.txt")


MATCH_COSINE = 0.65
"""A word whose nearest article word reaches this cosine is half present ("laptop" ~ "computer")."""

SYNONYM_COSINE = 0.80
"""From this cosine on an article word covers a question word fully ("duties" ~ "responsibilities")."""

MIN_WEIGHT = 2.0
"""The least informative weight a question's share of missing words is taken over: one rare-ish filler word
("sort") in a question of common words does not make it 100 % unanswerable."""

PASSAGE_DEPTH = 3
"""The best passages whose words count as "the best passage covers the question"."""

BEARS_COSINE = 0.40
"""Below this cosine between the question and the article's best unit, no sentence of the article is about
what was asked. The one number the decline rests on; ``scripts/scope_report.py`` shows how the training
questions fall around it (see docs/answers.md for its provenance)."""

WEAK_COSINE = 0.25
"""An informative word the article uses makes it bear on the question only from this cosine on: "solve" in "solve
x^2 - 5x + 6 = 0" is the article's word ("solving real-world problems") and the question is nowhere near it."""

MOSTLY_MISSING = 0.5
"""A question naming no role whose informative weight is mostly absent from the article ("What is the knowledge
acquisition bottleneck of symbolic AI?") is declined, the absent words named: a passage that shares its other
words would be passed off as an answer. On the training questions this declines 20 the article does not answer
and 2 it does (docs/answers.md)."""

CLOSE_COSINE = 0.50
"""A unit of the article this close to the question speaks to what it asks, however many of its words the article
lacks ("How do engineers ensure accountability in AI decision-making?": the article's ethical-AI sentence; "Which
department owns the AI strategy?": the product managers who "define AI use cases and strategies"): the question is
answered in part, the missing words named, rather than declined as mostly missing. Between BEARS_COSINE (something
bears on it) and this, a question mostly in missing words is declined."""

RARE_RARITY = 3.0
"""A word rarer than Zipf 3 in English that the article uses ("XGBoost", "GPU", "Netflix") makes the article bear on
the question whatever the cosine: a keyword query ("xgboost") is far from every sentence in embedding space."""

TOPIC_MARGIN = 0.15
"""A question is about a topic such articles do not discuss (pay, degrees) when it is this much closer to the
topic's phrasings than to the article's best unit: the phrasings name the compared roles, so a question that only
names them ("what is an SRE?") comes close to every topic; its best unit comes closer still."""

INFORMATIVE_RARITY = 1.0
"""A question word counts as telling what is asked when it is rarer than Zipf 5 in English ("skills", "deploy";
not "good", "know", "really")."""

NAMEABLE_RARITY = 1.5
"""A word the article lacks is named in a reply ("The article doesn't mention “Kubernetes”") only when it is
rarer than Zipf 4.5: never a filler word such as "actually" or "prevent"."""


TYPO_OF_ZIPF = 4.0
"""An unknown word one letter from an English word this common (Zipf 4: ten per million words) is a typo of it and
never named as missing ("salry"); one letter from a rarer word ("docker" from "locker") is a word of its own."""

GAP_SPREAD = 0.2
"""Of the words a reply names as missing, those whose cosine to the question is this close to the most central
one's: "sourdough", "bread" and "recipe" all are; "coveted" beside "PhD" is not."""


OUTCOMES = ("answered", "partial", "declined")


@dataclass
class ScopeDecision:
    outcome: str  # one of OUTCOMES
    key_terms: list[str]
    uncovered: list[str] = field(default_factory=list)
    reason: str = ""  # why, in the trace's words
    # declined: the reply's first sentence; partial: the one sentence on what the article does not say.
    explanation: str = ""
    features: dict[str, float] = field(default_factory=dict)
    other_entities: list[str] = field(default_factory=list)  # job titles the article does not compare

    @property
    def in_scope(self) -> bool:
        return self.outcome != "declined"


@dataclass
class Evidence:
    """What a question's decision rests on, computed once (``ScopeJudge.evidence``) and read by each rule."""

    question: str
    vector: np.ndarray
    features: dict[str, float]  # see ``ScopeJudge.features``
    terms: list[str]  # the question's key terms
    cover: dict[str, float]  # how far each term is in the article: 1 present or a synonym, 0.5 near, 0 absent
    uncovered: list[str]  # the terms the article lacks entirely
    gaps: list[str]  # the missing terms a reply may name, most central first
    covered: list[str]  # the informative terms the article uses
    keyword: bool  # a keyword query of the article's own words ("Keras")
    bears: bool  # something in the article bears on the question
    named: list[Entity]  # the roles the question names

    @property
    def unit(self) -> float:
        """The cosine between the question and the article's closest unit."""
        return self.features["unit"]

    def decision(
        self, outcome: str, reason: str, explanation: str = "", others: list[str] | None = None
    ) -> ScopeDecision:
        return ScopeDecision(outcome, self.terms, self.uncovered, reason, explanation, self.features, others or [])


# "Should I learn PyTorch or TensorFlow?", "which should I learn first, X or Y?", "Why learn Python over Java?": a
# choice asked of the article.
_CHOICE = re.compile(
    r"\bshould\b.*\s(?:or|vs\.?|versus)\s|\s(?:or|vs\.?|versus)\s.*\bshould\b"
    r"|\b(?:why|should)\b.*\s(?:over|instead\s+of|rather\s+than)\s",
    re.I,
)

# A question for a person or a reason, which no keyword answers: "Who programmed ChatGPT?" asks; "Keras?", "what is
# R" and a follow-up such as "which clouds?" name a keyword.
_ASKING = re.compile(r"^\W*(?:who|why)\b", re.I)

# "what's", "they're": the word before the contraction is the word asked.
_CONTRACTION = re.compile(r"['’](?:s|re|ll|ve|d|t|m)$")

# A comparing word, or "better"/"or" between two things ("which is better, X or Y?").
_COMPARATIVE = re.compile(rf"{COMPARING.pattern}|\b(?:better|or)\b", re.I)


_DEFINITION = re.compile(
    r"^\s*(?:what\s+(?:is|are|does)\b(?!.*\b(?:do|use|need)\b)|define\b|meaning of\b|\S+(?:\s+\S+){0,3}\s+(?:meaning|definition)\W*$)",
    re.I,
)


# What a definition question asks about: "what is an error budget?" → "error budget"; "what does SLI stand
# for" → "SLI" (an expansion is asked for); "define toil" → "toil".
# "what do you mean by product vision?", "what is meant by toil?": a definition question the model's
# ``asks_definition`` feature (fitted as it is) does not read.
_MEANT = r"what\s+(?:do\s+(?:you|u|they)\s+mean|(?:is|'s|’s)\s+meant)\s+by"
_MEANT_BY = re.compile(rf"^\s*{_MEANT}\b", re.I)
_DEFINED_TERM = re.compile(
    rf"^\s*(?:{_MEANT}|what\s+(?:is|are|does)|define|meaning\s+of)"
    r"\s+(?:(?:an?|the)\s+)?(?P<term>.+?)"
    r"(?:\s+(?P<expansion>stand\s+for)|\s+(?:mean|means)(?:\s+in\s+.*)?|\s+in\s+.*)?\s*[?.!]*\s*$",
    re.I,
)


# "KPIs meaning?", "error budget definition": the term first.
_TERM_MEANING = re.compile(r"^\s*(?:(?:an?|the)\s+)?(?P<term>\S+(?:\s+\S+){0,3}?)\s+(?:meaning|definition)\W*$", re.I)


def defined_term(question: str) -> str:
    """What a definition question asks about ("what is an error budget?" → "error budget"), "" for others."""
    match = _DEFINED_TERM.match(question) or _TERM_MEANING.match(question)
    term = match.group("term").strip(" ?.!'\"‘’“”") if match else ""  # "what does 'bias' mean?": bias
    return term if 0 < len(term.split()) <= 4 else ""


def definition_pattern(question: str) -> re.Pattern[str] | None:
    """How the article would define what a definition question ("what is an error budget?", "what does SLI
    stand for?", "KPIs meaning?") asks about; None for other questions."""
    match = _DEFINED_TERM.match(question) or _TERM_MEANING.match(question)
    return _term_pattern(match.group("term"), bool(match.groupdict().get("expansion"))) if match else None


def _words_pattern(words: list[str]) -> str:
    """A term's words as written in running text: "A/B test", "front-end", "front end", a plural ending."""
    return r"[\s/-]+".join(re.escape(w) for w in words) + r"(?:s|es)?"


def _term_pattern(term: str, expansion: bool) -> re.Pattern[str] | None:
    """How an article defines ``term``: as a sentence's subject with a copula ("Toil is…") or an apposition
    ("Error budgets, the amount…"), or glossed in parentheses ("Edge AI (deploying AI on IoT devices…)", "…track
    KPIs (the handful of numbers…)", not "(e.g., …)" examples or a bare abbreviation). An abbreviation in parentheses after its expansion ("Service
    Level Indicators (SLIs)") answers only what it stands for."""
    words = re.findall(r"[A-Za-z0-9+#]+", term)
    if not words or len(words) > 4:
        return None
    # "what are A/B tests?" asks about the article's "An A/B test…".
    words[-1] = words[-1][:-1] if len(words[-1]) > 3 and words[-1].endswith("s") else words[-1]
    name = _words_pattern(words)
    start = r"^(?:[-*]\s+|\d+\.\s+)?(?:(?:an?|the)\s+)?"  # a sentence's or a list item's first words
    subject = rf"{start}{name}(?:\s+(?:is|are|refers?\s+to|means)\b|,\s+(?:an?|the)\s)"
    # "6. **Technical Literacy**: Knowing enough about…": a list item's bold head, then what it means.
    head = rf"^(?:[-*]\s+|\d+\.\s+)\*\*{name}\*\*:\s"
    # "An A/B test compares two versions…": a sentence about any one of its kind says what it does.
    generic = rf"^(?:an?)\s+{name}\s+(?-i:[a-z]+s)\b"
    gloss = rf"{start}{name}\s+\((?!e\.g\.|i\.e\.)[^)\s]+\s[^)]+\)"
    # Mid-sentence, after a lower-case word (not "Edge AI (…)" for "AI"), a gloss opens like a description:
    # "…track KPIs (the handful of numbers…)".
    inner_gloss = rf"(?-i:\b[a-z]+)\s+{name}\s+\((?:the|an?|who|which|that|[a-z]+ing)\s[^)]+\)"
    # Mid-sentence, an apposition that describes: "…sum up what they learned in user personas, short profiles of
    # typical users…".
    inner_apposition = (
        rf"(?-i:\b[a-z]+)\s+{name},\s+(?:an?\s+|the\s+)?(?-i:[a-z]+\s+[a-z]+s?)\s+(?:of|that|which|who)\b"
    )
    alternatives = [subject, head, generic, gloss, inner_gloss, inner_apposition] + (
        [rf"\w\s+\({name}\)"] if expansion else []
    )
    return re.compile("|".join(alternatives), re.I | re.M)


_TERM_WORDS = r"[A-Za-z0-9+#][A-Za-z0-9/+#-]*(?:\s+[A-Za-z0-9+#][A-Za-z0-9/+#-]*){0,3}?"
# Where a sentence may name the term it defines: its subject before a copula or an apposition, its subject after
# "A"/"An" before a verb, a list item's head before a gloss, the word before a mid-sentence gloss.
_DEFINING = [
    re.compile(
        rf"^(?:[-*]\s+|\d+\.\s+)?(?:(?P<det>an?|the)\s+)?(?P<term>{_TERM_WORDS})(?:\s+(?:is|are|refers?\s+to|means)\b|,\s+(?:an?|the)\s)",
        re.I | re.M,
    ),
    re.compile(rf"^(?P<det>an?)\s+(?P<term>{_TERM_WORDS})\s+(?-i:[a-z]+s)\b", re.I | re.M),
    re.compile(rf"^(?:[-*]\s+|\d+\.\s+)(?P<term>{_TERM_WORDS})\s+\(", re.I | re.M),
    re.compile(rf"^(?:[-*]\s+|\d+\.\s+)\*\*(?P<term>{_TERM_WORDS})\*\*:\s", re.I | re.M),
    re.compile(r"(?-i:\b[a-z]+)\s+(?P<term>[A-Za-z0-9+#][A-Za-z0-9/+#-]*)\s+\(", re.I),
]


@dataclass
class Term:
    """A term the article defines: "A/B test", asked about as "an A/B test", in the sentence that defines it."""

    name: str
    asked: str
    definition: str

    def pattern(self) -> re.Pattern[str]:
        """The term in running text, singular or plural: "A/B tests" for "A/B test"."""
        return re.compile(rf"\b{_words_pattern(re.findall(r'[A-Za-z0-9+#]+', self.name))}\b", re.I)


def defined_terms(texts: list[str], skip: Callable[[str], bool] = lambda term: False) -> list[Term]:
    """The terms the article defines, in the article's order. A term counts when ``_term_pattern`` finds its
    definition, so "what is <term>?" is answered; "These three languages" or "What do you think" are no terms,
    nor those ``skip`` rejects. A sentence-initial capital is dropped when the article also writes the term in
    lower case ("Information architecture" → "information architecture"; "Figma" stays)."""
    found: dict[str, Term] = {}
    everything = "\n".join(texts)
    for text in texts:
        if text.rstrip().endswith("?"):
            continue
        for pattern in _DEFINING:
            for match in pattern.finditer(text):
                term = match.group("term")
                if any(w in STOPWORDS for w in term.lower().split()) or skip(term) or term.lower() in found:
                    continue
                checked = _term_pattern(term, False)
                if checked is None or not checked.search(text):
                    continue
                lower = term[0].lower() + term[1:]
                if lower != term and re.search(rf"\b{re.escape(lower)}", everything):
                    term = lower
                det = (match.groupdict().get("det") or "").lower()
                found[term.lower()] = Term(term, f"{det} {term}" if det in ("a", "an") else term, text)
    return list(found.values())


class ScopeJudge:
    def __init__(self, index: KnowledgeIndex, profile: Profile) -> None:
        self.index = index
        self.profile = profile
        self.words = set(index.vocabulary)
        self.word_stems = {stem(w) for w in index.vocabulary}
        self._by_length: dict[int, list[str]] = {}
        for word in index.vocabulary:
            self._by_length.setdefault(len(word), []).append(word)
        self._framing = profile.entity_terms()
        self._chunk_stems = [{stem(t) for t in tokens(c.embed_text)} for c in index.chunks]
        self._unit_stems = [{stem(t) for t in tokens(u.text)} for u in index.units]
        self._job_words = job_words()
        self._sentences = [u.text for u in index.units if u.kind != "row"]
        self._roadmap = any(describes_document(text) for text in self._sentences)
        self._entity_stems = {stem(w) for w in profile.entity_terms()}
        self._tables = any(u.kind == "row" for u in index.units)
        self._row_stems = {stem(t) for u in index.units if u.kind == "row" for t in tokens(u.text)}
        self.use_probes(index.probes, index.probe_vectors)

    # Built on first use, not at start: a one-shot question often needs neither (~30 ms of a 0.4 s `rolebot ask`).

    @cached_property
    def terms(self) -> list[Term]:
        """What the article defines ("An A/B test compares…"): "what's that?" after an answer naming one asks for it."""
        return defined_terms(self._sentences, skip=lambda term: bool(self.profile.entities_in(term)))

    @cached_property
    def _english(self) -> set[str]:
        """Words common enough in English (Zipf 3: once per million words) are words, not typos."""
        return {w for w, zipf in word_frequencies().items() if zipf >= 3.0}

    @cached_property
    def _english_by_length(self) -> dict[int, list[str]]:
        """A typo is of a common word (Zipf 4: "salary", "language"): "docker" is one letter from "locker" and no typo."""
        by_length: dict[int, list[str]] = {}
        for word, zipf in word_frequencies().items():
            if zipf >= TYPO_OF_ZIPF:
                by_length.setdefault(len(word), []).append(word)
        return by_length

    def use_probes(self, probes: list[dict], vectors: np.ndarray) -> None:
        """The out-of-scope phrasings to compare questions with, one matrix, so a question costs one product."""
        if vectors is None or not len(probes):
            probes, vectors = [], np.zeros((0, self.index.dimension), dtype=np.float32)
        kept = [i for i, p in enumerate(probes) if p["kind"] == "topic"]
        self._topic_vectors = np.ascontiguousarray(vectors[kept])
        self._topic_labels = [probes[i]["key"] for i in kept]
        # A topic an article describing the role answers in part ("a typical day": its responsibilities), and
        # the words each topic's own phrasings use ("salary"): neither makes the rest of a question covered.
        self._topic_partly = {t["label"] for t in topics() if t.get("partly")}
        self._topic_stems = {
            t["label"]: {
                stem(w)
                for q in [*t["questions"], *t.get("pair_questions", []), *t.get("words", [])]
                for w in tokens(q)
                if w not in STOPWORDS
            }
            for t in topics()
        }

    # -- words -------------------------------------------------------------------------------------------

    def key_terms(self, question: str) -> list[str]:
        """The question's content words: not stopwords, numbers or words that only name an entity."""
        seen: list[str] = []
        for t in tokens(question):
            t = _CONTRACTION.sub("", t).strip("'’.-")
            if not t or t in STOPWORDS or t in self._framing or t in framing_words() or t.isdigit() or t in seen:
                continue
            if len(t) == 1 and t not in self.words:
                continue
            if self._misspelt_stopword(t):
                continue
            seen.append(t)
        return seen

    def _misspelt_stopword(self, term: str) -> bool:
        """ "wat", "wich", "thier": one letter from a stopword, not an article word, and rare in English
        (below Zipf 4: "hire" and "earn" are words people ask about, "wat" is chat spelling)."""
        if term in self.words or len(term) < 3 or word_frequencies().get(term, 0.0) >= MISSPELT_STOPWORD_ZIPF:
            return False
        return any(
            edit_distance_at_most_one(term, w) for w in STOPWORDS if len(w) >= 3 and abs(len(w) - len(term)) <= 1
        )

    def _present(self, term: str) -> bool:
        return term in self.words or stem(term) in self.word_stems or self.correction(term) is not None

    def correction(self, term: str) -> str | None:
        """The article word a misspelt term stands for ("responsibilites" → "responsibilities").

        Five letters at least, and not a real English word: "earn" is not a typo of "learn".
        """
        if len(term) < 5 or term in self._english:
            return None
        near = [w for n in (len(term) - 1, len(term), len(term) + 1) for w in self._by_length.get(n, [])]
        return next((w for w in near if len(w) >= 5 and edit_distance_at_most_one(term, w)), None)

    def corrected(self, question: str) -> str:
        """The question with misspelt words replaced by the article words they stand for."""
        fixes = {
            t: c
            for t in set(tokens(question))
            if t not in self.words and stem(t) not in self.word_stems and (c := self.correction(t))
        }
        if not fixes:
            return question
        pattern = re.compile(r"\b(" + "|".join(map(re.escape, fixes)) + r")\b", re.I)
        return pattern.sub(lambda m: fixes.get(m.group(1).lower(), m.group(1)), question)

    # -- the decision ----------------------------------------------------------------------------------------

    def absent_terms(self, question: str) -> list[str]:
        """The question's key terms the article does not use (nor a stem or a misspelling of one): the words
        whose vectors ``features`` compares with the article's vocabulary."""
        # A word asking for a comparison ("compare", "differs") is how the question asks, not what it asks about.
        return [t for t in self.key_terms(question) if not self._present(t) and not COMPARING.fullmatch(t)]

    def features(
        self,
        question: str,
        vector: np.ndarray,
        hits: list[Hit],
        embedder: Embedder,
        word_vectors: dict[str, np.ndarray] | None = None,
    ) -> tuple[dict[str, float], list[str], dict[str, float]]:
        """The evidence (for the decision and the trace), the key terms and how far each is in the article
        (1: present or a synonym of an article word, 0.5: a near match, 0: absent).

        ``word_vectors``, when given, maps exactly ``absent_terms(question)`` to their vectors.
        """
        terms = self.key_terms(question)
        absent = list(word_vectors) if word_vectors is not None else self.absent_terms(question)
        cover = {t: 1.0 for t in terms if t not in absent}
        if absent:
            # The words the article lacks: are they synonyms of article words? Their vectors usually come
            # embedded with the question (one packed pass); otherwise they are embedded here.
            vectors = np.stack(list(word_vectors.values())) if word_vectors is not None else embedder.encode(absent)
            best = (vectors @ self.index.vocabulary_vectors.T).max(axis=1)
            for term, b in zip(absent, best, strict=True):
                cover[term] = 1.0 if b >= SYNONYM_COSINE else 0.5 if b >= MATCH_COSINE else 0.0
        weights = {t: rarity(t) for t in terms}
        total = sum(weights.values())
        floor = max(total, MIN_WEIGHT)
        missing = sum(weights[t] * (1 - cover[t]) for t in terms) / floor if total else 0.0
        passage = set().union(*(self._chunk_stems[h.chunk.id] for h in hits[:PASSAGE_DEPTH])) if hits else set()
        in_passage = sum(weights[t] for t in terms if stem(t) in passage or (cover[t] == 1.0 and t in absent))
        unit = float((self.index.unit_vectors @ vector).max()) if len(self.index.units) else 0.0
        topic, _ = self.topic_similarity(vector)
        features = {
            "dense": max((h.dense for h in hits), default=0.0),
            "unit": unit,
            "missing": missing,
            "passage_missing": (total - in_passage) / floor if total else 0.0,
            "out_of_scope": topic,
            "names_entity": 1.0 if self.profile.entities_in(question) else 0.0,
        }
        return {k: round(float(v), 4) for k, v in features.items()}, terms, cover

    def defines(self, question: str) -> bool:
        """Does the article define what the definition question asks about (see ``_term_pattern``)?"""
        pattern = definition_pattern(question)
        return pattern is not None and any(pattern.search(text) for text in self._sentences)

    def nameable(self, term: str, question: str) -> bool:
        """May a reply name ``term`` as something the article does not mention? Only an informative word as the
        question wrote it (not "aibased" from "AI-based"): rarer than ``NAMEABLE_RARITY``, letters only, and not a
        typo of a common English word ("salry")."""
        if rarity(term) < NAMEABLE_RARITY or not term.isalpha() or len(term) < 3:
            return False
        if len(term) >= 4 and any(term in word for word in self._by_length_over(len(term))):
            return False  # "torch": the article writes "PyTorch", so "never mentions “torch”" would be false
        if not _written(term, question):
            return False
        return term in self._english or not self._english_typo(term)

    def _by_length_over(self, length: int) -> Iterator[str]:
        """The article's words longer than ``length`` letters."""
        return (w for n, words in self._by_length.items() if n > length for w in words)

    @lru_cache(maxsize=256)  # noqa: B019 - one judge per loaded index; the cache holds words, not the judge's state
    def _english_typo(self, term: str) -> bool:
        """Is an unknown word one letter from a common English word ("langauge", "salry")?"""
        if len(term) < 4:
            return False
        near = (w for n in (len(term) - 1, len(term), len(term) + 1) for w in self._english_by_length.get(n, ()))
        return any(edit_distance_at_most_one(term, w) for w in near)

    def evidence(
        self,
        question: str,
        vector: np.ndarray,
        hits: list[Hit],
        embedder: Embedder,
        word_vectors: dict[str, np.ndarray] | None = None,
    ) -> Evidence:
        """What the decision rests on, computed once for the rules of ``decide``."""
        features, terms, cover = self.features(question, vector, hits, embedder, word_vectors=word_vectors)
        gaps = [t for t in terms if cover[t] < 1.0 and self.nameable(t, question)]
        # Informative words of the question that the article uses (or a synonym of them): it bears on the question.
        covered = [t for t in terms if cover[t] == 1.0 and rarity(t) >= INFORMATIVE_RARITY]
        keyword = (  # "R", "Keras", "xgboost vs sklearn": not "Who programmed ChatGPT?", a question
            len(question.split()) <= 3
            and not _ASKING.match(question)
            and bool(terms)
            and all(cover[t] == 1.0 for t in terms)
        )
        bears = (
            keyword  # "R", "Keras": a keyword query of the article's own words
            or features["unit"] >= BEARS_COSINE
            or (bool(covered) and features["unit"] >= WEAK_COSINE)
            or any(rarity(t) >= RARE_RARITY for t in covered)
            or self._together(covered)
        )
        return Evidence(
            question=question,
            vector=vector,
            features=features,
            terms=terms,
            cover=cover,
            uncovered=[t for t in terms if cover[t] == 0.0],
            gaps=self._central(gaps, vector, embedder, word_vectors or {}),
            covered=covered,
            keyword=keyword,
            bears=bears,
            named=self.profile.entities_in(question),
        )

    def _together(self, covered: list[str]) -> bool:
        """Do two informative words of the question stand in one unit of the article ("edge" and "device" in
        "Edge AI (deploying AI on IoT devices…)")? Then it speaks of what they name together, however far the
        question's wording is from the unit's in embedding space ("How do you fit a production model onto an edge
        device?")."""
        asked = {stem(t) for t in covered}
        return len(asked) >= 2 and any(len(asked & words) >= 2 for words in self._unit_stems)

    def decide(
        self,
        question: str,
        vector: np.ndarray,
        hits: list[Hit],
        embedder: Embedder,
        word_vectors: dict[str, np.ndarray] | None = None,
    ) -> ScopeDecision:
        """answered, partial or declined (see the module's docstring), with the sentence a reply gives for it: the
        first rule that decides, in this order, else answered."""
        e = self.evidence(question, vector, hits, embedder, word_vectors)
        for rule in (self._titles, self._about_the_article, self._topic, self._declined, self._partial):
            decided = rule(e)
            if decided is not None:
                return decided
        return e.decision("answered", f"covered: {', '.join(e.covered) or 'the entities'}; best unit {e.unit:.2f}")

    # -- the rules, in the order ``decide`` asks them ------------------------------------------------------------

    def _titles(self, e: Evidence) -> ScopeDecision | None:
        """Job titles the article does not profile: declined when it never names them, else answered in part."""
        question, named = e.question, e.named
        others = self.other_entities(question)
        if others:
            mentioned = [title for title in others if self._mentions(title)]
            related = [title for title in others if title not in mentioned and self.qualifiers(title)]
            similarity, label = self.topic_of(e.vector, e.terms)
            on_topic = label and similarity >= TOPIC_LABEL_MIN and similarity - e.unit >= TOPIC_MARGIN
            if related and not named and on_topic:
                # "Will AI replace recommendation systems engineers?": the job market, whatever the title.
                explanation = self.profile.say("not_covered_topic", label=label)
                return e.decision("declined", f"asks about {label} ({similarity:.2f})", explanation, others)
            if related and not named and len(mentioned) + len(related) == len(others):
                # "What does a ChatGPT developer do?": a title the article never names, qualified by something it
                # does speak of ("AI chatbots … (e.g., ChatGPT…)"): what it says there, and that it has no more.
                words = [_as_written(" ".join(self.qualifiers(title)), question) for title in related]
                note = self.profile.say("partial_related", others=", ".join(others), words=_quoted(words))
                reason = f"the article speaks of {', '.join(related)} only through its words"
                return e.decision("partial", reason, note, others)
            if not named and mentioned and len(mentioned) < len(others):
                # "Do you need a Data Scientist or a Backend Developer?": the article names data scientists (as
                # collaborators) and never backend developers. What it says of the one, and that it has nothing on
                # the others; declining would say it never discusses data scientists, which is false.
                unnamed = [title for title in others if title not in mentioned]
                plural = [t if t.lower().endswith("s") else f"{t}s" for t in mentioned]
                note = self.profile.say(
                    "partial_some_mentioned", others=", ".join(unnamed), mentioned=", ".join(plural)
                )
                return e.decision(
                    "partial", f"the article names only {', '.join(mentioned)} of the titles", note, mentioned
                )
            if not named and len(mentioned) < len(others):
                names = " and ".join(entity.plural for entity in self.profile.entities)
                explanation = self.profile.say("other_entity", entities=names, others=", ".join(others))
                return e.decision("declined", f"the question asks about {', '.join(others)}", explanation, others)
            if mentioned and len(mentioned) == len(others):
                note = self.profile.say("partial_other_mentioned", others=", ".join(mentioned))
            else:
                names = " and ".join(entity.plural for entity in named)
                note = self.profile.say("partial_other", others=", ".join(others), entities=names)
            return e.decision("partial", f"the article does not profile {', '.join(others)}", note, others)
        passing = [] if named else [t for t in self.profile.other_titles(question) if self._mentions(t)]
        if passing:
            # "What are the responsibilities of a data scientist?": the article names data scientists (as the roles'
            # collaborators) but does not describe the job. What it says of them, and that it says no more.
            plural = [t if t.lower().endswith("s") else f"{t}s" for t in passing]
            note = self.profile.say("partial_other_mentioned", others=", ".join(plural))
            return e.decision("partial", f"the article names {', '.join(passing)} only in passing", note, passing)
        return None

    def _about_the_article(self, e: Evidence) -> ScopeDecision | None:
        """Questions the article answers as a whole: its conclusion, its comparison, its table, what it covers,
        a term it defines."""
        question, words = e.question, set(tokens(e.question))
        if set(e.terms) <= closing_words() and closing_words() & words:
            # "tldr?", "sum up the article": the article's conclusion answers it (bot/answer.py quotes it).
            return e.decision("answered", "asks for the article's conclusion")
        if (
            self._tables
            and not e.named
            and not e.uncovered
            and COMPARING.search(question)
            and word_list("role_words.txt") & words
        ):
            # "How do the two jobs differ?": the article's comparison of its roles answers it, whole.
            return e.decision("answered", "asks how the roles differ")
        if self._tables and word_list("table_words.txt") & words:
            # "show me the whole comparison table": the article's table answers it (bot/answer.py quotes it whole).
            return e.decision("answered", "asks for the article's table")
        if self._roadmap and asks_about_document(question, self._entity_stems):
            # "What is this article about?": the article's own sentence about itself answers it.
            return e.decision("answered", "asks what the article covers")
        if (_DEFINITION.match(question) or _MEANT_BY.match(question)) and self.defines(question):
            # "What is an error budget?" when the article says "Error budgets, the amount of…".
            return e.decision("answered", "the article defines what is asked about")
        return None

    def _topic(self, e: Evidence) -> ScopeDecision | None:
        """Closer to what such articles do not discuss (pay, degrees…) than to anything the article says, and
        asking something of the topic's own when it asks about the article's words too."""
        similarity, label = self.topic_of(e.vector, e.terms)
        covered_rest = [t for t in e.covered if not self._topic_word(t, label)]
        if not (
            label
            and similarity >= TOPIC_LABEL_MIN
            and similarity - e.unit >= TOPIC_MARGIN
            and (not covered_rest or self._asks_of_topic(e.terms, e.cover, label))
        ):
            return None
        if not covered_rest and not (e.named and label in self._topic_partly):
            explanation = self.profile.say("not_covered_topic", label=label)
            return e.decision("declined", f"asks about {label} ({similarity:.2f})", explanation)
        note = self.profile.say("partial_topic", label=label)
        return e.decision("partial", f"asks about {label} ({similarity:.2f}) and more", note)

    def _declined(self, e: Evidence) -> ScopeDecision | None:
        """Nothing in the article bears on it; or, naming no role, most of it is missing and no sentence is close."""
        mostly_missing = e.features["missing"] >= MOSTLY_MISSING and e.unit < CLOSE_COSINE
        if e.bears and not (not e.named and mostly_missing and e.gaps):
            return None
        if e.gaps:
            terms = _quoted([_as_written(t, e.question) for t in e.gaps[:3]])
            explanation = self.profile.say("not_covered_terms", terms=terms)
        else:
            explanation = self.profile.say("not_covered")
        reason = (
            f"nothing bears on it, best unit {e.unit:.2f}"
            if not e.bears
            else f"most of it is not in the article (missing {e.features['missing']:.2f})"
        )
        return e.decision("declined", reason, explanation)

    def _partial(self, e: Evidence) -> ScopeDecision | None:
        """The article speaks to part of it: the first of these says what it does not say."""
        question, named, covered = e.question, e.named, e.covered
        judged = self.judgement(question)
        if judged:
            # "Is Java the best language for AI?": the article lists what each role uses; it ranks nothing.
            if judged in ("should", "why"):
                note = self.profile.say("partial_choice" if judged == "should" else "partial_why")
            else:
                note = self.profile.say("partial_judgement", word=judged)
            return e.decision("partial", f"asks for a judgement the article does not make ({judged})", note)
        if e.gaps:
            terms = _quoted([_as_written(t, question) for t in e.gaps[:3]])
            return e.decision(
                "partial", f"the article lacks {', '.join(e.gaps)}", self.profile.say("partial_terms", terms=terms)
            )
        unexplained = self.unexplained(question, e.vector)
        if unexplained:
            # "Why is GPU important for AI development?": the article lists GPU acceleration; it gives no reason.
            note = self.profile.say(f"partial_{unexplained}_asked")
            return e.decision("partial", f"asks {unexplained}; the nearest units give no {unexplained}", note)
        fields = [] if named else self.fields_in(question)
        term = defined_term(question)
        asked_fields = (term.lower() in (f.lower() for f in fields)) or (
            len(fields) >= 2 and bool(_COMPARATIVE.search(question))
        )
        if asked_fields:
            # "What is machine learning?", "AI vs machine learning": the field an entity works in, not the entity.
            # The article describes the roles; what it says of the field is said in passing.
            names = " and ".join(entity.plural for entity in self.profile.entities)
            note = self.profile.say("partial_field", entities=names, fields=_quoted(fields))
            return e.decision("partial", f"asks about {', '.join(fields)}, not the roles", note)
        # Role words make a comparison one of jobs ("designers compared to developers"), not of things.
        sides = [] if named or self._job_words & set(tokens(question)) else compared(question)
        if len(sides) == 2 and any(e.cover.get(t) == 1.0 for side in sides for t in self.key_terms(side)):
            # "Scikit-Learn vs TensorFlow: which is right?", "deep learning vs machine learning": the article compares
            # its roles; it names these things (in a row, as tools) without comparing them with each other.
            note = self.profile.say("partial_compared", a=f"“{sides[0]}”", b=f"“{sides[1]}”")
            return e.decision("partial", f"compares {sides[0]!r} and {sides[1]!r}, which the article does not", note)
        if term and not named and not self.defines(question):
            # "What is TensorFlow?": the article uses the term but never says what it is.
            note = self.profile.say("partial_undefined", term=term)
            return e.decision("partial", f"the article uses {term!r} without defining it", note)
        unsaid = [t for t in e.terms if e.cover[t] < 1.0 and rarity(t) >= INFORMATIVE_RARITY]
        if not e.keyword and unsaid and sum(map(rarity, unsaid)) > sum(map(rarity, covered)):
            # What the question asks with is mostly not the article's, nor a synonym of its words, though too
            # common a word to name: "Who can get a Master's in AI?" (only the roles meet), "How do you teach a
            # computer to learn?" ("teach" outweighs "computer"). The nearest passage is not about that: say so.
            note = self.profile.say("partial_unsaid")
            return e.decision("partial", f"the article's words are the lesser part: not {', '.join(unsaid)}", note)
        whose = not named and WHICH_ROLE.match(question) and any(self._in_table(t) for t in covered)
        if not e.keyword and e.unit < BEARS_COSINE and covered and not whose:
            # Only the words meet: no sentence of the article is about what was asked ("how do self-driving cars
            # work?" where the article names self-driving cars once). Say so rather than pass it off as the answer.
            # The question's own names for what the article mentions: "C++", not "uses"; "XGBoost", not "scikitlearn".
            written = [t for t in covered if _written(t, question)] or covered
            written = [t for t in written if rarity(t) >= NAMEABLE_RARITY] or written
            terms = _quoted([_as_written(t, question) for t in written[:3]])
            note = self.profile.say("partial_passing", terms=terms)
            return e.decision("partial", f"only words in common, best unit {e.unit:.2f}", note)
        return None

    def _central(
        self, words: list[str], vector: np.ndarray, embedder: Embedder, known: dict[str, np.ndarray]
    ) -> list[str]:
        """The words most about what the question asks, most central first: within ``GAP_SPREAD`` of the cosine
        between the question and its most central word ("PhD" in "Is a PhD really coveted…?", not "coveted")."""
        if len(words) < 2:
            return words
        vectors = np.stack([known[w] for w in words]) if all(w in known for w in words) else embedder.encode(words)
        cosines = vectors @ vector
        best = float(cosines.max())
        order = sorted(range(len(words)), key=lambda i: -cosines[i])
        return [words[i] for i in order if cosines[i] >= best - GAP_SPREAD]

    def fields_in(self, question: str) -> list[str]:
        """The fields the entities work in that the question names without naming an entity: an entity name
        without its head noun ("site reliability" for a Site Reliability Engineer, "UX" for a UX Designer)."""
        heads = {name.split()[-1].lower() for e in self.profile.entities for name in e.names if len(name.split()) > 1}
        found: list[str] = []
        for entity in self.profile.entities:
            for name in entity.names:
                words = name.split()
                if len(words) < 2 or words[-1].lower() not in heads:
                    continue
                field_name = " ".join(words[:-1])
                if field_name.lower() not in (f.lower() for f in found) and re.search(
                    rf"(?<![\w-]){re.escape(field_name)}(?![\w-])", question, re.I
                ):
                    found.append(field_name)
        return found

    def qualifiers(self, title: str) -> list[str]:
        """The words qualifying a title that the article uses and that say something, other than a role's own
        words: "robotics" in "AI robotics engineer", "ChatGPT" in "ChatGPT developer"; none in "AI researcher" or
        "data engineer". A title the article never names but has these is related to what it says."""
        *words, _head = title.lower().split()
        return [w for w in words if w in self.words and w not in self._framing and rarity(w) >= INFORMATIVE_RARITY]

    def _mentions(self, title: str) -> bool:
        """Does the article name the job title (its last two words, as a phrase) anywhere?"""
        phrase = title_pattern(title)
        return any(phrase.search(u.text) for u in self.index.units)

    def _asks_of_topic(self, terms: list[str], cover: dict[str, float], label: str) -> bool:
        """Does a question that uses informative words of the article ask something of the topic's own too, beyond
        the role names its phrasings share with every question about the roles? A word of the topic's phrasings
        that is informative or that the article does not use ("earn", "remotely"; "long" in "how long does it
        take"), or an informative word the article lacks ("PhD"). "What are the responsibilities of a UX designer?" and "Does an SRE need maths?" ask
        nothing of the job market or of degrees: every word they ask with is the article's."""
        return any(
            (self._topic_word(t, label) and (rarity(t) >= INFORMATIVE_RARITY or not self._present(t)))
            or (cover[t] < 1.0 and rarity(t) >= INFORMATIVE_RARITY)
            for t in terms
        )

    def judgement(self, question: str) -> str:
        """The word a question asks the article to judge with ("best", "easier"), as the question wrote it, when the
        article never uses it (nor its stem); "" otherwise. "Should I learn X or Y?" asks to choose: "should"; "Why X over Y?" asks why one is chosen: "why"."""
        for word in tokens(question):
            if word in word_list("judgement_words.txt") and stem(word) not in self.word_stems:
                return _as_written(word, question)
        if _CHOICE.search(question) and "should" not in self.words:
            return "why" if re.match(r"\W*(?:\w+\W+)?why\b", question, re.I) else "should"
        return ""

    def unexplained(self, question: str, vector: np.ndarray) -> str:
        """ "why" or "when" (bot/data/explanation_words.toml) when the question asks for a reason or a condition
        and none of the ``PASSAGE_DEPTH`` units nearest it gives one; "" otherwise."""
        for kind, asks, gives in _explanations():
            if asks.search(question):
                if not len(self.index.units):
                    return kind
                nearest = np.argsort(-(self.index.unit_vectors @ vector))[:PASSAGE_DEPTH]
                if not any(gives.search(self.index.units[i].text) for i in nearest):
                    return kind
        return ""

    def _in_table(self, term: str) -> bool:
        """Is a rare word of the question in the comparison table ("who uses OpenCV?": the table says whose)?"""
        return rarity(term) >= RARE_RARITY and stem(term) in self._row_stems

    def _topic_word(self, term: str, label: str) -> bool:
        """Is the word one the topic's own phrasings use ("salary" for pay)? It does not make the rest covered."""
        return stem(term) in self._topic_stems.get(label, set())

    # -- what the article does not compare ------------------------------------------------------------------

    def other_entities(self, question: str) -> list[str]:
        """Job titles the question asks about that the article neither profiles nor discusses.

        A comparative question: "platform engineer vs SRE" names "platform engineer"; "SREs vs traditional
        system administrators" does not count, because the article has a sentence with both. A question naming
        no entity: "what does a data engineer do?" asks about a title the article never uses ("what do data
        scientists do?" is answered when the article describes them).
        """
        if not self.profile.entities:
            return []
        titles = self.profile.other_titles(question)
        if _COMPARATIVE.search(question):
            return [title for title in titles if not self._contrasted(title, question, contrast=True)]
        if titles and not self.profile.entities_in(question):
            unused = [title for title in titles if not self._contrasted(title, question)]
            return unused if len(unused) == len(titles) else []
        return []

    def _contrasted(self, title: str, question: str, contrast: bool = False) -> bool:
        """Does one passage name the title (its last two words, as a phrase) beside an entity the question
        names, and, for a comparative question, set them apart ("Unlike traditional system administrators,
        SREs…"; "work closely with: Data Scientists (…)" lists, it does not compare)? The entities' own names are
        taken out first: "engineering manager" is not found in "Project Managers work with engineering…"."""
        phrase = title_pattern(title)
        named = [e for e in self.profile.entities if e.mentioned_in(question)] or self.profile.entities
        for unit in self.index.units:
            if unit.kind == "row":
                continue  # a row names the entities only in its header: "Works Closely With: Data engineers…"
            rest = unit.text
            for entity in self.profile.entities:
                rest = entity.pattern.sub(" ", rest)
            if (
                phrase.search(rest)
                and any(e.mentioned_in(unit.text) for e in named)
                and (not contrast or CONTRAST.search(unit.text))
            ):
                return True
        return False

    # -- out-of-scope topics --------------------------------------------------------------------------

    def topic_of(self, vector: np.ndarray, terms: list[str]) -> tuple[float, str]:
        """The topic a question is nearest, and its cosine; among topics within ``TOPIC_MARGIN`` of the nearest, one
        whose own phrasings use an informative word of the question ("PhD": degrees, not the job market)."""
        if not self._topic_labels:
            return 0.0, ""
        scores = self._topic_vectors @ vector
        best: dict[str, float] = {}
        for label, score in zip(self._topic_labels, scores, strict=True):
            best[label] = max(best.get(label, -1.0), float(score))
        nearest = max(best, key=best.get)
        worded = [
            label
            for label, score in best.items()
            if score >= best[nearest] - TOPIC_MARGIN
            and any(self._topic_word(t, label) and rarity(t) >= INFORMATIVE_RARITY for t in terms)
        ]
        label = max(worded, key=best.get) if worded else nearest
        return best[label], label

    def topic_similarity(self, vector: np.ndarray) -> tuple[float, str]:
        """The best cosine between the question and the out-of-scope phrasings, and that topic's label."""
        if not self._topic_labels:
            return 0.0, ""
        scores = self._topic_vectors @ vector
        best = int(scores.argmax())
        return float(scores[best]), self._topic_labels[best]


@dataclass
class Probe:
    text: str  # what is embedded
    key: str  # the topic's label
    kind: str = "topic"


@lru_cache(maxsize=1)
def topics() -> tuple[dict, ...]:
    """The topics such articles do not discuss (bot/data/out_of_scope.toml)."""
    with (DATA_DIR / "out_of_scope.toml").open("rb") as handle:
        return tuple(tomllib.load(handle)["topic"])


def probes_for(profile: Profile) -> list[Probe]:
    """The out-of-scope phrasings the scope check compares with, written out for this profile's entities."""
    return [Probe(q, label) for label, q in _topic_phrasings(profile)]


def probes_fingerprint() -> str:
    """A hash of the data the probes come from: the index is stale when it changes."""
    digest = hashlib.sha256()
    for path in (DATA_DIR / "out_of_scope.toml", DATA_DIR / "wording.toml"):
        digest.update(path.name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b""))
    return digest.hexdigest()


def _topic_phrasings(profile: Profile) -> list[tuple[str, str]]:
    roles = [e.plural for e in profile.entities] or ["people in this field"]
    phrasings = [(t["label"], q.format(role=role)) for t in topics() for q in t["questions"] for role in roles]
    if len(profile.entities) >= 2:  # "Who earns more, {pair}?": the compared entities named together
        pair = " or ".join(e.plural for e in profile.entities[:2])
        phrasings += [(t["label"], q.format(pair=pair)) for t in topics() for q in t.get("pair_questions", [])]
    return phrasings


_SIDES = (
    re.compile(r"^(?P<a>.+?)\s+(?:vs\.?|versus)\s+(?P<b>.+)$", re.I),
    re.compile(r"\bdifferen(?:ce|ces|t)\s+(?:\w+\s+)?between\s+(?P<a>.+?)\s+and\s+(?P<b>.+)$", re.I),
    re.compile(r"\bcompar(?:e|ing)\s+(?P<a>.+?)\s+(?:and|with|to)\s+(?P<b>.+)$", re.I),
    re.compile(r"^(?P<a>.+?)\s+(?:compare[sd]?|stacks?\s+up)\s+(?:to|with|against)\s+(?P<b>.+)$", re.I),
    re.compile(r"^(?P<a>.+?)\s+differs?\s+from\s+(?P<b>.+)$", re.I),
)
_CLAUSE = re.compile(r"[:;,.?!()]")
_AUXILIARIES = frozenset({"does", "did", "doing"})  # not on the stopword list, but never a compared thing
SIDE_WORDS = 4
"""A compared thing is named in at most this many words ("TensorFlow machine learning libraries")."""


def compared(question: str) -> list[str]:
    """The two things a question compares, as it wrote them ("Scikit-Learn", "TensorFlow" in "Scikit-Learn vs
    TensorFlow: which is right?"), each cut at a clause's edge and at ``SIDE_WORDS`` words; [] if it compares none."""
    for pattern in _SIDES:
        match = pattern.search(question)
        if match:
            a = _CLAUSE.split(match["a"])[-1].split()
            b = _CLAUSE.split(match["b"])[0].split()
            while a and (a[0].lower() in STOPWORDS or a[0].lower() in _AUXILIARIES):
                a = a[1:]
            while b and b[0].lower() in STOPWORDS:
                b = b[1:]
            sides = [" ".join(a[-SIDE_WORDS:]), " ".join(b[:SIDE_WORDS])]
            return sides if all(sides) else []
    return []


@lru_cache(maxsize=1)
def _explanations() -> tuple[tuple[str, re.Pattern[str], re.Pattern[str]], ...]:
    """Per kind ("why", "when", …): how a question asks for it, at a clause's start, and the words that give it
    (``digits = true``: a digit gives it too)."""
    with (DATA_DIR / "explanation_words.toml").open("rb") as handle:
        data = tomllib.load(handle)
    return tuple(
        (
            kind,
            re.compile(rf"(?:^|[.?!:;(]\s*|\b(?:and|but|or|so)\s+)\W*(?:{entry['asks']})", re.I),
            re.compile(
                r"\b(?:"
                + "|".join(re.escape(w) for w in entry["gives"])
                + (r"|\d" if entry.get("digits") else "")
                + r")\b",
                re.I,
            ),
        )
        for kind, entry in data.items()
    )


def _written(term: str, question: str) -> bool:
    """Is ``term`` a word of the question as the question wrote it ("scikitlearn" is not, from "Scikit-Learn")?"""
    return bool(re.search(rf"(?<![\w-]){re.escape(term)}(?![\w-])", question, re.I))


def _as_written(term: str, question: str) -> str:
    """The term spelt as the question wrote it ("XGBoost" for "xgboost"), else as it is."""
    match = re.search(rf"(?<![\w-]){re.escape(term)}(?![\w-])", question, re.I)
    return match.group(0) if match else term


def _quoted(words: list[str]) -> str:
    quoted = [f"“{w}”" for w in words]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
