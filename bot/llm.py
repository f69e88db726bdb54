"""One client for every language-model server: the OpenAI chat-completions protocol over HTTP.

Ollama, llama.cpp's server, vLLM, LM Studio, TGI and OpenAI speak it at ``<base URL>/chat/completions``;
Hugging Face's Inference Providers router speaks it at https://router.huggingface.co/v1 with a model id and
HF_TOKEN. So a base URL and a model name cover them all.

Why not ``huggingface_hub.InferenceClient``, which speaks the same protocol: under HF_HUB_OFFLINE=1 (which
the Makefile and the tests set) it refuses every request, a local Ollama included ("offline mode is
enabled"); it takes one timeout for everything, so a dead server and a slow first token cannot be told
apart; and it does not retry 429/5xx. The protocol is small: httpx (already installed with Gradio) and
forty lines of parsing do it, with each limit rolebot needs.

The client always streams: the first-token limit is then a read timeout, and the total limit is checked as
words arrive. A key is sent only in the Authorization header and never appears in an error message.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from . import config
from .errors import LLMError

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
"""Answers worth another try: rate limited, or the server failing for now."""

CHARS_PER_TOKEN = 8
"""A server that ignores max_tokens is cut off after max_tokens * CHARS_PER_TOKEN characters (English
averages about 4 characters a token; 8 leaves room for long words)."""


def completions_url(base: str) -> str:
    """``base`` as the chat-completions endpoint: ".../v1" gains "/chat/completions", a bare host "/v1/...",
    and a URL already ending in "/chat/completions" stays as it is (the convention InferenceClient follows)."""
    base = base.strip().rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    return f"{base}/chat/completions" if base.endswith("/v1") else f"{base}/v1/chat/completions"


def shown_url(url: str) -> str:
    """``url`` fit for a log or a message: no user:password@, no query string (either may hold a key)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass(frozen=True)
class Limits:
    """How long to wait and how often to retry (defaults: config.LLM_*)."""

    connect_s: float = config.LLM_CONNECT_TIMEOUT_S
    first_token_s: float = config.LLM_FIRST_TOKEN_TIMEOUT_S
    total_s: float = config.LLM_TOTAL_TIMEOUT_S
    retries: int = config.LLM_RETRIES
    backoff_s: float = config.LLM_BACKOFF_S
    max_wait_s: float = config.LLM_MAX_WAIT_S


