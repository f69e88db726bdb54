"""Is the question answered by the article? Domain-neutral evidence weighed by fitted boosted trees.

A single cosine threshold cannot separate "what do SREs earn?" (refuse) from "what do SREs
build?" (answer): both are close to the article in embedding space. So the decision reads
several signals, none of which knows the article's domain:

- how close the best passage and the best quotable unit are to the question (cosine);
- how much of the question's *informative* weight the article, and the best passage, lack: a word
  weighs more the rarer it is in English (bot/data/word_frequency.tsv), stopwords and the words
  that only name the compared entities weigh nothing, and a word counts as present literally, by
  stem, with a one-letter typo, or through a near-synonym among the article's words;
- how close the question is to what people ask about roles that such articles do not cover
  (bot/data/out_of_scope.toml: pay, degrees, outlook, a typical day…).

The trees come from ``scripts/fit_scope.py`` (training splits only) and live in
bot/data/scope_model.json with the command and the held-out figures they gave, beside the numbers the
evidence is read with (``EvidenceParams``: synonym cosines, the weight floor, passages and neighbours counted).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from .embeddings import Embedder
from .index import KnowledgeIndex
from .profile import DATA_DIR, Profile
from .retrieval import Hit
from .text import (
    CONTRAST,
    STOPWORDS,
    asks_about_document,
    describes_document,
    edit_distance_at_most_one,
    stem,
    tokens,
    word_list,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

MODEL_FILE = DATA_DIR / "scope_model.json"
EXEMPLARS_FILE = DATA_DIR / "scope_exemplars.json"
"""Labelled questions from the training splits, entities masked (written by scripts/fit_scope.py)."""

TOPIC_LABEL_MIN = 0.55
"""A refusal names an out-of-scope topic ("salaries") only when the question is this close to one of its phrasings."""

MISSPELT_STOPWORD_ZIPF = 4.0
"""A word one letter from a stopword is read as a misspelt stopword when it is rarer than this in English."""

FEATURES = (
    "dense",
    "unit",
    "missing",
    "passage_missing",
    "out_of_scope",
    "no_terms",
    "names_entity",
    "asks_definition",
    "neighbours",
    "out_of_scope_margin",
)


@lru_cache(maxsize=1)
def word_frequencies() -> dict[str, float]:
    """English word → Zipf frequency (3 = once per million words... 7 = "the")."""
    out = {}
    for line in (DATA_DIR / "word_frequency.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            word, zipf = line.split("\t")
            out[word] = float(zipf)
    return out


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


@dataclass
class Tree:
    """One regression tree of the boosted model, as arrays: node i splits on ``feature[i] <= threshold[i]``
    (to ``left[i]``, else ``right[i]``); a leaf has ``left[i] == -1`` and adds ``value[i]``."""

    feature: list[int]
    threshold: list[float]
    left: list[int]
    right: list[int]
    value: list[float]

    def predict(self, x: list[float]) -> float:
        node = 0
        while self.left[node] != -1:
            node = self.left[node] if x[self.feature[node]] <= self.threshold[node] else self.right[node]
        return self.value[node]


@dataclass(frozen=True)
class EvidenceParams:
    """How the features read the evidence, stored with the trees in the model file. ``scripts/fit_scope.py
    --search-evidence`` searches them by cross-validation; the committed values are the first version's,
    because the search's best points lost held-out answers (the file's provenance has the figures)."""

    match: float = 0.65  # a word whose nearest article word reaches this cosine is half present ("laptop" ~ "computer")
    synonym: float = 0.80  # from this cosine on an article word covers it fully ("duties" ~ "responsibilities")
    # The least informative weight a question's share of missing words is taken over: one rare-ish filler word
    # ("sort") in a question of common words does not make it 100 % unanswerable.
    min_weight: float = 2.0
    passage_depth: int = 3  # the best passages whose words count as "the best passage covers the question"
    neighbours: int = 5  # how many of the closest labelled questions vote on a new one


@dataclass
class ScopeModel:
    """Gradient-boosted regression trees over FEATURES (log-loss): answer when the probability reaches
    ``threshold``. Trees, not one weighted sum: a high out-of-scope similarity should outweigh a good
    passage match, and a question naming no entity needs more evidence than one that does."""

    bias: float  # the log-odds every question starts from: the training prior
    learning_rate: float
    trees: list[Tree]
    threshold: float
    provenance: dict = field(default_factory=dict)
    evidence: EvidenceParams = field(default_factory=EvidenceParams)

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> ScopeModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("features") != list(FEATURES):
            raise ValueError(f"{path} was fitted on features {data.get('features')}, the code reads {FEATURES}")
        trees = [Tree(**t) for t in data["trees"]]
        evidence = EvidenceParams(**data.get("evidence", {}))
        return cls(data["bias"], data["learning_rate"], trees, data["threshold"], data.get("provenance", {}), evidence)

    def probability(self, features: dict[str, float]) -> float:
        # The trees were fitted on float32 copies of the features (scikit-learn's tree dtype): compare those.
        x = [float(np.float32(features[name])) for name in FEATURES]
        z = self.bias + self.learning_rate * sum(tree.predict(x) for tree in self.trees)
        return 1.0 / (1.0 + math.exp(-z))


@dataclass
class ScopeDecision:
    in_scope: bool
    key_terms: list[str]
    uncovered: list[str] = field(default_factory=list)
    reason: str = ""
    explanation: str = ""  # the refusal's first sentence, in the bot's words
    features: dict[str, float] = field(default_factory=dict)
    other_entities: list[str] = field(default_factory=list)  # declined by rule: titles the article does not discuss


_COMPARATIVE = re.compile(
    r"\b(differ\w*|difference\w*|vs\.?|versus|compar\w*|contrast\w*|distinguish\w*|same as|similar\w*|better|or)\b",
    re.I,
)


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
    r"(?:\s+(?P<expansion>stand\s+for)|\s+(?:mean|means)|\s+in\s+.*)?\s*[?.!]*\s*$",
    re.I,
)


# "KPIs meaning?", "error budget definition": the term first.
_TERM_MEANING = re.compile(r"^\s*(?:(?:an?|the)\s+)?(?P<term>\S+(?:\s+\S+){0,3}?)\s+(?:meaning|definition)\W*$", re.I)


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
    def __init__(self, index: KnowledgeIndex, profile: Profile, model: ScopeModel | None = None) -> None:
        self.index = index
        self.profile = profile
        self.model = model or ScopeModel.load()
        self.words = set(index.vocabulary)
        self.word_stems = {stem(w) for w in index.vocabulary}
        self._by_length: dict[int, list[str]] = {}
        for word in index.vocabulary:
            self._by_length.setdefault(len(word), []).append(word)
        self._framing = profile.entity_terms()
        # Words common enough in English (Zipf 3: once per million words) are words, not typos.
        self._english = {w for w, zipf in word_frequencies().items() if zipf >= 3.0}
        self._chunk_stems = [{stem(t) for t in tokens(c.embed_text)} for c in index.chunks]
        self._sentences = [u.text for u in index.units if u.kind != "row"]
        # What the article defines ("An A/B test compares…"): "what's that?" after an answer naming one asks for it.
        self.terms = defined_terms(self._sentences, skip=lambda term: bool(profile.entities_in(term)))
        self._roadmap = any(describes_document(text) for text in self._sentences)
        self._entity_stems = {stem(w) for w in profile.entity_terms()}
        self.use_probes(index.probes, index.probe_vectors)

    def use_probes(self, probes: list[dict], vectors: np.ndarray) -> None:
        """The out-of-scope phrasings and labelled neighbours to compare questions with (the index's own;
        scripts/fit_scope.py passes others while fitting)."""
        if vectors is None or not len(probes):
            probes, vectors = [], np.zeros((0, self.index.dimension), dtype=np.float32)
        topics = [i for i, p in enumerate(probes) if p["kind"] == "topic"]
        neighbours = [i for i, p in enumerate(probes) if p["kind"] == "exemplar"]
        # Each kind's vectors as one contiguous matrix, so a question costs one product per kind, no copy.
        self._topic_vectors = np.ascontiguousarray(vectors[topics])
        self._topic_labels = [probes[i]["key"] for i in topics]
        self._neighbour_vectors = np.ascontiguousarray(vectors[neighbours])
        self._neighbour_keys = [probes[i]["key"] for i in neighbours]
        self._neighbour_answerable = np.array([1.0 if probes[i]["answerable"] else 0.0 for i in neighbours])

    # -- words -------------------------------------------------------------------------------------------

    def key_terms(self, question: str) -> list[str]:
        """The question's content words: not stopwords, numbers or words that only name an entity."""
        seen: list[str] = []
        for t in tokens(question):
            t = t.strip("'’.-")
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
        return [t for t in self.key_terms(question) if not self._present(t)]

    def features(
        self,
        question: str,
        vector: np.ndarray,
        hits: list[Hit],
        embedder: Embedder,
        exclude: frozenset[str] = frozenset(),
        word_vectors: dict[str, np.ndarray] | None = None,
    ) -> tuple[dict[str, float], list[str], list[str]]:
        """The model's inputs, the key terms and the ones the article lacks.

        ``exclude`` leaves labelled questions out of the neighbours' vote (the fit leaves each turn's own text
        out: leave-one-out);
        ``word_vectors``, when given, maps exactly ``absent_terms(question)`` to their vectors.
        """
        terms = self.key_terms(question)
        absent = list(word_vectors) if word_vectors is not None else [t for t in terms if not self._present(t)]
        cover = {t: 1.0 for t in terms if t not in absent}
        if absent:
            # The words the article lacks: are they synonyms of article words? Their vectors usually come
            # embedded with the question (one packed pass); otherwise they are embedded here.
            vectors = np.stack(list(word_vectors.values())) if word_vectors is not None else embedder.encode(absent)
            best = (vectors @ self.index.vocabulary_vectors.T).max(axis=1)
            evidence = self.model.evidence
            for term, b in zip(absent, best, strict=True):
                cover[term] = 1.0 if b >= evidence.synonym else 0.5 if b >= evidence.match else 0.0
        weights = {t: rarity(t) for t in terms}
        total = sum(weights.values())
        floor = max(total, self.model.evidence.min_weight)
        missing = sum(weights[t] * (1 - cover[t]) for t in terms) / floor if total else 0.0
        passage = (
            set().union(*(self._chunk_stems[h.chunk.id] for h in hits[: self.model.evidence.passage_depth]))
            if hits
            else set()
        )
        in_passage = sum(weights[t] for t in terms if stem(t) in passage or (cover[t] == 1.0 and t in absent))
        passage_missing = (total - in_passage) / floor if total else 0.0
        unit = float((self.index.unit_vectors @ vector).max()) if len(self.index.units) else 0.0
        named = self.profile.entities_in(question)
        features = {
            "dense": max((h.dense for h in hits), default=0.0),
            "unit": unit,
            "missing": missing,
            "passage_missing": passage_missing,
            "out_of_scope": self.topic_similarity(vector)[0],
            "neighbours": self.neighbour_vote(vector, exclude),
        }
        # How much closer the question is to what such articles do not cover than to anything the article says.
        features["out_of_scope_margin"] = max(0.0, features["out_of_scope"] - unit)
        features |= {
            "no_terms": 0.0 if total else 1.0,
            # Questions about the article's subjects usually name one ("what is machine learning?" does not).
            "names_entity": 1.0 if named else 0.0,
            # "What is fine-tuning?": articles use many terms they never define (a question about an entity is
            # about the article's own subject).
            "asks_definition": 1.0 if _DEFINITION.match(question) and not named else 0.0,
        }
        uncovered = [t for t in terms if cover[t] == 0.0]
        return {k: round(float(v), 4) for k, v in features.items()}, terms, uncovered

    def defines(self, question: str) -> bool:
        """Does the article define what the definition question asks about (see ``_term_pattern``)?"""
        pattern = definition_pattern(question)
        return pattern is not None and any(pattern.search(text) for text in self._sentences)

    def decide(
        self,
        question: str,
        vector: np.ndarray,
        hits: list[Hit],
        embedder: Embedder,
        word_vectors: dict[str, np.ndarray] | None = None,
    ) -> ScopeDecision:
        features, terms, uncovered = self.features(question, vector, hits, embedder, word_vectors=word_vectors)
        others = self.other_entities(question)
        if others:
            names = " and ".join(e.plural for e in self.profile.entities)
            return ScopeDecision(
                False,
                terms,
                uncovered,
                f"the question names {', '.join(others)}, which the article does not compare",
                self.profile.say("other_entity", entities=names, others=", ".join(others)),
                features,
                others,
            )
        if terms and set(terms) <= closing_words():
            # "tldr?", "sum up the article": the article's conclusion answers it (bot/answer.py quotes it).
            return ScopeDecision(True, terms, uncovered, "asks for the article's conclusion", "", features)
        if self._roadmap and asks_about_document(question, self._entity_stems):
            # "What is this article about?": the article's own sentence about itself answers it.
            return ScopeDecision(True, terms, uncovered, "asks what the article covers", "", features)
        if (features["asks_definition"] or _MEANT_BY.match(question)) and self.defines(question):
            # "What is an error budget?" when the article says "Error budgets, the amount of…": answered by rule,
            # whatever the model would say of a bare "what is X?" (most such questions ask about terms the
            # article only uses).
            return ScopeDecision(True, terms, uncovered, "the article defines what is asked about", "", features)
        probability = self.model.probability(features)
        if probability >= self.model.threshold:
            return ScopeDecision(True, terms, uncovered, f"answerable with probability {probability:.2f}", "", features)
        similarity, label = self.topic_similarity(vector)
        if label and similarity >= TOPIC_LABEL_MIN:
            explanation = self.profile.say("not_covered_topic", label=label)
        elif uncovered:
            explanation = self.profile.say("not_covered_terms", terms=_quoted(uncovered[:3]))
        else:
            explanation = self.profile.say("not_covered")
        return ScopeDecision(
            False, terms, uncovered, f"answerable with probability {probability:.2f} only", explanation, features
        )

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
        words = title.split()[-2:]
        phrase = re.compile(r"\b" + r"\s+".join(re.escape(w) for w in words) + r"s?\b", re.I)
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

    # -- out-of-scope exemplars --------------------------------------------------------------------------

    def topic_similarity(self, vector: np.ndarray) -> tuple[float, str]:
        """The best cosine between the question and the out-of-scope phrasings, and that topic's label."""
        if not self._topic_labels:
            return 0.0, ""
        scores = self._topic_vectors @ vector
        best = int(scores.argmax())
        return float(scores[best]), self._topic_labels[best]

    def neighbour_vote(self, vector: np.ndarray, exclude: frozenset[str] = frozenset()) -> float:
        """The share of the closest labelled questions that were answerable, weighted by cosine.

        The labelled questions are stored with their entities masked and embedded once per entity of this
        profile ("How much does this role make?" → one copy per entity name), so one article's labels carry
        over to another's and the question itself needs no second pass through the model.
        """
        keys = self._neighbour_keys
        if not keys:
            return 0.5
        scores = self._neighbour_vectors @ vector
        chosen, seen = [], set(exclude)
        for position in np.argsort(-scores):  # one vote per labelled question, by its closest copy
            key = keys[position]
            if key not in seen:
                seen.add(key)
                chosen.append(position)
                if len(chosen) == self.model.evidence.neighbours:
                    break
        if not chosen:
            return 0.5
        weights = np.clip(scores[chosen], 1e-3, None)
        return float((weights * self._neighbour_answerable[chosen]).sum() / weights.sum())


