"""The web app through its real HTTP interface: gradio_client against live servers on 127.0.0.1."""

from __future__ import annotations

import time
from pathlib import Path

import gradio as gr
import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from gradio_client.utils import QueueError
from helpers import free_port
from hypothesis import given
from hypothesis import strategies as st

from bot import EXAMPLE_QUESTIONS, feedback, web

XSS = "<img src=x onerror=alert(1)>"


def serve(app: gr.Blocks) -> str:
    """Launch ``app`` on a free loopback port without blocking; returns its URL."""
    _, url, _ = app.launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True, **web.LAUNCH_OPTIONS
    )
    return url


@pytest.fixture(scope="module")
def url(bot):
    app = web.build_app(bot)
    yield serve(app)
    app.close()


@pytest.fixture
def client(url) -> Client:
    """A fresh client is a fresh browser session: its own conversation state."""
    return Client(url, verbose=False)


def last_message(chat: list[dict]) -> str:
    return chat[-1]["content"][0]["text"]


def test_ask_returns_the_python_api_reply_as_json(client, bot):
    question = "What are the key responsibilities of an AI Engineer?"
    result = client.predict(question, api_name="/ask")
    assert result == bot.ask(question, []).to_dict()
    assert set(result) == {"question", "answer", "in_scope", "sources"}
    assert result["in_scope"] is True
    assert "Data Processing & Feature Engineering" in result["answer"]
    assert result["sources"] and set(result["sources"][0]) == {"section", "text", "score"}


def test_ask_rejects_an_empty_question_with_a_clear_message(client):
    with pytest.raises(AppError, match="question is empty"):
        client.predict("   \n ", api_name="/ask")


