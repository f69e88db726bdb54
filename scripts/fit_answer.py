"""Fit the answer-composition weights (bot/data/answer_params.json) on the training splits' gold units.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/fit_answer.py            # grid search, write, report held-out
    HF_HUB_OFFLINE=1 .venv/bin/python scripts/fit_answer.py --dry-run  # the same, writing nothing
    HF_HUB_OFFLINE=1 .venv/bin/python scripts/fit_answer.py --failures # the training turns it gets wrong

Every answerable turn of the sets marked ``split = "train"`` in tests/eval/sets.toml is resolved,
embedded and retrieved once. It is composed with the question adapter fitted without its article
(scripts/fit_adapter.py's ``cross_fitted_adapters``): the committed adapter has learnt these turns by heart.
Each point of a small grid of ``AnswerParams`` composes its answer, scored by the mean of first-unit
accuracy, unit precision and unit recall against the turn's gold units and the share of answers holding
every expected fact. The best point is written with this command
and the held-out gold figures, unless its gain over the committed weights is within one standard error of the
paired per-turn difference: then the committed weights stay (a refit does not chase noise).
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from fit_adapter import cross_fitted_adapters
from fitting import write_json

from bot import Chatbot
from bot.answer import PARAMS_FILE, AnswerParams, QueryAdapter
from bot.blocks import markdown
from bot.evaluation import (
    asked,
    bot_for,
    gold_units,
    library_versions,
    load_cases,
    load_sets,
    missing_facts,
    run,
    training_fingerprint,
)

GRID = {
    "lexical_weight": (0.1, 0.25, 0.4),
    "aspect_bonus": (0.05, 0.15, 0.3),
    "unit_margin": (0.02, 0.06, 0.1),
    "item_margin": (0.05, 0.1, 0.2),
    "whole_section": (True, False),
}


def prepared_turns(bot: Chatbot, sets, adapters: dict[str, QueryAdapter]) -> list[tuple]:
    """(bot, adapter, resolved question, vector, hits, gold unit ids, expected facts) of every answerable training
    turn the bot answers; the adapter is the one fitted without the turn's article."""
    turns = []
    for eval_set in sets:
        for chatbot, turn, reply in asked(bot, [eval_set]):
            gold = gold_units(turn.gold, chatbot.index.units)
            if turn.refuse or not gold or not reply.in_scope:
                continue
            resolved = reply.trace.resolved_question
            vector = chatbot.embedder.encode([resolved])[0]
            hits = chatbot.retriever.search(resolved, vector, k=len(chatbot.index.chunks))
            turns.append((chatbot, adapters[eval_set.article], resolved, vector, hits, gold, turn.expect))
    return turns


def turn_scores(turns: list[tuple], params: AnswerParams, encode) -> list[float]:
    """Each turn's mean of first unit right, unit precision, unit recall and every expected fact present: the
    gold measures reward quoting the right units, the facts that none is left out."""
    return [score for score, _ in composed(turns, params, encode)]


def composed(turns: list[tuple], params: AnswerParams, encode) -> list[tuple[float, list[int]]]:
    """Each turn's score (see ``turn_scores``) and the unit ids its answer quotes, in order."""
    results = []
    for chatbot, adapter, question, vector, hits, gold, expect in turns:
        chatbot.composer.params = params
        chatbot.composer.adapter = adapter
        units = chatbot.composer.compose(question, vector, hits, encode)
        quoted = [u.id for u in units]
        first = bool(quoted) and quoted[0] in gold
        precision = len(set(quoted) & set(gold)) / len(quoted) if quoted else 0.0
        recall = len(set(quoted) & set(gold)) / len(gold)
        facts = not missing_facts("\n\n".join(map(markdown, chatbot.composer.render(units, question))), expect)
        results.append(((first + precision + recall + facts) / 4, quoted))
    return results


def failures(turns: list[tuple], params: AnswerParams, encode) -> list[str]:
    """The training turns ``params`` answer imperfectly, worst first, each as a few lines: the question, the
    units quoted and the gold ones (``--failures``). Composed with cross-fitted adapters, they show how new
    questions fail, and where to look next, without opening a held-out question."""

    def short(chatbot, ids: list[int]) -> str:
        return " / ".join(chatbot.index.units[i].text.replace("\n", " ")[:70] for i in ids) or "(nothing)"

    report = []
    for turn, (score, quoted) in sorted(
        zip(turns, composed(turns, params, encode), strict=True), key=lambda r: r[1][0]
    ):
        if score < 1:
            chatbot, _, question, _, _, gold, _ = turn
            report.append(
                f"{score:.2f}  {question}\n      quoted: {short(chatbot, quoted)}\n      gold:   {short(chatbot, gold)}"
            )
    return report


