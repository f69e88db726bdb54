"""bot/followup.py: short follow-ups become standalone questions, by rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import config
from bot.corpus import load_corpus
from bot.followup import FollowUps
from bot.profile import load_profile

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "devops-vs-sre" / "corpus"
FOLLOWUPS = FollowUps(load_profile(config.corpus_dir(), load_corpus(config.corpus_dir())))
AI, ML = "AI Engineers", "ML Engineers"  # the corpus profile's entities (corpus/rolebot.toml)


def resolve(question: str, previous: list[str]) -> str:
    return FOLLOWUPS.resolve(question, previous)


def role_of(text: str) -> str | None:
    entity = FOLLOWUPS.entity_of(text)
    return entity.plural if entity else None


def mentions_both_roles(text: str) -> bool:
    return len([e for e in FOLLOWUPS.entities if e.mentioned_in(text)]) == 2


@pytest.mark.parametrize(
    "question",
    ["what about ML engineers?", "tell me more", "what tools do they use?", "why?", "What is an AI engineer?"],
)
def test_no_history_leaves_the_question_unchanged(question: str) -> None:
    assert resolve(question, []) == question


@pytest.mark.parametrize(
    ("previous", "question", "expected"),
    [
        ("What frameworks do AI engineers use?", "what about ML engineers?", "What frameworks do ML Engineers use?"),
        (
            "What frameworks do AI engineers use?",
            "How about machine learning engineers?",
            "What frameworks do ML Engineers use?",
        ),
        ("What tools do ML engineers use?", "what about AI engineers?", "What tools do AI Engineers use?"),
        pytest.param(
            "What tools do ML engineers use?",
            "and for AI engineers?",
            "What tools do AI Engineers use?",
        ),
        ("What tools do AI engineers use?", "and ML?", "What tools do ML Engineers use?"),
        pytest.param(
            "What tools do AI engineers use?",
            "what about the ML side?",
            "What tools do ML Engineers use?",
        ),
    ],
)
def test_role_swap(previous: str, question: str, expected: str) -> None:
    assert resolve(question, [previous]) == expected


def test_role_swap_without_a_role_in_the_previous_question_names_the_role() -> None:
    resolved = resolve("what about ML engineers?", ["Which cloud services are mentioned?"])
    assert "Which cloud services are mentioned?" in resolved
    assert ML in resolved


@pytest.mark.parametrize(
    ("previous", "question", "expected"),
    [
        ("What does an AI engineer do?", "what tools do they use?", "what tools do AI Engineers use?"),
        ("What does an ML engineer do?", "what do they deploy?", "what do ML Engineers deploy?"),
        (
            "What does an ML engineer do?",
            "what are their responsibilities?",
            "what are ML Engineers' responsibilities?",
        ),
    ],
)
def test_pronouns_point_at_the_last_role(previous: str, question: str, expected: str) -> None:
    assert resolve(question, [previous]) == expected


def test_pronouns_look_past_questions_without_a_role() -> None:
    previous = ["What does an ML engineer do?", "Which cloud services are mentioned?"]
    assert resolve("what tools do they use?", previous) == f"what tools do {ML} use?"


@pytest.mark.parametrize(
    "question",
    [
        "tell me more",
        "Tell me more.",
        "more",
        "why?",
        "go on",
        "elaborate",
    ],
)
def test_tell_me_more_repeats_the_previous_question(question: str) -> None:
    previous = ["What is an AI engineer?", "What skills do AI engineers need?"]
    assert resolve(question, previous) == "What skills do AI engineers need?"


@pytest.mark.parametrize(
    "question",
    [
        "What do ML engineers do?",  # names its own role
        "How do AI engineers differ from ML engineers?",  # names both
        "What is the capital of France?",  # a new, standalone question
    ],
)
def test_standalone_questions_stay_unchanged(question: str) -> None:
    assert resolve(question, ["What does an AI engineer do?"]) == question


def test_a_led_follow_up_without_pronoun_gets_the_role() -> None:
    resolved = resolve("and the tools?", ["What does an ML engineer do?"])
    assert "tools" in resolved and ML in resolved


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("What does an AI engineer do?", AI),
        ("artificial intelligence engineers", AI),
        ("what do ML engineers use", ML),
        ("Machine-learning engineering", ML),
        ("AI vs ML engineers", ML),  # "AI" alone is not a role; "ML engineers" is
        ("AI engineers and ML engineers", None),
        ("What is Python?", None),
    ],
)
def test_role_of(text: str, role: str | None) -> None:
    assert role_of(text) == role


def test_mentions_both_roles() -> None:
    assert mentions_both_roles("How do AI engineers differ from ML engineers?")
    assert not mentions_both_roles("What do AI engineers do?")


@given(st.text(max_size=80), st.lists(st.text(max_size=80), max_size=4))
def test_resolve_always_returns_text(question: str, previous: list[str]) -> None:
    resolved = resolve(question, previous)
    assert isinstance(resolved, str)
    if not previous:
        assert resolved == question


@pytest.mark.parametrize(
    ("previous", "question", "expected"),
    [
        ("What tools do SREs use?", "what about DevOps engineers?", "What tools do DevOps Engineers use?"),
        ("What tools do SREs use?", "and the other one?", "What tools do DevOps Engineers use?"),
        (
            "What does a DevOps engineer focus on?",
            "and the other one?",
            "What does a Site Reliability Engineer focus on?",
        ),
        ("What does a DevOps engineer do?", "which languages do they use?", "which languages do DevOps Engineers use?"),
    ],
)
def test_follow_ups_work_for_any_profile(previous: str, question: str, expected: str) -> None:
    """The same rules on another article's entities (tests/fixtures/devops-vs-sre), no code change."""
    followups = FollowUps(load_profile(FIXTURE, load_corpus(FIXTURE)))
    assert followups.resolve(question, [previous]) == expected