def test_ask_is_the_only_documented_endpoint(client):
    assert list(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == ["/ask"]


def test_chat_answers_with_a_collapsible_sources_block(client):
    chat, box, _how, hits = client.predict("What skills do I need to become an AI Engineer?", api_name="/chat")
    assert box == ""
    assert [m["role"] for m in chat] == ["user", "assistant"]
    answer = last_message(chat)
    assert "<details><summary>Sources (3)</summary>" in answer
    assert "Python" in answer  # the article's skills list
    assert hits["data"] and len(hits["headers"]) == len(web.HIT_HEADERS)


def test_follow_up_uses_the_conversation(client, bot):
    first = "What does an AI Engineer do?"
    follow = "and what tools do they use?"
    client.predict(first, api_name="/chat")
    chat, _, how, _ = client.predict(follow, api_name="/chat")
    assert len(chat) == 4
    # The page passes the engine's own answers as history, so it matches the Python API turn for turn.
    earlier = bot.ask(first, [])
    expected = bot.ask(follow, [(first, earlier.answer)])
    assert expected.trace.resolved_question != follow  # "they" was resolved: without history it would not be
    assert f"{web.as_text(expected.trace.resolved_question)}" in how
    assert last_message(chat).startswith(expected.answer)
    assert "OpenCV" in last_message(chat)


def test_sessions_do_not_share_a_conversation(url):
    one, two = Client(url, verbose=False), Client(url, verbose=False)
    one.predict("Who do AI Engineers work with?", api_name="/chat")
    chat, *_ = two.predict("What do ML Engineers focus on?", api_name="/chat")
    assert len(chat) == 2


def test_out_of_scope_reply_is_marked_and_offers_questions(client):
    chat, *_ = client.predict("What is the capital of France?", api_name="/chat")
    reply = last_message(chat)
    assert reply.startswith(web.NOT_COVERED)
    assert any(q in reply for q in EXAMPLE_QUESTIONS)
    assert "<details>" not in reply  # nothing to cite
    offered = [option["value"] for option in chat[-1]["options"]]
    assert offered and set(offered) <= set(EXAMPLE_QUESTIONS)  # shown as buttons under the refusal
    chat, *_ = client.predict(offered[0], api_name="/chat")
    assert not chat[1]["options"] and not chat[-1]["options"]  # gone once the conversation moves on
    api = client.predict("What is the capital of France?", api_name="/ask")
    assert api["in_scope"] is False and api["sources"] == []


def test_html_in_a_message_is_shown_as_text(client):
    chat, *_ = client.predict(XSS, api_name="/chat")
    shown = chat[0]["content"][0]["text"]
    assert "<" not in shown and ">" not in shown
    assert shown == "&lt;img src\\=x onerror\\=alert\\(1\\)&gt;"  # Markdown renders this back to the literal text
    assert client.predict(XSS, api_name="/ask")["question"] == XSS  # the API returns plain text, not markup


def test_a_long_message_is_cut_with_a_notice(client):
    chat, *_ = client.predict("What tools do ML Engineers use? " + "x " * 3000, api_name="/chat")
    assert "cut to its first 2,000 characters" in last_message(chat)
    assert len(chat[0]["content"][0]["text"]) < 2500  # the page shows what was answered, not 6,000 characters


def test_like_is_appended_to_the_feedback_log(url, client):
    question = "Who do AI Engineers work with?"
    chat, *_ = client.predict(question, api_name="/chat")
    # gradio_client cannot send event data, so this is what the browser posts when the thumb is clicked.
    body = {
        "data": [None],
        "event_data": {"index": 1, "value": [chat[1]["content"][0]], "liked": True},
        "session_hash": client.session_hash,
    }
    response = httpx.post(f"{url}gradio_api/run/feedback", json=body, timeout=30)
    assert response.status_code == 200, response.text
    [entry] = feedback.read()
    assert entry["question"] == question
    assert entry["vote"] == "like"
    assert entry["in_scope"] is True
    assert entry["source_ids"] and all(isinstance(i, int) for i in entry["source_ids"])
    assert entry["answer"] in last_message(chat)
    assert set(entry) == {"time", "question", "answer", "source_ids", "vote", "in_scope"}


def test_files_outside_gradio_are_not_served(url):
    readme = Path(__file__).resolve().parent.parent / "README.md"
    for path in (readme, Path("/etc/passwd")):
        response = httpx.get(f"{url}gradio_api/file={path}", timeout=10)
        assert response.status_code in (403, 404), path


def test_the_queue_is_configured_explicitly(bot):
    app = web.build_app(bot)
    assert app._queue.max_size == web.QUEUE_SIZE
    assert app._queue.default_concurrency_limit == web.CONCURRENCY_LIMIT
    assert app.api_open is False  # no direct HTTP route around the queue's limits


class SlowBot:
    """The real engine, a second slower per question, so a handful of simultaneous requests overload the queue."""

    def __init__(self, bot) -> None:
        self.bot = bot

    def ask(self, question, history=None, top_k=3):
        time.sleep(1.0)
        return self.bot.ask(question, history, top_k)


def test_overload_gets_busy_try_again_not_a_hang(bot):
    app = web.build_app(SlowBot(bot), concurrency_limit=1, queue_size=1)
    url = serve(app)
    try:
        client = Client(url, verbose=False)
        jobs = [client.submit("Who do AI Engineers work with?", api_name="/ask") for _ in range(6)]
        outcomes = []
        for job in jobs:
            try:
                outcomes.append(job.result(timeout=60)["in_scope"])
            except QueueError as error:
                outcomes.append(str(error))
        busy = [o for o in outcomes if isinstance(o, str)]
        assert busy and all("try again" in o for o in busy)
        assert True in outcomes  # the requests that fit were answered
        assert client.predict("Who do AI Engineers work with?", api_name="/ask")["in_scope"] is True  # recovered
    finally:
        app.close()


class BrokenBot:
    def ask(self, question, history=None, top_k=3):
        raise RuntimeError("index exploded at /secret/path")


def test_an_engine_failure_becomes_a_friendly_message(caplog):
    chat = web.WebChat(BrokenBot())
    messages, box, turns, *_ = chat.respond("What do AI Engineers do?", [])
    reply = messages[-1]["content"]
    assert reply.startswith("Sorry, something went wrong") and "/secret/path" not in reply
    assert box == ""
    assert turns[-1]["ok"] is False and web.history(turns) == []  # a failed turn is not fed back as history
    assert "index exploded" in caplog.text and "What do AI Engineers do?" in caplog.text  # logged for us
    with pytest.raises(gr.Error) as raised:
        chat.ask("What do AI Engineers do?")
    assert "/secret/path" not in str(raised.value)


def test_an_empty_chat_message_changes_nothing(bot):
    chat = web.WebChat(bot)
    messages, box, turns, *_ = chat.respond("   ", [])
    assert messages == [] and turns == [] and box == "   "  # nothing sent, the text stays to be fixed


def test_a_like_on_a_user_message_or_a_bad_index_is_ignored(bot):
    chat = web.WebChat(bot)
    _, _, turns, *_ = chat.respond("Who do AI Engineers work with?", [])
    for index in (0, 3, -1, "x"):
        chat.like(turns, gr.LikeData(None, {"index": index, "value": "", "liked": True}))
    assert feedback.read() == []
    chat.like(turns, gr.LikeData(None, {"index": 1, "value": "", "liked": False}))
    assert [e["vote"] for e in feedback.read()] == ["dislike"]


def test_server_address_follows_gradio_and_spaces_conventions(monkeypatch):
    for name in ("GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT", "SPACE_ID"):
        monkeypatch.delenv(name, raising=False)
    assert web.server_address() == ("127.0.0.1", 7860)
    monkeypatch.setenv("SPACE_ID", "someone/rolebot")
    assert web.server_address() == ("0.0.0.0", 7860)
    monkeypatch.setenv("GRADIO_SERVER_NAME", "127.0.0.2")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "8123")
    assert web.server_address() == ("127.0.0.2", 8123)
    assert web.server_address("127.0.0.3", 9000) == ("127.0.0.3", 9000)


@given(st.text(max_size=200))
def test_user_text_never_becomes_markup(text):
    shown = web.as_text(text)
    assert "<" not in shown and ">" not in shown
    assert "*" not in shown.replace("\\*", "")  # no unescaped emphasis


def test_sources_block_escapes_passages_and_stays_one_html_block():
    source = {
        "section": "A <b>",
        "text": "<script>alert(1)</script>\n\n| a | b |\n|---|---|\n| <i>1</i> | 2 |",
        "score": 0.5,
    }
    block = web.sources_block([source])
    assert block.startswith("<details><summary>Sources (1)</summary>") and block.endswith("</details>")
    assert "<script>" not in block and "&lt;script&gt;" in block and "<strong>A &lt;b&gt;</strong>" in block
    assert "<td>&lt;i&gt;1&lt;/i&gt;</td>" in block  # the passage's table is a real table of escaped cells
    assert "\n" not in block  # a blank line would end Markdown's raw HTML block mid-way
