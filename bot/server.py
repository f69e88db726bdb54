"""The one HTTP server behind ``rolebot serve`` and ``python app.py``: the Gradio page, the JSON API at
``/api`` (api.py), and nothing else that stores or serves files.

``web.launch()`` hooks this in at launch level: ``launch_options(engine)`` adds to ``Blocks.launch`` the API
mount, the route policy, a lifespan and a few Gradio settings. The app takes no files, so Gradio's upload
routes, its file server and the other routes that write to its cache (``GRADIO_TEMP_DIR``) are refused before
Gradio sees the request: a public Space is no file drop, and nothing a visitor sends is kept on disk.

The policy also bounds every request body (ROLEBOT_MAX_BODY) before a byte of it is read, and puts the same
headers on every response: ``nosniff``, a Referrer-Policy, and a CSP ``frame-ancestors`` that lets Hugging
Face show the page in its iframe (no X-Frame-Options). The lifespan takes out Gradio's CORS middleware, which
on a public host reflects any Origin with credentials allowed: the page calls its own origin and needs no
CORS, and other sites' scripts get none. It also forgets sessions idle for ROLEBOT_SESSION_IDLE_MINUTES.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import threading
from collections.abc import AsyncIterator, Hashable, Iterator
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import api, config
from .answercache import AnswerCache
from .chat import Chatbot, History, Reply, Streamed
from .errors import EmptyQuestionError

NO_FILES = "This app takes no files: uploads are turned off."

REFUSED: dict[str, tuple[int, str]] = {
    "/gradio_api/upload": (403, NO_FILES),
    "/gradio_api/upload_progress": (403, NO_FILES),
    "/gradio_api/process_recording": (403, NO_FILES),  # microphone recordings, written to the cache
    "/gradio_api/deep_link": (403, "Conversations are not saved on the server."),  # writes the session's state
    "/gradio_api/openapi.json": (404, "Not found: the JSON API is described at /api/openapi.json."),  # lists upload
}
"""Gradio routes refused with (status, message): what writes visitors' data to disk or advertises it."""

REFUSED_PREFIXES: dict[str, tuple[int, str]] = {
    "/gradio_api/file=": (404, "Not found: this app serves no files."),
    "/gradio_api/file/": (404, "Not found: this app serves no files."),
}
"""Gradio's file server: the page shows no files, so nothing in the cache (or anywhere) is served."""


def refusal(path: str) -> tuple[int, str] | None:
    """(status, message) when ``path`` is a refused route, else None."""
    path = path.rstrip("/") or "/"
    if path in REFUSED:
        return REFUSED[path]
    return next((answer for prefix, answer in REFUSED_PREFIXES.items() if path.startswith(prefix)), None)


def security_headers() -> dict[str, str]:
    """Headers on every response. No X-Frame-Options: a Space shows the app in an iframe on huggingface.co,
    and frame-ancestors (which browsers prefer anyway) says who may."""
    return {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",  # no page address leaves for other sites
        "Content-Security-Policy": f"frame-ancestors {config.frame_ancestors()}",
    }


CORS_HEADERS = (b"access-control-allow-origin", b"access-control-allow-credentials")


