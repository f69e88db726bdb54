"""The web app under simultaneous users (a small run of bench/load.py against `rolebot serve` in a subprocess),
and what a user sees, and the server logs, when answering fails."""

from __future__ import annotations

import logging
import re
import shutil

import gradio as gr
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from helpers import bench_load, free_port

from bot import web

load = bench_load()


@pytest.fixture(scope="module")
def server(tmp_path_factory, bot):
    """A real server with a deliberately small queue (1 at a time, 4 waiting), so a burst meets "busy".

    It serves a copy of the session engine's index (whose answers are the expected ones); it writes nothing
    into the repo even if that index needed a rebuild."""
    tmp = tmp_path_factory.mktemp("server")
    log_path = tmp / "server.log"
    shutil.copytree(bot.loaded.folder, tmp / "index")
    env = {
        "ROLEBOT_INDEX": str(tmp / "index"),
        "ROLEBOT_CACHE": str(tmp / "cache"),
        "ROLEBOT_DATA": str(tmp / "data"),
        "ROLEBOT_WEB_CONCURRENCY": "1",
        "ROLEBOT_WEB_QUEUE": "4",
    }
    process, url = load.start_server(log_path, env=env, timeout=240)
    yield process, url, log_path
    load.stop_server(process)


@pytest.mark.slow
@pytest.mark.parametrize("target", ["gradio", "api"])
def test_simultaneous_users_each_get_their_own_conversation(server, bot, target):
    """8 users at once on a server that answers 1 question and lets 4 wait: through the page's queue or the
    JSON API, each gets exactly its own conversation's answers, and the overflow is "busy", never an error."""
    process, url, log_path = server
    results = load.simulate(url, bot, users=8, questions=4, timeout=240, target=target)
    assert not results.errors, results.errors[:3]
    assert not results.wrong, results.wrong[:3]  # a crossed follow-up would land here
    assert not results.gave_up, results.gave_up[:3]
    assert results.correct == 8 * 4
    assert process.poll() is None
    assert "Traceback" not in log_path.read_text()
    assert load.rss_mb(process.pid) > 0


def test_the_two_conversations_can_tell_a_crossing(bot):
    """The load check is only meaningful if AI-first and ML-first follow-ups resolve differently."""
    ai = load.expected_answers(bot, load.AI_FIRST[:2])
    ml = load.expected_answers(bot, load.ML_FIRST[:2])
    assert "ML Engineer" in ai[1].resolved and "AI Engineer" in ml[1].resolved
    assert ai[1].answer != ml[1].answer


@pytest.mark.parametrize("target", ["gradio", "api"])
def test_a_crossed_conversation_is_caught(server, bot, target):
    """Give one user the other conversation's expectations: the check must call its follow-up wrong."""
    _, url, _ = server
    ai = load.expected_answers(bot, load.AI_FIRST[:2])
    ml = load.expected_answers(bot, load.ML_FIRST[:2])
    results = load.Results()
    load.USERS[target](url, 0, load.AI_FIRST[:2], [ai[0], ml[1]], results)
    assert results.correct == 1 and len(results.wrong) == 1 and "turn 1" in results.wrong[0]


# Errors: a failure inside the engine is a friendly message with a reference; the log has the question and
# the same reference, so the failure can be reproduced.


class FailsOnBoom:
    """The real engine, except that a question containing "boom" raises an unexpected error."""

    def __init__(self, bot) -> None:
        self.bot = bot

    def __getattr__(self, name):
        return getattr(self.bot, name)  # profile, loaded: what the page reads besides ask()

    def ask(self, question, history=None, top_k=3):
        if "boom" in question:
            raise RuntimeError("simulated failure in /secret/engine/path.py")
        return self.bot.ask(question, history, top_k)


@pytest.fixture(scope="module")
def failing_url(bot):
    app = web.build_app(FailsOnBoom(bot))
    _, url, _ = app.launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True, show_error=False
    )
    yield url
    app.close()


def reference(text: str) -> str:
    found = re.search(r"reference (?:`|<code>)([0-9a-f]{6,})(?:`|</code>)", text)
    assert found, f"no reference in {text!r}"
    return found.group(1)


