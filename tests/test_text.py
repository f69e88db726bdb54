"""bot/text.py: question cleaning, tokens, stems and the one-edit typo test."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import EmptyQuestionError
from bot.text import STOPWORDS, clean_question, edit_distance_at_most_one, stem, stems, tokens


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  What   does\tan AI\nengineer do?  ", "What does an AI engineer do?"),
        ("What\u200b does\u200d an AI engineer do?", "What does an AI engineer do?"),  # zero-width characters
        ("What\x00does\x1ban AI engineer do?", "What does an AI engineer do?"),  # control characters → spaces
        ("ＡＩ　engineer", "AI engineer"),  # NFKC: full-width letters and ideographic space
        ("\u202eAI engineer\u202c", "AI engineer"),  # bidi overrides
        ("line one\u2028line two", "line one line two"),
    ],
)
def test_clean_question_normalises(raw: str, expected: str) -> None:
    assert clean_question(raw, 2000) == expected


@pytest.mark.parametrize("raw", ["", "   ", "\n\t", "\u200b\u200b", "\x00\x01", "\ufeff"])
def test_clean_question_rejects_empty(raw: str) -> None:
    with pytest.raises(EmptyQuestionError, match="empty"):
        clean_question(raw, 2000)


def test_empty_question_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        clean_question(" ", 2000)


def test_clean_question_cuts_to_limit_without_trailing_space() -> None:
    text = clean_question("word " * 1000, 52)
    assert len(text) <= 52
    assert text == text.rstrip()
    assert text.startswith("word word")


def test_clean_question_rejects_non_strings() -> None:
    with pytest.raises(TypeError, match="str"):
        clean_question(None, 2000)  # type: ignore[arg-type]


@given(st.text(max_size=300))
def test_clean_question_never_returns_control_characters(raw: str) -> None:
    try:
        text = clean_question(raw, 100)
    except EmptyQuestionError:
        return
    assert 0 < len(text) <= 100
    assert text == text.strip()
    assert "  " not in text
    assert not any(ord(ch) < 32 or 0x200B <= ord(ch) <= 0x200F for ch in text)


def test_tokens_keep_languages_and_single_letters() -> None:
    toks = tokens("Python, Java, C++, C# and R; ML/AI")
    for expected in ("python", "java", "c++", "c#", "r", "ml", "ai"):
        assert expected in toks


def test_tokens_lowercase_and_apostrophes() -> None:
    assert tokens("What’s the Difference?") == ["what's", "the", "difference"]


def test_tokens_split_hyphenated_words_and_keep_joined_form() -> None:
    toks = tokens("pre-trained models")
    assert {"pre", "trained", "pretrained", "models"} <= set(toks)


def test_stems_drop_stopwords_and_stem() -> None:
    assert stems("What are the responsibilities of them?") == [stem("responsibilities")]
    assert stem("deploying") == stem("deploys") == stem("deploy")
    assert not set(stems(" ".join(sorted(STOPWORDS)))) - {stem(w) for w in ("t", "s")}


@pytest.mark.parametrize(
    ("a", "b", "close"),
    [
        ("engineer", "engineer", True),
        ("engineer", "enginer", True),  # deletion
        ("enginer", "engineer", True),  # insertion
        ("engineer", "enginear", True),  # substitution
        ("engineer", "engienr", False),  # two edits
        ("which", "wihch", True),  # adjacent swap
        ("which", "hwcih", False),
        ("abc", "abcde", False),
        ("", "a", True),
        ("", "ab", False),
    ],
)
def test_edit_distance_at_most_one(a: str, b: str, close: bool) -> None:
    assert edit_distance_at_most_one(a, b) is close
    assert edit_distance_at_most_one(b, a) is close


@given(st.text(alphabet="abcdefgh", min_size=1, max_size=12), st.data())
def test_any_single_edit_is_within_one(word: str, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(word) - 1))
    letter = data.draw(st.sampled_from("abcdefghxyz"))
    edits = [word[:i] + word[i + 1 :], word[:i] + letter + word[i:], word[:i] + letter + word[i + 1 :]]
    if i + 1 < len(word):
        edits.append(word[:i] + word[i + 1] + word[i] + word[i + 2 :])
    for edited in edits:
        assert edit_distance_at_most_one(word, edited)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What is the role of an ML (Machine Learning) engineer?", "What is the role of an ML engineer?"),
        ("SRE (Site Reliability Engineering) teams", "SRE teams"),
        ("an NLP (natural language processing) model", "an NLP model"),
        ("They use Python (and R) daily.", "They use Python (and R) daily."),  # not an expansion
        ("AI (see below) matters", "AI (see below) matters"),
    ],
)
def test_an_abbreviations_expansion_in_brackets_is_dropped(text, expected):
    from bot.text import without_expansions

    assert without_expansions(text) == expected


def test_a_bracketed_expansion_does_not_hide_the_entity(bot):
    reply = bot.ask("What is the role of an ML (Machine Learning) engineer in AI?")
    assert reply.in_scope and reply.trace.resolved_question == "What is the role of an ML engineer in AI?"
