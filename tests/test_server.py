"""What the server takes, stores and shows besides answers: no uploads, nothing written to Gradio's cache,
no files served, and /config and /gradio_api/info holding only what the page and gradio_client need."""

from __future__ import annotations

import copy
import os
import sys
import threading
import time
from pathlib import Path

import gradio as gr
import httpx
import pytest
from gradio_client import Client
from helpers import CHROMIUM, serve_site, unavailable

from bot import config, feedback, server, web

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Who do AI Engineers work with?"


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """Gradio's temp/cache folder for this module's server: uploads and deep links would land here."""
    return tmp_path_factory.mktemp("gradio-cache")


@pytest.fixture(scope="module")
def served(bot, cache):
    """(Blocks, URL) of the page and API, wired as web.launch() wires them."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GRADIO_TEMP_DIR", str(cache))  # read when the server app is created
        app, url = serve_site(bot)
        assert app.app.uploaded_file_dir == str(cache)  # the checks below look in the right folder
        yield app, url
        app.close()


@pytest.fixture(scope="module")
def site(served) -> str:
    return served[1]


def stored_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if not p.is_dir()]


# --- uploads and files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [6, 2_000_000], ids=["small", "2MB"])
def test_an_upload_is_refused_and_nothing_is_stored(site, cache, size):
    payload = b"hello\n" if size == 6 else os.urandom(size)
    response = httpx.post(f"{site}gradio_api/upload", files={"files": ("drop.bin", payload)}, timeout=30)
    assert response.status_code == 403
    assert response.json() == {"error": "forbidden", "message": server.NO_FILES}
    assert stored_files(cache) == []
    # Nor through the other writers: a recording, or a chunked upload with a progress id.
    response = httpx.post(f"{site}gradio_api/process_recording", files={"files": ("r.wav", payload)}, timeout=30)
    assert response.status_code == 403
    response = httpx.post(f"{site}gradio_api/upload/?upload_id=abc", files={"files": ("x", payload)}, timeout=30)
    assert response.status_code == 403
    assert stored_files(cache) == []


def test_the_file_route_serves_nothing_even_from_the_cache(site, cache):
    """A file that did reach Gradio's cache (put there by hand here) is not served either."""
    planted = cache / "0123abcd" / "planted.txt"
    planted.parent.mkdir()
    planted.write_text("secret")
    try:
        for path in (planted, ROOT / "README.md", Path("/etc/passwd")):
            for route in (f"gradio_api/file={path}", f"gradio_api/file/{path}"):
                response = httpx.get(f"{site}{route}", timeout=10)
                assert response.status_code == 404, route
                assert "secret" not in response.text and "root:" not in response.text
    finally:
        planted.unlink()
        planted.parent.rmdir()


def test_a_conversation_is_not_saved_as_a_deep_link(site, cache):
    client = Client(site, verbose=False)
    client.predict(QUESTION, api_name="/chat")
    response = httpx.get(f"{site}gradio_api/deep_link", params={"session_hash": client.session_hash}, timeout=10)
    assert response.status_code == 403
    assert stored_files(cache) == []


def test_gradio_client_uploads_nothing_either(site):
    assert httpx.get(f"{site}config", timeout=10).json()["max_file_size"] == 0  # gradio_client refuses files itself


def test_the_page_and_its_api_still_work(site, cache):
    client = Client(site, verbose=False)
    chat, *_ = client.predict(QUESTION, api_name="/chat")
    assert "Data Scientists" in chat[-1]["content"][0]["text"]
    assert client.predict(QUESTION, api_name="/ask")["in_scope"] is True
    page = httpx.get(site, timeout=10)
    assert page.status_code == 200 and "rolebot" in page.text
    assert stored_files(cache) == []