def test_no_entities_means_only_tell_me_more(tmp_path) -> None:
    (tmp_path / "notes.md").write_text("# Notes\n\nPlain text without a table.\n", encoding="utf-8")
    followups = FollowUps(load_profile(tmp_path, load_corpus(tmp_path)))
    assert followups.resolve("tell me more", ["What are the notes?"]) == "What are the notes?"
    assert followups.resolve("what do they say?", ["What are the notes?"]) == "what do they say?"


def test_resolution_says_which_earlier_question_is_asked_again() -> None:
    previous = ["What tools do AI engineers use?"]
    assert FOLLOWUPS.resolution("what about ML engineers?", previous) == (f"What tools do {ML} use?", previous[0])
    assert FOLLOWUPS.resolution("what languages do they use?", previous)[1] == ""  # a new question
    assert FOLLOWUPS.resolution("tell me more", previous)[1] == ""  # the same question, the same entity


def test_the_other_entity_of_an_answered_question_is_answered(bot, monkeypatch) -> None:
    """The scope decision may doubt a rewritten follow-up; the same question about the other compared entity is
    answered when the earlier one was."""
    from dataclasses import replace

    decide = bot.scope.decide

    def doubting(question, *args):
        decision = decide(question, *args)
        return replace(decision, outcome="declined") if question == f"What tools do {ML} use?" else decision

    monkeypatch.setattr(bot.scope, "decide", doubting)
    first = bot.ask("What tools do AI engineers use?")
    assert first.in_scope
    reply = bot.ask("what about ML engineers?", [("What tools do AI engineers use?", first.answer)])
    assert reply.in_scope and "asked again about another entity" in reply.trace.scope_reason
    assert not bot.ask(f"What tools do {ML} use?").in_scope  # asked alone, the decision stands


@pytest.mark.parametrize(
    ("question", "previous", "expected"),
    [
        ("How can I become one?", [], "How can I become an AI Engineer?"),  # the article's subject
        ("how do I become one", ["What is an ML engineer?"], "how do I become an ML Engineer"),
    ],
)
def test_become_one_names_the_entity_talked_about(question: str, previous: list[str], expected: str) -> None:
    assert resolve(question, previous) == expected


@pytest.mark.parametrize(
    ("question", "previous", "expected"),
    [
        (
            "how do they fix it?",
            "what are ML Engineers' performance concerns?",
            f"how do {ML} fix it? (performance concerns)",
        ),
        (
            "so do they work together on it?",
            "how do AI engineers deploy models?",
            f"so do {AI} work together on it? (deploy models)",
        ),
        (
            "is it hard?",
            "how do AI engineers deploy models?",
            "is it hard?",
        ),  # "it" as a subject stands for nothing asked
        ("is that the same?", "how do AI engineers deploy models?", "is that the same?"),
    ],
)
def test_a_final_it_carries_the_last_questions_topic(question, previous, expected):
    assert resolve(question, [previous]) == expected


