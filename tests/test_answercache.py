"""bot/answercache.py, as the server's engine uses it: repeated questions get the same reply without the engine."""

from __future__ import annotations

import threading

import pytest

from bot import server
from bot.answercache import AnswerCache
from bot.errors import EmptyQuestionError


class Counting:
    """Stands in for a Chatbot: counts the questions it really answers."""

    def __init__(self, bot) -> None:
        self.bot, self.index, self.asked = bot, bot.index, 0
        self.lock = threading.Lock()

    def ask(self, question, history=None, top_k=3):
        with self.lock:
            self.asked += 1
        return self.bot.ask(question, history, top_k)


@pytest.fixture
def counting(bot) -> Counting:
    return Counting(bot)


def test_a_repeated_question_is_answered_once_with_the_same_reply(counting) -> None:
    engine = server.SharedEngine(counting)
    first = engine.ask("What does an AI engineer do?")
    again = engine.ask("  What does an AI   engineer do?  ")  # the question as the engine reads it
    assert counting.asked == 1
    assert again.to_dict() == first.to_dict() == counting.bot.ask("What does an AI engineer do?").to_dict()
    again.sources.clear()  # a caller's copy is its own
    assert engine.ask("What does an AI engineer do?").sources == first.sources


def test_history_and_top_k_are_part_of_the_question(counting) -> None:
    engine = server.SharedEngine(counting)
    first = engine.ask("What does an AI engineer do?")
    follow = engine.ask("and their tools?", [("What does an AI engineer do?", first.answer)])
    alone = engine.ask("and their tools?")
    engine.ask("What does an AI engineer do?", top_k=1)
    assert counting.asked == 4
    assert follow.to_dict() != alone.to_dict()


def test_the_cache_keeps_the_most_recently_used_replies(counting) -> None:
    engine = server.SharedEngine(counting, cache_size=2)
    for question in ["What is an AI engineer?", "What is an ML engineer?", "What is an AI engineer?", "What is MLOps?"]:
        engine.ask(question)
    assert counting.asked == 3
    engine.ask("What is an AI engineer?")  # used last but one: kept
    assert counting.asked == 3
    engine.ask("What is an ML engineer?")  # least recently used: dropped
    assert counting.asked == 4


def test_another_index_empties_the_cache(counting, bot) -> None:
    import copy

    engine = server.SharedEngine(counting)
    engine.ask("What is an AI engineer?")
    counting.index = copy.copy(bot.index)  # a reloaded index
    engine.ask("What is an AI engineer?")
    assert counting.asked == 2


def test_size_zero_turns_the_cache_off_and_empty_questions_reach_the_engine(counting, monkeypatch) -> None:
    monkeypatch.setenv("ROLEBOT_ANSWER_CACHE", "0")
    engine = server.SharedEngine(counting)
    assert engine.answers is None
    engine.ask("What is an AI engineer?")
    engine.ask("What is an AI engineer?")
    assert counting.asked == 2
    cached = server.SharedEngine(counting)
    with pytest.raises(EmptyQuestionError, match=counting.bot.profile.empty_question[:20]):
        cached.ask("   ")


def test_threads_asking_the_same_questions_get_the_sequential_replies(counting) -> None:
    questions = ["What is an AI engineer?", "What tools do ML engineers use?", "How do I bake bread?"] * 6
    expected = {q: counting.bot.ask(q).to_dict() for q in set(questions)}
    engine = server.SharedEngine(counting, limit=2)
    got: list[tuple[str, dict]] = []
    lock = threading.Lock()

    def ask(question: str) -> None:
        reply = engine.ask(question).to_dict()
        with lock:
            got.append((question, reply))

    threads = [threading.Thread(target=ask, args=(q,)) for q in questions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == len(questions) and all(reply == expected[q] for q, reply in got)
    assert engine.answers.hits + engine.answers.misses == len(questions)


def test_keys_normalise_the_question_and_errors_are_not_cached() -> None:
    cache = AnswerCache(4, 2000)
    assert cache.key("What  is MLOps? ", None, 3) == cache.key("What is MLOps?", [], 3)

    def fail():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        cache.get_or_answer("index", cache.key("q", None, 3), fail)
    assert cache.get_or_answer("index", cache.key("q", None, 3), lambda: "answer") == "answer"
