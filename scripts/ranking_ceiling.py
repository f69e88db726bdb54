"""How far better ranking alone could take the answers: the eval figures with each turn's gold units ranked first.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/ranking_ceiling.py                # the held-out sets
    HF_HUB_OFFLINE=1 .venv/bin/python scripts/ranking_ceiling.py --split train  # the training sets

Every turn is asked as ``rolebot eval`` asks it, except that the composer's unit ranking adds 1 to the score of
the turn's gold units, so they outrank every other unit. The scope decision, the follow-up resolution and every
composition rule (definitions, comparisons, sections, how many units to quote) are the engine's own. The
figures are therefore a ceiling for the current composer under a perfect ranker: the part of the gap to the
targets that a better model or adapter could close, and the part only other composition (or other labels)
could. Analysis only: it reads the gold units of the sets it scores, and nothing is fitted or chosen from it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bot import Chatbot
from bot.evaluation import Case, Report, bot_for, gold_units, load_cases, load_sets, run


def ceiling(bot: Chatbot, cases: list[Case]) -> Report:
    """``run(bot, cases)`` with each turn's gold units ranked first by ``bot``'s composer."""
    composer = bot.composer
    units = bot.index.units
    turns = iter([turn for case in cases for turn in case.turns])
    gold: set[int] = set()
    ranked_by_engine = composer.rank_units
    asked_by_engine = bot.ask

    def rank_units(question, vector, unit_ids):
        ranked = ranked_by_engine(question, vector, unit_ids)
        for scored in ranked:
            if scored.unit.id in gold:
                scored.score += 1.0
        return sorted(ranked, key=lambda s: -s.score)

    def ask(question, history=None):
        gold.clear()
        gold.update(gold_units(next(turns).gold, units))
        return asked_by_engine(question, history)

    composer.rank_units = rank_units
    bot.ask = ask
    try:
        return run(bot, cases)
    finally:
        del composer.rank_units, bot.ask  # the instance attributes go; the class's methods show again


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="heldout", choices=("heldout", "train"))
    args = parser.parse_args()
    default = Chatbot.load()
    pooled = {"now": [], "ceiling": []}
    print("set               answers now -> ceiling   first unit now -> ceiling   precision          recall")
    for eval_set in (s for s in load_sets() if s.split == args.split):
        bot = bot_for(eval_set, default)
        cases = load_cases(eval_set.file)
        now, best = run(bot, cases), ceiling(bot, cases)
        pooled["now"] += now.outcomes
        pooled["ceiling"] += best.outcomes
        print(f"{eval_set.name:17} {_row(now, best)}")
    print(f"{'pooled':17} {_row(Report(pooled['now']), Report(pooled['ceiling']))}")


def _row(now: Report, best: Report) -> str:
    (a, n), (b, _) = now.tallies()["answer_accuracy"], best.tallies()["answer_accuracy"]
    g, h = now.gold_metrics(), best.gold_metrics()
    if not g.get("questions"):
        return f"{a:3}/{n:<3} -> {b:3}/{n:<3}"
    return (
        f"{a:3}/{n:<3} -> {b:3}/{n:<3}   {g['first_unit_accuracy']:.3f} -> {h['first_unit_accuracy']:.3f}"
        f"            {g['unit_precision']:.3f} -> {h['unit_precision']:.3f}   {g['unit_recall']:.3f} -> {h['unit_recall']:.3f}"
    )


if __name__ == "__main__":
    main()
