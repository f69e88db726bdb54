"""The JSON API (``POST /api/ask``) on the real server: the same answers as the CLI and Gradio's /ask,
follow-ups included, every error as JSON with a 4xx code, engine failures as a 500 with a reference,
engine work off the event loop and within the shared limit, and its OpenAPI page."""

from __future__ import annotations

import asyncio
import html
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from gradio_client import Client
from helpers import serve_site

from bot import api, config

ROLEBOT = Path(sys.executable).with_name("rolebot")
QUESTIONS = [
    "How is an AI Engineer different from an ML Engineer?",
    "Who do AI Engineers work with?",
    "What is the capital of France?",  # refused: a normal reply with in_scope false
]
CONVERSATION = [
    "What frameworks do AI engineers use?",
    "what about ML engineers?",  # only answerable with the previous turn
    "and who do they work with?",
]


@pytest.fixture(scope="module")
def site(bot):
    app, url = serve_site(bot)
    yield url
    app.close()


def post(url: str, body, **kwargs) -> httpx.Response:
    """``POST /api/ask``: a dict is sent as JSON, bytes as they are (with a JSON content type unless given)."""
    if isinstance(body, (bytes, str)) or callable(body):
        headers = kwargs.pop("headers", {"Content-Type": "application/json"})
        content = body() if callable(body) else body
        return httpx.post(f"{url}api/ask", content=content, headers=headers, timeout=60, **kwargs)
    return httpx.post(f"{url}api/ask", json=body, timeout=60, **kwargs)


