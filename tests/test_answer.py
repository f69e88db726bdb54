"""Answers are short, verbatim from the article, and comparisons show both roles."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.answer import MAX_ANSWER_CHARS, is_comparison
from bot.chunking import split_sentences

ARTICLE = (Path(__file__).resolve().parent.parent / "corpus" / "ai-engineer-vs-ml-engineer.md").read_text(
    encoding="utf-8"
)


def _article_pieces(answer: str) -> list[str]:
    """Sentences, list items and table cells of an answer, without Markdown syntax."""
    pieces = []
    for line in answer.splitlines():
        line = line.strip()
        if not line or re.fullmatch(r"\|?[-| ]+\|?", line):
            continue
        if line.startswith("|"):
            pieces += [cell.strip() for cell in line.strip("|").split("|") if cell.strip()]
        else:
            pieces += split_sentences(re.sub(r"^(- |\d+\. )", "", line))
    return pieces


@pytest.mark.parametrize(
    "question",
    [
        "What does an AI engineer do?",
        "How is an AI Engineer different from an ML Engineer?",
        "what frameworks do ML engineers use",
        "How do AI engineers optimize models?",
        "What skills do I need to become an AI engineer?",
        "who uses XGBoost?",
    ],
)
def test_answers_are_verbatim_and_short(bot, question):
    reply = bot.ask(question)
    assert reply.in_scope
    assert len(reply.answer) <= MAX_ANSWER_CHARS + 200  # a table's Markdown header adds a little
    for piece in _article_pieces(reply.answer):
        assert piece in ARTICLE, f"not verbatim from the article: {piece!r}"


def test_sources_are_not_pasted_into_the_answer(bot):
    reply = bot.ask("What is Edge AI?")
    assert "Edge AI (deploying AI on IoT devices, mobile phones)" in reply.answer
    assert all(s.section not in reply.answer for s in reply.sources)
    assert reply.sources[0].section.endswith("5. Optimizing & Deploying AI Models")


def test_comparison_gets_contrast_sentence_and_rows_for_both_roles(bot):
    reply = bot.ask("How is an AI Engineer different from an ML Engineer?")
    assert "ML Engineers focus on training models, while AI Engineers integrate those models" in reply.answer
    assert "| Aspect | AI Engineer | ML Engineer |" in reply.answer
    assert "Primary Focus" in reply.answer


@pytest.mark.parametrize(
    ("question", "row", "cell"),
    [
        ("who uses XGBoost?", "Frameworks & Tools", "Scikit-learn, XGBoost"),
        ("tech stack of an ML engineer", "Tech Stack", "Python, R"),
        ("how do ML engineers deploy models?", "Deployment", "data pipeline"),
    ],
)
def test_table_questions_get_their_row(bot, question, row, cell):
    answer = bot.ask(question).answer
    assert f"| {row} |" in answer
    assert cell in answer


def test_list_stays_with_its_lead_in(bot):
    answer = bot.ask("Who do AI engineers collaborate with?").answer
    assert "AI Engineers work closely with:" in answer
    assert "Data Scientists" in answer and "Product Managers" in answer


def test_lead_in_sentence_is_never_the_whole_answer(bot):
    for question in ("How do I become an AI engineer?", "What are the responsibilities of an AI engineer?"):
        answer = bot.ask(question).answer
        assert not answer.rstrip().endswith(":"), answer


def test_pronoun_sentence_brings_its_antecedent(bot):
    answer = bot.ask("Do AI engineers work on bias detection?").answer
    assert "They work on bias detection" in answer
    assert "AI Engineers play a role in ensuring AI fairness" in answer


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("AI vs ML engineer", True),
        ("How do AI and ML engineers differ?", True),
        ("who uses XGBoost?", True),
        ("who do AI engineers work with?", False),
        ("what tools do AI engineers use?", False),
    ],
)
def test_is_comparison(question, expected):
    assert is_comparison(question) is expected