def test_chat_failure_is_friendly_and_logged_with_question_and_reference(failing_url, caplog):
    client = Client(failing_url, verbose=False)
    with caplog.at_level(logging.ERROR):
        chat, *_ = client.predict("what makes it go boom?", api_name="/chat")
    shown = chat[-1]["content"][0]["text"]
    assert "Sorry, something went wrong" in shown
    assert "Traceback" not in shown and "RuntimeError" not in shown and "/secret/" not in shown
    ref = reference(shown)
    logged = [r for r in caplog.records if ref in r.getMessage()]
    assert logged and "what makes it go boom?" in logged[0].getMessage()
    assert logged[0].exc_info is not None  # the traceback goes to the server log, not to the user
    # The conversation goes on: the failed turn is shown but not used as history.
    chat, *_ = client.predict("What frameworks do AI engineers use?", api_name="/chat")
    assert len(chat) == 4 and "OpenCV" in chat[-1]["content"][0]["text"]


def test_api_failure_is_friendly_and_logged_with_question_and_reference(failing_url, caplog):
    client = Client(failing_url, verbose=False)
    with caplog.at_level(logging.ERROR), pytest.raises(AppError) as raised:
        client.predict("boom", api_name="/ask")
    message = str(raised.value)
    assert "Sorry, something went wrong" in message
    assert "Traceback" not in message and "/secret/" not in message
    ref = reference(message)
    assert any(ref in r.getMessage() and "'boom'" in r.getMessage() for r in caplog.records)
    assert client.predict("Who do AI Engineers work with?", api_name="/ask")["in_scope"] is True


def test_handlers_never_raise_a_stack_trace_to_the_page(bot):
    """In process: respond() returns a message for failures; ask() raises only gr.Error (shown as a message)."""
    chat = web.WebChat(FailsOnBoom(bot))
    messages, *_ = chat.respond("boom", [])
    assert "Sorry, something went wrong" in messages[-1]["content"]
    with pytest.raises(gr.Error):
        chat.ask("boom")


# Bad input through the running server: answered, or refused with the documented message; the server lives on.


@pytest.mark.parametrize(
    "question",
    ["x" * 20_000, "What tools do ML Engineers use? \x00\x1b[2J" * 50, "<script>alert(1)</script> what is MLOps?"],
    ids=["20KB", "control-chars", "html"],
)
def test_server_answers_bad_input_through_both_endpoints(server, question):
    process, url, log_path = server
    client = Client(url, verbose=False)
    reply = client.predict(question, api_name="/ask")
    assert {"question", "answer", "in_scope", "sources"} <= set(reply) and reply["answer"]
    chat, *_ = client.predict(question, api_name="/chat")
    shown = chat[-1]["content"][0]["text"]
    assert shown and "Sorry, something went wrong" not in shown and "<script>" not in shown
    assert process.poll() is None and "Traceback" not in log_path.read_text()


def test_server_refuses_a_megabyte_question_before_reading_it(server):
    """Every route's body is bounded (ROLEBOT_MAX_BODY): a 1 MB question is a 413 with a JSON error, and the
    server lives on."""
    import httpx

    process, url, log_path = server
    body = {"data": ["x" * 1_000_000], "fn_index": 0, "session_hash": "abc"}
    response = httpx.post(f"{url}gradio_api/queue/join", json=body, timeout=30)
    assert response.status_code == 413 and response.json()["error"]
    assert Client(url, verbose=False).predict("What tools do ML Engineers use?", api_name="/ask")["answer"]
    assert process.poll() is None and "Traceback" not in log_path.read_text()


def test_server_api_refuses_an_invisible_question_clearly(server):
    _, url, _ = server
    with pytest.raises(AppError, match="question is empty"):
        Client(url, verbose=False).predict("\u200b\u200b\x00", api_name="/ask")


def test_chat_treats_an_invisible_message_as_empty_not_as_a_failure(bot, caplog):
    chat = web.WebChat(bot)
    with caplog.at_level(logging.ERROR):
        messages, *_ = chat.respond("\u200b\u200b\x00", [])
    assert not any("Sorry, something went wrong" in m["content"] for m in messages)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