class RoutePolicy:
    """ASGI middleware: answers refused routes and too-large bodies itself, before Gradio reads a byte of the
    request body, and adds security_headers() to every response."""

    def __init__(self, app: ASGIApp, *, max_body: int | None = None) -> None:
        self.app = app
        self.max_body = max_body or config.max_body_bytes()
        self.headers = [(k.lower().encode(), v.encode()) for k, v in security_headers().items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._with_headers(send)
        refused = refusal(scope["path"].removeprefix(scope.get("root_path", "")))
        if refused is None:
            refused, receive = await self._bounded(scope, receive)
        if refused is None:
            await self.app(scope, receive, send)
            return
        status, message = refused
        code = {403: "forbidden", 404: "not_found", 413: "body_too_large"}.get(status, "bad_request")
        await JSONResponse({"error": code, "message": message}, status_code=status)(scope, receive, send)

    async def _bounded(self, scope: Scope, receive: Receive) -> tuple[tuple[int, str] | None, Receive]:
        """(413, message) for a body over the limit: a declared length is checked before reading, a chunked
        body is read up to the limit and handed on from memory."""
        too_large = (413, f"The request body is over the {self.max_body:,}-byte limit.")
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None:
            return (None if declared.isdigit() and int(declared) <= self.max_body else too_large), receive
        if b"transfer-encoding" not in headers:
            return None, receive  # no body
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return None, receive  # the client left; the app sees the disconnect next
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_body:
                return too_large, receive
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        return None, replay

    def _with_headers(self, send: Send) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in self.headers:
                    headers[key.decode()] = value.decode()
                for key in CORS_HEADERS:  # no cross-origin access, whoever added it
                    del headers[key.decode()]
                if "x-frame-options" in headers:
                    del headers["x-frame-options"]
            await send(message)

        return sending


def without_gradio_cors(app: Any) -> None:
    """Take Gradio's CORS middleware out of ``app``'s stack: on a non-localhost host it reflects any Origin
    with Access-Control-Allow-Credentials: true (gradio#10276), and Gradio 6.31 offers no setting that turns
    it off for a launched app. Called at startup, before the first request; the stack is rebuilt on the next
    request from the middleware list."""
    from gradio.route_utils import CustomCORSMiddleware

    app.user_middleware = [m for m in app.user_middleware if m.cls is not CustomCORSMiddleware]
    app.middleware_stack = None


def forget_idle_sessions(holder: Any, idle_seconds: float) -> int:
    """Drop from Gradio's state holder every session unused for ``idle_seconds``: its conversation and the
    last inputs Gradio keeps per session. Returns how many were dropped."""
    cutoff = datetime.datetime.now() - datetime.timedelta(seconds=idle_seconds)
    stale = [session for session, used in list(holder.time_last_used.items()) if used < cutoff]
    with holder.lock:
        for session in stale:
            holder.session_data.pop(session, None)
            holder.time_last_used.pop(session, None)
    return len(stale)


SWEEP_SECONDS = 60.0
"""How often idle sessions are looked for."""


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Server start: Gradio's CORS out, idle sessions swept every SWEEP_SECONDS until the server stops."""
    without_gradio_cors(app)
    idle = config.session_idle_seconds()

    async def sweep() -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            forget_idle_sessions(app.state_holder, idle)

    task = asyncio.create_task(sweep())
    try:
        yield
    finally:
        task.cancel()


class SharedEngine:
    """The one ``Chatbot`` behind the page and the JSON API, answering at most ``limit`` questions at once
    in total: Gradio's queue bounds the page's own work, this bounds both paths together, so API calls
    cannot take the cores the page's queue counts on (the engine is CPU-bound).

    A language model's call (bot/writer.py) is not engine work: it waits seconds on the model's server. The
    engine decides and quotes under an engine slot, which it then gives back; the model writes under one of
    ``model_limit`` model slots (ROLEBOT_LLM_CONCURRENCY), so a written answer never keeps another
    question from the engine."""

    def __init__(
        self, bot: Chatbot, limit: int | None = None, cache_size: int | None = None, model_limit: int | None = None
    ) -> None:
        self.bot = bot
        self.limit = limit or config.web_concurrency()
        self._slots = threading.BoundedSemaphore(self.limit)
        self.model_slots = model_limit or config.llm_concurrency()
        self._model_slots = threading.BoundedSemaphore(self.model_slots)
        size = config.answer_cache_size() if cache_size is None else cache_size
        self.answers = AnswerCache(size, config.max_question_chars()) if size > 0 else None

    @property
    def model_limit(self) -> int:
        """Model calls that may be in flight besides the engine's own work: 0 without a language model."""
        return self.model_slots if getattr(self.bot, "writer", None) is not None else 0

    def ask(self, question: str, history: History | None = None, top_k: int = config.TOP_K_SOURCES) -> Reply:
        key = self._key(question, history, top_k)
        if key is None:
            return self._whole(question, history, top_k)
        # The replies belong to the index they came from: another index (a reload) empties the cache.
        owner = getattr(self.bot, "index", self.bot)
        return self.answers.get_or_answer(owner, key, lambda: self._whole(question, history, top_k))

    def stream(
        self, question: str, history: History | None = None, top_k: int = config.TOP_K_SOURCES
    ) -> Iterator[Streamed]:
        """``Chatbot.stream`` under the same slots and cache as ``ask`` (a kept reply comes whole, at once)."""
        key = self._key(question, history, top_k)
        if key is None:
            yield from self._answer(question, history, top_k)
            return
        owner = getattr(self.bot, "index", self.bot)
        kept = self.answers.get(owner, key)
        if kept is not None:
            yield kept
            return
        for item in self._answer(question, history, top_k):
            yield item
        self.answers.put(owner, key, item)  # the last item: the reply

    def _key(self, question: str, history: History | None, top_k: int) -> Hashable | None:
        try:
            return self.answers.key(question, history, top_k) if self.answers is not None else None
        except EmptyQuestionError:
            return None  # the engine says what an empty question gets

    def _whole(self, question: str, history: History | None, top_k: int) -> Reply:
        *_, reply = self._answer(question, history, top_k)
        return reply

    def _answer(self, question: str, history: History | None, top_k: int) -> Iterator[Streamed]:
        if getattr(self.bot, "writer", None) is None:
            with self._slots:
                reply = self.bot.ask(question, history, top_k)
            yield reply  # never yield while holding a slot: the caller decides when the generator resumes
            return
        with self._slots:
            reply = self.bot.quote(question, history, top_k)
        if reply.outcome == "declined":  # never reaches the model
            yield reply
            return
        with self._model_slots:
            yield from self.bot.written(reply)

    def __getattr__(self, name: str) -> Any:
        if name == "bot":  # not set yet (a copy being built): no recursion
            raise AttributeError(name)
        return getattr(self.bot, name)  # warm_up, search, index, profile …: the engine's own


def launch_options(engine: SharedEngine, *, queue: int | None = None) -> dict[str, Any]:
    """What ``web.launch()`` adds to ``Blocks.launch``: the JSON API at /api (``queue`` questions may wait,
    default ROLEBOT_WEB_QUEUE), the route policy, the lifespan (no CORS, idle sessions forgotten), at most
    ROLEBOT_MAX_SESSIONS sessions, no uploads, and none of Gradio's extra listings (its FastAPI schema of
    internal routes, the /monitoring pages)."""
    return {
        "app_kwargs": {
            # Threads for the engine's slots and, with a language model, for the calls waiting on it.
            "routes": [
                Mount("/api", app=api.create_api(engine, concurrency=engine.limit + engine.model_limit, queue=queue))
            ],
            "middleware": [Middleware(RoutePolicy)],
            "openapi_url": None,  # Gradio's own app would list every internal route at /openapi.json
            "lifespan": lifespan,
        },
        "state_session_capacity": config.max_sessions(),  # Gradio keeps 10,000 by default
        "max_file_size": 0,  # a second lock: Gradio's own upload parsers refuse any byte
        "enable_monitoring": False,  # /monitoring printed a dashboard key to the log for any visitor
    }
