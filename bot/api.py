"""The plain JSON API: ``POST /api/ask`` takes a question (and the conversation so far) and returns
exactly ``Reply.to_dict()``, the object ``rolebot ask --json`` prints.

A small FastAPI app that server.py mounts at ``/api`` on the Gradio server: one port, one engine. The reply
passes through as the engine shapes it; this module never rebuilds it. Every error is JSON
``{"error": code, "message": text}``: 4xx for the caller's mistakes, 503 when too many questions wait,
500 with a ``reference`` that the server log holds beside the traceback. Engine work runs in worker
threads, at most ``concurrency`` at once, so the event loop that also serves the page never waits on it.
"""

from __future__ import annotations

import json
import logging
import uuid
from functools import partial
from importlib import metadata
from typing import Any, Protocol

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError, field_validator
from starlette.exceptions import HTTPException

from . import api_docs, chat, config
from .errors import EmptyQuestionError

log = logging.getLogger(__name__)

FOLLOW_UP_EXAMPLE = "and what tools do they use?"
"""A follow-up for the documented request example: only the history says who "they" are."""


class Engine(Protocol):
    def ask(self, question: str, history: Any = None) -> chat.Reply: ...


class AskRequest(BaseModel):
    """The body of ``POST /api/ask``."""

    model_config = ConfigDict(extra="forbid")

    question: StrictStr = Field(
        description="The question; cut at the server's limit (2,000 characters by default), with a notice."
    )
    history: list[tuple[StrictStr, StrictStr]] = Field(
        default_factory=list,
        description="Earlier turns, oldest first, as [your message, the bot's answer] pairs: follow-ups such as "
        f'"{FOLLOW_UP_EXAMPLE}" are read in their context. Only the last 20 turns are used.',
    )

    @field_validator("history", mode="before")
    @classmethod
    def _no_history(cls, value: Any) -> Any:
        return [] if value is None else value


class SourceModel(BaseModel):
    """One passage behind an answer (the engine may add fields)."""

    model_config = ConfigDict(extra="allow")

    section: str = Field(description='Heading path of the passage, " › " separated.')
    text: str = Field(description="The passage itself.")
    score: float = Field(description="Fused relevance; 1.0 = ranked first by both dense and BM25 retrieval.")
    source: str = Field(description="The document's file name.")
    chunk_id: int = Field(description="The passage's id in the index (index/chunks.json).")
    heading: str = Field(description="The passage's own heading: the last step of section.")
    quoted: bool = Field(description='True when the answer quotes it; False for the one "see also" passage.')


class PartModel(BaseModel):
    """One block of the answer."""

    kind: str = Field(description='"quote" (the article\'s words), "note" or "offer" (the bot\'s own).')
    text: str = Field(description="Markdown.")
    sources: list[int] = Field(description="1-based positions in sources of the passages this block quotes.")
    block: dict[str, Any] | None = Field(
        default=None,
        description='The same block, structured: "kind" ("sentences", "list", "row_sentence", "table", "note" or '
        '"offer"), "sources", and the fields of its kind (docs/api.md); text is its Markdown.',
    )


class ReplyModel(BaseModel):
    """``Reply.to_dict()``, exactly what ``rolebot ask --json`` prints (the engine may add fields)."""

    model_config = ConfigDict(extra="allow")

    question: str = Field(description="The question as answered: cleaned, cut at the length limit.")
    answer: str = Field(description="Markdown: sentences and table rows quoted from the article, or a refusal.")
    in_scope: bool = Field(description="False when the article does not answer the question.")
    outcome: str = Field(
        description='"answered"; "partial": the article answers part of the question and a note says what it does '
        'not cover; "declined": nothing in the article bears on it (in_scope is false only then).'
    )
    sources: list[SourceModel] = Field(description="The passages the answer quotes, in order, then one see-also.")
    suggestions: list[str] = Field(description="Questions the article answers (offered with a refusal).")
    parts: list[PartModel] = Field(description="The answer block by block; answer is their texts joined.")


class ErrorModel(BaseModel):
    """Every error the API returns."""

    error: str = Field(description="A stable code: invalid_json, invalid_request, empty_question, body_too_large, …")
    message: str = Field(description="What went wrong and what to do, for people.")
    reference: str | None = Field(default=None, description="Only for 500: the id to look up in the server log.")


