"""Compose a short answer from the article's own words: the best units of the retrieved chunks.

Units are sentences, lead-ins with their lists, and table rows (see chunking.py). They are ranked
by cosine to the question plus key-term overlap; the best one or few are quoted verbatim.
Comparisons get the article's contrast sentence and the relevant rows of its comparison table.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from .chunking import Unit, markdown_table
from .followup import ML, mentions_both_roles, role_of
from .index import KnowledgeIndex
from .retrieval import Hit
from .scope import GENERIC
from .text import stem, stems

MAX_ANSWER_CHARS = 480
"""Answers stay short: a few sentences, one list or a small table."""

UNIT_MARGIN = 0.06
"""Further units are quoted only when they score within this margin of the best one."""

SMALL_CHUNK_CHARS = 320
"""A retrieved section this short is quoted whole rather than sentence by sentence."""

LEXICAL_WEIGHT = 0.25
"""Weight of IDF-weighted term overlap next to cosine when ranking units: exact terms like "XGBoost" matter."""

ASPECT_BONUS = 0.15
"""A table row whose aspect ("Tech Stack", "Deployment") the question names is what it asks for."""

_COMPARE = re.compile(
    r"\b(differ\w*|difference\w*|vs\.?|versus|compar\w*|contrast\w*|distinguish\w*|distinct|similar\w*|same as)\b", re.I
)
# "who uses XGBoost?" asks which role; "who are product managers?" does not.
_WHO = re.compile(
    r"^\s*(?:and\s+)?(?:who(?!\s+(?:is|are|was|were)\b)|which (?:role|one|engineer|of them|job|type)s?)\b", re.I
)
_BOTH = re.compile(r"\bai engineers?\b.*\bml engineers?\b|\bml engineers?\b.*\bai engineers?\b", re.I)
_OTHER_ROLE = re.compile(
    r"\b(?:software|data|traditional|regular|backend|front-?end|web|product)\s+(?:engineer|developer|scientist|manager)s?\b",
    re.I,
)
GENERIC_STEMS = frozenset(stem(w) for w in GENERIC)
_ML_MENTION = re.compile(r"\b(?:ML|Machine Learning(?: \(ML\))?) Engineers?\b")
_ANAPHORIC = re.compile(r"^(?:They|This|These|It|Those)\b")


@dataclass
class ScoredUnit:
    unit: Unit
    score: float
    names_aspect: bool = False  # a table row whose aspect ("Tech Stack") the question names


def _is_lead_in(unit: Unit) -> bool:
    return unit.kind == "sentence" and unit.text.endswith(":")


def is_comparison(question: str) -> bool:
    """Does the question contrast the two roles ("AI vs ML engineer", "who uses XGBoost?")?"""
    if mentions_both_roles(question) or _BOTH.search(question):
        return True
    if _OTHER_ROLE.search(question):
        return False  # "AI engineers vs regular software engineers" is not the AI/ML comparison
    asks_which_role = bool(_WHO.search(question)) and role_of(question) is None
    return bool(_COMPARE.search(question) or asks_which_role)


class Composer:
    def __init__(self, index: KnowledgeIndex) -> None:
        self.index = index
        self.unit_stems = [set(stems(u.embed_text)) for u in index.units]
        self.aspect_stems = [set(stems(u.cells[0])) if u.kind == "row" else set() for u in index.units]
        # Inverse document frequency over units: "XGBoost" says more about a unit than "engineer".
        n = len(index.units)
        df: dict[str, int] = {}
        for unit_stems in self.unit_stems:
            for s in unit_stems:
                df[s] = df.get(s, 0) + 1
        self.idf = {s: math.log((n + 1) / (count + 0.5)) for s, count in df.items()}
        self.unit_chunk = {}
        for chunk in index.chunks:
            for uid in chunk.unit_ids:
                self.unit_chunk.setdefault(uid, chunk.id)

    def rank_units(self, question: str, vector: np.ndarray, hits: list[Hit], depth: int = 4) -> list[ScoredUnit]:
        """Units of the top ``depth`` chunks, scored and sorted, best first."""
        query_stems = {s for s in stems(question) if s in self.idf}
        # Words that only frame the question ("work", "engineer", "use") say little about which unit
        # answers it; when the question has other words, only those count.
        specific = query_stems - GENERIC_STEMS
        query_stems = specific or query_stems
        total = sum(self.idf[s] for s in query_stems) or 1.0
        if depth:
            unit_ids: list[int] = []
            for hit in hits[:depth]:
                unit_ids += [u for u in hit.chunk.unit_ids if u not in unit_ids]
        else:
            unit_ids = list(range(len(self.index.units)))
        # A lead-in such as "To become an AI Engineer, you need:" says nothing on its own.
        unit_ids = [u for u in unit_ids if not _is_lead_in(self.index.units[u])]
        if not unit_ids:
            return []
        cosine = self.index.unit_vectors[unit_ids] @ vector.reshape(-1)
        scored = []
        for uid, cos in zip(unit_ids, cosine, strict=True):
            overlap = sum(self.idf[s] for s in query_stems & self.unit_stems[uid]) / total
            aspect = ASPECT_BONUS if query_stems & self.aspect_stems[uid] else 0.0
            scored.append(ScoredUnit(self.index.units[uid], float(cos) + LEXICAL_WEIGHT * overlap + aspect, aspect > 0))
        return sorted(scored, key=lambda s: -s.score)

    def compose(self, question: str, vector: np.ndarray, hits: list[Hit]) -> tuple[str, list[Unit]]:
        """The answer text and the units quoted in it."""
        # The article speaks of ML Engineers only in contrast with AI Engineers (its table and
        # contrast sentences), so a question about ML Engineers alone is answered the same way.
        if is_comparison(question) or role_of(question) == ML:
            # A comparison may draw on the contrast sentence and table rows wherever they are, so
            # every unit competes (the article is small; this is one matrix-vector product).
            ranked = self.rank_units(question, vector, hits, depth=0)
            chosen = self._comparison(ranked) if ranked else []
        else:
            ranked = self.rank_units(question, vector, hits)
            chosen = self._best(ranked) if ranked else []
        if not chosen:
            return "", []
        return self._render(chosen), chosen

    def _best(self, ranked: list[ScoredUnit]) -> list[Unit]:
        top = ranked[0].score
        chunk = self.index.chunks[self.unit_chunk[ranked[0].unit.id]]
        chosen: list[Unit] = []
        if chunk.kind == "text" and len(chunk.text) <= SMALL_CHUNK_CHARS:
            # A short section is quoted whole: "They work on bias detection…" belongs with its lead sentence.
            chosen = [u for u in (self.index.units[i] for i in chunk.unit_ids) if not _is_lead_in(u)]
        for item in ranked:
            if len(chosen) >= 3 or item.score < top - UNIT_MARGIN:
                break
            if item.unit not in chosen and (self._length([*chosen, item.unit]) <= MAX_ANSWER_CHARS or not chosen):
                chosen.append(item.unit)
        return self._with_antecedents(chosen)

    def _comparison(self, ranked: list[ScoredUnit]) -> list[Unit]:
        """The best contrast sentence, then the best table rows (at most two)."""
        contrasts = [
            s
            for s in ranked
            if s.unit.kind == "sentence"
            and not s.unit.text.endswith("?")
            and _ML_MENTION.search(s.unit.text)
            and re.search(r"\b(while|whereas|unlike|but)\b", s.unit.text, re.I)
        ]
        # A sentence that names both roles is the article's contrast; one that says "they" for AI
        # Engineers ("While they differ from ML Engineers, they work closely together…") leads only
        # when it fits the question clearly better.
        both = next((c for c in contrasts if mentions_both_roles(c.unit.text)), None)
        best = contrasts[0] if contrasts else None
        if both and best and best is not both and best.score < both.score + UNIT_MARGIN:
            best = both
        contrast = best.unit if best else None
        rows = [s for s in ranked if s.unit.kind == "row"]
        chosen = [contrast] if contrast and not (rows and rows[0].names_aspect) else []
        if rows:
            best = rows[0].score
            chosen += [s.unit for s in rows[:2] if s.score >= best - UNIT_MARGIN]
        if not chosen:
            return self._best(ranked)
        # A specific question ("who uses XGBoost?") is answered by its row; a sentence that outranks
        # every row still leads, as in "how do they differ?".
        return chosen

    def _with_antecedents(self, chosen: list[Unit]) -> list[Unit]:
        """A quoted "They work on bias detection…" needs the sentence before it to say who "they" are."""
        out: list[Unit] = []
        for unit in chosen:
            if _ANAPHORIC.match(unit.text) and unit.id > 0:
                previous = self.index.units[unit.id - 1]
                if previous.section == unit.section and previous not in out and previous not in chosen:
                    out.append(previous)
            if unit not in out:
                out.append(unit)
        return sorted(out, key=lambda u: u.id) if len({u.section for u in out}) == 1 else out

    @staticmethod
    def _length(units: list[Unit]) -> int:
        return sum(len(u.text) + 2 for u in units)

    @staticmethod
    def _render(units: list[Unit]) -> str:
        """Sentences of one section run together; rows merge into one table; lists keep their lines."""
        blocks: list[str] = []
        rows: list[Unit] = []
        for unit in units:
            if unit.kind == "row":
                rows.append(unit)
                continue
            if (
                unit.kind == "sentence"
                and blocks
                and not blocks[-1].endswith(":")
                and "\n" not in blocks[-1]
                and units[units.index(unit) - 1].section == unit.section
            ):
                blocks[-1] += " " + unit.text
            else:
                blocks.append(unit.text)
        if rows:
            blocks.append(markdown_table(rows[0].header, [r.cells for r in rows]))
        return "\n\n".join(blocks)
