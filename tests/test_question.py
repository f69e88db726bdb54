"""The message read once into a Question, and the engine's components passed in (bot/question.py, bot/chat.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import Chatbot
from bot.errors import EmptyQuestionError
from bot.scope import ScopeJudge


def test_a_first_question_is_read_as_it_stands(bot):
    question = bot.reader.read("What tools do ML engineers use?")
    assert question.text == question.resolved == "What tools do ML engineers use?"
    assert question.previous == () and question.last == "" and not question.more and not question.asked_again


def test_a_follow_up_is_read_as_the_standalone_question_it_stands_for(bot):
    first = "What tools do ML engineers use?"
    history = [(first, bot.ask(first).answer)]
    question = bot.reader.read("and AI engineers?", history)
    assert question.text == "and AI engineers?"
    assert question.previous == (first,) and question.asked_again == first
    assert "AI Engineer" in question.resolved and "tools" in question.resolved


def test_tell_me_more_counts_the_mores_before_it(bot):
    first = "What does an AI engineer do?"
    history = [(first, bot.ask(first).answer)]
    once = bot.reader.read("tell me more", history)
    assert once.more and once.mores == 0 and once.resolved == first
    history.append(("tell me more", bot.answer(once).answer))
    twice = bot.reader.read("tell me more", history)
    assert twice.more and twice.mores == 1
    assert bot.answer(twice).answer != bot.answer(once).answer  # each "more" goes on from where the last stopped


def test_another_name_for_a_role_is_read_once_and_noted(bot):
    question = bot.reader.read("What does an AI developer do?")
    assert question.other_name is not None and question.other_name.name == "AI Engineer"
    assert "AI Engineer" in question.resolved
    assert "AI Engineer" in bot.answer(question).parts[-1].text


def test_ask_is_read_then_answer(bot):
    message = "Who do AI engineers work with?"
    assert bot.ask(message).to_dict() == bot.answer(bot.reader.read(message)).to_dict()


def test_an_empty_message_is_refused_with_the_profiles_words(bot):
    with pytest.raises(EmptyQuestionError, match=bot.profile.empty_question[:20]):
        bot.reader.read(" \u200b ")


class DecliningJudge(ScopeJudge):
    """A scope judge that declines everything: stands for any judge a caller brings."""

    def decide(self, *args, **kwargs):
        return replace(super().decide(*args, **kwargs), outcome="declined", explanation="Declined by the judge.")


def test_the_scope_judge_is_a_component_passed_in(bot):
    judge = DecliningJudge(bot.index, bot.profile)
    swapped = Chatbot(bot.loaded, bot.embedder, bot.profile, scope=judge)
    assert swapped.scope is judge and swapped.retriever is not bot.retriever
    reply = swapped.ask("What tools do ML engineers use?")
    assert reply.outcome == "declined" and reply.answer.startswith("Declined by the judge.")
    assert bot.ask("What tools do ML engineers use?").outcome == "answered"  # the default judge, unchanged


def test_the_retriever_and_composer_are_components_passed_in(bot):
    swapped = Chatbot(bot.loaded, bot.embedder, bot.profile, retriever=bot.retriever, composer=bot.composer)
    assert swapped.retriever is bot.retriever and swapped.composer is bot.composer
    message = "What tools do ML engineers use?"
    assert swapped.ask(message).answer == bot.ask(message).answer


def test_a_message_asking_twice_is_read_as_two_standalone_questions(bot):
    question = bot.reader.read("What does an AI engineer do and what tools do they use?")
    assert len(question.parts) == 2
    assert question.parts[0] == "What does an AI engineer do"
    assert "AI Engineer" in question.parts[1] and "tools" in question.parts[1]  # "they" is the role the first names
    assert bot.reader.read("What tools do ML engineers use?").parts == ()


def test_a_part_the_article_does_not_answer_is_named_and_the_rest_answered(bot):
    """ANSWERS.md: when the article answers part of a question, give that part and say plainly what it does not
    cover. The part it answers is answered as if asked alone, with nothing for the other part."""
    reply = bot.ask("Which tools do ML engineers use, and how do I get into this field?")
    assert reply.outcome == "partial", reply.answer
    assert "Scikit-learn" in reply.parts[0].text
    assert reply.parts[-1].text.startswith("The article doesn't answer “how do I get into this field”")
    assert len([p for p in reply.parts if p.kind == "quote"]) == 1


def test_a_message_whose_parts_are_all_answered_is_answered(bot):
    reply = bot.ask("What does an AI engineer do and what tools do they use?")
    assert reply.outcome == "answered"
    assert "TensorFlow" in reply.answer


def test_a_part_pointing_back_at_the_one_before_is_not_declined_on_its_own(bot):
    """ "… and what does that do?": "that" is the first part's subject; alone, the part asks about nothing."""
    reply = bot.ask("Who do AI engineers work with, and why does that matter?")
    assert "doesn't answer “why does that matter”" not in reply.answer


def test_a_part_the_article_answers_only_in_part_lends_the_answer_its_note(bot):
    """ "What is Keras, and how does it differ from the other frameworks?": the article uses "Keras" and never
    says what it is; the whole answer is partial, with that part's note."""
    reply = bot.ask("What is Keras, and how is it different from the other frameworks?")
    assert reply.outcome == "partial"
    assert reply.parts[-1].text.startswith("The article uses “Keras” but doesn't say what it is")
