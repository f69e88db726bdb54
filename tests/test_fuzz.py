"""Bad input: whatever text or history arrives, ``Chatbot.ask`` and ``rolebot ask`` answer with a string
(or the documented EmptyQuestionError / exit code 2), in bounded time, and never echo injected markup.

Time bounds here are hang guards, not performance tests: the figures live in bench/.
"""

from __future__ import annotations

import json
import time
import unicodedata

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import EmptyQuestionError, config
from bot.config import max_question_chars
from bot.corpus import load_corpus
from bot.profile import load_profile

EXAMPLE_QUESTIONS = tuple(load_profile(config.corpus_dir(), load_corpus(config.corpus_dir())).examples)

FUZZ = settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
HANG_GUARD_S = 5.0
MB = 1_000_000

CONTROL = ["\x00", "\x01", "\x07", "\x1b[31m", "\x7f", "\r", "\t", "\x0b", "\x0c", "\x85", "\u2028", "\u2029"]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\u202d", "\u061c", "\u180e"]
INJECTIONS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "![x](javascript:alert(1))",
    "[click me](http://evil.example)",
    "<details open><summary>x</summary>",
    "```python\nimport os\n```",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "# Heading\n---\n> quote",
    "{{7*7}} ${7*7} %s%n",
    "'; DROP TABLE users; --",
    "$$\\frac{1}{0}$$",
]
WORDS = ["AI", "ML", "engineer", "engineers", "tools", "frameworks", "what", "about", "deploy", "?", "vs", "skills"]

fragments = st.one_of(
    st.text(st.characters(codec=None), max_size=40),  # any code point, lone surrogates included
    st.sampled_from(CONTROL + ZERO_WIDTH + INJECTIONS + WORDS + list(EXAMPLE_QUESTIONS)),
)
questions = st.lists(fragments, max_size=12).map("".join)
junk_turns = st.one_of(
    st.tuples(questions, questions),
    st.tuples(st.sampled_from(EXAMPLE_QUESTIONS), st.text(max_size=200)),
    st.just(()),
    st.none(),
    st.tuples(st.integers()),
)


def invisible(question: str) -> bool:
    """What EmptyQuestionError promises: nothing readable in the part of the text that is read."""
    text = unicodedata.normalize("NFKC", question[: max_question_chars() * 4])
    return not any(
        not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for ch in text
    )


def ask_checked(bot, question: str, history=None):
    """Ask, and check the contract: a JSON-able reply with a non-empty string answer, or EmptyQuestionError."""
    started = time.perf_counter()
    try:
        reply = bot.ask(question, history)
    except EmptyQuestionError:
        assert invisible(question), f"EmptyQuestionError for a readable question {question[:80]!r}"
        return None
    finally:
        assert time.perf_counter() - started < HANG_GUARD_S
    assert not invisible(question)
    assert isinstance(reply.answer, str) and reply.answer.strip()
    assert isinstance(reply.in_scope, bool)
    json.dumps(reply.to_dict(), ensure_ascii=False)
    for payload in INJECTIONS:
        if payload in question:
            assert payload not in reply.answer, "user markup was echoed into the answer"
    return reply


@FUZZ
@given(question=questions)
def test_any_question_gets_a_string_or_the_empty_error(bot, question):
    ask_checked(bot, question)


@FUZZ
@given(question=questions, turns=st.lists(junk_turns, max_size=30))
def test_any_history_is_tolerated(bot, question, turns):
    ask_checked(bot, question, turns)


@FUZZ
@given(payload=st.sampled_from(INJECTIONS), question=st.sampled_from(EXAMPLE_QUESTIONS), before=st.booleans())
def test_markup_injection_is_never_echoed(bot, payload, question, before):
    ask_checked(bot, f"{payload} {question}" if before else f"{question} {payload}")


