"""Compose a short answer from the article's own words: the units that best match what was asked.

Units are sentences, lead-ins with their lists, and table rows (see chunking.py). They are ranked by
cosine to the question plus rarity-weighted term overlap. Then, in order of precedence:

- a question that names a section's heading ("how do I become one?") is answered from that section: its best
  units, or the whole section when short if the fitted ``whole_section`` says so;
- a question asking only what one entity is ("define SRE", "so what does an SRE actually do?") opens with
  the article's sentence defining it ("A Site Reliability Engineer is a…") and the best next sentence of its
  section (the words such questions add are data: bot/data/definition_words.txt); an entity described only in
  the comparison table gets the table's first row, the row best matching the question and the summary contrast;
- a question asking what a term is ("what is edge AI?", "what does NLP stand for?") gets the unit where the
  article defines it (see scope.definition_pattern), not one that only shares a word ("cutting-edge");
- a question asking only for the conclusion or a summary ("tldr?") is answered from the last section;
- a question naming both entities without a comparing word ("do they work together?") whose best unit is
  prose is answered from that prose, not from a table row;
- a comparison of the profile's entities opens with the article's contrast sentence (one naming both; the one
  beside the comparison table first) and adds the table rows it asks about; a single-aspect question gets its
  row alone;
- a question about one entity gets only that entity's side: units about the other entities are left
  out, and table rows show that entity's column only;
- a list of numbered headings gives way to the numbered item the question asks about (a yes/no question,
  "do I need Git?", gets the one item that alone uses one of its words);
- a question ("But what exactly…?") is never quoted, and a sentence opening with "They"/"This" brings
  the sentence it refers to (not when its own main clause names it: "When they draft…, Technical Writers:");
- the answer opens with its best unit: a weaker sentence before it in its section is left out, since quoted
  in the article's order it would open the answer.
Parameters are fitted by scripts/fit_answer.py (bot/data/answer_params.json), the question's linear adapter by
scripts/fit_adapter.py (bot/data/query_adapter.*).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from .blocks import Block, Item, Listing, RowSentence, Sentences, Table, listing, markdown
from .chunking import PATH_SEPARATOR, Unit
from .index import KnowledgeIndex
from .profile import DATA_DIR, Entity, Profile, job_words
from .retrieval import Hit
from .scope import NAMEABLE_RARITY, RARE_RARITY, definition_pattern, rarity
from .text import (
    COMPARING,
    CONTRAST,
    STOPWORDS,
    WHICH_ROLE,
    asks_about_document,
    describes_document,
    question_parts,
    stem,
    stems,
    title_pattern,
    tokens,
    word_list,
)

PARAMS_FILE = DATA_DIR / "answer_params.json"
ADAPTER_FILE = DATA_DIR / "query_adapter.json"
ADAPTER_WEIGHTS = DATA_DIR / "query_adapter.npy"

MAX_ANSWER_CHARS = 480
"""Answers stay short: a few sentences, one list or a small table."""

ITEM_CHARS = 300
"""A list of item titles quotes an item's first words only up to this length (``Composer.titles_with_content``)."""

ANCHOR_UNITS = 2
"""A question's word the article uses in at most this many units names what the answer is about (see
``Composer._anchored``)."""

MAX_ROWS = 2
"""A comparison quotes at most this many table rows beside its contrast sentence."""

_COMPARE = COMPARING
_WHICH = WHICH_ROLE
_ANAPHORIC = re.compile(
    r"^(?:(?:While|Although|Because|Since|When|But|And|So)\s+)?(?:They|This|These|It|Those|Their)\b", re.I
)
# "When they draft a guide, Technical Writers:": a pronoun in an opening clause whose main clause names its referent.
_OPENING_CLAUSE = re.compile(r"^(?:While|Although|Because|Since|When|If|Once)\s+(?:they|their|it)\b[^,]*,\s*", re.I)
# "They apply…", "While they differ…, they…": the pronoun a bracketed name can stand in for.
_PRONOUN = re.compile(r"^((?:(?:While|Although|Because|Since|When|But|And|So)\s+)?)(They|Their)\b", re.I)
# "Essentially, X focus on…, while Y…": a contrast that says what each is (not "…how they differ from Y").
_SUMMARY_CONTRAST = re.compile(r"\b(while|whereas|whilst|unlike)\b", re.I)
# "Is it the same job?": the article's "…while their work overlaps, they have distinct roles:" answers it.
_SAMENESS = re.compile(r"\b(same|identical|interchangeable|confus\w*|overlap\w*)\b", re.I)
# "A Site Reliability Engineer is a software engineer who…": the entity's name, then "is a/an/the" or "are".
_COPULA = re.compile(r"\s(?:is\s+(?:an?|the)|are)\s", re.I)
# "do I need Git?", "is maths required?": a yes/no question asks about one thing, not for a list.
_YES_NO = re.compile(
    r"^\W*(?:so\s+|and\s+|but\s+)?(?:do|does|did|is|are|was|were|can|could|should|must|will|would|have|has)\b", re.I
)


@dataclass
class AnswerParams:
    """Weights of the unit ranking, fitted on the training split (see PARAMS_FILE's provenance)."""

    lexical_weight: float = 0.25  # rarity-weighted term overlap next to cosine: exact terms like "XGBoost" matter
    aspect_bonus: float = 0.15  # a table row whose aspect ("Tech Stack") the question names
    unit_margin: float = 0.06  # further units are quoted only when they score within this margin of the best
    item_margin: float = 0.10  # a numbered item's content beats a list of item titles within this margin
    whole_section: bool = True  # a short section the question names is quoted whole, not only its best units

    @classmethod
    def load(cls) -> AnswerParams:
        if not PARAMS_FILE.is_file():
            return cls()
        data = json.loads(PARAMS_FILE.read_text(encoding="utf-8"))
        return cls(**data["params"])


