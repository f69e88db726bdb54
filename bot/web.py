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
import threading
import uuid
from collections import OrderedDict
from dataclasses import asdict
from pathlib import Path
from typing import Any

import gradio as gr

from . import config, feedback, render, server
from .blocks import Note
from .chat import Chatbot, Reply
from .corpus import load_corpus
from .errors import EmptyQuestionError, ServerError, VoteRefused
from .workers import with_workers

TITLE = "rolebot"

STATIC = Path(__file__).resolve().parent / "static"
"""The page's own assets: stylesheet, script and favicon (served by Gradio's launch options, not allowed_paths)."""

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

INPUT_LINES = 4
"""The question box grows to this many lines, then scrolls, so a long paste never pushes Send off screen."""

THEME = gr.themes.Default(
    primary_hue="indigo",
    # Gradio 6.31 ships a 5 KB subset as Source Sans Pro SemiBold (600) that lacks letters such as "A", so
    # bold text came out patchy; the complete Bold (700) file is bundled too.
    font=[gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)), "ui-sans-serif", "system-ui", "sans-serif"],
).set(
    # Contrast of at least 4.5:1 on the page background in both themes (axe-core's color-contrast rule):
    # Gradio's defaults for hints, labels and the footer measured 1.9 to 2.8.
    body_text_color_subdued="*neutral_600",
    body_text_color_subdued_dark="*neutral_300",
    input_placeholder_color="*neutral_600",
    input_placeholder_color_dark="*neutral_300",
    block_label_text_color="*neutral_600",
    block_label_text_color_dark="*neutral_300",
    block_title_text_color="*neutral_700",
    block_title_text_color_dark="*neutral_200",
    color_accent="*primary_700",
    link_text_color="*primary_700",
    link_text_color_dark="*primary_300",
    link_text_color_visited="*primary_800",
    link_text_color_visited_dark="*primary_200",
    button_primary_background_fill="*primary_700",
    button_primary_background_fill_dark="*primary_600",
)

LAUNCH_OPTIONS: dict[str, Any] = {
    "show_error": False,  # errors reach the browser only as the messages written here
    "allowed_paths": None,  # serve no files beyond Gradio's own (the favicon is served by its own route)
    "share": False,
    "theme": THEME,
    "footer_links": ["api", "gradio"],
    "run_history": False,  # do not keep visitors' questions in their browser storage
    "favicon_path": str(STATIC / "favicon.png"),
    "css_paths": [str(STATIC / "rolebot.css")],
    "js": (STATIC / "rolebot.js").read_text(encoding="utf-8"),
}
"""What ``launch()`` passes to ``Blocks.launch``; tests that start their own server pass the same."""

FRIENDLY_ERROR = "Sorry, something went wrong while answering (reference `{ref}`). Please try again."

ASK_DESCRIPTION = (
    "Answer one question about the article this server holds, from the article only. Returns answer "
    "(Markdown), in_scope (false when the article does not cover the question) and, where the engine gives it, "
    "outcome ('answered', 'partial' or 'declined'), sources (the passages behind the answer: section and text), "
    "suggestions (questions it can answer, offered with a refusal) and, only when a language model wrote the "
    "answer from the passages, written_by (its name)."
)
"""The ``ask`` endpoint's description: in the API docs and, with ROLEBOT_MCP=1, the MCP tool's."""

log = logging.getLogger(__name__)

# Markdown punctuation that could turn user text into formatting or links; "<", ">" and "&" become entities.
# rolebot.js's echo of a question (shown before the server answers) escapes the same characters the same way.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$=])")