@pytest.mark.parametrize("char", CONTROL + ZERO_WIDTH + [" ", "\n", "\u3000", "\u00a0"])
def test_invisible_only_questions_raise_the_documented_error(bot, char):
    if invisible(char):
        with pytest.raises(EmptyQuestionError):
            bot.ask(char * 50)
    else:  # e.g. an escape sequence's "[31m": readable, so it is answered
        ask_checked(bot, char * 50)


@pytest.mark.parametrize(
    "question",
    [
        "x" * MB,
        "What tools do ML Engineers use? " * (MB // 32),
        "\u200b" * MB,
        "\x00" * MB,
        ("🤖 ИИ инженер 人工智能 " * (MB // 16))[:MB],
        "What tools do ML Engineers use?" + " " * MB + "and what is a quokka?",
    ],
    ids=["letters", "repeated-question", "zero-width", "nulls", "mixed-scripts", "question-then-spaces"],
)
def test_one_megabyte_questions(bot, question):
    reply = ask_checked(bot, question)
    if reply is None:
        return
    visible = " ".join(question.replace("\u200b", "").replace("\x00", " ").split())
    if len(visible) > max_question_chars():
        assert reply.trace.truncated and "cut to its first" in reply.answer
        assert len(reply.question) <= max_question_chars()
    else:  # runs of white space are folded, not cut: the whole question is read
        assert not reply.trace.truncated and reply.question == visible


def test_a_thousand_turn_history(bot):
    turns = [(EXAMPLE_QUESTIONS[i % len(EXAMPLE_QUESTIONS)], "an answer " * 50) for i in range(999)]
    turns.append(("What frameworks do ML engineers use?", "…"))
    reply = ask_checked(bot, "what about AI engineers?", turns)
    assert reply.in_scope and reply.trace.resolved_question != "what about AI engineers?"


def test_a_thousand_turns_of_one_megabyte_each_are_read_in_bounded_time(bot):
    big = "w" * MB
    turns = [(big, big)] * 1000  # one shared string: the list is cheap, reading it must be too
    ask_checked(bot, "What is an AI engineer?", turns)


# The CLI: same inputs through `rolebot ask` (CliRunner, with the session's engine passed as ctx.obj).


def cli_ask(bot, args: list[str], input: str | None = None):
    from bot.cli import cli

    started = time.perf_counter()
    result = CliRunner().invoke(cli, ["ask", *args], obj=bot, input=input)
    assert time.perf_counter() - started < HANG_GUARD_S
    assert result.exit_code in (0, 2), (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


@FUZZ
@given(question=questions, as_json=st.booleans())
def test_cli_ask_any_text(bot, question, as_json):
    args = ["--json", "--", question] if as_json else [question]
    result = cli_ask(bot, args)
    if as_json and result.exit_code == 0:
        reply = json.loads(result.stdout)
        assert set(reply) == {"question", "answer", "in_scope", "outcome", "sources", "suggestions", "parts"}
    if result.exit_code == 2 and as_json:
        assert invisible(question)  # after "--" only the empty-question error is a usage error


@pytest.mark.parametrize("question", ["x" * MB, "\u200b" * MB, INJECTIONS[0] * 1000])
def test_cli_ask_one_megabyte_from_stdin(bot, question):
    result = cli_ask(bot, ["--json", "-"], input=question)
    if invisible(question):
        assert result.exit_code == 2 and "empty" in result.output
    else:
        assert result.exit_code == 0 and json.loads(result.stdout)["answer"]


def test_cli_chat_survives_junk_lines(bot):
    from bot.cli import cli

    lines = [
        "\u200b\u200b",
        "\x00\x00",
        INJECTIONS[1],
        "x" * 100_000,
        "What frameworks do AI engineers use?",
        "what about ML engineers?",
    ]
    result = CliRunner().invoke(cli, ["chat", "--json"], obj=bot, input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    replies = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(replies) == 4  # the two invisible lines get an error message instead
    assert "scikit-learn" in replies[-1]["answer"].lower()
