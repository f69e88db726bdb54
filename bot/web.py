"""The web chat and its API: a thin Gradio shell over the same ``Chatbot`` the CLI uses.

``build_app(bot)`` returns the page; ``launch()`` loads the engine once, warms the model up and serves it.
Follow-ups pass the engine's own answer text (never the decorated HTML) as history, so the page, the
CLI and the Python API give the same answer to the same conversation. Errors become chat messages
here and nowhere else in the library; the user never sees a stack trace.
"""

from __future__ import annotations

import html
import logging
import os
import re
import uuid
from typing import Any

import gradio as gr

from . import config, feedback, server
from .chat import EXAMPLE_QUESTIONS, Chatbot, Reply
from .errors import EmptyQuestionError, ServerError

TITLE = "rolebot"
TAGLINE = (
    "Ask about the AI Engineer role and how it differs from an ML Engineer. Every answer quotes one article "
    "and names the sections it came from; questions the article does not cover are refused."
)

DEFAULT_HOST = "127.0.0.1"
"""Local runs listen on loopback only; GRADIO_SERVER_NAME overrides (Gradio's own convention)."""

SPACES_HOST = "0.0.0.0"
"""Hugging Face Spaces routes traffic into the container, so the app must listen on every interface there."""

DEFAULT_PORT = 7860
"""Gradio's and Spaces' port; GRADIO_SERVER_PORT overrides."""

CONCURRENCY_LIMIT = config.WEB_CONCURRENCY
"""Questions answered at once (ROLEBOT_WEB_CONCURRENCY), shared with the JSON API (see server.py)."""

QUEUE_SIZE = config.WEB_QUEUE
"""Requests allowed to wait (ROLEBOT_WEB_QUEUE); beyond it Gradio answers "busy, please try again" at once."""

NOT_COVERED = "⚠️ **Not covered by the article**"
"""Marks out-of-scope replies, so a refusal never reads like an answer."""

THEME = gr.themes.Default(
    # Gradio 6.31 ships a 5 KB subset as Source Sans Pro SemiBold (600) that lacks letters such as "A", so
    # bold text came out patchy; the complete Bold (700) file is bundled too.
    font=[gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)), "ui-sans-serif", "system-ui", "sans-serif"]
)

LAUNCH_OPTIONS: dict[str, Any] = {
    "show_error": False,  # errors reach the browser only as the messages written here
    "allowed_paths": None,  # serve no files beyond Gradio's own
    "share": False,
    "theme": THEME,
    "footer_links": ["api", "gradio"],
    "run_history": False,  # do not keep visitors' questions in their browser storage
}
"""What ``launch()`` passes to ``Blocks.launch``; tests that start their own server pass the same."""

FRIENDLY_ERROR = "Sorry, something went wrong while answering (reference `{ref}`). Please try again."

log = logging.getLogger(__name__)

# Markdown punctuation that could turn user text into formatting or links; "<", ">" and "&" become entities.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$=])")


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else default


def as_text(text: str) -> str:
    """Markdown that renders ``text`` literally: ``<img src=x onerror=…>`` shows as those characters, runs nothing."""
    return html.escape(_MD_SPECIAL.sub(r"\\\1", text), quote=False)


def _passage_html(text: str) -> str:
    """A passage as HTML: its Markdown tables become real tables, everything else escaped text."""
    blocks = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.splitlines()
        rows = [
            [html.escape(cell.strip()) for cell in line.strip().strip("|").split("|")]
            for line in lines
            if not re.fullmatch(r"[\s|:-]+", line)
        ]
        if len(lines) > 1 and rows and all(line.strip().startswith("|") for line in lines):
            head, *body = rows
            blocks.append(
                "<table><thead><tr>"
                + "".join(f"<th>{c}</th>" for c in head)
                + "</tr></thead><tbody>"
                + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in body)
                + "</tbody></table>"
            )
        else:
            blocks.append(html.escape(block).replace("\n", "<br>"))
    return "<br>".join(blocks)


def sources_block(sources: list[dict]) -> str:
    """A collapsed ``<details>`` list of the passages behind an answer, kept on one line per source.

    No blank lines inside: Markdown ends a raw HTML block at the first blank line.
    """
    items = "".join(
        f"<li><strong>{html.escape(s['section'])}</strong> <small>(score {s['score']:.2f})</small>"
        f"<br>{_passage_html(s['text'])}</li>"
        for s in sources
    )
    return f"<details><summary>Sources ({len(sources)})</summary><ol>{items}</ol></details>"


