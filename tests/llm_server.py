"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1, for tests and bench/writer.py.

Each request to ``/v1/chat/completions`` takes the next step of the script (the last step repeats) and
replays it: a streamed answer (optionally slow), an error status, malformed data, a dropped connection.
Every request is recorded (headers and JSON body) so a test can check what rolebot sent.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Step:
    """One scripted response."""

    pieces: list[str] = field(default_factory=list)  # streamed content deltas
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None  # sent as is (with content_type) instead of a stream
    content_type: str = "application/json"
    first_delay: float = 0.0  # seconds before the first byte of the stream
    delay: float = 0.0  # seconds between pieces (a model writing at that pace)
    drop_after: int | None = None  # close the connection after this many pieces, mid-stream
    hold: threading.Event | None = None  # wait for it before the first byte of the stream (a model still thinking)


def answer(text: str, **kwargs) -> Step:
    """A streamed answer, one word per event."""
    words = text.split(" ")
    return Step([w if i == 0 else " " + w for i, w in enumerate(words)], **kwargs)


def error(status: int, message: str = "scripted failure", **kwargs) -> Step:
    return Step(status=status, body=json.dumps({"error": {"message": message}}).encode(), **kwargs)


class ScriptedServer:
    """``with ScriptedServer([steps]) as server:`` serves at ``server.url`` ("http://127.0.0.1:PORT/v1")."""

    def __init__(self, steps: list[Step]) -> None:
        self.steps = list(steps)
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/v1"

    def script(self, steps: list[Step]) -> None:
        with self._lock:
            self.steps = list(steps)
            self.requests.clear()

    def _next(self) -> Step:
        with self._lock:
            return self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]

    def __enter__(self) -> ScriptedServer:
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                raw = self.rfile.read(length)
                received = time.perf_counter()  # when the model has the question (bench/writer.py)
                record = {
                    "path": self.path,
                    "headers": dict(self.headers),
                    "json": json.loads(raw),
                    "received": received,
                }
                with server._lock:
                    server.requests.append(record)
                step = server._next()
                if step.body is not None or step.status != 200:
                    body = step.body or b""
                    self.send_response(step.status)
                    self.send_header("Content-Type", step.content_type)
                    self.send_header("Content-Length", str(len(body)))
                    for k, v in step.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(body)
                    return
                time.sleep(step.first_delay)
                if step.hold is not None:
                    step.hold.wait(timeout=60)
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                try:
                    for i, piece in enumerate(step.pieces):
                        if step.drop_after is not None and i >= step.drop_after:
                            self.wfile.flush()
                            self.connection.shutdown(2)  # the connection drops, the stream never ends
                            return
                        if i:
                            time.sleep(step.delay)
                        chunk = {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        self.wfile.flush()
                    record["done"] = time.perf_counter()  # the model's last word is sent (bench/writer.py)
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        return Handler