def cli(*args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [str(ROLEBOT), *args], input=stdin, capture_output=True, text=True, timeout=120, env=os.environ.copy()
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


# --- same answers everywhere ------------------------------------------------------------------------


def test_api_returns_what_the_cli_and_gradio_return(site, bot):
    client = Client(site, verbose=False)
    for question in QUESTIONS:
        response = post(site, {"question": question})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        reply = response.json()
        assert reply == json.loads(cli("ask", "--json", question))  # rolebot ask --json, in a new process
        assert reply == client.predict(question, api_name="/ask")  # Gradio's /ask
        assert reply == bot.ask(question, []).to_dict()  # the Python API
    assert post(site, {"question": QUESTIONS[-1]}).json()["in_scope"] is False


def test_follow_ups_with_history_match_the_cli_chat(site, bot):
    """A conversation through the API, each turn sent with the earlier (question, answer) pairs, gives the
    replies of `rolebot chat --json` fed the same lines."""
    lines = cli("chat", "--json", stdin="\n".join(CONVERSATION) + "\n").splitlines()
    history: list[list[str]] = []
    for question, line in zip(CONVERSATION, lines, strict=True):
        reply = post(site, {"question": question, "history": history}).json()
        assert reply == json.loads(line)
        history.append([reply["question"], reply["answer"]])
    assert "Scikit-learn" in json.loads(lines[1])["answer"]  # the follow-up was read in context ...
    alone = post(site, {"question": CONVERSATION[1]}).json()
    assert alone == bot.ask(CONVERSATION[1], []).to_dict() and alone != json.loads(lines[1])  # ... and needed it


def test_history_may_be_null_or_left_out(site, bot):
    expected = bot.ask(CONVERSATION[1], []).to_dict()
    assert post(site, {"question": CONVERSATION[1], "history": None}).json() == expected
    assert post(site, {"question": CONVERSATION[1], "history": []}).json() == expected


def test_the_reply_passes_through_whatever_to_dict_returns(bot):
    """The API never rebuilds the reply's shape: an engine whose replies carry more keys gets them all out."""
    from starlette.testclient import TestClient

    class Richer:
        def ask(self, question, history=None):
            reply = bot.ask(question, history)
            reply.to_dict = lambda: {**type(reply).to_dict(reply), "suggestions": ["q?"], "parts": [{"kind": "x"}]}
            return reply

    with TestClient(api.create_api(Richer())) as client:
        data = client.post("/ask", json={"question": QUESTIONS[1]}).json()
    assert data["suggestions"] == ["q?"] and data["parts"] == [{"kind": "x"}] and data["answer"]


# --- errors -----------------------------------------------------------------------------------------


def chunks(size: int):
    """A body of ``size`` bytes sent chunked, without a Content-Length."""

    def generate():
        for _ in range(size // 8192):
            yield b"x" * 8192
        yield b"x" * (size % 8192)

    return generate


BAD_REQUESTS = [
    # (id, body, status, error code, words in the message)
    ("empty-question", {"question": ""}, 422, "empty_question", "question is empty"),
    ("blank-question", {"question": " \n\t "}, 422, "empty_question", "question is empty"),
    ("invisible-question", {"question": "\u200b\u200b\x00"}, 422, "empty_question", "question is empty"),
    ("missing-question", {"history": []}, 422, "invalid_request", 'needs a "question" string'),
    ("number-question", {"question": 42}, 422, "invalid_request", '"question" must be a string'),
    ("null-question", {"question": None}, 422, "invalid_request", '"question" must be a string'),
    ("list-question", {"question": ["a", "b"]}, 422, "invalid_request", '"question" must be a string'),
    ("history-string", {"question": "q", "history": "hi"}, 422, "invalid_request", '"history" must be a list'),
    ("history-dicts", {"question": "q", "history": [{"user": "a"}]}, 422, "invalid_request", "check item 0"),
    ("history-short-pair", {"question": "q", "history": [["a"]]}, 422, "invalid_request", "check item 0"),
    ("history-triple", {"question": "q", "history": [["a", "b", "c"]]}, 422, "invalid_request", "check item 0"),
    ("history-numbers", {"question": "q", "history": [["a", "b"], [1, 2]]}, 422, "invalid_request", "check item 1"),
    ("unknown-field", {"question": "q", "top_k": 5}, 422, "invalid_request", 'Unknown field "top_k"'),
    ("typo", {"questoin": "q"}, 422, "invalid_request", 'Unknown field "questoin"'),
    ("json-array", ["What is an AI Engineer?"], 422, "invalid_request", "must be a JSON object"),
    ("json-string", b'"What is an AI Engineer?"', 422, "invalid_request", "must be a JSON object"),
    ("invalid-json", b'{"question": "unterminated', 400, "invalid_json", "not valid JSON"),
    ("empty-body", b"", 400, "invalid_json", "body is empty"),
    ("not-utf8", b'{"question": "\xff\xfe"}', 400, "invalid_json", "not valid JSON"),
    ("too-large", {"question": "x" * config.API_MAX_BODY_BYTES}, 413, "body_too_large", "65,536-byte limit"),
    ("too-large-chunked", chunks(config.API_MAX_BODY_BYTES + 1), 413, "body_too_large", "65,536-byte limit"),
]


@pytest.mark.parametrize(
    ("body", "status", "code", "words"), [r[1:] for r in BAD_REQUESTS], ids=[r[0] for r in BAD_REQUESTS]
)
def test_bad_requests_get_a_json_error_with_a_4xx_code(site, body, status, code, words):
    response = post(site, body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()
    assert set(error) == {"error", "message"} and error["error"] == code
    assert words in error["message"], error["message"]
    assert "Traceback" not in response.text and "pydantic" not in response.text.lower()


@pytest.mark.parametrize(
    "body",
    [b"[" * 1000 + b"]" * 1000, b'{"question": "q", "history": ' + b"[" * 1000 + b"]" * 1000 + b"}"],
    ids=["array", "in-history"],
)
def test_json_nested_a_thousand_deep_is_a_400_not_a_traceback(site, body, caplog):
    with caplog.at_level(logging.INFO):
        response = post(site, body)
    assert response.status_code == 400 and response.headers["content-type"] == "application/json"
    assert response.json() == {
        "error": "invalid_json",
        "message": 'The body is nested too deeply: send {"question": "..."}.',
    }
    assert "Traceback" not in caplog.text and "RecursionError" not in caplog.text
    assert post(site, {"question": QUESTIONS[1]}).status_code == 200  # the server goes on


def test_thousands_of_bad_history_items_give_a_short_message(site, caplog):
    with caplog.at_level(logging.INFO, logger="bot.api"):
        response = post(site, {"question": "q", "history": [[1, 2]] * 5000})
    assert response.status_code == 422
    message = response.json()["message"]
    assert "check item 0, 1, 2, 3, 4, …" in message and len(message) < 200
    [line] = [r.getMessage() for r in caplog.records if r.name == "bot.api"]  # one short line per refusal
    assert line == "refused POST /api/ask: 422 invalid_request"


def test_a_body_at_the_limit_is_read(site):
    body = json.dumps({"question": "What is MLOps?", "history": [["x" * 100, "y"]]})
    padded = body[:-1] + " " * (config.API_MAX_BODY_BYTES - len(body)) + "}"
    assert len(padded.encode()) == config.API_MAX_BODY_BYTES
    assert post(site, padded.encode()).status_code == 200


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_body_not_sent_as_json_is_refused_with_415(site, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = post(site, b'{"question": "What is MLOps?"}', headers=headers)
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"
    assert "Content-Type: application/json" in response.json()["message"]


def test_json_with_a_charset_or_a_json_suffix_is_json(site):
    body = b'{"question": "What is MLOps?"}'
    for content_type in ("application/json; charset=utf-8", "application/vnd.api+json"):
        assert post(site, body, headers={"Content-Type": content_type}).status_code == 200


def test_other_methods_and_paths_are_json_errors(site):
    response = httpx.get(f"{site}api/ask", timeout=10)
    assert response.status_code == 405 and response.json()["error"] == "method_not_allowed"
    response = httpx.post(f"{site}api/nothing", json={}, timeout=10)
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert "POST /api/ask" in response.json()["message"]


def test_the_body_limit_comes_from_config(monkeypatch, bot):
    assert config.api_max_body_bytes() == config.API_MAX_BODY_BYTES == 64 * 1024
    monkeypatch.setenv("ROLEBOT_API_MAX_BODY", "1024")
    assert config.api_max_body_bytes() == 1024
    assert api.create_api(FailsOnBoom(bot)).state.asker.max_body == 1024
    monkeypatch.setenv("ROLEBOT_API_MAX_BODY", "lots")  # a typo keeps the default rather than stopping the server
    assert config.api_max_body_bytes() == config.API_MAX_BODY_BYTES


class FailsOnBoom:
    """The real engine, except that a question containing "boom" raises an unexpected error."""

    def __init__(self, bot) -> None:
        self.bot = bot
        self.profile = bot.profile  # the page reads what it says about the article from the engine

    def ask(self, question, history=None, top_k=3):
        if "boom" in question:
            raise RuntimeError("simulated failure in /secret/engine/path.py")
        return self.bot.ask(question, history, top_k)


def test_an_engine_failure_is_a_500_with_a_reference_in_the_log(bot, caplog):
    app, url = serve_site(FailsOnBoom(bot))
    try:
        with caplog.at_level(logging.ERROR):
            response = post(url, {"question": "what makes it go boom?"})
        assert response.status_code == 500
        error = response.json()
        assert error["error"] == "internal_error" and re.fullmatch(r"[0-9a-f]{8}", error["reference"])
        assert error["reference"] in error["message"]
        assert "/secret/" not in response.text and "RuntimeError" not in response.text
        logged = [r for r in caplog.records if error["reference"] in r.getMessage()]
        assert logged and "what makes it go boom?" in logged[0].getMessage() and logged[0].exc_info
        assert post(url, {"question": QUESTIONS[1]}).status_code == 200  # the server goes on
    finally:
        app.close()


def test_a_failure_while_reading_a_request_is_a_json_500_with_a_reference(bot, caplog, monkeypatch):
    app, url = serve_site(bot)
    try:
        monkeypatch.setattr(api, "parse_request", lambda body: 1 / 0)
        with caplog.at_level(logging.ERROR):
            response = post(url, {"question": QUESTIONS[1]})
        assert response.status_code == 500 and response.headers["content-type"] == "application/json"
        error = response.json()
        assert error["error"] == "internal_error" and error["reference"] in caplog.text
        assert "ZeroDivisionError" not in response.text
    finally:
        app.close()


# --- concurrency -------------------------------------------------------------------------------------


class SlowCountingBot:
    """The real engine, ``delay`` seconds slower per question, counting how many questions run at once and
    noting any that runs on an event loop's thread."""

    def __init__(self, bot, delay: float) -> None:
        self.bot, self.delay = bot, delay
        self.profile = bot.profile  # the page reads what it says about the article from the engine
        self.running = self.most = 0
        self.on_event_loop = False
        self.lock = threading.Lock()

    def ask(self, question, history=None, top_k=3):
        try:
            asyncio.get_running_loop()
            self.on_event_loop = True
        except RuntimeError:  # no loop in this thread: a worker thread, as it should be
            pass
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(self.delay)
            return self.bot.ask(question, history, top_k)
        finally:
            with self.lock:
                self.running -= 1


def test_engine_work_runs_off_the_event_loop_within_the_shared_limit(bot):
    """Four API calls and four page (/ask) calls at once: at most 2 questions in the engine together, none
    on the event loop, and the server answers other requests meanwhile."""
    slow = SlowCountingBot(bot, delay=1.0)
    app, url = serve_site(slow, concurrency_limit=2)
    try:
        client = Client(url, verbose=False)
        with ThreadPoolExecutor(8) as pool:
            api_calls = [pool.submit(post, url, {"question": QUESTIONS[1]}) for _ in range(4)]
            page_calls = [client.submit(QUESTIONS[1], api_name="/ask") for _ in range(4)]
            time.sleep(0.5)
            started = time.perf_counter()
            assert httpx.get(f"{url}config", timeout=10).status_code == 200
            waited = time.perf_counter() - started
            assert all(call.result(timeout=120).status_code == 200 for call in api_calls)
            assert all(call.result(timeout=120)["in_scope"] for call in page_calls)
        assert slow.most == 2  # both paths together, never 4
        assert not slow.on_event_loop
        assert waited < 0.8  # a blocked loop would have held this request for a whole 1 s question
    finally:
        app.close()


def test_too_many_waiting_questions_get_busy_503_then_recover(bot):
    app, url = serve_site(SlowCountingBot(bot, delay=1.0), concurrency_limit=1, queue_size=1)
    try:
        with ThreadPoolExecutor(6) as pool:
            responses = list(pool.map(lambda _: post(url, {"question": QUESTIONS[1]}), range(6)))
        busy = [r for r in responses if r.status_code == 503]
        assert busy and all(r.json()["error"] == "busy" and r.headers["retry-after"] == "1" for r in busy)
        assert "try again" in busy[0].json()["message"]
        assert any(r.status_code == 200 for r in responses)
        assert post(url, {"question": QUESTIONS[1]}).status_code == 200  # recovered
    finally:
        app.close()


# --- OpenAPI page -------------------------------------------------------------------------------------


def test_openapi_documents_request_response_errors_and_examples(site, bot):
    spec = httpx.get(f"{site}api/openapi.json", timeout=10).json()
    assert spec["servers"] == [{"url": "/api"}]  # "Try it out" posts to /api/ask
    operation = spec["paths"]["/ask"]["post"]
    body = operation["requestBody"]["content"]["application/json"]
    assert set(body["schema"]["properties"]) == {"question", "history"} and body["schema"]["required"] == ["question"]
    assert {"question", "follow-up"} <= set(body["examples"])
    assert body["examples"]["follow-up"]["value"]["history"]
    ok = operation["responses"]["200"]["content"]["application/json"]
    documented = spec["components"]["schemas"]["ReplyModel"]["properties"]
    example = ok["example"]
    assert example == bot.ask(example["question"], []).to_dict()  # a real reply, not a hand-written one
    assert set(documented) <= set(example)  # nothing documented that the engine does not return
    for status in ("400", "413", "415", "422", "500", "503"):
        assert operation["responses"][status]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorModel")
    assert "65,536" in spec["info"]["description"]


def test_docs_page_shows_the_schema_offline(site, bot):
    """No CDN: the page is self-contained HTML (no script, nothing from elsewhere) built from the OpenAPI."""
    page = httpx.get(f"{site}api/docs", timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "<script" not in text.lower() and "cdn" not in text.lower()
    assert not re.search(r"(src|href)=['\"](https?:)?//", text)  # nothing loaded from another host
    assert "POST /api/ask" in text and "/api/openapi.json" in text
    for words in ("question", "history", "in_scope", "body_too_large", "Retry-After", bot.profile.examples[0]):
        assert html.escape(words) in text, words
