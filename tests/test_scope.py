"""Honest refusals: off-topic and near-domain questions are refused, answerable ones are not."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "question",
    [
        "What's the weather in Berlin?",
        "Give me a recipe for pancakes",
        "Who won the Champions League?",
        "Translate 'thank you' into German",
        "What's the average salary of an AI engineer?",
        "Which certification should an ML engineer get?",
        "hello",
    ],
)
def test_out_of_scope_is_refused_plainly(bot, question):
    reply = bot.ask(question)
    assert not reply.in_scope
    assert "doesn't cover" in reply.answer
    assert reply.sources == []  # nothing unrelated is passed off as an answer
    suggestions = [line for line in reply.answer.splitlines() if line.startswith("- ")]
    assert 2 <= len(suggestions) <= 3 and all(s.endswith("?") for s in suggestions)


def test_refusal_names_the_missing_topic(bot):
    assert "salary" in bot.ask("How high is the salary of an ML engineer?").answer


@pytest.mark.parametrize(
    "question",
    [
        "XGBoost",
        "R",
        "Keras",
        "OpenCV",
        "linear algebra",
        "Edge AI",
        "what are their main duties?",
        "responsibilites of ai enginer",
    ],
)
def test_keywords_synonyms_and_typos_are_answered(bot, question):
    assert bot.ask(question).in_scope


def test_key_terms_skip_stopwords_and_generic_words(bot):
    assert bot.scope.key_terms("What does an AI engineer do with XGBoost?") == ["xgboost"]
    assert bot.scope.key_terms("wich tools") == ["tools"]


def test_typo_correction_uses_corpus_words(bot):
    assert bot.scope.corrected("responsibilites of engineers") == "responsibilities of engineers"
    assert bot.scope.corrected("how much do they earn") == "how much do they earn"  # "earn" is a word, not "learn"