class ChatClient:
    """Chat completions from one model on one server: ``stream(messages)`` yields the answer's text as it comes."""

    def __init__(self, model: str, url: str | None = None, token: str | None = None, limits: Limits | None = None):
        self.model = model
        self.url = completions_url(url or config.LLM_ROUTER_URL)
        self.where = shown_url(self.url)
        self._token = token
        self.limits = limits or Limits()
        timeout = httpx.Timeout(
            connect=self.limits.connect_s, read=self.limits.first_token_s, write=self.limits.connect_s, pool=None
        )
        # trust_env=False: no proxy or netrc from the environment adds credentials or routes elsewhere.
        self._http = httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False)

    def __repr__(self) -> str:  # never the token
        return f"ChatClient(model={self.model!r}, url={self.where!r})"

    def complete(self, messages: list[dict], max_tokens: int) -> str:
        return "".join(self.stream(messages, max_tokens))

    def stream(self, messages: list[dict], max_tokens: int) -> Iterator[str]:
        """The answer's text in pieces; LLMError when the server cannot be reached, answers an error, is too
        slow (first word or whole answer) or sends something that is not the protocol."""
        started = time.monotonic()
        body = {"model": self.model, "messages": messages, "max_tokens": max_tokens, "stream": True, "temperature": 0}
        headers = {"Accept": "text/event-stream"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        budget = max_tokens * CHARS_PER_TOKEN
        for attempt in range(self.limits.retries + 1):
            try:
                with self._http.stream("POST", self.url, json=body, headers=headers) as response:
                    if response.status_code in RETRY_STATUSES and attempt < self.limits.retries:
                        wait = self._wait(response, attempt)
                        if time.monotonic() - started + wait < self.limits.total_s:
                            log.info(
                                "model server %s answered %s; retrying in %.1f s",
                                self.where,
                                response.status_code,
                                wait,
                            )
                            time.sleep(wait)
                            continue
                    if response.status_code >= 400:
                        raise LLMError(self._status_error(response))
                    yield from self._pieces(response, started, budget)
                    return
            except httpx.ConnectTimeout:
                raise LLMError(f"no connection to {self.where} within {self.limits.connect_s:g} s") from None
            except httpx.ConnectError:
                raise LLMError(f"cannot connect to {self.where}") from None
            except httpx.ReadTimeout:
                raise LLMError(f"{self.where} sent nothing for {self.limits.first_token_s:g} s") from None
            except (httpx.RemoteProtocolError, httpx.ReadError):
                raise LLMError(f"the connection to {self.where} dropped mid-answer") from None
            except httpx.HTTPError as exc:
                raise LLMError(f"the request to {self.where} failed ({type(exc).__name__})") from None

    def _pieces(self, response: httpx.Response, started: float, budget: int) -> Iterator[str]:
        """Text from an event stream (``data: {...}`` lines, ``data: [DONE]``), or from one JSON body when the
        server ignores ``stream``."""
        kind = response.headers.get("content-type", "")
        if "text/event-stream" not in kind:
            yield self._message(response.read())
            return
        got = 0
        first = True
        finished = False  # a stream ends with "data: [DONE]" or a chunk with a finish_reason, never silently
        for line in response.iter_lines():
            elapsed = time.monotonic() - started
            if elapsed > self.limits.total_s:
                raise LLMError(f"{self.where} took longer than {self.limits.total_s:g} s")
            if not line.startswith("data:"):
                continue  # comments (": keep-alive"), event names, blank separators
            data = line[5:].strip()
            if data == "[DONE]":
                return
            text, finished = self._delta(data)
            if not text:
                continue
            if first and elapsed > self.limits.first_token_s:
                raise LLMError(f"{self.where} sent no words for {self.limits.first_token_s:g} s")
            first = False
            got += len(text)
            if got > budget:  # the server ignores max_tokens: stop reading
                return
            yield text
        if not finished:
            raise LLMError(f"the connection to {self.where} dropped mid-answer")

    def _delta(self, data: str) -> tuple[str, bool]:
        """One event's text, and whether it is the last (it carries a finish_reason)."""
        try:
            chunk = json.loads(data)
            if "error" in chunk:
                raise LLMError(f"{self.where} reported an error mid-answer: {self._safe(_error_text(chunk))}")
            choices = chunk.get("choices") or []
            if not choices:
                return "", False
            return (choices[0].get("delta") or {}).get("content") or "", bool(choices[0].get("finish_reason"))
        except (ValueError, AttributeError, TypeError, IndexError):
            raise LLMError(f"{self.where} sent data that is not the chat-completions protocol") from None

    def _message(self, raw: bytes) -> str:
        try:
            return json.loads(raw)["choices"][0]["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError):
            raise LLMError(f"{self.where} sent data that is not the chat-completions protocol") from None

    def _wait(self, response: httpx.Response, attempt: int) -> float:
        """Seconds before the next try: the server's Retry-After (in seconds) if it gives one, else backoff."""
        retry_after = response.headers.get("retry-after", "").strip()
        wait = float(retry_after) if retry_after.replace(".", "", 1).isdigit() else self.limits.backoff_s * 2**attempt
        if wait > self.limits.max_wait_s:
            return self.limits.total_s  # too long to wait: the caller gives up
        return wait

    def _status_error(self, response: httpx.Response) -> str:
        response.read()
        try:
            detail = _error_text(response.json())
        except ValueError:  # not JSON: the status alone
            detail = ""
        detail = f": {self._safe(detail)}" if detail else ""
        return f"{self.where} answered HTTP {response.status_code}{detail}"

    def _safe(self, text: str) -> str:
        """A server's own words, short and without the key (some servers echo a wrong key back)."""
        text = " ".join(str(text).split())[:160]
        return text.replace(self._token, "***") if self._token else text

    def close(self) -> None:
        self._http.close()


def _error_text(body: object) -> str:
    """The message of an OpenAI-style error body ``{"error": {"message": ...}}`` (or ``{"error": "..."}``)."""
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("message", ""))
    return str(error or body.get("message", "") or "")