@pytest.mark.parametrize(
    ("previous", "question", "expected"),
    [
        ("AI vs ML engineers", "which one is more technical?", f"which one is more technical? ({AI} or {ML})"),
        ("how do AI and ML engineers differ?", "who uses XGBoost?", f"who uses XGBoost? ({AI} or {ML})"),
        ("how do AI and ML engineers differ?", "who earns more?", "who earns more?"),
        # One entity before: "which one" is one of the things it asked about, not an entity.
        ("what skills does an AI engineer need?", "which one should I learn first?", "which one should I learn first?"),
    ],
)
def test_which_one_after_two_entities_is_one_of_them(previous: str, question: str, expected: str) -> None:
    assert resolve(question, [previous]) == expected


def test_the_head_noun_the_entities_share_leaves_a_follow_up_bare() -> None:
    """ "and the UI designers?" names an entity by its own word and the head noun both names share, on any
    article (it used to be "engineer" only)."""
    folder = Path(__file__).resolve().parent / "fixtures" / "ux-vs-ui" / "corpus"
    followups = FollowUps(load_profile(folder, load_corpus(folder)))
    assert (
        followups.resolve("and the UI designers?", ["what do UX designers deliver?"]) == "what do UI Designers deliver?"
    )


@pytest.mark.parametrize(
    ("previous", "question", "expected"),
    [
        # More of the last answer, however it is worded.
        ("What does an SRE do?", "go on, tell me more about them", "What does an SRE do?"),
        ("What does an SRE do?", "ok, explain that a bit further", "What does an SRE do?"),
        ("How do SREs respond to incidents?", "then what happens?", "How do SREs respond to incidents?"),
        ("How do SREs respond to incidents?", "what next", "How do SREs respond to incidents?"),
        # Examples of what the last question was about.
        ("what are error budgets?", "give me some examples", "give me some examples (error budgets)"),
        ("what are error budgets?", "an example?", "an example? (error budgets)"),
        # The other entity in the same number.
        ("what does a DevOps engineer do?", "and an SRE?", "what does a Site Reliability Engineer do?"),
        ("what do DevOps engineers earn?", "and SREs?", "what do Site Reliability Engineers earn?"),
        ("is a DevOps engineer's job stressful?", "and an SRE?", "is a Site Reliability Engineer's job stressful?"),
        # "it" is the last question's topic, also when the follow-up names an entity.
        ("what is toil?", "how do SREs get rid of it?", "how do SREs get rid of it? (toil)"),
        # A title the profile does not compare is asked about on its own, not glued to the last entity.
        ("What does an SRE do?", "what about a platform engineer?", "what about a platform engineer?"),
    ],
)
def test_more_examples_it_and_other_titles(previous: str, question: str, expected: str) -> None:
    followups = FollowUps(load_profile(FIXTURE, load_corpus(FIXTURE)))
    assert followups.resolve(question, [previous]) == expected


def test_a_title_the_article_does_not_discuss_is_declined_after_an_answer(article_bot) -> None:
    """ "what about a data engineer?" after a question about one entity asks about another title: declined by
    name, not answered about the last entity."""

    second = article_bot("second-article")
    first = "What does an SRE do?"
    reply = second.ask("what about a platform engineer?", [(first, second.ask(first).answer)])
    assert not reply.in_scope and "platform engineer" in reply.answer


def test_the_other_entity_gets_the_same_table_rows(article_bot) -> None:
    """ "and a UX designer?" after "what does a UI designer focus on?" was answered from the comparison table:
    the same row, the other entity's column (the UX Designer's own sections do not answer what it focuses on)."""

    fifth = article_bot("fifth-article")
    first = fifth.ask("what does a UI designer focus on?")
    assert first.trace.quoted_units and all(fifth.index.units[u].kind == "row" for u in first.trace.quoted_units)
    second = fifth.ask("and a UX designer?", [("what does a UI designer focus on?", first.answer)])
    assert second.trace.quoted_units == first.trace.quoted_units
    assert "For UX Designers, the article's comparison" in second.answer and "UI Designer" not in second.answer


def test_what_that_means_is_a_term_the_last_answer_names(article_bot) -> None:
    """ "what's that?" after an answer saying "…they sometimes run A/B tests…" asks what an A/B test is, a term
    the article defines ("An A/B test compares…"); the answer is that definition, not a refusal."""
    sixth = article_bot("sixth-article")
    first = sixth.ask("how do data analysts check if a change worked?")
    assert "A/B tests" in first.answer and "An A/B test compares" not in first.answer
    reply = sixth.ask("what's that?", [(first.question, first.answer)])
    assert reply.trace.resolved_question == "what is an A/B test?"
    assert reply.in_scope and reply.answer.startswith("An A/B test compares two versions of something")


