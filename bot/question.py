"""A message read once: cleaned, typos fixed, another name of a role written as the article's, and a follow-up
resolved to the standalone question it stands for. The later stages (retrieval, the scope decision, composition,
the writer) read this ``Question``; none of them goes back to the raw message or the history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from . import config
from .errors import EmptyQuestionError
from .followup import FollowUps
from .profile import Entity, Profile
from .scope import ScopeJudge
from .text import clean_question, prepare_question, question_parts, without_expansions

History = Sequence[tuple[str, str]]
"""Earlier turns, oldest first: (user message, bot answer) pairs."""


@dataclass(frozen=True)
class Question:
    text: str  # the message, normalised: what the reply echoes
    resolved: str  # the standalone question: what retrieval, the scope decision and composition read
    truncated: bool = False  # the message was cut to the length limit
    previous: tuple[str, ...] = ()  # the earlier questions, each resolved against those before it, oldest first
    asked_again: str = ""  # the earlier question this one asks again about another entity ("what about ML ones?")
    more: bool = False  # "tell me more": the last question again, going on from where its answer stopped
    mores: int = 0  # how many "more"s in a row came just before this one
    other_name: Entity | None = None  # "AI developer": the entity the article calls the role the message named
    # A message asking twice ("What does an X do and what tools do they use?"): each question it asks, standalone
    # ("what tools do Xs use?"), in order; () for a message asking once.
    parts: tuple[str, ...] = ()

    @property
    def last(self) -> str:
        """The previous question, resolved; "" for a first question."""
        return self.previous[-1] if self.previous else ""


class QuestionReader:
    """Reads a message and its history into a ``Question``: the one place a message is parsed."""

    def __init__(self, profile: Profile, scope: ScopeJudge, followups: FollowUps) -> None:
        self.profile = profile
        self.scope = scope
        self.followups = followups

    def read(self, message: str, history: History | None = None, limit: int | None = None) -> Question:
        """Raises EmptyQuestionError (with the profile's wording) when nothing readable is left."""
        limit = limit or config.max_question_chars()
        try:
            text, truncated = prepare_question(message, limit)
        except EmptyQuestionError:
            raise EmptyQuestionError(self.profile.empty_question) from None
        turns = self._turns(history or [], limit)
        previous = [resolved for _, resolved in turns]
        last_answer = _answer_of(history[-1]) if history else ""
        resolved, asked_again = self.followups.resolution(self.standalone(text), previous, last_answer)
        more = bool(previous) and resolved == previous[-1] and self.followups.asks_more(text)
        return Question(
            text=text,
            resolved=resolved,
            truncated=truncated,
            previous=tuple(previous),
            asked_again=asked_again,
            more=more,
            mores=self._mores(turns) if more else 0,
            other_name=next((entity for _, entity in self.profile.other_names(text)), None),
            parts=self._parts(resolved),
        )

    def standalone(self, text: str) -> str:
        """The message with typos of article words fixed, "an SRE (Site Reliability Engineering) team" read as
        "an SRE team", "data and DevOps engineers" written out in full and a page headline before its question
        dropped, and another name of an entity ("AI developer") written as the entity's: what follow-up resolution
        starts from."""
        text = self.profile.renamed(text)[0]
        return self.profile.without_headline(self.profile.expand(without_expansions(self.scope.corrected(text))))

    def _parts(self, resolved: str) -> tuple[str, ...]:
        """The questions of a message that asks more than one, each resolved against the one before it as a
        follow-up is ("they" in the second part is the role the first names)."""
        pieces = question_parts(resolved)
        if len(pieces) < 2:
            return ()
        parts: list[str] = []
        for piece in pieces:
            parts.append(self.followups.resolve(piece, parts) if parts else piece)
        return tuple(parts)

    def _turns(self, history: History, limit: int) -> list[tuple[str, str]]:
        """Earlier user messages (cleaned) and each one resolved against those before it, oldest first."""
        turns: list[tuple[str, str]] = []
        resolved: list[str] = []
        last_answer = ""
        for turn in list(history)[-config.MAX_HISTORY_TURNS :]:
            user = turn[0] if isinstance(turn, (tuple, list)) and turn else turn
            if not isinstance(user, str):
                continue
            try:
                cleaned = clean_question(user, limit)
            except ValueError:
                continue
            resolved.append(self.followups.resolve(self.standalone(cleaned), resolved, last_answer))
            turns.append((cleaned, resolved[-1]))
            last_answer = _answer_of(turn)
        return turns

    def _mores(self, turns: list[tuple[str, str]]) -> int:
        """How many turns in a row, ending with the last, asked for more of the question before them (a turn
        asking for more that resolved to something new, "what's that?" naming a term, does not count)."""
        said = 0
        for j in range(len(turns) - 1, 0, -1):
            text, resolved = turns[j]
            if not (self.followups.asks_more(text) and resolved == turns[j - 1][1]):
                break
            said += 1
        return said


def _answer_of(turn: object) -> str:
    """The bot's answer of a history turn: the second of a (user message, answer) pair; "" for anything else."""
    answer = turn[1] if isinstance(turn, (tuple, list)) and len(turn) > 1 else ""
    return answer if isinstance(answer, str) else ""