@dataclass
class QueryAdapter:
    """A linear map of question vectors, ``q + qW`` (then unit length), fitted by scripts/fit_adapter.py on the
    training splits' gold units: it moves questions as people phrase them ("who do they work with?") towards the
    units that answer them ("Works Closely With: …"). It belongs to the embedding model it was fitted with; for
    any other model (ROLEBOT_MODEL) it is the identity."""

    weights: np.ndarray | None = None  # (dim, dim); None: the identity

    @classmethod
    def load(cls, model: str, dimension: int) -> QueryAdapter:
        if not (ADAPTER_FILE.is_file() and ADAPTER_WEIGHTS.is_file()):
            return cls()
        fitted = json.loads(ADAPTER_FILE.read_text(encoding="utf-8"))
        if fitted.get("model") != model or fitted.get("dimension") != dimension:
            return cls()
        return cls(np.load(ADAPTER_WEIGHTS).astype(np.float32))

    def apply(self, vector: np.ndarray) -> np.ndarray:
        vector = vector.reshape(-1)
        if self.weights is None:
            return vector
        moved = vector + vector @ self.weights
        return moved / (np.linalg.norm(moved) or 1.0)


@dataclass
class ScoredUnit:
    unit: Unit
    score: float
    names_aspect: bool = False  # a table row whose aspect the question names


def _word_stems(name: str) -> frozenset[str]:
    """The stems of a word list in bot/data."""
    return frozenset(stem(w) for w in word_list(name))


def _points_ahead(unit: Unit) -> bool:
    """ "These are the main responsibilities of the role: 1. …": the pronoun of a list's lead-in points at the
    list that follows, not at the sentence before."""
    return unit.kind == "list" and bool(re.match(r"(?:These|This|Those)\b[^:\n]*:", unit.text))


def _is_lead_in(unit: Unit) -> bool:
    return unit.kind == "sentence" and unit.text.endswith(":")


_NUMBERED_TITLE = re.compile(r"^(\d+\.|)\s*(.*)$")
"""A numbered heading ("1. Strong Programming Skills"): its number, which a list of titles keeps as its marker."""


def _inline(text: str) -> str:
    """A list unit on one line ("… such as: AI chatbots …; Computer vision systems …"), a sentence as it is."""
    lead, _, items = text.partition("\n\n")
    lines = [line[2:].strip() if line.startswith(("- ", "* ")) else line.strip() for line in items.splitlines()]
    return f"{lead} {'; '.join(line for line in lines if line)}" if items else text


_WORD = re.compile(r"[A-Za-z][\w+#-]*")


def _names(units: Sequence[Unit]) -> set[str]:
    """Stems of the words the article writes as names: with a capital inside ("XGBoost", "GPU"), or capitalised
    inside a sentence, cell or list line ("e.g., Netflix, Amazon"), and never in lower case there. A capital
    opening a sentence, a cell or a heading's words ("Strong Programming Skills") says nothing."""
    upper: set[str] = set()
    lower: set[str] = set()
    for unit in units:
        pieces = unit.cells if unit.kind == "row" else unit.text.splitlines()
        for piece in pieces:
            words = _WORD.findall(piece)
            # A capital inside a word names something wherever it stands: "XGBoost", "GPU", "IoT".
            upper |= {stem(w.lower()) for w in words if any(c.isupper() for part in w.split("-") for c in part[1:])}
            if all(w[0].isupper() for w in words if len(w) > 3 and w.lower() not in STOPWORDS):
                continue  # a heading in a list of headings, a row's aspect ("Tech Stack"): title case
            for sentence in re.split(r"(?<=[.!?:])\s+", piece):
                for word in _WORD.findall(sentence)[1:]:
                    (upper if word[0].isupper() else lower).add(stem(word.lower()))
    return upper - lower


def _quotable(unit: Unit) -> bool:
    """A lead-in says nothing alone; a question is the article asking, not answering."""
    return not _is_lead_in(unit) and not (unit.kind == "sentence" and unit.text.rstrip().endswith("?"))


