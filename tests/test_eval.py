"""The quality gate: answer and refusal accuracy on the project's eval set (tests/eval/eval.jsonl)."""

from __future__ import annotations

import pytest

from bot.evaluation import DEFAULT_EVAL, load_cases, run


@pytest.fixture(scope="module")
def report(bot):
    return run(bot, load_cases(DEFAULT_EVAL))


def test_eval_set_is_big_enough():
    cases = load_cases(DEFAULT_EVAL)
    kinds = [c.kind for c in cases]
    assert kinds.count("answer") >= 60
    assert kinds.count("refuse") >= 20
    assert kinds.count("conversation") >= 6
    types = {c.type for c in cases if c.kind == "refuse"}
    assert {"off-topic", "near-domain"} <= types


def _failures(report, kind):
    return "\n".join(f"{o.question!r}: {o.missing}" for o in report.failures if o.case.kind == kind)


def test_answer_accuracy_at_least_90_percent(report):
    assert report.answer_accuracy >= 0.90, _failures(report, "answer")


def test_refusal_accuracy_at_least_90_percent(report):
    assert report.refusal_accuracy >= 0.90, _failures(report, "refuse")


def test_followup_accuracy_at_least_85_percent(report):
    assert report.followup_accuracy >= 0.85, _failures(report, "conversation")