# Runs in the browser when a question is sent: shows it at once (escaped like as_text), clears the box and
# hands the text to the server step through the hidden "pending" box. While an answer is still coming (the
# question shown alone, or a language model's words still arriving: "rb-writing"), a second question is not
# sent ("" tells the server step to change nothing) and stays in the box.
ECHO_JS = """
(question, chat) => {
  chat = chat || [];
  const last = chat.length ? chat[chat.length - 1] : null;
  const waiting = last && (last.role === "user" || JSON.stringify(last.content || "").includes("rb-writing"));
  if (waiting && Date.now() - (window.__rolebotAskedAt || 0) < 60000) {
    return [chat, question, ""];
  }
  if (!question || !question.trim()) return [chat, question, question || " "];
  window.__rolebotAskedAt = Date.now();
  const shown = question.replace(/\\s+/g, " ").trim().slice(0, LIMIT)
    .replace(/([\\\\`*_{}\\[\\]()#+\\-.!|~$=])/g, "\\\\$1")
    .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const echo = {role: "user", content: [{type: "text", text: shown}], metadata: null, options: null};
  return [[...chat, echo], "", question.slice(0, SEND)];
}
"""


# When the server step fails (the queue is full, the connection dropped), the echoed question is taken back
# and its text returns to the box, so nothing looks asked that was not, and it can be sent again.
UNECHO_JS = """
(chat, question) => {
  window.__rolebotAskedAt = 0;
  chat = chat || [];
  const last = chat.length ? chat[chat.length - 1] : null;
  return last && last.role === "user" ? [chat.slice(0, -1), question] : [chat, question];
}
"""


def as_text(text: str) -> str:
    """Markdown that renders ``text`` literally: ``<img src=x onerror=…>`` shows as those characters, runs nothing."""
    return html.escape(_MD_SPECIAL.sub(r"\\\1", text), quote=False)


def _turn(reply: Reply) -> dict:
    """What the page keeps per turn: plain JSON, so gr.State can copy it per session."""
    data = reply.to_dict()
    trace = reply.trace
    return {
        **data,
        "id": _turn_id(),
        "ok": True,
        "trace": None
        if trace is None
        else {
            "resolved_question": trace.resolved_question,
            "truncated": trace.truncated,
            "hits": trace.hits,
            "key_terms": trace.key_terms,
            "uncovered_terms": trace.uncovered_terms,
            "scope_reason": trace.scope_reason,
            "timings_ms": trace.timings_ms,
        },
    }


def _turn_id() -> str:
    """The server's own name for a turn: a vote names the turn it is about, never its text."""
    return uuid.uuid4().hex[:12]


def _error_turn(question: str, ref: str) -> dict:
    limit = config.max_question_chars()
    text = FRIENDLY_ERROR.format(ref=ref)
    return {
        "id": _turn_id(),
        "question": question[:limit],
        "answer": text,
        "in_scope": False,
        "ok": False,
        "sources": [],
        "suggestions": [],
        "parts": [{"kind": "note", "text": text, "sources": [], "block": asdict(Note(text=text))}],
        "trace": None,
    }


def history(turns: list[dict]) -> list[tuple[str, str]]:
    """(question, engine answer) pairs for ``Chatbot.ask``; failed turns are left out."""
    return [(t["question"], t["answer"]) for t in turns if t["ok"]]


RENDERED_TURNS = 2000
"""Answers kept rendered (~5 KB each, so ~10 MB at most): the kept turns of the ~100 most recent sessions."""

KEPT_TURNS = config.MAX_HISTORY_TURNS
"""Turns a session keeps and the page shows: the engine reads no more than these, and each answer re-sends the
whole conversation, so a 400-turn session costs what a 20-turn one does (older turns leave the page)."""


