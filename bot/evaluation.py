"""Score the bot on eval sets (JSON lines; format in tests/eval/README.md).

Two kinds of measure:
- *substring accuracy*: an answer passes when it contains every expected fragment; a refusal when the
  bot declines; follow-ups are the later turns of conversations;
- *gold units*: each answerable question names the article units a perfect answer quotes (``gold``,
  as verbatim fragments, so they survive re-chunking). From them: first-unit accuracy (the answer
  opens with a gold unit), unit precision and recall, and the share of answers quoting a non-gold unit.
The sets themselves (which file, which corpus, train or held-out) are listed in tests/eval/sets.toml.
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import config
from .chat import Chatbot, Reply
from .chunking import Unit
from .errors import RolebotError
from .profile import tomllib

EVAL_DIR = config.PROJECT_ROOT / "tests" / "eval"
SETS_FILE = EVAL_DIR / "sets.toml"
KINDS = ("answer", "refuse", "conversation")


@dataclass
class Turn:
    question: str
    expect: list[str | list[str]] = field(default_factory=list)  # facts the answer must contain
    refuse: bool = False
    gold: list[str] = field(default_factory=list)  # fragments naming the units a perfect answer quotes
    type: str = ""  # definition | list | comparison | aspect | yes-no | two-part


@dataclass
class Case:
    kind: str  # "answer" | "refuse" | "conversation"
    turns: list[Turn]
    type: str = ""  # for refusals: "off-topic" | "near-domain" | "other-entity"
    line: int = 0


@dataclass
class EvalSet:
    name: str
    file: Path
    split: str  # "train" (tune freely) | "heldout" (never tuned on)
    corpus: Path | None = None  # None: the bot's own corpus
    scope_fit: bool = True  # a training set the (removed) fitted scope model learnt from; kept as sets.toml says

    @property
    def article(self) -> str:
        """The article the set asks about: its corpus folder's parent's name, "main" for the bot's own."""
        return self.corpus.parent.name if self.corpus else "main"


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
    quoted: list[int] = field(default_factory=list)  # unit ids, in the order quoted
    gold: list[int] = field(default_factory=list)  # gold unit ids, in order
    outcome: str = ""  # the reply's: answered | partial | declined

    @property
    def expects_answer(self) -> bool:
        return not self.case.turns[self.turn].refuse

    @property
    def type(self) -> str:
        return self.case.turns[self.turn].type


