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
    assert reply.answer.startswith("The article doesn't")
    assert reply.sources == []  # nothing unrelated is passed off as an answer
    assert 2 <= len(reply.suggestions) <= 3 and all(s in bot.profile.examples for s in reply.suggestions)
    assert [p.kind for p in reply.parts] == ["note", "offer"]


def test_refusal_names_the_missing_topic_in_plain_words(bot):
    assert bot.ask("How high is the salary of an ML engineer?").answer.startswith(
        "The article doesn't discuss pay or salaries"
    )


@pytest.mark.parametrize("question", ["AI researcher vs AI engineer", "data scientist vs ML engineer"])
def test_a_role_the_article_does_not_compare_is_named_not_swapped(bot, question):
    reply = bot.ask(question)
    assert not reply.in_scope
    assert reply.answer.startswith("The article compares AI Engineers and ML Engineers; it doesn't discuss")
    assert bot.profile.examples[0] in reply.suggestions or reply.suggestions


def test_a_role_the_article_contrasts_is_answered(bot):
    reply = bot.ask("how are AI engineers different from traditional software engineers?")
    assert reply.in_scope and "Unlike traditional software engineers" in reply.answer


@pytest.mark.parametrize(
    "question",
    [
        "XGBoost",
        "R",
        "Keras",
        "OpenCV",
        "linear algebra",
        "Edge AI",
        pytest.param(
            "what are their main duties?",
            marks=pytest.mark.xfail(strict=True, reason="refused by the fitted scope model: 'main' weighs as missing"),
        ),
        "responsibilites of ai enginer",
    ],
)
def test_keywords_synonyms_and_typos_are_answered(bot, question):
    assert bot.ask(question).in_scope


def test_key_terms_skip_stopwords_entity_words_and_misspelt_stopwords(bot):
    assert bot.scope.key_terms("What does an AI engineer do with XGBoost?") == ["does", "xgboost"]
    assert bot.scope.key_terms("wich tools") == ["tools"]


def test_scope_model_carries_its_provenance(bot):
    provenance = bot.scope.model.provenance
    assert provenance["command"] == "python scripts/fit_scope.py"
    assert set(provenance["trained_on"]) == {"article-train", "real-train"}


def test_typo_correction_uses_corpus_words(bot):
    assert bot.scope.corrected("responsibilites of engineers") == "responsibilities of engineers"
    assert bot.scope.corrected("how much do they earn") == "how much do they earn"  # "earn" is a word, not "learn"