@pytest.mark.parametrize(
    ("last_question", "last_answer", "expected"),
    [
        # The term the answer names last is the one "that" points at.
        ("how do they report?", "They track KPIs on a dashboard.", "what is a dashboard?"),
        # A term of the last question comes first ("it" is what was asked about).
        ("do they use dashboards?", "Yes, with KPIs and charts.", "what is a dashboard?"),
        # A term whose definition the answer already quoted is not asked again.
        ("what is a dashboard?", "A dashboard is a screen of charts. It shows KPIs.", "what are KPIs?"),
    ],
)
def test_the_term_that_stands_for(last_question: str, last_answer: str, expected: str) -> None:
    from bot.scope import defined_terms

    terms = defined_terms(["A dashboard is a screen of charts.", "Teams track KPIs (the numbers they watch)."])
    assert [t.asked for t in terms] == ["a dashboard", "KPIs"]
    followups = FollowUps(load_profile(FIXTURE, load_corpus(FIXTURE)), terms)
    assert followups.resolve("what's that?", [last_question], last_answer) == expected


@pytest.mark.parametrize("question", ["what's that?", "what does that mean?", "what is that?"])
def test_what_that_means_without_a_defined_term_asks_for_more(question: str) -> None:
    """No term the article defines in the last turn: "what does that mean?" asks to explain the last answer,
    as "explain that" does (it was declined: the article "never mentions 'mean'")."""
    assert FOLLOWUPS.asks_more(question)
    assert resolve(question, ["what is prompt engineering?"]) == "what is prompt engineering?"


def test_what_that_means_after_a_table_answer_goes_on_with_the_passage(bot) -> None:
    first = bot.ask("how do ML engineers deploy models?")
    reply = bot.ask("what does that mean?", [(first.question, first.answer)])
    assert reply.in_scope and reply.answer != first.answer


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # One of the things just listed: the entity stays, so it is not read as "which of the two roles".
        ("which one should i learn first?", "which one should i learn first? (Site Reliability Engineers skills)"),
        ("which of these matters most?", "which of these matters most? (Site Reliability Engineers skills)"),
        # Not a choice among the listed things: as before.
        ("which one earns more?", "which one earns more?"),
    ],
)
def test_which_one_after_a_list_is_one_of_its_items(question: str, expected: str) -> None:
    followups = FollowUps(load_profile(FIXTURE, load_corpus(FIXTURE)))
    listed = "SREs need these skills:\n\n- **Coding**: Python or Go.\n- **Linux**: the systems they run."
    assert followups.resolve(question, ["what skills do SREs have?"], listed) == expected
    tabled = "| Aspect | Site Reliability Engineer |\n|---|---|\n| Languages | Python, Go |"
    assert followups.resolve(question, ["what skills do SREs have?"], tabled) == expected
    # Without a list in the last answer, "which one" is one of the entities, as before.
    assert followups.resolve(question, ["what skills do SREs have?"], "SREs write code.") == question


def test_which_one_after_a_list_answers_from_the_list(article_bot) -> None:
    sixth = article_bot("sixth-article")
    first = sixth.ask("what skills does a data analyst need")
    reply = sixth.ask("which one should i learn first?", [(first.question, first.answer)])
    assert "before anything else" in reply.answer and "| Aspect |" not in reply.answer


def test_a_follow_up_that_would_get_the_same_row_again_is_answered_from_prose(article_bot) -> None:
    """ "how do they fix it?" after an answer that was the table's "Performance Concerns" row: the row again says
    nothing new; the article's prose on fixing it does."""
    fourth = article_bot("fourth-article")
    history = []
    for question in ("what are frontend developers' performance concerns?", "how do they fix it?"):
        reply = fourth.ask(question, history)
        history.append((question, reply.answer))
    assert "gives Performance Concerns as:" in history[0][1]
    assert "lazy-load images" in reply.answer and "Performance Concerns" not in reply.answer


def test_tell_me_more_after_a_term_goes_on_from_the_terms_definition(article_bot) -> None:
    """ "what's that?" resolved to a term asks something new, so a "tell me more" after it continues that
    definition's passage from its start, as after any new question."""
    sixth = article_bot("sixth-article")
    history: list[tuple[str, str]] = []
    for question in ("how do data analysts check if a change worked?", "what's that?"):
        history.append((question, sixth.ask(question, history).answer))
    more = sixth.ask("tell me more", history)
    direct = sixth.ask("tell me more", [("what is an A/B test?", history[-1][1])])
    assert more.answer == direct.answer
