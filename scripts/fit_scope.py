"""Fit the scope model (bot/data/scope_model.json) on the training splits; print the held-out figures.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/fit_scope.py            # fit, write, evaluate
    HF_HUB_OFFLINE=1 .venv/bin/python scripts/fit_scope.py --dry-run  # fit and evaluate, write nothing

Every turn of the sets marked ``split = "train"`` in tests/eval/sets.toml is asked (follow-ups with
their conversation); the turns, entities masked, become the labelled neighbours of
bot/data/scope_exemplars.json; each turn's scope features are computed with itself left out of
the neighbours' vote, and a logistic regression (L2, Newton's method, NumPy only) learns answer (1)
vs refuse (0). The threshold maximises balanced
accuracy on the same training turns. Questions refused because they name an entity the article does
not compare are decided by rule, not by the model, and are left out of the fit. Held-out sets are only
scored, never fitted.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from fitting import write_json

from bot import Chatbot
from bot.evaluation import asked, bot_for, load_cases, load_sets, run
from bot.scope import EXEMPLARS_FILE, FEATURES, MODEL_FILE, ScopeModel, probes_for

L2 = 0.1
"""Ridge penalty on the weights (not the bias): keeps them finite on separable training data."""


def training_turns(bot: Chatbot, sets) -> list[tuple[Chatbot, str, bool]]:
    """(the bot that answered, resolved question, answerable) for every training turn; follow-ups resolved
    with their conversation. A set on its own corpus is asked by a bot on that corpus.

    Questions refused because they name an entity the article does not compare are decided by rule, not by
    the model, and are left out.
    """
    return [
        (chatbot, reply.trace.resolved_question, not turn.refuse)
        for chatbot, turn, reply in asked(bot, sets)
        if not reply.trace.scope_reason.startswith("the question names")
    ]


def use_exemplars(chatbot: Chatbot, exemplars: list[tuple[str, bool]]) -> None:
    """Give the bot's scope check these labelled neighbours (the index holds the ones of the last fit)."""
    probes = probes_for(chatbot.profile, exemplars)
    chatbot.scope.use_probes([asdict(p) for p in probes], chatbot.embedder.encode([p.text for p in probes]))


def feature_rows(turns: list[tuple[Chatbot, str, bool]]) -> tuple[np.ndarray, np.ndarray]:
    """Each turn's features, its own text left out of the neighbours' vote (leave-one-out)."""
    rows, labels = [], []
    for bot, question, answerable in turns:
        vector = bot.embedder.encode([question])[0]
        hits = bot.retriever.search(question, vector, k=len(bot.index.chunks))
        features, _, _ = bot.scope.features(question, vector, hits, bot.embedder, exclude=bot.profile.mask(question))
        rows.append([features[name] for name in FEATURES])
        labels.append(1.0 if answerable else 0.0)
    return np.asarray(rows), np.asarray(labels)


def exemplar_list(turns: list[tuple[Chatbot, str, bool]]) -> list[tuple[str, bool]]:
    """The training questions, entities masked, one per text (a text labelled both ways keeps the majority)."""
    votes: dict[str, list[bool]] = {}
    for bot, question, answerable in turns:
        votes.setdefault(bot.profile.mask(question), []).append(answerable)
    return [(text, sum(v) * 2 >= len(v)) for text, v in votes.items()]


def fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    design = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], L2)
    penalty[-1] = 0.0
    for _ in range(100):
        p = 1 / (1 + np.exp(-design @ w))
        gradient = design.T @ (p - y) + penalty * w
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def best_threshold(p: np.ndarray, y: np.ndarray) -> float:
    """The probability cut that maximises balanced accuracy (mean of answer and refusal recall)."""
    best, best_score = 0.5, -1.0
    for t in np.unique(np.round(p, 3)):
        score = ((p >= t)[y == 1].mean() + (p < t)[y == 0].mean()) / 2
        if score > best_score + 1e-12:
            best, best_score = float(t), float(score)
    return best