class Composer:
    def __init__(
        self,
        index: KnowledgeIndex,
        profile: Profile,
        params: AnswerParams | None = None,
        adapter: QueryAdapter | None = None,
    ) -> None:
        self.index = index
        self.profile = profile
        self.params = params or AnswerParams.load()
        self.adapter = adapter or QueryAdapter.load(str(index.manifest.get("model", "")), index.dimension)
        self.entities = profile.entities
        self.unit_stems = [set(stems(u.embed_text)) for u in index.units]
        self.aspect_stems = [set(stems(u.cells[0])) if u.kind == "row" else set() for u in index.units]
        self.table_stems = set().union(*(self.unit_stems[u.id] for u in index.units if u.kind == "row"))
        # Words that make a question about the roles though it names none (``_about_roles``).
        self.role_words = job_words() | profile.entity_terms()
        # Inverse document frequency over units: "XGBoost" says more about a unit than "engineer".
        n = len(index.units)
        df: dict[str, int] = {}
        for unit_stems in self.unit_stems:
            for s in unit_stems:
                df[s] = df.get(s, 0) + 1
        self.df = df
        self.names = _names(index.units)
        self.idf = {s: math.log((n + 1) / (count + 0.5)) for s, count in df.items()}
        self.entity_stems = {stem(w) for w in profile.entity_terms()}
        self.unit_chunk: dict[int, int] = {}
        self.row_chunk: dict[int, int] = {}
        for chunk in index.chunks:
            for uid in chunk.unit_ids:
                self.unit_chunk.setdefault(uid, chunk.id)
                if chunk.kind == "row":
                    self.row_chunk[uid] = chunk.id
        # Article stems a shorter stem starts ("math" → "mathemat"), for matching questions' short forms.
        self.extends: dict[str, set[str]] = {}
        for s in self.idf:
            for end in range(4, len(s)):
                self.extends.setdefault(s[:end], set()).add(s)
        # Which entities each unit is about: those it names, else those its heading path names, else all.
        self.unit_about: list[set[str]] = []
        for unit in index.units:
            named = {e.name for e in self.entities if e.mentioned_in(unit.text)}
            in_path = {e.name for e in self.entities if e.mentioned_in(unit.section)}
            self.unit_about.append(named or in_path or {e.name for e in self.entities})
        # "…they have distinct roles:" before a table: a comparison may quote it, followed by a row.
        self.table_sections = {u.section for u in index.units if u.kind == "row"}
        self.table_leads = {u.id for u in index.units[:-1] if _is_lead_in(u) and index.units[u.id + 1].kind == "row"}
        # Entities with sections of their own ("Who is a Site Reliability Engineer?"); the others live in the table.
        paths = {u.section for u in index.units}
        self.own_sections = {
            e.name
            for e in self.entities
            if any(e.mentioned_in(p) and len(self.profile.entities_in(p)) == 1 for p in paths)
        }
        self.sections: dict[str, list[Unit]] = {}
        for unit in index.units:
            self.sections.setdefault(unit.section, []).append(unit)
        self.definition_words = _word_stems("definition_words.txt")
        self.table_words = word_list("table_words.txt")
        self.asking_stopwords = _word_stems("asking_stopwords.txt")
        self.closing_words = _word_stems("closing_words.txt")
        self.framing_stems = _word_stems("framing_words.txt")
        self.stopword_stems = {stem(w) for w in STOPWORDS}  # "what's" → "what"
        self.definitions = {e.name: d for e in self.entities if (d := self._definition_of(e)) is not None}
        # "In this blog, we'll explore…": quoted only when the question asks what the article covers.
        self.roadmap = [u.id for u in index.units if u.kind == "sentence" and describes_document(u.text)]
        # Heading words that say what a section is about: not numbers, stopwords, entity names or the words of
        # a comparison ("SRE vs. DevOps Engineer: What's the Difference?" names no topic of its own).
        qualifiers = _word_stems("heading_qualifiers.txt")  # "Key Skills of…" names skills
        self.heading_stems = {
            section: {
                stem(t)
                for t in tokens(section.split(PATH_SEPARATOR)[-1])
                # The stopword list holds some content words ("become", "system"): only short ones are dropped.
                if t.isalpha() and len(t) > 2 and (t not in STOPWORDS or len(t) >= 5) and not _COMPARE.fullmatch(t)
            }
            - self.entity_stems
            - qualifiers
            - self.definition_words  # "What Does a UX Designer Do?" asks what the entity is: no topic of its own
            for section in self.sections
        }
        # A list whose items are the headings of numbered subsections: section → the subsections' paths.
        self.item_sections: dict[int, list[str]] = {}
        for unit in index.units:
            if unit.kind == "list":
                children = [s for s in self.sections if s.startswith(unit.section + PATH_SEPARATOR)]
                titles = {s.split(PATH_SEPARATOR)[-1] for s in children}
                if children and all(line.lstrip("- ") in titles for line in unit.text.splitlines()[2:] if line):
                    self.item_sections[unit.id] = children
        # Per list of item titles: the stems only one item uses among them (its heading included), and the stems
        # of the list's lead-in ("To become one, you need:"), which ask for the list, not for an item.
        self.item_words: dict[int, dict[str, set[str]]] = {}
        self.lead_stems: dict[int, set[str]] = {}
        for list_id, children in self.item_sections.items():
            words = {c: set().union(*(self.unit_stems[u.id] for u in self.sections[c])) for c in children}
            self.item_words[list_id] = {
                c: words[c] - set().union(*(words[o] for o in children if o != c)) for c in children
            }
            self.lead_stems[list_id] = set(stems(index.units[list_id].text.split("\n", 1)[0]))

    # -- what the question is about --------------------------------------------------------------------

    def entities_in(self, question: str) -> list[Entity]:
        return [e for e in self.entities if e.mentioned_in(question)]

    def is_comparison(self, question: str) -> bool:
        """Does the question contrast the entities ("SRE vs DevOps engineer", "who uses Terraform?")?"""
        named = self.entities_in(question)
        if len(named) >= 2:
            return True
        if not self.entities:
            return False
        if named:  # one role named: "how do SREs differ from sysadmins?"
            return bool(_COMPARE.search(question))
        return bool(_COMPARE.search(question) or _WHICH.search(question)) and self._about_roles(question)

    def _about_roles(self, question: str) -> bool:
        """Is a question naming no role about the roles all the same: a role word ("the two roles", "which job")
        or a job title's head noun, or a rare word of the comparison table ("who uses XGBoost?")?"""
        words = set(tokens(question))
        if words & self.role_words:
            return True  # a role word, a title's head noun, or a word of a role's name ("technical documentation")
        return any(stem(w) in self.table_stems and rarity(w) >= RARE_RARITY for w in words)

    def _definition_of(self, entity: Entity) -> Unit | None:
        """The article's first sentence defining ``entity``: its name (and at most a few words) before "is a"."""
        for unit in self.index.units:
            match = _COPULA.search(unit.text)
            if unit.kind != "sentence" or not _quotable(unit) or match is None:
                continue
            subject = unit.text[: match.start()]
            if len(subject.split()) <= 6 and [e.name for e in self.profile.entities_in(subject)] == [entity.name]:
                return unit
        return None

    def asks_definition(self, question: str, named: list[Entity]) -> bool:
        """ "What is X?", "define X", "X meaning??", "so what does X actually do": one entity and no topic."""
        if len(named) != 1 or self.is_comparison(question):
            return False
        rest = named[0].pattern.sub(" ", question)
        if {stem(t) for t in tokens(rest)} & self.asking_stopwords:  # "how do I become X?" is no definition
            return False
        return not set(stems(rest)) - self.definition_words

    def _definition(self, entity: Entity, question: str, vector: np.ndarray) -> list[Unit]:
        """The entity's definition and the sentence of its section that best continues it; for an entity the
        article describes only in its comparison table, see ``_table_definition``."""
        unit = self.definitions.get(entity.name)
        if unit is None:
            return self._table_definition(question, vector)
        rest = [u.id for u in self.sections[unit.section] if u.id != unit.id and u.kind == "sentence"]
        ranked = self.rank_units(question, vector, rest)
        chosen = [unit, ranked[0].unit] if ranked else [unit]
        return self._with_antecedents(sorted(chosen, key=lambda u: u.id))

    def _term_definition(self, question: str) -> list[Unit]:
        """ "What is edge AI?", "what does NLP stand for?": the unit where the article defines the term ("- Edge
        AI (deploying AI on IoT devices…)"), not a sentence that only shares a word ("cutting-edge AI")."""
        pattern = definition_pattern(question)
        if pattern is None:
            return []
        found = [u for u in self.index.units if u.kind != "row" and _quotable(u) and pattern.search(u.text)]
        return self._with_antecedents(found[:1])

    def _table_definition(self, question: str, vector: np.ndarray) -> list[Unit]:
        """What an entity the article describes only in its comparison table is: the table's first row, the row
        that best matches the question when it is another one, and the article's summary contrast (the best
        sentence naming both entities with "while", "whereas", "unlike")."""
        ranked = self.rank_units(question, vector, list(range(len(self.index.units))))
        rows = [s.unit for s in ranked if s.unit.kind == "row"]
        contrasts = [
            s.unit
            for s in ranked
            if s.unit.kind == "sentence"
            and _quotable(s.unit)
            and not _ANAPHORIC.match(s.unit.text)
            and _SUMMARY_CONTRAST.search(s.unit.text)
            and len(self.entities_in(s.unit.text)) >= 2
        ]
        if not rows:
            return []
        first = min(rows, key=lambda u: u.id)
        # The row that best matches what was asked, when it is another one ("what does X do?": its scope).
        best = [rows[0]] if rows[0] is not first else [r for r in rows if r is not first][:1]
        return sorted([first, *best], key=lambda u: u.id) + contrasts[:1]

    def _about_entity(self, unit: Unit, entity: Entity) -> bool:
        """Is the unit about ``entity`` (or about no entity in particular)? Rows hold every entity's column."""
        return unit.kind == "row" or entity.name in self.unit_about[unit.id]

    # -- ranking ---------------------------------------------------------------------------------------------

    def query_stems(self, question: str) -> set[str]:
        """The question's stems the article uses; a stem counts also when it starts an article stem of 4+ letters
        ("math" → "mathemat"). Words that only name the entities say little about which unit answers: when the
        question has other words, only those count."""
        asked = set(stems(question))
        # A plural the stemmer keeps whole, an acronym's mostly ("GPUs", "APIs"): the article's singular.
        asked |= {s[:-1] for s in asked if s.endswith("s") and s[:-1] in self.idf}
        # An entity's word names the entity, not a topic: "data" (Data Analyst) does not reach for "database".
        found = {s for s in asked if s in self.idf} | {
            s for q in asked - self.entity_stems for s in self.extends.get(q, ())
        }
        return (found - self.entity_stems) or found

    def rankable(self, unit_ids: list[int]) -> list[int]:
        """The units of ``unit_ids`` an answer may open with: no lead-in (but a table's), question or roadmap."""
        return [
            u for u in unit_ids if (_quotable(self.index.units[u]) or u in self.table_leads) and u not in self.roadmap
        ]

    def term_scores(self, question: str, unit_ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Each unit's score besides cosine (weighted rarity-weighted term overlap, aspect bonus) and whether it is
        a table row whose aspect the question names."""
        query_stems = self.query_stems(question)
        total = sum(self.idf[s] for s in query_stems) or 1.0
        overlap = np.array([sum(self.idf[s] for s in query_stems & self.unit_stems[u]) / total for u in unit_ids])
        aspect = np.array([bool(query_stems & self.aspect_stems[u]) for u in unit_ids], dtype=bool)
        return self.params.lexical_weight * overlap + self.params.aspect_bonus * aspect, aspect

    def rank_units(self, question: str, vector: np.ndarray, unit_ids: list[int]) -> list[ScoredUnit]:
        """``unit_ids`` scored and sorted, best first: cosine to the (adapted) question plus ``term_scores``."""
        unit_ids = self.rankable(unit_ids)
        if not unit_ids:
            return []
        cosine = self.index.unit_vectors[unit_ids] @ self.adapter.apply(vector)
        terms, aspect = self.term_scores(question, unit_ids)
        scored = [
            ScoredUnit(self.index.units[uid], float(score), bool(named))
            for uid, score, named in zip(unit_ids, cosine + terms, aspect, strict=True)
        ]
        return sorted(scored, key=lambda s: -s.score)

    def compose(
        self,
        question: str,
        vector: np.ndarray,
        hits: list[Hit],
        encode: Callable[[list[str]], np.ndarray],
        parts: list[str] | None = None,
    ) -> list[Unit]:
        """The units to quote, in the order the answer gives them; a two-part question is answered part by
        part ("What is X and how does it differ from Y?"), each part embedded on its own. ``parts``: the parts
        to answer, each standalone (``Question.parts``, less those the article does not answer); by default the
        question's own parts. One part left: the question is answered as that part."""
        pieces = question_parts(question) if parts is None else parts
        if len(pieces) == 1 and parts is not None and pieces[0] != question:
            (vector,) = encode(pieces)
            return self._compose_one(pieces[0], vector, hits)
        if len(pieces) < 2:
            return self._compose_one(question, vector, hits)
        chosen: list[Unit] = []
        vectors = encode(pieces[:2])
        for piece, piece_vector in zip(pieces[:2], vectors, strict=True):
            for unit in self._compose_one(piece, piece_vector, hits):
                if unit not in chosen:
                    chosen.append(unit)
        return chosen

    def _compose_one(self, question: str, vector: np.ndarray, hits: list[Hit]) -> list[Unit]:
        if self.roadmap and asks_about_document(question, self.entity_stems):
            return [self.index.units[self.roadmap[0]]]
        if self.asks_for_table(question):
            # The article's contrast sentence, then the whole table the question is closest to.
            ranked = self.rank_units(question, vector, list(range(len(self.index.units))))
            best = next(s.unit for s in ranked if s.unit.kind == "row")
            return self._contrasts(ranked, self.entities, [])[:1] + self.table_of(best)
        named = self.entities_in(question)
        section = self._named_section(question)
        if section is None and self.asks_definition(question, named):
            chosen = self._definition(named[0], question, vector)
            if chosen:
                return chosen
        if not named and (defining := self._term_definition(question)):
            return defining
        # "What tools do project managers use?" is not answered by a Tools section about product managers.
        if (
            section is not None
            and len(named) == 1
            and not any(named[0].name in self.unit_about[u.id] for u in self.sections[section])
        ):
            section = None
        if section is not None:
            ranked = self.rank_units(question, vector, [u.id for u in self.sections[section]])
            if ranked:
                # "tldr?" asks for the whole conclusion, whatever the fitted choice for named sections.
                whole = self.params.whole_section or self._asks_for_closing(question)
                return self._best(ranked, whole_section=whole, question=question)
        ranked = self.rank_units(question, vector, self.candidates(named))
        if not ranked:
            return []
        if len(named) == 1 and not self.is_comparison(question) and named[0].name not in self.own_sections:
            # An entity the article describes only in its comparison table is answered from its column there.
            rows = [s for s in ranked if s.unit.kind == "row"]
            if rows:
                return [s.unit for s in rows[:MAX_ROWS] if s.score >= rows[0].score - self.params.unit_margin]
        if self.is_comparison(question) and not self._relation(question, named, ranked):
            if not _SAMENESS.search(question):
                ranked = [s for s in ranked if s.unit.id not in self.table_leads]
            return self._comparison(ranked, named, self.profile.other_titles(question), question)
        return self._best(self._anchored(ranked, question), question=question)

    def _anchored(self, ranked: list[ScoredUnit], question: str) -> list[ScoredUnit]:
        """The ranked units holding a word of the question the article uses in at most ``ANCHOR_UNITS`` units
        ("GPU" in "Does machine learning require GPU?"), when there is one: what the article says of that thing is
        the answer, and sentences nearer the rest of the question ("Understanding ML algorithms … is key.") would
        open it with something else. An anchor is a name as the article writes it (``_names``: "GPU", "Netflix"; not
        "programming" or "define"); words that name the entities, and common English words, are not anchors."""
        anchors = {
            s
            for word in tokens(question)
            if rarity(word) >= NAMEABLE_RARITY
            for s in self.query_stems(word)
            if self.df.get(s, 0) <= ANCHOR_UNITS and s in self.names and s not in self.entity_stems
        }
        anchored = [scored for scored in ranked if self.unit_stems[scored.unit.id] & anchors]
        return anchored or ranked

    def mentioning(self, titles: list[str], question: str, vector: np.ndarray, words: Sequence[str] = ()) -> list[Unit]:
        """What the article says of job titles it names only in passing: the best units naming one of them ("AI
        Engineers work closely with: Data Scientists (who analyze data…)"), or, for titles it never names, one of
        ``words``, their qualifiers it does use ("robotics"); [] when no unit names any."""
        patterns = [title_pattern(t) for t in titles] + [re.compile(rf"\b{re.escape(w)}\b", re.I) for w in words]
        naming = [u.id for u in self.index.units if any(p.search(u.text) for p in patterns)]
        ranked = self.rank_units(question, vector, naming)
        return self._with_antecedents([ranked[0].unit]) if ranked else []

    def table_of(self, row: Unit) -> list[Unit]:
        """Every row of the table ``row`` belongs to, in the article's order."""
        return [u for u in self.sections[row.section] if u.kind == "row" and u.header == row.header]

    def asks_for_table(self, question: str) -> bool:
        """ "show me the whole comparison table": a word asking for a table, in an article that has one."""
        return bool(self.table_sections) and bool(self.table_words & set(tokens(question)))

    def in_prose(self, question: str, vector: np.ndarray) -> list[Unit]:
        """The best answer from the article's prose alone (no table row): for "how do they fix it?" after an answer
        that was the table's row, the row again says nothing new."""
        prose = [u for u in self.candidates(self.entities_in(question)) if self.index.units[u].kind != "row"]
        ranked = self.rank_units(question, vector, prose)
        return self._best(ranked, question=question) if ranked else []

    def candidates(self, named: list[Entity]) -> list[int]:
        """The units an answer may quote: for a question about one entity, those about it (or about no one)."""
        if len(named) != 1:
            return list(range(len(self.index.units)))
        return [u.id for u in self.index.units if self._about_entity(u, named[0])]

    def _relation(self, question: str, named: list[Entity], ranked: list[ScoredUnit]) -> bool:
        """Does a question naming both entities ask how they relate rather than how they differ ("do SREs and
        DevOps engineers work together?")? It uses no comparing word, asks about something besides the
        entities, and its best unit is prose, not a table row."""
        if len(named) < 2 or _COMPARE.search(question) or _SAMENESS.search(question):
            return False
        rest = question
        for entity in named:
            rest = entity.pattern.sub(" ", rest)
        top = ranked[0].unit
        return bool(stems(rest)) and top.kind != "row" and top.id not in self.table_leads

    def _asks_for_closing(self, question: str) -> bool:
        """Does the question ask only for the conclusion or a summary ("tldr?", "what's the conclusion")?"""
        topic = {s for s in stems(question) if s in self.idf or s in self.closing_words}
        topic -= self.entity_stems | self.stopword_stems | (self.framing_stems - self.closing_words)
        return bool(topic & self.closing_words) and not topic - self.closing_words

    def _named_section(self, question: str) -> str | None:
        """The section whose heading words the question uses, all of them (the most specific wins); the last
        section for a question that asks only for the conclusion or a summary."""
        question_stems = {stem(t) for t in tokens(question)}
        if self._asks_for_closing(question) and self.index.units:
            return self.index.units[-1].section
        named = [s for s, h in self.heading_stems.items() if h and h <= question_stems]
        return max(named, key=lambda s: len(self.heading_stems[s]), default=None)

    def _best(self, ranked: list[ScoredUnit], whole_section: bool = False, question: str = "") -> list[Unit]:
        ranked = [s for s in ranked if s.unit.id not in self.table_leads]  # only a comparison quotes those
        if not ranked:
            return []
        top = ranked[0]
        if top.unit.id in self.item_sections:
            # "What math do they need?": the Mathematics item's content, not the list of item titles.
            items = [s for s in ranked if s.unit.section in self.item_sections[top.unit.id]]
            asked = self._asked_item(question, top.unit) if _YES_NO.match(question) else None
            if asked is not None:
                # "do I need to learn Git to be one?": the item the question names, quoted whole when short.
                chosen = [u for u in self.sections[asked] if _quotable(u)]
                if chosen and self._length(chosen) <= MAX_ANSWER_CHARS:
                    return self._with_antecedents(chosen)
            if items and items[0].score >= top.score - self.params.item_margin and not whole_section:
                top = items[0]
        chosen: list[Unit] = []
        if whole_section:
            # A section the question names is quoted whole when it is short.
            chosen = [u for u in self.sections[top.unit.section] if _quotable(u)]
            if self._length(chosen) > MAX_ANSWER_CHARS:
                chosen = [top.unit]
        else:
            chosen = [top.unit]
            for item in ranked[1:]:
                if len(chosen) >= 3 or item.score < top.score - self.params.unit_margin:
                    break
                titles_of_chosen = any(u.section in self.item_sections.get(item.unit.id, ()) for u in chosen)
                # The answer opens with its best unit: a weaker sentence before it in its section ("Most interfaces
                # show data that lives on a server.") would open it, in the article's order.
                setup = item.unit.section == top.unit.section and item.unit.id < top.unit.id
                if (
                    not setup
                    and item.unit.kind != "row"
                    and not titles_of_chosen  # the list of item titles adds nothing to the item's content
                    and self._length([*chosen, item.unit]) <= MAX_ANSWER_CHARS
                ):
                    chosen.append(item.unit)
        return self._with_antecedents(chosen)

    def _asked_item(self, question: str, titles: Unit) -> str | None:
        """The one numbered item a question names by a word only that item uses among the items, its heading
        included ("do I need to learn Git?", "do they need knowledge of maths?"); None when no single one."""
        asked = self.query_stems(question) - self.stopword_stems - self.lead_stems[titles.id]
        named = [section for section, words in self.item_words[titles.id].items() if asked & words]
        return named[0] if len(named) == 1 else None

    def _comparison(
        self, ranked: list[ScoredUnit], named: list[Entity], others: list[str], question: str = ""
    ) -> list[Unit]:
        """The contrast sentence, then the table rows asked about (at most two).

        The contrast sentence names two entities; when the question names one entity and something else
        ("SREs vs traditional system administrators"), it is the best sentence naming both. A table's
        lead-in ("…while their work overlaps, they have distinct roles:") may be it; its best row follows.
        """
        # The rows naming an asked aspect first ("…the same tools?": Key Tools), each group best first.
        terms = self.profile.entity_terms()  # "devops" names a role, in every row's header
        rare = {stem(w) for w in tokens(question) if rarity(w) >= RARE_RARITY and w not in terms}
        rows = [s for s in ranked if s.unit.kind == "row"]
        # A row whose cell names a rare word of the question ("who builds chatbots?": Deployment) is asked about.
        rows = [replace(s, names_aspect=True) if rare & self.unit_stems[s.unit.id] else s for s in rows]
        rows = sorted(rows, key=lambda s: not s.names_aspect)
        if rows and (rows[0].names_aspect or rows[0] is ranked[0]):
            # A single-aspect comparison ("AI vs ML tech stack", "who uses XGBoost?") is answered by its row alone.
            return [s.unit for s in rows[:MAX_ROWS] if s.names_aspect or s is rows[0]]
        contrasts = self._contrasts(ranked, named, others)
        chosen = [contrasts[0]] if contrasts else []
        table_lead = bool(chosen) and _is_lead_in(chosen[0])
        if rows and not others:
            # A comparison of the entities the table compares: its row about the asked aspect, else the whole
            # comparison (the contrast sentence says it in a line, the table in full).
            chosen += [rows[0].unit] if rows[0].names_aspect else self.table_of(rows[0].unit)
        elif rows and (
            not chosen or table_lead or rows[0].score >= self._score(ranked, contrasts[0]) - self.params.unit_margin
        ):
            chosen += [rows[0].unit]
        return chosen or self._best(ranked)

    @staticmethod
    def _score(ranked: list[ScoredUnit], unit: Unit) -> float:
        return next(s.score for s in ranked if s.unit is unit)

    def _contrasts(self, ranked: list[ScoredUnit], named: list[Entity], others: list[str]) -> list[Unit]:
        """The sentences that set the entities apart, best first: one naming two entities (or, for a question
        naming one entity and another title, both); the one beside the comparison table first."""
        other_stems = [{stem(t) for t in tokens(title)} for title in others]
        contrasts = [
            s
            for s in ranked
            if s.unit.kind == "sentence"
            and not _ANAPHORIC.match(s.unit.text)
            and (CONTRAST.search(s.unit.text) or _is_lead_in(s.unit))
            and (
                named[0].mentioned_in(s.unit.text) and all(t <= self.unit_stems[s.unit.id] for t in other_stems)
                if len(named) == 1 and other_stems
                else sum(e.mentioned_in(s.unit.text) for e in self.entities) >= 2
            )
        ]
        if others:
            contrasts.sort(key=lambda s: -s.score)
        else:
            # The entities the table compares: the article sums up their contrast beside its table ("Put simply,
            # X decides…, while Y…"); a contrast elsewhere (the introduction, the conclusion) comes after it.
            contrasts.sort(key=lambda s: (s.unit.section not in self.table_sections, -s.score))
        return [s.unit for s in contrasts]

    def continuation(self, quoted: list[Unit]) -> list[Unit]:
        """What "tell me more" adds to an answer that quoted ``quoted``: the rest of the quoted sections in the
        article's order (sentences, lists and rows not quoted yet), else what follows them in the article, as
        much as a short answer holds."""
        if not quoted:
            return []
        sections = list(dict.fromkeys(u.section for u in quoted))
        rest = [u for section in sections for u in self.sections[section] if u not in quoted and _quotable(u)]
        if not rest:
            after = max(u.id for u in quoted) + 1
            rest = [u for u in self.index.units[after:] if u not in quoted and _quotable(u)]
        chosen: list[Unit] = []
        for unit in rest:
            if len(chosen) >= 3 or (chosen and self._length([*chosen, unit]) > MAX_ANSWER_CHARS):
                break
            chosen.append(unit)
        return chosen

    def referent(self, unit: Unit) -> Entity | None:
        """Who an opening "They"/"Their" stands for, when that is certain: the one entity the unit's heading
        is about, named in the sentence just before it (a unit naming an entity itself is left alone: "they"
        may be the other one)."""
        match = _PRONOUN.match(unit.text)
        if not match or unit.id == 0 or any(e.mentioned_in(unit.text) for e in self.entities):
            return None
        about = self.unit_about[unit.id]
        previous = self.index.units[unit.id - 1]
        if len(about) != 1 or previous.section != unit.section:
            return None
        entity = next(e for e in self.entities if e.name in about)
        return entity if entity.mentioned_in(previous.text) else None

    def _refers_ahead(self, unit: Unit) -> bool:
        """ "When they draft a how-to guide, Technical Writers:": the main clause names who "they" are."""
        clause = _OPENING_CLAUSE.match(unit.text)
        return clause is not None and any(e.pattern.match(unit.text, clause.end()) for e in self.entities)

    def _with_antecedents(self, chosen: list[Unit]) -> list[Unit]:
        """A quoted "This includes embedding AI…" needs the sentence before it to say what "this" is; a
        "They…" whose referent is certain does not (the answer names it in brackets, see ``render``), nor
        one whose own main clause names it."""
        out: list[Unit] = []
        for unit in chosen:
            if (
                _ANAPHORIC.match(unit.text)
                and unit.id > 0
                and self.referent(unit) is None
                and not _points_ahead(unit)
                and not self._refers_ahead(unit)
            ):
                previous = self.index.units[unit.id - 1]
                if previous.section == unit.section and previous not in out and previous not in chosen:
                    out.append(previous)
            if unit not in out:
                out.append(unit)
        return sorted(out, key=lambda u: u.id) if len({u.section for u in out}) == 1 else out

    @staticmethod
    def _length(units: list[Unit]) -> int:
        return sum(len(u.text) + 2 for u in units)

    # -- rendering ---------------------------------------------------------------------------------------

    def render(self, units: list[Unit], question: str, sure: bool = True) -> list[Block]:
        """The answer's blocks, each with the units it quotes: sentences of one section run together, rows become
        the whole table (one entity's column when the question names one entity) or sentences saying what they
        answer, a list keeps its lead-in and items. ``sure``: the article answers the whole question, so a yes/no
        question a row decides may get its "Yes." (not for "Is Figma mandatory for UI designers?", which the row
        answers only in part). Markdown is made from them at the edge (bot/blocks.py)."""
        named = self.entities_in(question)
        blocks: list[Block] = []
        rows = sorted((u for u in units if u.kind == "row"), key=lambda u: u.id)  # the article's order
        for unit in units:
            if unit.kind == "row":
                if unit is rows[0]:
                    blocks.append(self._rows(rows, named, question, sure))
                continue
            last = blocks[-1] if blocks else None
            if (
                isinstance(last, Sentences)
                and unit.kind == "sentence"
                and self.index.units[last.units[-1]].kind == "sentence"
                and self.index.units[last.units[-1]].section == unit.section
                and not last.sentences[-1].endswith(":")
            ):
                last.sentences.append(self._named(unit, units))
                last.units.append(unit.id)
            elif unit.id in self.item_sections:
                blocks.append(self.titles_with_content(unit))
            elif unit.kind == "list":
                blocks.append(listing(self._named(unit, units), [unit.id]))
            else:
                blocks.append(Sentences(sentences=[self._named(unit, units)], units=[unit.id]))
        return blocks

    def _rows(self, rows: list[Unit], named: list[Entity], question: str, sure: bool) -> Table | RowSentence:
        """Rows of the comparison: the whole table as a table, rows picked from it as the bot's sentence."""
        ids = [r.id for r in rows]
        if self.whole_table(rows):
            header = rows[0].header
            columns = self._columns(header, named)
            cells = [[r.cells[i] for i in columns] for r in rows]
            return Table(header=[header[i] for i in columns], rows=cells, units=ids)
        text = self._yes_no_rows(rows, named, question, sure) or self._row_sentences(rows, named)
        return RowSentence(text=text, header=list(rows[0].header), rows=[list(r.cells) for r in rows], units=ids)

    def titles_with_content(self, unit: Unit) -> Listing:
        """A list of item titles ("To become one, you need: 1. Strong Programming Skills …") with what each item
        says first, in the article's words: "1. **Strong Programming Skills**: Languages like Python … are
        essential." Readers asked for the content; the titles alone leave it to them to look up."""
        lead, _, rest = unit.text.partition("\n\n")
        children = {section.split(PATH_SEPARATOR)[-1]: section for section in self.item_sections[unit.id]}
        items = []
        for line in rest.splitlines():
            title = line[2:] if line.startswith("- ") else line
            marker, name = ("-", title) if line.startswith("- ") else _NUMBERED_TITLE.match(title).groups()
            quotable = [u for u in self.sections.get(children.get(title, ""), []) if _quotable(u)]
            # What the role does there, rather than the setting ("AI models require clean and structured data.").
            naming = [u for u in quotable if any(e.mentioned_in(u.text) for e in self.entities)]
            content = next(iter(naming or quotable), None)
            text = _inline(content.text) if content else ""
            # A long list under an item ("one of several migration approaches: Rehost…; Replatform…; …") would make
            # the answer the whole section: its title alone, the rest left to "tell me more".
            items.append(Item(marker, text if len(text) <= ITEM_CHARS else "", name))
        return Listing(lead=lead, items=items, units=[unit.id])

    def _named(self, unit: Unit, units: list[Unit]) -> str:
        """The unit's text, an opening "They" replaced by "[Site Reliability Engineers]" when the sentence it refers to is
        not quoted just before it: brackets mark the one word that is not the article's."""
        entity = self.referent(unit)
        position = units.index(unit)
        if entity is None or (position > 0 and units[position - 1].id == unit.id - 1):
            return unit.text
        match = _PRONOUN.match(unit.text)
        name = entity.plural if match.group(2).lower() == "they" else f"{entity.plural}’"
        return f"{match.group(1)}[{name}]{unit.text[match.end() :]}"

    def _row_sentences(self, rows: list[Unit], named: list[Entity]) -> str:
        """Rows picked from a larger table, as sentences that say what they answer: "For UX Designers, the
        article's comparison gives Key Tools as: Figma, Miro, Maze, and Optimal Workshop." A bare
        one-row table leaves the reader to work out what it answers."""
        sentences = []
        single = [self._columns(r.header, named)[1:] for r in rows]
        if (
            len(rows) > 1
            and all(len(c) == 1 for c in single)
            and len({r.header[c[0]] for r, c in zip(rows, single, strict=True)}) == 1
        ):
            # Rows of one role: one sentence ("For UX Designers, … gives Focus as: …; Key Tools as: …").
            first, rest = rows[0], rows[1:]
            column = single[0][0]
            more = "; ".join(self.profile.say("row_more", aspect=r.cells[0], cell=r.cells[column]) for r in rest)
            cell = f"{first.cells[column]}; {more}"
            return self.profile.say(
                "row_one", entity=self._role_of(first.header[column]), aspect=first.cells[0], cell=cell
            )
        for row in rows:
            columns = self._columns(row.header, named)[1:]
            aspect = row.cells[0]
            roles = [self._role_of(row.header[i]) for i in columns]
            if len(columns) == 1:
                sentences.append(
                    self.profile.say("row_one", entity=roles[0], aspect=aspect, cell=row.cells[columns[0]])
                )
            else:
                cells = "; ".join(
                    self.profile.say("row_each", entity=role, cell=row.cells[i])
                    for role, i in zip(roles, columns, strict=True)
                )
                sentences.append(self.profile.say("row_all", aspect=aspect, cells=cells))
        return " ".join(sentences)

    def _yes_no_rows(self, rows: list[Unit], named: list[Entity], question: str, sure: bool = True) -> str:
        """ "Do data analysts use R?": when a row's cell for the one role asked about names what the question asks
        about, the answer says yes before the evidence; when only another role's cell names it, it says whose.
        "Who uses Figma?", naming no role: when one role's cell names it, it says whose.
        "" when the rows do not decide it (the plain row sentences then)."""
        which = not named and bool(_WHICH.match(question))  # "who uses OpenCV?": whose cell names it
        if not which and (len(named) != 1 or not _YES_NO.match(question)):
            return ""
        asked = [w for w in tokens(question) if w not in STOPWORDS and stem(w) not in self.framing_stems]
        # What is asked about: a name ("R", "XGBoost", "chatbots"), rarer than the words any answer shares with its
        # question ("models", "use"), or a one- or two-letter name of a language.
        asked = [
            w for w in asked if w not in self.profile.entity_terms() and (rarity(w) >= NAMEABLE_RARITY or len(w) <= 2)
        ]
        if not asked:
            return ""

        def names(cell: str) -> list[str]:
            """The asked words the cell names, spelt as the cell spells them ("R", "C++")."""
            found = (re.search(rf"(?<![\w+#]){re.escape(w)}(?![\w+#])", cell, re.I) for w in asked)
            return [match.group(0) for match in found if match]

        for row in rows:
            columns = self._columns(row.header, self.entities)[1:]
            if which:
                found = [i for i in columns if names(row.cells[i])]
                if len(found) == 1:
                    cells = "; ".join(
                        self.profile.say("row_each", entity=self._role_of(row.header[i]), cell=row.cells[i])
                        for i in columns
                    )
                    role = self._role_of(row.header[found[0]])
                    term = names(row.cells[found[0]])[0]
                    return self.profile.say("row_which", term=term, entity=role, aspect=row.cells[0], cells=cells)
                continue
            mine = [i for i in columns if named[0].mentioned_in(row.header[i])]
            others = [i for i in columns if i not in mine]
            if mine and names(row.cells[mine[0]]):
                return self.profile.say("row_yes", sentence=self._row_sentences([row], named)) if sure else ""
            found = [i for i in others if names(row.cells[i])]
            if mine and found:
                other = self._role_of(row.header[found[0]])
                term = names(row.cells[found[0]])[0]
                cells = "; ".join(
                    self.profile.say("row_each", entity=self._role_of(row.header[i]), cell=row.cells[i])
                    for i in columns
                )
                return self.profile.say(
                    "row_other", term=term, other=other, entity=named[0].plural, aspect=row.cells[0], cells=cells
                )
        return ""

    def _role_of(self, column: str) -> str:
        """A column's heading as the role's plural when it names an entity ("UX Designer" → "UX Designers")."""
        entity = next((e for e in self.entities if e.mentioned_in(column)), None)
        return entity.plural if entity else column

    def _columns(self, header: list[str], named: list[Entity]) -> list[int]:
        """The table's columns to show: the aspect and the named entity's column, or all of them."""
        columns = list(range(len(header)))
        if len(named) == 1:
            keep = [i for i in columns[1:] if named[0].mentioned_in(header[i])]
            if keep:
                return [0, *keep]
        return columns

    def whole_table(self, rows: list[Unit]) -> bool:
        """Are these rows all of their table (a whole comparison), not rows picked from it?"""
        table = self.sections.get(rows[0].section, []) if rows else []
        return len(rows) == sum(1 for u in table if u.kind == "row" and u.header == rows[0].header)

    def chunk_of(self, units: list[Unit]) -> int:
        """The passage to cite for units of one section: a single row's own chunk, else the first unit's."""
        if len(units) == 1 and units[0].id in self.row_chunk:
            return self.row_chunk[units[0].id]
        return self.unit_chunk[units[0].id]

    def quote_text(self, units: list[Unit]) -> str:
        """What a source shows: the quoted units of one section, in the article's order."""
        ordered = sorted(units, key=lambda u: u.id)
        rows = [u for u in ordered if u.kind == "row"]
        texts = [
            markdown(self.titles_with_content(u)) if u.id in self.item_sections else u.text
            for u in ordered
            if u.kind != "row"
        ]
        if rows:
            texts.append(markdown(Table(header=rows[0].header, rows=[r.cells for r in rows])))
        return "\n\n".join(texts)
