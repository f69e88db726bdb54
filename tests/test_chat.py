"""The Chatbot API contract that the terminal, web UI and external checks rely on."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot import Chatbot, EmptyQuestionError, Reply, Source


def test_api_shape(bot):
    reply = bot.ask("How is an AI Engineer different from an ML Engineer?", history=[])
    assert isinstance(reply, Reply)
    assert isinstance(reply.answer, str) and reply.answer
    assert reply.in_scope is True
    assert reply.sources and all(isinstance(s, Source) for s in reply.sources)
    data = json.loads(json.dumps(reply.to_dict()))
    assert set(data) == {"question", "answer", "in_scope", "outcome", "sources", "suggestions", "parts"}
    assert data["outcome"] == "answered"
    assert set(data["sources"][0]) == {"section", "text", "score", "source", "chunk_id", "heading", "quoted"}
    assert reply.answer == "\n\n".join(p["text"] for p in data["parts"])


def test_sources_are_the_quoted_sections_in_order_then_one_see_also(bot):
    reply = bot.ask("What is an AI engineer and how is it different from an ML engineer?", top_k=5)
    quoted = [s for s in reply.sources if s.quoted]
    assert [s.section for s in quoted] == [
        "Who is an AI Engineer?",
        "AI Engineer vs. ML Engineer: What’s the Difference?",
    ]
    assert len(reply.sources) - len(quoted) <= 1 and not reply.sources[-1].quoted
    assert len({s.section for s in reply.sources}) == len(reply.sources)  # no passage listed twice
    cited = [n for p in reply.parts for n in p.sources]
    assert cited == sorted(cited) and set(cited) == {1, 2}  # each block cites the source it quotes, in order


def test_sources_best_first_and_top_k(bot):
    reply = bot.ask("What does an AI engineer do?", top_k=5)
    assert 1 <= len(reply.sources) <= 5
    assert all(0 < s.score <= 1 for s in reply.sources)
    assert len(bot.ask("What does an AI engineer do?", top_k=1).sources) == 1


@pytest.mark.parametrize("question", ["", "   ", "\n\t", "\u200b\u200b", "\x00"])
def test_empty_question_raises_clear_error(bot, question):
    with pytest.raises(EmptyQuestionError, match="empty"):
        bot.ask(question)


def test_very_long_input_is_cut_with_notice(bot):
    question = "What tools do ML engineers use? " + "blah " * 40_000
    reply = bot.ask(question)
    assert reply.trace.truncated
    assert "cut to its first" in reply.answer


@pytest.mark.parametrize(
    "question", ["¿Qué hace un ingeniero de IA?", "AI engineer 🚀🤖 tools?", "\x1b[31mred\x1b[0m", "机器学习工程师"]
)
def test_odd_text_never_crashes(bot, question):
    assert isinstance(bot.ask(question).answer, str)


@pytest.mark.parametrize(
    ("first", "followup", "fact"),
    [
        ("What frameworks do AI engineers use?", "what about ML engineers?", "Scikit-learn"),
        ("What does an AI engineer do?", "and what tools do they use?", "OpenCV"),
        (
            "What are the responsibilities of an AI engineer?",
            "tell me more about the ethics part",
            "ethical considerations",
        ),
        ("What's the tech stack of an AI engineer?", "and for ML engineers?", "Python, R"),
    ],
)
def test_followups_use_history(bot, first, followup, fact):
    history = [(first, bot.ask(first).answer)]
    assert fact in bot.ask(followup, history).answer


def test_followup_to_uncovered_topic_is_refused(bot):
    history = [("What does an AI engineer do?", bot.ask("What does an AI engineer do?").answer)]
    assert not bot.ask("and how much do they earn?", history).in_scope


def test_history_accepts_lists_and_ignores_junk(bot):
    history = [["What frameworks do AI engineers use?", "..."], ("", ""), (None, None)]
    assert "Scikit-learn" in bot.ask("what about ML engineers?", history).answer


def test_same_answers_from_threads(bot):
    questions = ["who uses XGBoost?", "What is Edge AI?", "salary?", "AI vs ML engineer"] * 4
    sequential = [bot.ask(q).to_dict() for q in questions]
    with ThreadPoolExecutor(8) as pool:
        parallel = [r.to_dict() for r in pool.map(bot.ask, questions)]
    assert parallel == sequential


def test_load_does_not_embed_the_corpus(monkeypatch):
    import bot.build as build

    monkeypatch.setattr(build, "build_index", lambda *a, **k: pytest.fail("a current index was rebuilt"))
    assert Chatbot.load().loaded.built is False


def test_tell_me_more_goes_on_with_the_passage(bot):
    first = bot.ask("What is an AI engineer?")
    history = [("What is an AI engineer?", first.answer)]
    more = bot.ask("tell me more", history=history)
    assert more.in_scope and more.answer != first.answer
    # The rest of the definition's section, not quoted the first time.
    assert set(more.trace.quoted_units).isdisjoint(first.trace.quoted_units)
    assert {bot.index.units[u].section for u in more.trace.quoted_units} == {first.sources[0].section}
    # Another "more" goes on from there: nothing is repeated.
    again = bot.ask("go on", history=[*history, ("tell me more", more.answer)])
    assert set(again.trace.quoted_units).isdisjoint(first.trace.quoted_units + more.trace.quoted_units)
    assert min(again.trace.quoted_units) > max(more.trace.quoted_units)


def test_a_part_pointing_back_is_composed_with_the_part_before_it(bot):
    """ "… and why is it important?": alone, "it important" found the article's sign-off and its list of
    responsibilities; with the part before it, it finds what the article says of GPU acceleration."""
    reply = bot.ask("What is GPU acceleration, and why is it important")
    assert reply.answer.startswith("AI Engineers optimize models for:")
    assert "Share your comments" not in reply.answer and "key responsibilities" not in reply.answer
    assert reply.outcome == "partial"


def test_the_defined_terms_are_found_when_a_follow_up_first_needs_them(bot):
    """Start-up skips what only follow-ups use (the article's defined terms, ~30 ms of a one-shot ask); the
    first follow-up finds them, the same terms as finding them at once."""
    from bot.scope import defined_terms

    fresh = Chatbot.load(index=bot.loaded.folder)
    fresh.ask("What tools does each role use?")
    assert "terms" not in vars(fresh.scope) and "terms" not in vars(fresh.followups)
    first = "What is an A/B test?"
    fresh.ask("what's that?", [(first, fresh.ask(first).answer)])
    assert "terms" in vars(fresh.followups)
    expected = defined_terms(fresh.scope._sentences, skip=lambda term: bool(fresh.profile.entities_in(term)))
    assert fresh.scope.terms == expected and [t for t, _ in fresh.followups.terms] == expected


def test_a_part_the_article_does_not_answer_is_named(bot):
    """ "…, and how do I get into this field?": the note names that part."""
    reply = bot.ask(
        "As a software engineer, which tools should I know for ML engineering, and how do I get into this field?"
    )
    assert reply.outcome == "partial"
    assert "The article doesn't answer “how do I get into this field”" in reply.answer
    assert "doesn't say how" not in reply.answer