class ApiError(Exception):
    """A request the API answers with an error: status code, stable code, message for people."""

    def __init__(self, status: int, code: str, message: str, *, reference: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.reference = status, code, message, reference

    def response(self) -> JSONResponse:
        body = {"error": self.code, "message": self.message}
        if self.reference:
            body["reference"] = self.reference
        headers = {"Retry-After": "1"} if self.status == 503 else None
        return JSONResponse(body, status_code=self.status, headers=headers)


def _is_json(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused (413) as soon as it is known to exceed ``limit`` bytes: a declared
    Content-Length is checked before reading, a chunked body while it arrives."""
    too_large = ApiError(413, "body_too_large", f"The request body is over the {limit:,}-byte limit.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


def parse_request(body: bytes) -> AskRequest:
    """A JSON body as an ``AskRequest``; ApiError 400 for JSON that does not parse, 422 for the wrong shape."""
    if not body.strip():
        raise ApiError(400, "invalid_json", 'The body is empty: send a JSON object such as {"question": "..."}.')
    try:
        data = json.loads(body)
    except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8/16/32
        raise ApiError(400, "invalid_json", f"The body is not valid JSON: {exc}.") from None
    except RecursionError:  # [[[[… a thousand deep: Python's parser gives up; the caller's mistake, not ours
        raise ApiError(400, "invalid_json", 'The body is nested too deeply: send {"question": "..."}.') from None
    if not isinstance(data, dict):
        raise ApiError(422, "invalid_request", 'The body must be a JSON object such as {"question": "..."}.')
    try:
        return AskRequest.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, "invalid_request", explain(exc.errors())) from None


MAX_NAMED_ITEMS = 5
"""An error message names at most this many malformed history items: a 64 KB body can hold thousands."""


def explain(errors: list[Any]) -> str:
    """pydantic's errors as sentences about this API's two fields (pydantic's own wording names Python types)."""
    sentences: dict[str, None] = {}  # ordered, without repeats
    turns: dict[str, None] = {}  # positions of malformed history items
    for error in errors:
        where, kind = error["loc"], error["type"]
        if kind == "extra_forbidden":
            sentences[f'Unknown field "{where[0]}": the body takes "question" and "history".'] = None
        elif where[0] == "question":
            sentences[
                'The body needs a "question" string.' if kind == "missing" else '"question" must be a string.'
            ] = None
        else:
            turns[str(where[1]) if len(where) > 1 else ""] = None
    if turns:
        named = [t for t in turns if t]
        items = ", ".join(named[:MAX_NAMED_ITEMS]) + (", …" if len(named) > MAX_NAMED_ITEMS else "")
        check = f" (check item {items})" if named else ""
        sentences[f'"history" must be a list of [your message, bot answer] pairs of strings{check}.'] = None
    return " ".join(sentences)


class Asker:
    """``POST /api/ask`` bound to one engine: answers in worker threads, refuses (503) past the waiting limit."""

    def __init__(self, engine: Engine, *, concurrency: int, queue: int, max_body: int) -> None:
        self.engine = engine
        self.concurrency, self.queue, self.max_body = concurrency, queue, max_body
        self.capacity = concurrency + queue  # answering plus waiting
        self.threads = anyio.CapacityLimiter(concurrency)
        self.pending = 0  # only touched on the event loop: no lock needed

    async def __call__(self, request: Request) -> JSONResponse:
        if not _is_json(request.headers.get("content-type", "")):
            raise ApiError(415, "unsupported_media_type", 'Send JSON with the header "Content-Type: application/json".')
        try:
            ask = parse_request(await read_body(request, self.max_body))
        except ApiError:
            raise
        except Exception:  # a bug in reading a request is still answered in JSON, under a reference
            raise internal_error("API request failed", f"path={request.url.path[:LOGGED_CHARS]!r}") from None
        if self.pending >= self.capacity:
            raise ApiError(503, "busy", "Too many questions are waiting. Please try again in a moment.")
        self.pending += 1
        try:
            return JSONResponse(await self.answer(ask))
        finally:
            self.pending -= 1

    async def answer(self, ask: AskRequest) -> dict:
        history = [tuple(turn) for turn in ask.history]
        try:
            reply = await anyio.to_thread.run_sync(
                partial(self.engine.ask, ask.question, history), limiter=self.threads
            )
            return reply.to_dict()
        except EmptyQuestionError as exc:
            raise ApiError(422, "empty_question", str(exc)) from None
        except Exception:  # the edge: logged in full under a reference, the caller gets only the reference
            raise internal_error("API answer failed", f"question={ask.question[:LOGGED_CHARS]!r}") from None


LOGGED_CHARS = 500
"""What a log line quotes of a request (question, path) at most: a line per bad request stays small."""


def internal_error(what: str, detail: str) -> ApiError:
    """A 500 whose reference the log holds beside the traceback of the exception being handled."""
    ref = uuid.uuid4().hex[:8]
    log.exception("%s [ref %s] %s", what, ref, detail)
    message = f"Sorry, something went wrong while answering (reference {ref}). Please try again."
    return ApiError(500, "internal_error", message, reference=ref)


ERRORS: dict[int, str] = {
    400: "The body is empty, not valid JSON or nested too deeply (`invalid_json`).",
    413: "The body is over the size limit (`body_too_large`).",
    415: "The body is not sent as `Content-Type: application/json` (`unsupported_media_type`).",
    422: "Valid JSON of the wrong shape (`invalid_request`: missing or non-string question, malformed history, "
    "unknown field), or a question with nothing readable in it (`empty_question`).",
    500: "The engine failed (`internal_error`); the server log holds the details under `reference`.",
    503: "Too many questions are waiting (`busy`); retry after the `Retry-After` seconds.",
}


def create_api(
    engine: Engine, *, concurrency: int | None = None, queue: int | None = None, max_body: int | None = None
) -> FastAPI:
    """The API app for ``engine``; limits default to ROLEBOT_WEB_CONCURRENCY, ROLEBOT_WEB_QUEUE, ROLEBOT_API_MAX_BODY."""
    asker = Asker(
        engine,
        concurrency=concurrency or config.web_concurrency(),
        queue=queue or config.web_queue(),
        max_body=max_body or config.api_max_body_bytes(),
    )
    try:
        version = metadata.version("rolebot")
    except metadata.PackageNotFoundError:
        version = "0"
    app = FastAPI(
        title="rolebot JSON API",
        version=version,
        description=(
            "Questions about the article, answered by the same engine as the web page and `rolebot ask --json`. "
            f"Request bodies up to {asker.max_body:,} bytes; {asker.queue} questions may wait while "
            f"{asker.concurrency} are answered (the web page's questions count too). Errors are JSON: "
            '`{"error": code, "message": text}`.'
        ),
        docs_url=None,  # FastAPI's Swagger UI page loads its script from a CDN: see api_docs.py
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.asker = asker

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        if exc.status < 500:  # one short line per refused request; 500s were logged in full already
            log.info("refused %s %s: %d %s", request.method, request.url.path[:LOGGED_CHARS], exc.status, exc.code)
        return exc.response()

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        """Starlette's own 404 / 405 in the same JSON shape."""
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = f"{exc.detail}: this API's endpoint is POST /api/ask (see /api/docs)."
        return JSONResponse({"error": code, "message": message}, exc.status_code, headers=exc.headers)

    async def ask(request: Request) -> JSONResponse:
        return await asker(request)

    from .openai_api import add_routes  # /v1/models and /v1/chat/completions: rolebot as an OpenAI-compatible model

    add_routes(app, asker)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        """This API's documentation, self-contained (works offline, runs no script)."""
        return HTMLResponse(api_docs.docs_page(app.openapi()))

    app.add_api_route(
        "/ask",
        ask,
        methods=["POST"],
        summary="Answer one question",
        operation_id="ask",
        description="Returns `Reply.to_dict()`: the same object `rolebot ask --json` prints for this question "
        "and history. A question the article does not cover is a normal reply with `in_scope: false`.",
        response_model=None,
        responses={
            200: {"model": ReplyModel, "description": "The reply", **_response_example(engine)},
            **{status: {"model": ErrorModel, "description": text} for status, text in ERRORS.items()},
        },
        openapi_extra={"requestBody": _request_body(engine)},
    )
    return app


def _example_question(engine: Engine) -> str:
    """The corpus profile's first example question (a generic one for an engine without a profile)."""
    examples = getattr(getattr(engine, "profile", None), "examples", None)
    return examples[0] if examples else "What does the article cover?"


def _request_body(engine: Engine) -> dict:
    question = _example_question(engine)
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": AskRequest.model_json_schema(),
                "examples": {
                    "question": {"summary": "One question", "value": {"question": question}},
                    "follow-up": {
                        "summary": "A follow-up, with the conversation so far",
                        "value": {"question": FOLLOW_UP_EXAMPLE, "history": [[question, "(the bot's earlier answer)"]]},
                    },
                },
            }
        },
    }


def _response_example(engine: Engine) -> dict:
    """A real reply as the documented example, so the docs show the shape the engine returns today."""
    try:
        example = engine.ask(_example_question(engine), []).to_dict()
    except Exception:  # the docs lose their example; the API itself is unaffected
        log.warning("no example reply for the API docs", exc_info=True)
        return {}
    return {"content": {"application/json": {"example": example}}}