@dataclass
class Report:
    outcomes: list[Outcome]

    def _rate(self, keep) -> float:
        passed, total = self._tally(keep)
        return passed / total if total else float("nan")

    def _tally(self, keep) -> tuple[int, int]:
        chosen = [o for o in self.outcomes if keep(o)]
        return sum(o.passed for o in chosen), len(chosen)

    def tallies(self) -> dict[str, tuple[int, int]]:
        """(passed, asked) per accuracy: how much one question moves each figure."""
        return {
            "answer_accuracy": self._tally(lambda o: o.case.kind == "answer"),
            "refusal_accuracy": self._tally(lambda o: o.case.kind == "refuse"),
            "followup_accuracy": self._tally(lambda o: o.case.kind == "conversation" and o.turn > 0),
        }

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

    def gold_metrics(self, type_: str | None = None) -> dict:
        """First-unit accuracy, unit precision/recall and the share quoting a non-gold unit (answerable turns
        with gold units; a refused one scores 0)."""
        chosen = [o for o in self.outcomes if o.expects_answer and o.gold and (type_ is None or o.type == type_)]
        if not chosen:
            return {"questions": 0}
        first = [bool(o.quoted) and o.quoted[0] in o.gold for o in chosen]
        precision = [len(set(o.quoted) & set(o.gold)) / len(o.quoted) if o.quoted else 0.0 for o in chosen]
        recall = [len(set(o.quoted) & set(o.gold)) / len(set(o.gold)) for o in chosen]
        extra = [any(u not in o.gold for u in o.quoted) for o in chosen]
        return {
            "questions": len(chosen),
            "first_unit_accuracy": round(statistics.mean(first), 4),
            "unit_precision": round(statistics.mean(precision), 4),
            "unit_recall": round(statistics.mean(recall), 4),
            "non_gold_share": round(statistics.mean(extra), 4),
        }

    def summary(self) -> dict:
        median, p95 = self.latency_ms()
        counts = {kind: sum(1 for o in self.outcomes if o.case.kind == kind) for kind in KINDS}
        answered = [len(o.answer) for o in self.outcomes if o.expects_answer and o.in_scope]
        types = sorted({o.type for o in self.outcomes if o.expects_answer and o.gold and o.type})
        return {
            "answer_accuracy": round(self.answer_accuracy, 4),
            "refusal_accuracy": round(self.refusal_accuracy, 4),
            "followup_accuracy": round(self.followup_accuracy, 4),
            # Passed and asked, and the 95 % Wilson interval: on a few dozen questions one question is several
            # points, so a change smaller than the interval may be noise.
            "tallies": {name: list(tally) for name, tally in self.tallies().items()},
            "intervals": {name: wilson_interval(*tally) for name, tally in self.tallies().items()},
            "median_answer_chars": statistics.median(answered) if answered else None,
            "latency_median_ms": round(median, 2),
            "latency_p95_ms": round(p95, 2),
            "questions": counts,
            "failures": len(self.failures),
            "gold": self.gold_metrics(),
            "gold_by_type": {t: self.gold_metrics(t) for t in types},
            "outcomes": self.outcome_counts(),
        }

    def outcome_counts(self) -> dict[str, dict[str, int]]:
        """Per kind of case (answer, refuse, conversation), how many replies were answered, partial or declined."""
        counts = {kind: dict.fromkeys(("answered", "partial", "declined"), 0) for kind in KINDS}
        for o in self.outcomes:
            if o.outcome in counts[o.case.kind]:
                counts[o.case.kind][o.outcome] += 1
        return counts


def wilson_interval(passed: int, total: int, z: float = 1.96) -> list[float] | None:
    """The 95 % Wilson score interval of a proportion (None for no questions): unlike p ± z·se it stays inside
    [0, 1] and holds up for small sets and rates near 100 %."""
    if total == 0:
        return None
    p = passed / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return [round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)]


@dataclass
class Change:
    """How one set's turns moved between two runs of ``rolebot eval --json``: ``won`` failed before and pass
    now, ``lost`` passed before and fail now (turns named by line and turn, so no question is shown)."""

    name: str
    split: str
    won: int
    lost: int


def compare(before: dict, after: dict) -> list[Change]:
    """The sets of two ``--json`` runs' "sets", paired turn by turn. A set whose turn count differs (its file
    was edited) or that one run lacks cannot be paired and is left out."""
    changes = []
    for name, now in after.items():
        then = before.get(name)
        if then is None or then.get("questions") != now.get("questions"):
            continue
        failed_then = {(f["line"], f["turn"]) for f in then["failed"]}
        failed_now = {(f["line"], f["turn"]) for f in now["failed"]}
        changes.append(Change(name, now.get("split", ""), len(failed_then - failed_now), len(failed_now - failed_then)))
    return changes


def mcnemar_p(won: int, lost: int) -> float:
    """The exact two-sided McNemar p-value: how likely a split of the changed turns at least this uneven is when
    the change does nothing (each changed turn a fair coin). Small sets move a few turns on noise alone."""
    n = won + lost
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(won, lost) + 1)) / 2**n
    return min(1.0, 2 * tail)