def test_every_route_that_takes_data_is_known(served):
    """Each POST route the server has is one the page or gradio_client uses, or refused by the policy. A
    Gradio upgrade that adds one fails here until someone decides which it is."""
    used = {
        "/gradio_api/queue/join",  # the page's and gradio_client's calls
        "/gradio_api/call/{api_name}",
        "/gradio_api/call/{api_name}/",
        "/gradio_api/call/v2/{api_name}",
        "/gradio_api/call/v2/{api_name}/",
        "/gradio_api/run/{api_name}",  # refused by Gradio itself (api_open=False): only through the queue
        "/gradio_api/run/{api_name}/",
        "/gradio_api/api/{api_name}",
        "/gradio_api/api/{api_name}/",
        "/gradio_api/cancel",
        "/gradio_api/reset",
        "/gradio_api/reset/",
        "/gradio_api/stream/{event_id}",  # streaming inputs: sets an event's data, writes nothing
        "/gradio_api/stream/{event_id}/close",
        "/gradio_api/component_server",
        "/gradio_api/component_server/",
        "/gradio_api/vibe-edit",  # 403 unless started with --vibe
        "/gradio_api/vibe-edit/",
        "/gradio_api/undo-vibe-edit",
        "/gradio_api/undo-vibe-edit/",
        "/gradio_api/vibe-code",
        "/gradio_api/vibe-code/",
        "/gradio_api/vibe-starter-queries",
        "/gradio_api/vibe-starter-queries/",
        "/login",  # no auth configured: nothing to log in to
        "/login/",
        "/api/ask",  # the JSON API
        "/api/v1/chat/completions",  # the OpenAI-compatible route: same limits and errors as /api/ask
    }
    app, _ = served
    posts = {path for methods, path in routes(app.app.routes) if methods & {"POST", "PUT", "PATCH", "DELETE"}}
    assert "/gradio_api/upload" in posts and "/api/ask" in posts  # the walk reaches Gradio's router and the mount
    unknown = {path for path in posts - used if server.refusal(path) is None}
    assert not unknown, f"new Gradio routes take data: refuse them in server.REFUSED or list them as used: {unknown}"


def routes(table, prefix: str = ""):
    """(methods, path) of every route, through FastAPI's included routers and Starlette mounts."""
    for route in table:
        if getattr(route, "methods", None):
            yield route.methods, prefix + route.path
        elif hasattr(route, "original_router"):  # FastAPI's include_router
            yield from routes(route.original_router.routes, prefix + route.include_context.prefix)
        elif hasattr(route, "routes"):
            yield from routes(route.routes, prefix + getattr(route, "path", ""))


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/gradio_api/upload", 403),
        ("/gradio_api/upload/", 403),
        ("/gradio_api/upload_progress", 403),
        ("/gradio_api/process_recording", 403),
        ("/gradio_api/deep_link", 403),
        ("/gradio_api/file=/tmp/x", 404),
        ("/gradio_api/file/tmp/x", 404),
        ("/gradio_api/openapi.json", 404),
        ("/gradio_api/queue/join", None),
        ("/gradio_api/info", None),
        ("/gradio_api/uploads", None),  # not a Gradio route: Gradio's own 404
        ("/config", None),
        ("/api/ask", None),
        ("/", None),
    ],
)
def test_refusal_matches_whole_routes(path, status):
    refused = server.refusal(path)
    assert (refused[0] if refused else None) == status


# --- what the server shows about itself ----------------------------------------------------------------


def test_config_and_info_hold_no_paths_or_environment(site, cache, monkeypatch):
    secrets = [str(ROOT), str(cache), sys.prefix, str(Path.home()), os.environ.get("ROLEBOT_DATA", "/nonexistent")]
    for route in ("config", "gradio_api/info", "gradio_api/info?all_endpoints=True"):
        text = httpx.get(f"{site}{route}", timeout=10).text
        leaked = [s for s in secrets if s and s in text]
        assert not leaked, f"/{route} shows {leaked}"
    config = httpx.get(f"{site}config", timeout=10).json()
    assert config["show_error"] is False and config["space_id"] is None and config["username"] is None
    info = httpx.get(f"{site}gradio_api/info", timeout=10).json()
    assert list(info["named_endpoints"]) == ["/ask"] and not info["unnamed_endpoints"]