def clearly_better(new: list[float], old: list[float]) -> bool:
    """Does ``new`` beat ``old`` on the same turns by more than one standard error of the paired difference?
    A smaller gain is noise: chasing it would swap the weights on every refit."""
    differences = [a - b for a, b in zip(new, old, strict=True)]
    if len(differences) < 2:
        return statistics.fmean(differences) > 0
    return statistics.fmean(differences) > statistics.stdev(differences) / len(differences) ** 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="search and report, but do not write the parameters")
    parser.add_argument(
        "--failures",
        action="store_true",
        help="list the training turns the committed weights answer imperfectly (cross-fitted), then stop",
    )
    args = parser.parse_args()

    sets = load_sets()
    bot = Chatbot.load()
    train = [s for s in sets if s.split == "train"]
    adapters = cross_fitted_adapters(bot)
    turns = prepared_turns(bot, train, adapters)

    @lru_cache(maxsize=4096)
    def encode_one(text: str):
        return bot.embedder.encode([text])[0]

    def encode(texts: list[str]):
        import numpy as np

        return np.vstack([encode_one(t) for t in texts])

    if args.failures:
        report = failures(turns, AnswerParams.load(), encode)
        print("\n".join(report))
        print(f"{len(report)} of {len(turns)} answerable training turns answered imperfectly")
        return
    results = []
    for values in itertools.product(*GRID.values()):
        params = AnswerParams(**dict(zip(GRID, values, strict=True)))
        per_turn = turn_scores(turns, params, encode)
        results.append((statistics.fmean(per_turn), values, params, per_turn))
    # Ties go to the point nearest the grid's middle (the least extreme weights).
    middle = [v[len(v) // 2] for v in GRID.values()]
    best_score, _, best, best_turns = max(
        results, key=lambda r: (round(r[0], 6), -sum(abs(a - b) for a, b in zip(r[1], middle, strict=True)))
    )
    print(
        f"grid of {len(results)} points on {len(turns)} answerable training turns of {', '.join(s.name for s in train)}"
    )
    print(f"best: {asdict(best)}  training score {best_score:.4f} (mean of first-unit, precision, recall, facts)")
    for point_score, values, *_ in sorted(results, key=lambda r: -r[0])[:6]:
        print(f"  {point_score:.4f}  {dict(zip(GRID, values, strict=True))}")
    # The committed weights stay unless the best point is clearly better on these turns.
    committed = AnswerParams.load()
    incumbent = next((r for r in results if r[2] == committed), None)
    if incumbent is not None and incumbent[2] != best and not clearly_better(best_turns, incumbent[3]):
        print(f"keeping the committed {asdict(committed)} (score {incumbent[0]:.4f}): the best point's gain is noise")
        best_score, best = incumbent[0], committed

    figures = {}
    for eval_set in sets:
        chatbot = bot_for(eval_set, bot)
        chatbot.composer.params = best
        # A training article's figures with the adapter fitted without it, a held-out one's with the committed one.
        committed_adapter = QueryAdapter.load(str(chatbot.index.manifest.get("model", "")), chatbot.index.dimension)
        chatbot.composer.adapter = (
            adapters.get(eval_set.article, committed_adapter) if eval_set.split == "train" else committed_adapter
        )
        gold = run(chatbot, load_cases(eval_set.file)).summary()["gold"]
        figures[eval_set.name] = gold
        if gold.get("questions"):
            print(
                f"{eval_set.name:<16} ({eval_set.split:<7}) first-unit {gold['first_unit_accuracy']:.3f}  "
                f"precision {gold['unit_precision']:.3f}  recall {gold['unit_recall']:.3f}  "
                f"non-gold share {gold['non_gold_share']:.3f}  ({gold['questions']} questions)"
            )
    if not args.dry_run:
        write_json(
            PARAMS_FILE,
            {
                "params": asdict(best),
                "provenance": {
                    "command": "python scripts/fit_answer.py",
                    "trained_on": [s.name for s in train],
                    "training_fingerprint": training_fingerprint([s.name for s in train]),
                    "versions": library_versions(),
                    "training_turns": len(turns),
                    "training_score": round(best_score, 4),
                    # The training articles' figures (score and gold_figures) are out-of-sample for the adapter.
                    "composed_with": "each training article with the question adapter fitted without it",
                    "grid": GRID,
                    "gold_figures": figures,
                },
            },
        )
        print(f"wrote {PARAMS_FILE}")


if __name__ == "__main__":
    main()
