"""The one HTTP server behind ``rolebot serve`` and ``python app.py``: the Gradio page, the JSON API at
``/api`` (api.py), and nothing else that stores or serves files.

``web.launch()`` hooks this in at launch level: ``launch_options(engine)`` adds to ``Blocks.launch`` the API
mount, the route policy and two Gradio settings. The app takes no files, so Gradio's upload routes, its
file server and the other routes that write to its cache (``GRADIO_TEMP_DIR``) are refused before Gradio
sees the request: a public Space is no file drop, and nothing a visitor sends is kept on disk.
"""

from __future__ import annotations

import threading
from typing import Any

from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from . import api, config
from .answercache import AnswerCache
from .chat import Chatbot, History, Reply
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


class RoutePolicy:
    """ASGI middleware: answers refused routes itself, before Gradio reads a byte of the request body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refused = refusal(scope["path"].removeprefix(scope.get("root_path", ""))) if scope["type"] == "http" else None
        if refused is None:
            await self.app(scope, receive, send)
            return
        status, message = refused
        code = "forbidden" if status == 403 else "not_found"
        await JSONResponse({"error": code, "message": message}, status_code=status)(scope, receive, send)


class SharedEngine:
    """The one ``Chatbot`` behind the page and the JSON API, answering at most ``limit`` questions at once
    in total: Gradio's queue bounds the page's own work, this bounds both paths together, so API calls
    cannot take the cores the page's queue counts on (the engine is CPU-bound)."""

    def __init__(self, bot: Chatbot, limit: int | None = None, cache_size: int | None = None) -> None:
        self.bot = bot
        self.limit = limit or config.web_concurrency()
        self._slots = threading.BoundedSemaphore(self.limit)
        size = config.answer_cache_size() if cache_size is None else cache_size
        self.answers = AnswerCache(size, config.max_question_chars()) if size > 0 else None

    def ask(self, question: str, history: History | None = None, top_k: int = config.TOP_K_SOURCES) -> Reply:
        try:
            key = self.answers.key(question, history, top_k) if self.answers is not None else None
        except EmptyQuestionError:
            key = None  # the engine says what an empty question gets
        if key is None:
            return self._answer(question, history, top_k)
        # The replies belong to the index they came from: another index (a reload) empties the cache.
        owner = getattr(self.bot, "index", self.bot)
        return self.answers.get_or_answer(owner, key, lambda: self._answer(question, history, top_k))

    def _answer(self, question: str, history: History | None, top_k: int) -> Reply:
        with self._slots:
            return self.bot.ask(question, history, top_k)

    def __getattr__(self, name: str) -> Any:
        if name == "bot":  # not set yet (a copy being built): no recursion
            raise AttributeError(name)
        return getattr(self.bot, name)  # warm_up, search, index, profile …: the engine's own


def launch_options(engine: SharedEngine, *, queue: int | None = None) -> dict[str, Any]:
    """What ``web.launch()`` adds to ``Blocks.launch``: the JSON API at /api (``queue`` questions may wait,
    default ROLEBOT_WEB_QUEUE), the route policy, no uploads, and none of Gradio's extra listings (its
    FastAPI schema of internal routes, the /monitoring pages)."""
    return {
        "app_kwargs": {
            "routes": [Mount("/api", app=api.create_api(engine, concurrency=engine.limit, queue=queue))],
            "middleware": [Middleware(RoutePolicy)],
            "openapi_url": None,  # Gradio's own app would list every internal route at /openapi.json
        },
        "max_file_size": 0,  # a second lock: Gradio's own upload parsers refuse any byte
        "enable_monitoring": False,  # /monitoring printed a dashboard key to the log for any visitor
    }