def paired(before: dict, after: dict) -> dict:
    """Two ``--json`` runs' sets compared: turns won and lost per set and per split (with McNemar's p), and the
    sets of ``after`` that could not be paired."""
    changes = compare(before, after)
    splits: dict[str, dict] = {}
    for change in changes:
        pooled = splits.setdefault(change.split, {"won": 0, "lost": 0})
        pooled["won"] += change.won
        pooled["lost"] += change.lost
    for pooled in splits.values():
        pooled["p"] = round(mcnemar_p(pooled["won"], pooled["lost"]), 4)
    names = {c.name for c in changes}
    return {
        "sets": {c.name: {"split": c.split, "won": c.won, "lost": c.lost} for c in changes},
        "splits": splits,
        "unpaired": [name for name in after if name not in names],
    }


def training_fingerprint(names: list[str], path: Path | None = None) -> str:
    """A hash of what a fit learnt from: the named sets' files and their corpora. A fitted file records it
    (scripts/fit_*.py), so a test can tell a fit that predates a change to its training data."""
    chosen = {s.name: s for s in load_sets(path)}
    digest = hashlib.sha256()
    for name in sorted(names):
        eval_set = chosen[name]
        files = [eval_set.file]
        if eval_set.corpus is not None:
            files += sorted(p for p in eval_set.corpus.rglob("*") if p.is_file())
        for file in files:
            digest.update(name.encode() + b"\0" + file.name.encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """The versions a fit ran with, recorded beside it."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": sys.version.split()[0]}
    for package in ("numpy", "sentence-transformers", "torch", "scikit-learn"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    return found


def load_sets(path: Path | None = None) -> list[EvalSet]:
    """The eval sets named in ``path``, by default SETS_FILE (paths in it are relative to its folder)."""
    path = path or SETS_FILE
    if not path.is_file():  # an installed package has no tests/: the sets live in the repository only
        raise RolebotError(
            f"No eval sets at {path}: they are part of a checkout of the rolebot repository, not of an installed "
            "package. Run `rolebot eval` from a checkout, or give it a file: `rolebot eval my-questions.jsonl`"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        sets = []
        for item in data["set"]:
            corpus = item.get("corpus")
            sets.append(
                EvalSet(
                    item["name"],
                    (path.parent / item["file"]).resolve(),
                    item["split"],
                    (path.parent / corpus).resolve() if corpus else None,
                    bool(item.get("scope_fit", True)),
                )
            )
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise RolebotError(f"Cannot read the eval sets in {path}: {exc}") from exc
    return sets


def _turn(record: dict, kind: str) -> Turn:
    """One turn of a record, checked: a wrong type is the eval file's mistake, reported as such."""
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ValueError('needs a "question" that is a non-empty string')
    expect = record.get("expect", [])
    if not isinstance(expect, list) or not all(
        isinstance(e, str) or (isinstance(e, list) and e and all(isinstance(x, str) for x in e)) for e in expect
    ):
        raise ValueError('"expect" must be a list of strings (or of lists of alternative strings)')
    gold = record.get("gold", [])
    if not isinstance(gold, list) or not all(isinstance(g, str) for g in gold):
        raise ValueError('"gold" must be a list of strings')
    refuse = kind == "refuse" or bool(record.get("refuse", False))
    return Turn(question, expect, refuse, gold, str(record.get("type", "")) if kind != "refuse" else "")


def load_cases(path: Path) -> list[Case]:
    """Read an eval file; a malformed line is an error that names the file, the line and what is wrong."""
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
            if not isinstance(record, dict):
                raise ValueError("a record must be a JSON object")
            kind = record.get("kind")
            if kind in ("answer", "refuse"):
                turns = [_turn(record, kind)]
            elif kind == "conversation":
                if not isinstance(record.get("turns"), list) or not record["turns"]:
                    raise ValueError('a conversation needs a non-empty "turns" list')
                turns = [_turn(t if isinstance(t, dict) else {}, kind) for t in record["turns"]]
            else:
                raise ValueError(f'"kind" must be one of {", ".join(KINDS)}, not {kind!r}')
        except ValueError as exc:
            raise RolebotError(f"{path}, line {number}: not a valid eval record: {exc}") from exc
        cases.append(Case(kind, turns, str(record.get("type", "")), number))
    if not cases:
        raise RolebotError(f"Eval file {path} holds no questions")
    return cases


def gold_units(fragments: list[str], units: list[Unit]) -> list[int]:
    """The unit ids the fragments name: a row by its first cell, anything else by a verbatim piece."""
    ids = []
    for fragment in fragments:
        found = [u.id for u in units if u.kind == "row" and u.cells and u.cells[0] == fragment]
        found = found or [u.id for u in units if u.kind != "row" and fragment in u.text]
        if found and found[0] not in ids:
            ids.append(found[0])
    return ids


def missing_facts(answer: str, expect: list) -> list[str]:
    """The expected facts the answer lacks (a fact may be a list of alternatives, any one of which will do)."""
    answer = answer.lower()
    missing = []
    for fact in expect:
        options = [fact] if isinstance(fact, str) else list(fact)
        if not any(option.lower() in answer for option in options):
            missing.append(" | ".join(options))
    return missing


def check(turn: Turn, reply: Reply) -> tuple[bool, list[str]]:
    """Does the reply pass? An answerable turn must be answered (fully or in part) with its expected facts. A turn
    labelled "refuse" (the article does not answer it) passes when it is not passed off as a whole answer: declined,
    or a partial answer that says what the article does not cover (../shared/ANSWERS.md grades that harmless)."""
    if turn.refuse:
        whole = getattr(reply, "outcome", "answered" if reply.in_scope else "declined") == "answered"
        return not whole, (["(answered as if the article covered it)"] if whole else [])
    if not reply.in_scope:
        return False, ["(refused)"]
    missing = missing_facts(reply.answer, turn.expect)
    return not missing, missing


def run(bot: Chatbot, cases: list[Case]) -> Report:
    """Ask every case (conversations in one session each). ``bot`` may be anything with ``ask``; gold units are
    scored only when it has an ``index`` (the naive baseline has none)."""
    outcomes = []
    units = bot.index.units if hasattr(bot, "index") else []
    for case in cases:
        history: list[tuple[str, str]] = []
        for i, turn in enumerate(case.turns):
            started = time.perf_counter()
            reply = bot.ask(turn.question, history)
            ms = (time.perf_counter() - started) * 1000
            passed, missing = check(turn, reply)
            trace = getattr(reply, "trace", None)  # the naive baseline's replies have none
            quoted = list(trace.quoted_units) if trace else []
            gold = gold_units(turn.gold, units)
            said = getattr(reply, "outcome", "answered" if reply.in_scope else "declined")
            outcomes.append(
                Outcome(case, i, turn.question, passed, reply.answer, reply.in_scope, missing, ms, quoted, gold, said)
            )
            history.append((turn.question, reply.answer))
    return Report(outcomes)


def asked(bot: Chatbot, sets: list[EvalSet]) -> Iterator[tuple[Chatbot, Turn, Reply]]:
    """Every turn of the sets, asked as a user would (conversations in one session each), with the bot
    that answered it and its reply: what the fitting scripts learn from."""
    for eval_set in sets:
        chatbot = bot_for(eval_set, bot)
        for case in load_cases(eval_set.file):
            history: list[tuple[str, str]] = []
            for turn in case.turns:
                reply = chatbot.ask(turn.question, history)
                history.append((turn.question, reply.answer))
                yield chatbot, turn, reply


def bot_for(eval_set: EvalSet, default: Chatbot | None = None) -> Chatbot:
    """The bot an eval set is asked: the default one, or one on the set's own corpus (index in the cache)."""
    if eval_set.corpus is None and default is not None:
        return default
    if eval_set.corpus is None:
        return Chatbot.load()
    folder = config.cache_dir() / f"eval-{eval_set.name}"
    return Chatbot.load(corpus=eval_set.corpus, index=folder)
