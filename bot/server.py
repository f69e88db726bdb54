"""The one HTTP server behind ``rolebot serve`` and ``python app.py``: the Gradio page and the JSON API at
``/api`` (api.py) on one port, over one engine.

``web.launch()`` hooks this in at launch level: ``launch_options(engine)`` adds the API mount to
``Blocks.launch``.
"""

from __future__ import annotations

import threading
from typing import Any

from starlette.routing import Mount

from . import api, config
from .chat import Chatbot, History, Reply


class SharedEngine:
    """The one ``Chatbot`` behind the page and the JSON API, answering at most ``limit`` questions at once
    in total: Gradio's queue bounds the page's own work, this bounds both paths together, so API calls
    cannot take the cores the page's queue counts on (the engine is CPU-bound)."""

    def __init__(self, bot: Chatbot, limit: int | None = None) -> None:
        self.bot = bot
        self.limit = limit or config.web_concurrency()
        self._slots = threading.BoundedSemaphore(self.limit)

    def ask(self, question: str, history: History | None = None, top_k: int = config.TOP_K_SOURCES) -> Reply:
        with self._slots:
            return self.bot.ask(question, history, top_k)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.bot, name)  # warm_up, search, index, profile …: the engine's own


def launch_options(engine: SharedEngine, *, queue: int | None = None) -> dict[str, Any]:
    """What ``web.launch()`` adds to ``Blocks.launch``: the JSON API at /api (``queue`` questions may wait,
    default ROLEBOT_WEB_QUEUE)."""
    return {
        "app_kwargs": {"routes": [Mount("/api", app=api.create_api(engine, concurrency=engine.limit, queue=queue))]}
    }