def test_gradio_listings_the_page_does_not_need_are_gone(site):
    assert httpx.get(f"{site}openapi.json", timeout=10).status_code == 404  # every internal route, listed
    response = httpx.get(f"{site}gradio_api/openapi.json", timeout=10)  # documents the refused upload route
    assert response.status_code == 404 and "/api/openapi.json" in response.json()["message"]
    for route in ("monitoring", "monitoring/summary"):  # timings per handler; the first printed a dashboard key
        assert httpx.get(f"{site}{route}", timeout=10).status_code == 403
    assert httpx.get(f"{site}api/openapi.json", timeout=10).status_code == 200  # the JSON API's own stays


# --- wiring --------------------------------------------------------------------------------------------


def test_launch_serves_page_and_api_through_one_engine_limit(bot, monkeypatch):
    """web.launch() passes server.launch_options() and a SharedEngine; tests' serve_site() mirrors it."""
    seen = {}

    def fake_launch(self, **options):
        handlers = [getattr(f.fn, "__self__", None) for f in self.fns.values()]  # some events run only in the browser
        seen.update(options, page_engine=next(h.bot for h in handlers if hasattr(h, "bot")))

    monkeypatch.setattr(gr.Blocks, "launch", fake_launch)
    monkeypatch.setattr(web, "one_blas_thread_per_worker", lambda: None)
    synced = threading.Event()
    monkeypatch.setattr(feedback, "start_hub_sync", synced.set)
    web.launch("127.0.0.1", 7999, bot=bot, block=False)
    assert synced.wait(5)  # votes go to ROLEBOT_FEEDBACK_REPO too, when it is set
    assert seen["server_name"] == "127.0.0.1" and seen["server_port"] == 7999
    assert seen["max_file_size"] == 0 and seen["enable_monitoring"] is False
    assert seen["app_kwargs"]["openapi_url"] is None
    policy, *page_own = (m.cls for m in seen["app_kwargs"]["middleware"])  # the page adds its link preview
    assert policy is server.RoutePolicy and server.RoutePolicy not in page_own
    [mount] = seen["app_kwargs"]["routes"]
    assert mount.path == "/api"
    engine = mount.app.state.asker.engine
    assert isinstance(engine, server.SharedEngine) and engine.bot is bot
    assert seen["page_engine"] is engine  # the page and the API share one engine, so one limit
    for key, value in web.LAUNCH_OPTIONS.items():
        assert seen[key] is value