@dataclass
class Probe:
    text: str  # what is embedded
    key: str  # a topic's label, or the labelled question as stored (entities masked)
    kind: str  # "topic" | "exemplar"
    answerable: bool = False


def probes_for(profile: Profile, exemplars: list[tuple[str, bool]] | None = None) -> list[Probe]:
    """The questions the scope check compares with, written out for this profile's entities."""
    probes = [Probe(q, label, "topic") for label, q in _topic_phrasings(profile)]
    placeholder = profile.wording["entity_placeholder"]
    for question, answerable in _exemplars() if exemplars is None else exemplars:
        if placeholder in question and profile.entities:
            probes += [
                Probe(question.replace(placeholder, e.name), question, "exemplar", answerable) for e in profile.entities
            ]
        else:
            probes.append(Probe(question, question, "exemplar", answerable))
    return probes


def probes_fingerprint() -> str:
    """A hash of the data the probes come from: the index is stale when it changes."""
    digest = hashlib.sha256()
    for path in (DATA_DIR / "out_of_scope.toml", EXEMPLARS_FILE, DATA_DIR / "wording.toml"):
        digest.update(path.name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b""))
    return digest.hexdigest()


def _topic_phrasings(profile: Profile) -> list[tuple[str, str]]:
    with (DATA_DIR / "out_of_scope.toml").open("rb") as handle:
        topics = tomllib.load(handle)["topic"]
    roles = [e.plural for e in profile.entities] or ["people in this field"]
    phrasings = [(t["label"], q.format(role=role)) for t in topics for q in t["questions"] for role in roles]
    if len(profile.entities) >= 2:  # "Who earns more, {pair}?": the compared entities named together
        pair = " or ".join(e.plural for e in profile.entities[:2])
        phrasings += [(t["label"], q.format(pair=pair)) for t in topics for q in t.get("pair_questions", [])]
    return phrasings


def _exemplars() -> list[tuple[str, bool]]:
    if not EXEMPLARS_FILE.is_file():
        return []
    data = json.loads(EXEMPLARS_FILE.read_text(encoding="utf-8"))
    return [(e["question"], bool(e["answerable"])) for e in data["exemplars"]]


def _quoted(words: list[str]) -> str:
    quoted = [f"“{w}”" for w in words]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