class WebChat:
    """The handlers behind the page, bound to one loaded ``Chatbot``.

    The chat handlers never raise: problems become chat messages. ``ask`` (the API) raises ``gr.Error``,
    which gradio_client reports as an ``AppError`` carrying the message.
    """

    def __init__(self, bot: Chatbot, article: render.Article | None = None) -> None:
        self.bot = bot
        self.votes = feedback.VoteLimiter()
        self._rendered: OrderedDict[str, str] = OrderedDict()  # turn id -> answer HTML, newest last
        loaded = getattr(bot, "loaded", None)
        if article is None:
            article = render.render_article(load_corpus(loaded.corpus)) if loaded else render.Article("")
        self.article = article
        manifest = getattr(getattr(loaded, "index", None), "manifest", None) or {}
        self.model = str(manifest.get("model", ""))
        self.dimension = int(manifest.get("dimension", 0) or 0)

    # ---- what the page shows

    def messages(self, turns: list[dict]) -> list[dict]:
        """Chatbot value (messages format): exactly one user and one assistant message per turn.

        The like handler relies on that layout: assistant message ``2 * i + 1`` belongs to turn ``i``.
        The last turn's suggestions (a refusal's) become buttons under it: one click asks them.
        """
        out: list[dict] = []
        for i, turn in enumerate(turns):
            out.append({"role": "user", "content": as_text(turn["question"])})
            reply: dict[str, Any] = {"role": "assistant", "content": self._answer_html(turn)}
            if i == len(turns) - 1 and turn.get("suggestions"):
                reply["options"] = [{"value": q} for q in turn["suggestions"]]
            out.append(reply)
        return out

    def _answer_html(self, turn: dict) -> str:
        """A turn's answer as HTML, rendered once: every response re-sends the kept turns, and rendering them
        all again cost as much as answering."""
        key = turn.get("id")
        if key is None:
            return render.answer_html(turn, self.article)
        if key in self._rendered:
            self._rendered.move_to_end(key)
            return self._rendered[key]
        html_ = self._rendered[key] = render.answer_html(turn, self.article)
        if len(self._rendered) > RENDERED_TURNS:
            self._rendered.popitem(last=False)
        return html_

    def how(self, turns: list[dict]) -> str:
        return render.how_html(turns, self.article, self.model, self.dimension)

    def _page(self, turns: list[dict], box: Any) -> tuple:
        return self.messages(turns), box, turns, self.how(turns)

    # ---- handlers

    def reply(self, message: str, turns: list[dict], session: str | None = None) -> dict:
        """One engine call with the conversation so far; failures are logged and become a friendly turn.
        ``session`` (the page's session) is what a language model's calls count against (bot/writer.py)."""
        try:
            if session and getattr(self.bot, "writer", None) is not None:
                from .writer import session_key

                session_key.set(session)  # this worker thread's context only, for this call
            return _turn(self.bot.ask(message, history(turns)))
        except EmptyQuestionError:
            raise  # the caller shows it as a warning: not a failure
        except Exception:  # the edge: anything unexpected is logged in full, the user gets a reference
            ref = uuid.uuid4().hex[:8]
            log.exception("answering failed [ref %s] question=%r", ref, message[:500])
            return _error_turn(message, ref)

    def respond(self, message: str, turns: list[dict] | None, request: gr.Request | None = None):
        """Answer ``message`` in the context of ``turns``: (chat, question box, turns, How it works).

        The page's script has already shown the question and emptied the box, so on success the box is
        left alone (the visitor may be typing the next question); an empty question goes back into it.
        ``""`` means "a question is still being answered": nothing changes.
        """
        turns = list(turns or [])
        if message == "":
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        message = (
            message[: config.max_question_chars() * config.QUESTION_SEND_FACTOR] if isinstance(message, str) else ""
        )
        try:
            # The engine decides what is empty: zero-width and control characters count as nothing.
            session = getattr(request, "session_hash", None)
            turn = self.reply(message, turns, session)
        except EmptyQuestionError as exc:
            gr.Warning(str(exc))
            return self._page(turns, message)
        # Only the last turn's trace is shown; dropping older ones keeps a long session's state small.
        turns = [{**t, "trace": None} for t in turns[-(KEPT_TURNS - 1) :]] + [turn]
        return self._page(turns, gr.skip())

    def respond_live(self, message: str, turns: list[dict] | None, request: gr.Request | None = None):
        """``respond`` for an engine with a language model (a generator: Gradio streams what it yields). The
        model's words appear in the answer's place as they arrive, as plain text under a note that they are
        not checked yet; then the checked answer, rendered like every answer, replaces them."""
        turns = list(turns or [])
        if message == "":
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        message = (
            message[: config.max_question_chars() * config.QUESTION_SEND_FACTOR] if isinstance(message, str) else ""
        )
        try:
            turn = yield from self._live_turn(message, turns, getattr(request, "session_hash", None))
        except EmptyQuestionError as exc:
            gr.Warning(str(exc))
            yield self._page(turns, message)
            return
        turns = [{**t, "trace": None} for t in turns[-(KEPT_TURNS - 1) :]] + [turn]
        yield self._page(turns, gr.skip())

    def _live_turn(self, message: str, turns: list[dict], session: str | None):
        """Yields the page while the model writes; returns the finished turn (a friendly one on failure)."""
        from .chat import Replaced

        try:
            if session:
                from .writer import session_key

                session_key.set(session)  # this worker thread's context only, for this call
            writer = getattr(self.bot, "writer", None)
            note = self.bot.profile.say("llm_writing", model=getattr(writer, "model", "The model"))
            text, reply = "", None
            for item in self.bot.stream(message, history(turns)):
                if isinstance(item, str):
                    text += item
                    writing = [
                        {"role": "user", "content": as_text(message)},
                        {"role": "assistant", "content": render.writing_html(text, note)},
                    ]
                    yield self.messages(turns) + writing, gr.skip(), gr.skip(), gr.skip()
                elif not isinstance(item, Replaced):  # a Replaced needs nothing more: the reply replaces the text
                    reply = item
            return _turn(reply)
        except EmptyQuestionError:
            raise
        except Exception:  # the edge: as in reply()
            ref = uuid.uuid4().hex[:8]
            log.exception("answering failed [ref %s] question=%r", ref, message[:500])
            return _error_turn(message, ref)

    def example_live(self, turns: list[dict] | None, selected: gr.SelectData, request: gr.Request | None = None):
        """``example`` with the answer streamed (see respond_live)."""
        value = selected.value
        text = value.get("text", "") if isinstance(value, dict) else str(value)
        last = None
        for state in self.respond_live(text, turns, request):
            if last is not None:
                yield last[0], gr.skip(), *last[2:]
            last = state
        yield last[0], "", *last[2:]

    def retry_live(self, turns: list[dict] | None, request: gr.Request | None = None):
        """``retry`` with the answer streamed (see respond_live)."""
        turns = list(turns or [])
        if not turns:
            yield self._page(turns, gr.skip())
            return
        last = turns.pop()
        for chat, _, kept, how in self.respond_live(last["question"], turns, request):
            yield chat, gr.skip(), kept, how

    def example(self, turns: list[dict] | None, selected: gr.SelectData):
        """A click on an example or a suggestion asks it (the page's script normally sends it like typed text)."""
        value = selected.value
        text = value.get("text", "") if isinstance(value, dict) else str(value)
        chat, _, turns, how = self.respond(text, turns)
        return chat, "", turns, how

    def retry(self, turns: list[dict] | None):
        """Ask the last question again with the same history (after an error, say)."""
        turns = list(turns or [])
        if not turns:
            return self._page(turns, gr.skip())
        last = turns.pop()
        chat, _, turns, how = self.respond(last["question"], turns)
        return chat, gr.skip(), turns, how

    def undo(self, turns: list[dict] | None):
        """Take back the last question and answer; the question returns to the box to be edited."""
        turns = list(turns or [])
        if not turns:
            return self._page(turns, gr.skip())
        last = turns.pop()
        return self._page(turns, last["question"])

    def new_chat(self):
        return self._page([], "")

    def like(self, turns: list[dict] | None, data: gr.LikeData, request: gr.Request | None = None) -> None:
        """Append a vote on one of this session's answers to the feedback log. The entry is the server's own
        turn (its id, question, answer, sources), found by the message's position; the client only says which
        message and which vote. A vote that breaks a rule is refused with a message and writes nothing."""
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        turns = turns or []
        if not isinstance(index, int) or index % 2 != 1 or not 0 <= index // 2 < len(turns):
            log.info("feedback for unknown message index %.40r refused", data.index)
            raise gr.Error("That message is not one of this conversation's answers; nothing was recorded.")
        turn = turns[index // 2]
        try:
            vote = feedback.vote_of(data.liked)
            self.votes.take(getattr(request, "session_hash", None) or "local")
        except VoteRefused as refused:
            raise gr.Error(str(refused), print_exception=False) from None
        feedback.record(
            turn["question"],
            turn["answer"],
            [s["chunk_id"] for s in turn["sources"]],
            vote,
            in_scope=turn["in_scope"],
            turn_id=turn.get("id"),
        )

    def ask(self, question: str) -> dict:
        """Answer one question without history: exactly ``Reply.to_dict()`` (what `rolebot ask --json` prints)."""
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


_PREVIEW_TAGS = re.compile(rb'\s*<meta\s+(?:property|name)="(?:og|twitter):[^"]*"\s+content="[^"]*"\s*/?>')


class LinkPreview:
    """ASGI middleware: the page's own title, description and icon in the HTML that link previews read.

    Gradio's page template hard-codes og:title "Gradio", og:description "Click to try out the app!" and an
    image from github.com, ahead of any tag a Blocks can add; previews (chat apps, search engines) run no
    script, so the head is fixed in the served HTML. Only the page itself (GET /) is touched.
    """

    def __init__(self, app: Any, title: str, description: str) -> None:
        self.app = app
        title, description = html.escape(title), html.escape(description)
        self.head = (
            f'<meta charset="utf-8" /><title>{title}</title><meta name="description" content="{description}">'
            f'<meta property="og:title" content="{title}"><meta property="og:description" content="{description}">'
            '<meta property="og:type" content="website"><meta name="twitter:card" content="summary">'
            '<link rel="icon" type="image/png" href="favicon.ico">'
        ).encode()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET" or scope.get("path") != "/":
            await self.app(scope, receive, send)
            return
        start: dict = {}
        body: list[bytes] = []

        async def rewrite(message: dict) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            page = b"".join(body)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            kinds = {k.lower(): v for k, v in headers}
            if kinds.get(b"content-type", b"").startswith(b"text/html") and b"content-encoding" not in kinds:
                page = _PREVIEW_TAGS.sub(b"", page).replace(b'<meta charset="utf-8" />', self.head, 1)
            headers.append((b"content-length", str(len(page)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": page})

        await self.app(scope, receive, rewrite)


class Page(gr.Blocks):
    """gr.Blocks whose served HTML carries the page's own link preview (see LinkPreview)."""

    description = ""

    def launch(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        from starlette.middleware import Middleware

        app_kwargs = dict(kwargs.pop("app_kwargs", None) or {})
        preview = Middleware(LinkPreview, title=str(self.title), description=self.description)
        app_kwargs["middleware"] = [*app_kwargs.get("middleware", []), preview]
        return super().launch(*args, app_kwargs=app_kwargs, **kwargs)


def _header(bot: Chatbot) -> str:
    profile = bot.profile
    return (
        f'<header class="rb-header"><h1 class="rb-title">{TITLE}</h1>'
        f'<p class="rb-subtitle">{html.escape(profile.title)}</p></header>'
    )


def build_app(
    bot: Chatbot | None = None, *, concurrency_limit: int | None = None, queue_size: int | None = None
) -> gr.Blocks:
    """The Gradio page and API around ``bot`` (``Chatbot.load()`` when None), queue configured.

    Endpoints: ``/ask`` (public; one string in, ``Reply.to_dict()`` out, no history) and ``/chat``
    (undocumented; the page's own submit, with per-session history). ``concurrency_limit`` and
    ``queue_size`` default to ROLEBOT_WEB_CONCURRENCY / ROLEBOT_WEB_QUEUE, else the constants above.
    Everything the page says about its article (title, tagline, hint, examples) comes from ``bot.profile``.
    """
    bot = bot if bot is not None else Chatbot.load()
    web = WebChat(bot)
    profile = bot.profile
    limit = config.max_question_chars()
    with Page(title=f"{TITLE}: {profile.title}", analytics_enabled=False, fill_height=True) as app:
        app.description = profile.tagline
        gr.HTML(_header(bot), elem_id="header", js_on_load=None)
        turns = gr.State([])
        with gr.Tabs(elem_id="views"):
            with gr.Tab("Chat", id="chat-view", elem_id="chat-view"):
                chatbot = gr.Chatbot(
                    label="Conversation",
                    show_label=False,
                    height="100%",  # rolebot.css sizes it to the window
                    layout="bubble",
                    elem_id="chat",
                    autoscroll=False,  # rolebot.js shows each new question at the top instead
                    examples=[{"text": q} for q in profile.examples],
                    placeholder=as_text(profile.tagline),
                    sanitize_html=True,
                    allow_tags=False,
                    latex_delimiters=[],
                    buttons=["copy"],
                    feedback_options=("Like", "Dislike"),
                )
                with gr.Row(elem_id="composer", equal_height=True):
                    box = gr.Textbox(
                        label="Your question",
                        show_label=False,
                        placeholder=profile.placeholder,
                        lines=1,
                        max_lines=INPUT_LINES,
                        max_length=None,
                        submit_btn=True,
                        elem_id="question",
                        scale=1,
                        container=False,
                    )
                    new = gr.Button(
                        "New chat", variant="secondary", size="md", scale=0, min_width=44, elem_id="new-chat"
                    )
                gr.HTML(
                    f'<p id="rb-counter" class="rb-counter" data-limit="{limit}" aria-live="polite"></p>',
                    elem_id="counter",
                    js_on_load=None,
                )
                pending = gr.Textbox(visible=False, elem_id="pending")
            with gr.Tab("How it works", id="how-view", elem_id="how-view"):
                how = gr.HTML(web.how([]), elem_id="how", js_on_load=None)
            with gr.Tab("Article", id="article-view", elem_id="article-view"):
                gr.HTML(
                    '<div class="rb-article-view"><p class="rb-article-note">The article every answer quotes. '
                    "A source you open from an answer is highlighted.</p>"
                    f'{web.article.html}<a class="rb-back" href="#chat-view">Back to the conversation</a></div>',
                    elem_id="article",
                    js_on_load=None,
                )
        outputs = [chatbot, box, turns, how]
        echo = ECHO_JS.replace("LIMIT", str(limit)).replace("SEND", str(limit * config.QUESTION_SEND_FACTOR))
        asked = box.submit(None, [box, chatbot], [chatbot, box, pending], js=echo, queue=False)
        # With a language model, answers stream: the handlers are generators (Gradio sends each state they yield).
        live = getattr(bot, "writer", None) is not None
        respond, example, retry = (
            (web.respond_live, web.example_live, web.retry_live) if live else (web.respond, web.example, web.retry)
        )
        answered = asked.then(respond, [pending, turns], outputs, api_name="chat", api_visibility="undocumented")
        answered.failure(None, [chatbot, pending], [chatbot, box], js=UNECHO_JS, queue=False)
        chatbot.example_select(example, [turns], outputs, api_visibility="private")
        chatbot.option_select(example, [turns], outputs, api_visibility="private")
        chatbot.retry(retry, [turns], outputs, api_visibility="private")
        chatbot.undo(web.undo, [turns], outputs, api_visibility="private", queue=False)
        new.click(web.new_chat, None, outputs, api_visibility="private", queue=False)
        # Outside the queue, so a vote never waits behind questions; its own limits (feedback.VoteLimiter, the
        # body limit, sizes bounded) replace the queue's.
        chatbot.like(web.like, [turns], None, api_name="feedback", api_visibility="undocumented", queue=False)
        gr.api(web.ask, api_name="ask", api_description=ASK_DESCRIPTION)
    # api_open=False: every call goes through the queue, so its limits hold for HTTP clients too.
    # A model's answer waits seconds on its server holding no engine slot (server.py), so with a model the
    # page's queue lets that many more events run, or answers being written would hold up quoted ones.
    workers = (concurrency_limit or config.web_concurrency()) + (config.llm_concurrency() if live else 0)
    app.queue(
        default_concurrency_limit=workers,
        max_size=queue_size or config.web_queue(),
        api_open=False,
    )
    return app


def server_address(host: str | None = None, port: int | None = None) -> tuple[str, int]:
    """Where to listen: arguments, else GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, else 0.0.0.0 on Spaces
    (SPACE_ID set) or 127.0.0.1 locally, port 7860."""
    env_host = os.environ.get("GRADIO_SERVER_NAME", "").strip()
    default_host = SPACES_HOST if os.environ.get("SPACE_ID") else DEFAULT_HOST
    return host or env_host or default_host, port or config.env_int("GRADIO_SERVER_PORT", DEFAULT_PORT)


def one_blas_thread_per_worker() -> None:
    """The server answers CONCURRENCY_LIMIT questions at once, each on its own core; BLAS threads inside
    one query's matrix products would only fight the other worker for the same cores (warm asks were
    measured ~7x slower that way on a busy 2-core machine). The embedder sets the same cap for every path
    (ROLEBOT_THREADS, default 1); this applies it before the first question too."""
    from .embeddings import limit_threads

    limit_threads()


def launch(
    host: str | None = None,
    port: int | None = None,
    *,
    bot: Chatbot | None = None,
    block: bool = True,
    llm: str | None = None,
    llm_url: str | None = None,
    mcp: bool | None = None,
    workers: int | None = None,
) -> gr.Blocks:
    """Load the index and model once, then serve the chat and the JSON API on one port (blocks until Ctrl+C
    unless ``block=False``).

    ``llm`` / ``llm_url`` (default ROLEBOT_LLM_MODEL / ROLEBOT_LLM_URL): a language model writes the answers
    (bot/writer.py); it is attached after the warm-up, which so never calls it. ``mcp`` (default ROLEBOT_MCP)
    also serves the ``ask`` tool over MCP at /gradio_api/mcp/. ``workers`` (default ROLEBOT_WORKERS, 0): engine
    processes that answer while this one serves HTTP (bot/workers.py).

    ``python app.py`` and ``rolebot serve`` call this. No error details reach the browser (show_error=False);
    server.py adds the JSON API and decides what else the server takes and serves.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # Gradio's own start-up probes are not news
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets its logger to DEBUG when imported
    if bot is None:
        bot = Chatbot.load()
    one_blas_thread_per_worker()
    bot = with_workers(bot, workers)  # before any thread or socket: the workers are forked copies of this process
    bot.warm_up()  # the first visitor should not wait for the model
    if llm or config.llm_model():
        from .writer import Writer

        bot.writer = Writer.from_settings(bot.embedder.encode, llm, llm_url, say=bot.profile.say)
        log.info("answers are written by %s at %s", bot.writer.model, bot.writer.client.where)
    # Votes also go to ROLEBOT_FEEDBACK_REPO when set; reaching the Hub must not hold up the first visitor.
    threading.Thread(target=feedback.start_hub_sync, name="feedback-hub", daemon=True).start()
    engine = server.SharedEngine(bot)  # one limit on questions answered at once, page and API together
    app = build_app(engine)
    name, number = server_address(host, port)
    try:
        app.launch(
            server_name=name,
            server_port=number,
            prevent_thread_lock=not block,
            mcp_server=config.mcp_enabled() if mcp is None else mcp,
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