def cross_validated(x: np.ndarray, y: np.ndarray, folds: int = 5) -> float:
    """Balanced accuracy of the whole procedure (fit, then threshold) on training folds it did not see:
    how features are chosen, without looking at the held-out sets."""
    fold = np.random.default_rng(0).permutation(len(y)) % folds
    scores = []
    for k in range(folds):
        train, test = fold != k, fold == k
        weights, bias = fit(x[train], y[train])
        threshold = best_threshold(1 / (1 + np.exp(-(x[train] @ weights + bias))), y[train])
        p = 1 / (1 + np.exp(-(x[test] @ weights + bias)))
        scores.append(((p >= threshold)[y[test] == 1].mean() + (p < threshold)[y[test] == 0].mean()) / 2)
    return float(np.mean(scores))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="fit and report, but do not write the model")
    parser.add_argument(
        "--ablate", action="store_true", help="also print the cross-validated accuracy without each feature, then stop"
    )
    args = parser.parse_args()

    sets = load_sets()
    bot = Chatbot.load()
    train = [s for s in sets if s.split == "train"]
    turns = training_turns(bot, train)
    exemplars = exemplar_list(turns)
    for chatbot in {id(t[0]): t[0] for t in turns}.values():
        use_exemplars(chatbot, exemplars)
    x, y = feature_rows(turns)
    cv = cross_validated(x, y)
    if args.ablate:
        # How features are chosen: one dropped at a time, judged by cross-validation on the training turns.
        print(f"5-fold CV balanced accuracy, all features: {cv:.3f}")
        for i, name in enumerate(FEATURES):
            print(f"  without {name:<20}{cross_validated(np.delete(x, i, axis=1), y):.3f}")
        return
    weights, bias = fit(x, y)
    p = 1 / (1 + np.exp(-(x @ weights + bias)))
    threshold = best_threshold(p, y)
    model = ScopeModel(
        [round(float(w), 4) for w in weights],
        round(bias, 4),
        threshold,
        {
            "command": "python scripts/fit_scope.py",
            "trained_on": [s.name for s in train],
            "training_turns": len(y),
            "training_balanced_accuracy": round(
                float(((p >= threshold)[y == 1].mean() + (p < threshold)[y == 0].mean()) / 2), 4
            ),
            "l2": L2,
            "cross_validated_balanced_accuracy": round(cv, 4),
        },
    )
    print(f"fitted on {len(y)} turns of {', '.join(s.name for s in train)}; 5-fold CV balanced accuracy {cv:.3f}")
    for name, w in zip(FEATURES, model.weights, strict=True):
        print(f"  {name:<16}{w:+.3f}")
    print(f"  {'bias':<16}{model.bias:+.3f}   threshold {threshold:.3f}")

    # Score every set with the new model (the bots share the model object, so nothing is re-read).
    figures = {}
    for eval_set in sets:
        chatbot = bot_for(eval_set, bot)
        chatbot.scope.model = model
        use_exemplars(chatbot, exemplars)
        summary = run(chatbot, load_cases(eval_set.file)).summary()
        figures[eval_set.name] = {
            k: (summary[k] if summary[k] == summary[k] else None)  # NaN (no such turns) is not JSON
            for k in ("answer_accuracy", "refusal_accuracy", "followup_accuracy")
        }
        shown = "  ".join(f"{k} {v:.3f}" for k, v in figures[eval_set.name].items() if v is not None)
        print(f"{eval_set.name:<16} ({eval_set.split:<7}) {shown}")
    model.provenance["figures"] = figures
    if not args.dry_run:
        write_json(
            EXEMPLARS_FILE,
            {
                "provenance": {"command": "python scripts/fit_scope.py", "from": [s.name for s in train]},
                "exemplars": [{"question": q, "answerable": a} for q, a in exemplars],
            },
        )
        write_json(
            MODEL_FILE,
            {
                "features": list(FEATURES),
                "weights": model.weights,
                "bias": model.bias,
                "threshold": model.threshold,
                "provenance": model.provenance,
            },
        )
        print(f"wrote {MODEL_FILE} and {EXEMPLARS_FILE}; rebuild the index: rolebot index --rebuild")


if __name__ == "__main__":
    main()
