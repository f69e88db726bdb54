"""Score the bot on an eval set (JSON lines; format in tests/eval/README.md)."""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import config
from .chat import Chatbot, Reply
from .errors import RolebotError

DEFAULT_EVAL = config.PROJECT_ROOT / "tests" / "eval" / "eval.jsonl"


@dataclass
class Turn:
    question: str
    expect: list[str | list[str]] = field(default_factory=list)  # facts the answer must contain
    refuse: bool = False


@dataclass
class Case:
    kind: str  # "answer" | "refuse" | "conversation"
    turns: list[Turn]
    type: str = ""  # for refusals: "off-topic" | "near-domain"
    line: int = 0


@dataclass
class Outcome:
    case: Case
    turn: int
    question: str
    passed: bool
    answer: str
    in_scope: bool
    missing: list[str]
    ms: float


@dataclass
class Report:
    outcomes: list[Outcome]

    def _rate(self, keep) -> float:
        chosen = [o for o in self.outcomes if keep(o)]
        return sum(o.passed for o in chosen) / len(chosen) if chosen else float("nan")

    @property
    def answer_accuracy(self) -> float:
        return self._rate(lambda o: o.case.kind == "answer")

    @property
    def refusal_accuracy(self) -> float:
        return self._rate(lambda o: o.case.kind == "refuse")

    @property
    def followup_accuracy(self) -> float:
        """Later turns of conversations: the ones that need the history."""
        return self._rate(lambda o: o.case.kind == "conversation" and o.turn > 0)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.passed]

    def latency_ms(self) -> tuple[float, float]:
        times = sorted(o.ms for o in self.outcomes)
        return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]

    def summary(self) -> dict:
        median, p95 = self.latency_ms()
        counts = {
            kind: sum(1 for o in self.outcomes if o.case.kind == kind) for kind in ("answer", "refuse", "conversation")
        }
        return {
            "answer_accuracy": round(self.answer_accuracy, 4),
            "refusal_accuracy": round(self.refusal_accuracy, 4),
            "followup_accuracy": round(self.followup_accuracy, 4),
            "latency_median_ms": round(median, 2),
            "latency_p95_ms": round(p95, 2),
            "questions": counts,
            "failures": len(self.failures),
        }


def load_cases(path: Path = DEFAULT_EVAL) -> list[Case]:
    """Read an eval file; a malformed line is an error that names the file and line."""
    cases = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RolebotError(f"Cannot read eval file {path}: {exc}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            record = json.loads(line)
            kind = record["kind"]
            if kind == "answer":
                turns = [Turn(record["question"], record.get("expect", []))]
            elif kind == "refuse":
                turns = [Turn(record["question"], refuse=True)]
            elif kind == "conversation":
                turns = [
                    Turn(t["question"], t.get("expect", []), bool(t.get("refuse", False))) for t in record["turns"]
                ]
            else:
                raise ValueError(f"unknown kind {kind!r}")
        except (ValueError, KeyError, TypeError) as exc:
            raise RolebotError(f"{path}, line {number}: not a valid eval record ({exc})") from exc
        cases.append(Case(kind, turns, record.get("type", ""), number))
    if not cases:
        raise RolebotError(f"Eval file {path} holds no questions")
    return cases


def check(turn: Turn, reply: Reply) -> tuple[bool, list[str]]:
    if turn.refuse:
        return (not reply.in_scope), ([] if not reply.in_scope else ["(should have been refused)"])
    if not reply.in_scope:
        return False, ["(refused)"]
    answer = reply.answer.lower()
    missing = []
    for fact in turn.expect:
        options = [fact] if isinstance(fact, str) else list(fact)
        if not any(option.lower() in answer for option in options):
            missing.append(" | ".join(options))
    return not missing, missing


def run(bot: Chatbot, cases: list[Case]) -> Report:
    outcomes = []
    for case in cases:
        history: list[tuple[str, str]] = []
        for i, turn in enumerate(case.turns):
            started = time.perf_counter()
            reply = bot.ask(turn.question, history)
            ms = (time.perf_counter() - started) * 1000
            passed, missing = check(turn, reply)
            outcomes.append(Outcome(case, i, turn.question, passed, reply.answer, reply.in_scope, missing, ms))
            history.append((turn.question, reply.answer))
    return Report(outcomes)
