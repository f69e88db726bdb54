"""Small helpers shared by several test modules (pytest puts tests/ on sys.path)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import socket
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (servers in tests stay on loopback)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def in_ci() -> bool:
    """CI sets CI=true; there a missing tool is a failure, not a reason to skip."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(what: str) -> None:
    """A test cannot run for lack of ``what`` (with how to get it): it skips locally and fails in CI, where a skip
    would pass a run that checked nothing."""
    if in_ci():
        pytest.fail(what)
    pytest.skip(what)


def bench_load() -> ModuleType:
    """bench/load.py, imported once (bench/ holds scripts, not a package): its server helpers (start, wait until
    up, stop) serve the tests that start a server in a subprocess."""
    if "bench_load" not in sys.modules:
        spec = importlib.util.spec_from_file_location("bench_load", Path(__file__).parent.parent / "bench" / "load.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_load"] = module  # before running it: its dataclasses look their module up
        spec.loader.exec_module(module)
    return sys.modules["bench_load"]


class HashEmbedder:
    """Deterministic bag-of-words vectors: index mechanics without a model. Counts calls and texts,
    which shows whether loading an index embedded the corpus again."""

    def __init__(self, dimension: int = 32, model_id: str = "tests/hash-embedder") -> None:
        self.dimension = dimension
        self.model_id = model_id
        self.calls = 0
        self.texts = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
            out[row, 0] += 0.01  # no all-zero rows
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def serve_site(bot, **build_options):
    """The page and the JSON API on a free loopback port, wired as ``web.launch()`` wires them (one engine
    limit, the API mount, the route policy), without its process-wide logging and BLAS settings.
    Returns ``(app, url)``; call ``app.close()`` when done."""
    from bot import server, web

    engine = server.SharedEngine(bot, build_options.get("concurrency_limit"))
    app = web.build_app(engine, **build_options)
    options = server.launch_options(engine, queue=build_options.get("queue_size"))
    _, url, _ = app.launch(
        server_name="127.0.0.1",
        server_port=free_port(),
        prevent_thread_lock=True,
        quiet=True,
        **web.LAUNCH_OPTIONS,
        **options,
    )
    return app, url