def decorate(turn: dict) -> str:
    """The assistant message for one turn: badge if out of scope, the answer, then its sources."""
    if not turn["ok"]:
        return turn["answer"]
    parts = [] if turn["in_scope"] else [NOT_COVERED]
    parts.append(turn["answer"])
    if turn["sources"]:
        parts.append(sources_block(turn["sources"]))
    return "\n\n".join(parts)


def messages(turns: list[dict]) -> list[dict]:
    """Chatbot value (messages format): exactly one user and one assistant message per turn.

    The like handler relies on that layout: assistant message ``2 * i + 1`` belongs to turn ``i``.
    """
    out: list[dict] = []
    for i, turn in enumerate(turns):
        out.append({"role": "user", "content": as_text(turn["question"])})
        reply = {"role": "assistant", "content": decorate(turn)}
        if i == len(turns) - 1 and turn["ok"] and not turn["in_scope"]:
            # The questions a refusal suggests become buttons under it: one click asks them.
            reply["options"] = [{"value": q} for q in suggestions(turn["answer"])]
        out.append(reply)
    return out


def suggestions(answer: str) -> list[str]:
    """The example questions a refusal lists, in its order."""
    listed = [line[2:].strip() for line in answer.splitlines() if line.startswith("- ")]
    return [q for q in listed if q in EXAMPLE_QUESTIONS]


def _turn(reply: Reply) -> dict:
    """What the page keeps per turn: plain JSON, so gr.State can copy it per session."""
    hits = reply.trace.hits if reply.trace else []
    ids = {(h["section"], h["text"]): h["chunk_id"] for h in hits}
    return {
        "question": reply.question,
        "answer": reply.answer,
        "in_scope": reply.in_scope,
        "ok": True,
        "sources": [
            {"section": s.section, "text": s.text, "score": s.score, "chunk_id": ids.get((s.section, s.text))}
            for s in reply.sources
        ],
        "trace": None
        if reply.trace is None
        else {
            "resolved_question": reply.trace.resolved_question,
            "truncated": reply.trace.truncated,
            "hits": hits,
            "key_terms": reply.trace.key_terms,
            "uncovered_terms": reply.trace.uncovered_terms,
            "scope_reason": reply.trace.scope_reason,
            "timings_ms": reply.trace.timings_ms,
        },
    }


def _error_turn(question: str, ref: str) -> dict:
    limit = config.max_question_chars()
    return {
        "question": question[:limit],
        "answer": FRIENDLY_ERROR.format(ref=ref),
        "in_scope": False,
        "ok": False,
        "sources": [],
        "trace": None,
    }


def history(turns: list[dict]) -> list[tuple[str, str]]:
    """(question, engine answer) pairs for ``Chatbot.ask``; failed turns are left out."""
    return [(t["question"], t["answer"]) for t in turns if t["ok"]]


HIT_HEADERS = ["#", "section", "dense", "BM25", "fused", "passage"]


def explain(turns: list[dict]) -> tuple[str, list[list[Any]]]:
    """The "How it works" panel for the last question: a Markdown summary and the retrieved passages."""
    trace = turns[-1]["trace"] if turns else None
    if trace is None:
        return "_Ask a question in the Chat tab: this page then shows how its answer was found._", []
    t = trace["timings_ms"]
    lines = [
        "Each question goes through the work the article gives AI Engineers: retrieve the relevant "
        "passages, integrate them into an answer, and check that the article really covers the question.",
        "",
        f"**Resolved question:** {as_text(trace['resolved_question'])}"
        + (" _(the message was cut at the length limit)_" if trace["truncated"] else ""),
        "",
        f"**Key terms:** {as_text(', '.join(trace['key_terms'])) or '–'}"
        + (
            f" · **not in the article:** {as_text(', '.join(trace['uncovered_terms']))}"
            if trace["uncovered_terms"]
            else ""
        ),
        "",
        f"**In scope:** {'yes' if turns[-1]['in_scope'] else 'no'}"
        + (f" ({as_text(trace['scope_reason'])})" if trace["scope_reason"] else ""),
        "",
        "| step | what it does | ms |",
        "|---|---|---:|",
        f"| resolve | rewrite a follow-up into a standalone question | {t['resolve']:.1f} |",
        f"| embed | MiniLM turns the question into a 384-number vector | {t['embed']:.1f} |",
        f"| retrieve | FAISS (dense) and BM25 (keywords), fused by reciprocal rank | {t['retrieve']:.1f} |",
        f"| compose | check scope, quote the best sentences, list sources | {t['compose']:.1f} |",
        f"| **total** | | **{t['total']:.1f}** |",
    ]
    rows = [[i, h["section"], h["dense"], h["bm25"], h["fused"], h["text"]] for i, h in enumerate(trace["hits"], 1)]
    return "\n".join(lines), rows