def test_shared_engine_bounds_questions_across_threads(bot):
    class Counting:
        running = most = 0
        lock = threading.Lock()

        def ask(self, question, history=None, top_k=3):
            with self.lock:
                self.running += 1
                self.most = max(self.most, self.running)
            time.sleep(0.05)
            with self.lock:
                self.running -= 1
            return question

        def warm_up(self):
            return "warm"

    counting = Counting()
    engine = server.SharedEngine(counting, limit=2)
    threads = [threading.Thread(target=engine.ask, args=(f"q{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counting.most == 2
    assert engine.warm_up() == "warm"  # everything else is the engine's own
    assert copy.copy(engine).bot is counting  # copying (as some frameworks do) does not recurse


# --- the page in a browser, under the policy --------------------------------------------------------------


@pytest.mark.browser
def test_the_page_needs_none_of_the_refused_routes(site, cache):
    """The chat works in a real browser with uploads, files and deep links refused: no request the page makes
    gets a 4xx or 5xx, and nothing lands in Gradio's cache. (Selectors stay generic: the UI is redesigned
    apart from this policy.)"""
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing: `sudo apt-get install chromium` installs it")
    from playwright.sync_api import sync_playwright

    failed: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        try:
            page = browser.new_page()
            page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            page.goto(site, wait_until="load")
            box = page.get_by_role("textbox").first
            box.wait_for(timeout=30_000)
            box.fill(QUESTION)
            box.press("Enter")
            page.get_by_text("Data Scientists").first.wait_for(timeout=30_000)
        finally:
            browser.close()
    assert failed == []
    assert stored_files(cache) == []


# --- every request: body size, headers, CORS, sessions (issue 26) ----------------------------------------


ROUTES_TAKING_BODIES = ["gradio_api/queue/join", "gradio_api/run/feedback", "gradio_api/call/ask", "api/ask", "x"]


@pytest.mark.parametrize("route", ROUTES_TAKING_BODIES)
def test_a_body_over_the_limit_is_refused_before_it_is_read(site, route):
    """Ten megabytes declared: the 413 comes back before the body is sent (the client still sends it here)."""
    big = b"x" * (10 * 1024 * 1024)
    started = time.perf_counter()
    response = httpx.post(f"{site}{route}", content=big, headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 413, response.text
    assert response.json() == {"error": "body_too_large", "message": "The request body is over the 65,536-byte limit."}
    assert time.perf_counter() - started < 5


def test_a_chunked_body_over_the_limit_is_refused_and_one_under_it_is_handed_on(site):
    def chunks(total: int):
        sent = 0
        while sent < total:
            size = min(8192, total - sent)
            sent += size
            yield b" " * size

    response = httpx.post(f"{site}gradio_api/queue/join", content=chunks(config.MAX_BODY_BYTES + 1), timeout=30)
    assert response.status_code == 413 and response.json()["error"] == "body_too_large"
    body = b'{"question": "Who do AI Engineers work with?"}'
    response = httpx.post(
        f"{site}api/ask", content=iter([body[:10], body[10:]]), timeout=30, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200 and response.json()["in_scope"] is True


def test_every_response_carries_the_security_headers_and_allows_hugging_face_frames(site):
    for method, route in [
        ("GET", ""),
        ("GET", "config"),
        ("POST", "api/ask"),
        ("GET", "api/docs"),
        ("GET", "nothing-here"),
        ("POST", "gradio_api/upload"),
        ("GET", "gradio_api/info"),
    ]:
        response = httpx.request(method, f"{site}{route}", json={"question": QUESTION}, timeout=30)
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff", route
        assert headers["referrer-policy"] == "same-origin", route
        assert "x-frame-options" not in headers, route  # a Space is shown in an iframe on huggingface.co
        csp = headers["content-security-policy"]
        assert csp.startswith("frame-ancestors ") and "https://huggingface.co" in csp and "'self'" in csp, route
        assert "https://*.hf.space" in csp


def test_the_frame_ancestors_come_from_config(monkeypatch):
    from bot import config as settings

    monkeypatch.setenv("ROLEBOT_FRAME_ANCESTORS", "*")
    assert server.security_headers()["Content-Security-Policy"] == "frame-ancestors *"
    monkeypatch.setenv("ROLEBOT_FRAME_ANCESTORS", "'self'; script-src *")  # one directive only
    assert server.security_headers()["Content-Security-Policy"] == f"frame-ancestors {settings.FRAME_ANCESTORS}"


@pytest.mark.parametrize(
    ("origin", "host"),
    [("http://localhost:9999", None), ("https://evil.example", "rolebot.hf.space"), ("null", None)],
)
def test_no_cross_origin_access_with_credentials_for_other_origins(site, origin, host):
    """Gradio's own CORS middleware reflects localhost origins (and, on a public host, any origin) with
    credentials allowed; the server sends no CORS headers at all: the page only calls its own origin."""
    headers = {"Origin": origin, **({"Host": host} if host else {})}
    for method, route in [("GET", "config"), ("GET", "gradio_api/info"), ("POST", "api/ask")]:
        response = httpx.request(method, f"{site}{route}", headers=headers, json={"question": QUESTION}, timeout=30)
        assert "access-control-allow-origin" not in response.headers, (route, response.headers)
        assert "access-control-allow-credentials" not in response.headers, route
    preflight = httpx.options(
        f"{site}gradio_api/queue/join",
        headers={**headers, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
        timeout=10,
    )
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-credentials" not in preflight.headers


def test_idle_sessions_are_forgotten_and_a_new_visit_starts_afresh(served):
    app, url = served
    client = Client(url, verbose=False)
    client.predict(QUESTION, api_name="/chat")
    holder = app.app.state_holder
    assert client.session_hash in holder
    assert server.forget_idle_sessions(holder, idle_seconds=3600) == 0  # in use: kept
    assert server.forget_idle_sessions(holder, idle_seconds=0) >= 1
    assert client.session_hash not in holder
    chat, *_ = client.predict(QUESTION, api_name="/chat")
    assert len(chat) == 2  # the same browser, a fresh conversation


def test_sessions_kept_are_bounded(served):
    app, _ = served
    assert app.state_session_capacity == config.MAX_SESSIONS == 1000


# --- a language model's call holds no engine slot ----------------------------------------------------------


def test_a_model_call_holds_no_engine_slot(bot, monkeypatch):
    """While a model is still thinking over one question, the one engine slot is free: another visitor's
    question (here one the engine declines, which never reaches the model) is answered meanwhile."""
    from llm_server import ScriptedServer, answer

    from bot.llm import ChatClient, Limits
    from bot.writer import Writer

    thinking = threading.Event()
    good = "ML Engineers use TensorFlow, PyTorch, Scikit-learn and XGBoost [1]."
    with ScriptedServer([answer(good, hold=thinking)]) as model:
        client = ChatClient("scripted-model", model.url, None, Limits(first_token_s=30, total_s=60, retries=0))
        monkeypatch.setattr(bot, "writer", Writer(client, bot.embedder.encode))
        engine = server.SharedEngine(bot, limit=1, cache_size=0)
        written: list = []
        writing = threading.Thread(target=lambda: written.append(engine.ask("What tools do ML engineers use?")))
        writing.start()
        try:
            while not model.requests and writing.is_alive():  # until the model has the question
                time.sleep(0.01)
            assert model.requests, "the model was never asked"
            other: list = []
            declined = threading.Thread(target=lambda: other.append(engine.ask("What does an AI engineer earn?")))
            declined.start()
            declined.join(timeout=60)  # with the slot held it would wait for the model, which waits for us
            assert other and other[0].outcome == "declined", "a question waited for another's model call"
            assert writing.is_alive() and not written  # the model was still thinking all along
        finally:
            thinking.set()
            writing.join(timeout=60)
    assert written and written[0].written_by == "scripted-model"


def test_model_calls_have_their_own_bound(bot, monkeypatch):
    from llm_server import ScriptedServer, answer

    from bot.llm import ChatClient, Limits
    from bot.writer import Writer

    thinking = threading.Event()
    with ScriptedServer([answer("ML Engineers use XGBoost [1].", hold=thinking)]) as model:
        client = ChatClient("scripted-model", model.url, None, Limits(first_token_s=30, total_s=60, retries=0))
        monkeypatch.setattr(bot, "writer", Writer(client, bot.embedder.encode))
        engine = server.SharedEngine(bot, limit=2, cache_size=0, model_limit=1)
        assert engine.model_limit == 1
        threads = [
            threading.Thread(target=engine.ask, args=(q,))
            for q in ("What tools do ML engineers use?", "Who do AI engineers work with?")
        ]
        for thread in threads:
            thread.start()
        try:
            while not model.requests:
                time.sleep(0.01)
            for thread in threads:
                thread.join(timeout=1.0)  # the second waits for the model slot, not for the server
            assert len(model.requests) == 1  # one call in flight; the other question is waiting its turn
        finally:
            thinking.set()
            for thread in threads:
                thread.join(timeout=60)
        assert len(model.requests) == 2
    monkeypatch.setattr(bot, "writer", None)
    assert server.SharedEngine(bot).model_limit == 0  # without a model, nothing is added to the server's threads
