"""rolebot as an OpenAI-compatible model: ``POST /v1/chat/completions`` and ``GET /v1/models`` on the JSON API.

Any OpenAI client, chat UI or agent framework can then ask rolebot: base URL ``http://HOST:7860/api/v1``,
model ``rolebot``, any API key. The last user message is the question and the earlier user/assistant pairs
are its history (system messages are ignored: rolebot's rules are not the caller's to change). The reply's
content is the answer as plain text with its [n] markers, then its sources; the same reply is also a
structured field, ``rolebot`` (``Reply.to_dict()`` and its outcome), with ``sources`` beside it.

Same engine, limits and error codes as ``POST /api/ask`` (body size, content type, waiting room, 500 with a
reference), in the error envelope OpenAI clients read: ``{"error": {"message", "type", "code"}}``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from . import render
from .api import ApiError, Asker, AskRequest, _is_json, read_body

MODEL = "rolebot"
"""The one model this endpoint serves."""

ERROR_TYPES = {
    400: "invalid_request_error",
    404: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    500: "server_error",
    503: "server_error",
}


def _error(exc: ApiError) -> JSONResponse:
    body: dict[str, Any] = {"message": exc.message, "type": ERROR_TYPES.get(exc.status, "api_error"), "code": exc.code}
    if exc.reference:
        body["reference"] = exc.reference
    headers = {"Retry-After": "1"} if exc.status == 503 else None
    return JSONResponse({"error": body}, status_code=exc.status, headers=headers)


def _text(content: Any) -> str | None:
    """A message's text: a string, or the text parts of a list of content parts; None for anything else."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, dict) for p in content):
        texts = [p.get("text") for p in content if p.get("type") == "text"]
        if all(isinstance(t, str) for t in texts) and texts:
            return "\n".join(texts)
    return None


def parse_chat(body: bytes) -> tuple[AskRequest, bool]:
    """A chat-completions body as rolebot's question and history, and whether to stream."""
    try:
        data = json.loads(body) if body.strip() else None
    except ValueError as exc:
        raise ApiError(400, "invalid_json", f"The body is not valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", 'Send a JSON object such as {"model": "rolebot", "messages": [...]}.')
    if data.get("model") != MODEL:
        raise ApiError(
            404, "model_not_found", f'The model {data.get("model")!r} does not exist: this server has "{MODEL}".'
        )
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        raise ApiError(422, "invalid_request", '"messages" must be a non-empty list of {"role", "content"} objects.')
    turns = [(m.get("role"), _text(m.get("content"))) for m in messages if m.get("role") in ("user", "assistant")]
    if not turns or turns[-1][0] != "user" or turns[-1][1] is None:
        raise ApiError(422, "invalid_request", 'The last message must be the question: role "user", text content.')
    history, pending = [], None
    for role, text in turns[:-1]:
        if role == "user":
            pending = text or ""
        elif pending is not None:
            history.append((pending, text or ""))
            pending = None
    ask = AskRequest(question=turns[-1][1], history=history)
    return ask, bool(data.get("stream"))


def content(reply: dict) -> str:
    """The reply as an assistant message: plain text with [n] markers, then the numbered sources."""
    return render.copy_text(reply)


def add_routes(app: FastAPI, asker: Asker) -> None:
    """``/v1/models`` and ``/v1/chat/completions`` on ``app``, answered by ``asker`` (and its limits)."""

    async def models() -> JSONResponse:
        return JSONResponse({"object": "list", "data": [_model()]})

    async def model(model_id: str) -> JSONResponse:
        if model_id != MODEL:
            return _error(
                ApiError(404, "model_not_found", f'The model {model_id!r} does not exist: this server has "{MODEL}".')
            )
        return JSONResponse(_model())

    async def completions(request: Request) -> Any:
        try:
            if not _is_json(request.headers.get("content-type", "")):
                raise ApiError(415, "unsupported_media_type", 'Send JSON with "Content-Type: application/json".')
            ask, stream = parse_chat(await read_body(request, asker.max_body))
            if asker.pending >= asker.capacity:
                raise ApiError(503, "busy", "Too many questions are waiting. Please try again in a moment.")
            asker.pending += 1
            try:
                reply = await asker.answer(ask)
            finally:
                asker.pending -= 1
        except ApiError as exc:
            return _error(exc)
        reply["outcome"] = reply.get("outcome", "answered" if reply["in_scope"] else "declined")
        ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        if stream:
            return StreamingResponse(_events(ident, created, reply), media_type="text/event-stream")
        return JSONResponse(
            {
                "id": ident,
                "object": "chat.completion",
                "created": created,
                "model": MODEL,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": content(reply)}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                "sources": reply["sources"],
                "rolebot": reply,
            }
        )

    app.add_api_route("/v1/models", models, methods=["GET"], summary="The one model: rolebot", operation_id="models")
    app.add_api_route("/v1/models/{model_id}", model, methods=["GET"], include_in_schema=False)
    app.add_api_route(
        "/v1/chat/completions",
        completions,
        methods=["POST"],
        summary="Answer the last user message (OpenAI-compatible)",
        operation_id="chat_completions",
        description='OpenAI chat completions with model "rolebot": the last user message is the question, earlier '
        "user/assistant pairs its history; `stream: true` sends server-sent events. The content holds the answer "
        "and its sources; `rolebot` holds `Reply.to_dict()` with `outcome`.",
    )


def _model() -> dict:
    return {"id": MODEL, "object": "model", "created": 0, "owned_by": "rolebot"}


def _events(ident: str, created: int, reply: dict) -> Iterator[str]:
    """The reply as chat.completion.chunk events: the role, the text paragraph by paragraph, then the end
    (with the structured reply) and ``[DONE]``. The engine answers at once; the stream is for clients that
    only stream."""

    def chunk(delta: dict, finish: str | None = None, **extra: Any) -> str:
        body = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    paragraphs = content(reply).split("\n\n")
    for i, paragraph in enumerate(paragraphs):
        yield chunk({"content": paragraph + ("\n\n" if i < len(paragraphs) - 1 else "")})
    yield chunk({}, "stop", sources=reply["sources"], rolebot=reply)
    yield "data: [DONE]\n\n"