def _vote(liked: bool | str) -> str:
    if liked is True:
        return "like"
    if liked is False:
        return "dislike"
    return str(liked).lower() or "cleared"  # the frontend sends "" when a vote is taken back


class WebChat:
    """The handlers behind the page, bound to one loaded ``Chatbot``.

    The chat handlers never raise: problems become chat messages. ``ask`` (the API) raises ``gr.Error``,
    which gradio_client reports as an ``AppError`` carrying the message.
    """

    def __init__(self, bot: Chatbot) -> None:
        self.bot = bot

    def reply(self, message: str, turns: list[dict]) -> dict:
        """One engine call with the conversation so far; failures are logged and become a friendly turn."""
        try:
            return _turn(self.bot.ask(message, history(turns)))
        except EmptyQuestionError:
            raise  # the caller shows it as a warning: not a failure
        except Exception:  # the edge: anything unexpected is logged in full, the user gets a reference
            ref = uuid.uuid4().hex[:8]
            log.exception("answering failed [ref %s] question=%r", ref, message[:500])
            return _error_turn(message, ref)

    def respond(self, message: str, turns: list[dict] | None):
        """Chat submit: answer ``message`` in the context of ``turns`` and refresh the page."""
        turns = list(turns or [])
        try:
            # The engine decides what is empty: zero-width and control characters count as nothing.
            turn = self.reply(message if isinstance(message, str) else "", turns)
        except EmptyQuestionError as exc:
            gr.Warning(str(exc))
            return messages(turns), message, turns, *explain(turns)
        # Only the last turn's trace is shown; dropping older ones keeps a long session's state small.
        turns = [{**turn, "trace": None} for turn in turns] + [turn]
        return messages(turns), "", turns, *explain(turns)

    def example(self, turns: list[dict] | None, selected: gr.SelectData):
        """A click on an example question (empty chat) or a suggestion under a refusal asks it at once."""
        value = selected.value
        text = value.get("text", "") if isinstance(value, dict) else str(value)
        return self.respond(text, turns)

    def new_chat(self):
        return [], "", [], *explain([])

    def like(self, turns: list[dict] | None, data: gr.LikeData) -> None:
        """Append a vote to the feedback log; a bad index or a write error is logged, never shown."""
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        turns = turns or []
        if not isinstance(index, int) or index % 2 != 1 or not 0 <= index // 2 < len(turns):
            log.warning("feedback for unknown message index %r ignored", data.index)
            return
        turn = turns[index // 2]
        feedback.record(
            turn["question"],
            turn["answer"],
            [s["chunk_id"] for s in turn["sources"]],
            _vote(data.liked),
            in_scope=turn["in_scope"],
        )

    def ask(self, question: str) -> dict:
        """Answer one question without history: {"question", "answer", "in_scope", "sources": [{section, text, score}]}."""
        if not isinstance(question, str):
            raise gr.Error("The question must be a string.", print_exception=False)
        try:
            return self.bot.ask(question, []).to_dict()
        except EmptyQuestionError as error:
            raise gr.Error(str(error), print_exception=False) from None
        except Exception:
            ref = uuid.uuid4().hex[:8]
            log.exception("API answer failed [ref %s] question=%r", ref, question[:500])
            raise gr.Error(FRIENDLY_ERROR.format(ref=ref)) from None


def build_app(
    bot: Chatbot | None = None, *, concurrency_limit: int | None = None, queue_size: int | None = None
) -> gr.Blocks:
    """The Gradio page and API around ``bot`` (``Chatbot.load()`` when None), queue configured.

    Endpoints: ``/ask`` (public; one string in, ``Reply.to_dict()`` out, no history) and ``/chat``
    (undocumented; the page's own submit, with per-session history). ``concurrency_limit`` and
    ``queue_size`` default to ROLEBOT_WEB_CONCURRENCY / ROLEBOT_WEB_QUEUE, else the constants above.
    """
    web = WebChat(bot if bot is not None else Chatbot.load())
    with gr.Blocks(title=f"{TITLE}: AI Engineer vs ML Engineer", analytics_enabled=False) as app:
        gr.Markdown(f"# {TITLE}\n{TAGLINE}")
        turns = gr.State([])
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                chatbot = gr.Chatbot(
                    label="Conversation",
                    height=520,
                    layout="bubble",
                    elem_id="chat",
                    examples=[{"text": q} for q in EXAMPLE_QUESTIONS],
                    placeholder="Ask me about AI Engineers and ML Engineers, or pick an example:",
                    sanitize_html=True,
                    allow_tags=False,
                    latex_delimiters=[],
                    buttons=["copy"],
                    feedback_options=("Like", "Dislike"),
                )
                with gr.Row():
                    box = gr.Textbox(
                        placeholder="Type a question and press Enter",
                        show_label=False,
                        scale=8,
                        max_length=None,
                        submit_btn=True,
                        elem_id="question",
                        autofocus=True,
                    )
                    new = gr.Button(
                        "New chat", variant="secondary", size="md", scale=1, min_width=100, elem_id="new-chat"
                    )
            with gr.Tab("How it works", id="how"):
                how_md = gr.Markdown(explain([])[0], elem_id="how-summary")
                how_hits = gr.Dataframe(
                    headers=HIT_HEADERS,
                    value=[],
                    interactive=False,
                    wrap=True,
                    label="Retrieved passages (best first)",
                    elem_id="how-hits",
                    max_chars=300,
                    column_widths=["4%", "22%", "8%", "8%", "8%", "50%"],
                )
        outputs = [chatbot, box, turns, how_md, how_hits]
        box.submit(web.respond, [box, turns], outputs, api_name="chat", api_visibility="undocumented")
        chatbot.example_select(web.example, [turns], outputs, api_visibility="private")
        chatbot.option_select(web.example, [turns], outputs, api_visibility="private")
        new.click(web.new_chat, None, outputs, api_visibility="private", queue=False)
        chatbot.clear(web.new_chat, None, outputs, api_visibility="private", queue=False)
        chatbot.like(web.like, [turns], None, api_name="feedback", api_visibility="undocumented", queue=False)
        gr.api(web.ask, api_name="ask")
    # api_open=False: every call goes through the queue, so its limits hold for HTTP clients too.
    app.queue(
        default_concurrency_limit=concurrency_limit or config.web_concurrency(),
        max_size=queue_size or config.web_queue(),
        api_open=False,
    )
    return app


def server_address(host: str | None = None, port: int | None = None) -> tuple[str, int]:
    """Where to listen: arguments, else GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, else 0.0.0.0 on Spaces
    (SPACE_ID set) or 127.0.0.1 locally, port 7860."""
    env_host = os.environ.get("GRADIO_SERVER_NAME", "").strip()
    default_host = SPACES_HOST if os.environ.get("SPACE_ID") else DEFAULT_HOST
    return host or env_host or default_host, port or _env_int("GRADIO_SERVER_PORT", DEFAULT_PORT)


def one_blas_thread_per_worker() -> None:
    """The server answers CONCURRENCY_LIMIT questions at once, each on its own core; BLAS threads inside
    one query's matrix products would only fight the other worker for the same cores (warm asks were
    measured ~7x slower that way on a busy 2-core machine). A one-user CLI keeps NumPy's default."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


def launch(
    host: str | None = None, port: int | None = None, *, bot: Chatbot | None = None, block: bool = True
) -> gr.Blocks:
    """Load the index and model once, then serve the chat and the JSON API on one port (blocks until Ctrl+C
    unless ``block=False``).

    ``python app.py`` and ``rolebot serve`` call this. No error details reach the browser (show_error=False);
    server.py adds the JSON API and decides what else the server takes and serves.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # Gradio's own start-up probes are not news
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets its logger to DEBUG when imported
    if bot is None:
        bot = Chatbot.load()
    one_blas_thread_per_worker()
    bot.warm_up()  # the first visitor should not wait for the model
    engine = server.SharedEngine(bot)  # one limit on questions answered at once, page and API together
    app = build_app(engine)
    name, number = server_address(host, port)
    try:
        app.launch(
            server_name=name,
            server_port=number,
            prevent_thread_lock=not block,
            **LAUNCH_OPTIONS,
            **server.launch_options(engine),
        )
    except OSError as exc:  # Gradio says "Cannot find empty port in range: …" and suggests its own API
        import socket

        with socket.socket() as probe:
            try:
                probe.bind((name, number))
            except OSError:
                raise ServerError(
                    f"Port {number} on {name} is already in use: stop the server using it, or choose another "
                    "port with GRADIO_SERVER_PORT (or `rolebot serve --port`)."
                ) from exc
        raise ServerError(f"Cannot start the web server on {name}:{number}: {exc}") from exc
    return app
