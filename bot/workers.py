"""Engine worker processes for ``rolebot serve`` (ROLEBOT_WORKERS): the server speaks HTTP, the workers answer.

A question costs a few ms of CPU, most of it the engine's Python holding the GIL, so in one process the page,
the JSON API and the engine share one core however many threads answer (docs/performance.md). With workers,
the server process forks ``workers`` copies of the loaded engine before it starts any thread or opens any
socket; each answers one question at a time on one thread, and the server hands them questions over a pipe.
The children share the index's and the model's pages with the server (copy-on-write, the word embeddings
mapped), listen on nothing and exit with it. The server keeps every limit (body sizes, queues, engine slots,
the answer cache, rate limits): a worker only runs ``Chatbot.quote``, the same code on the same index, so the
replies are the ones the server would give itself.

Linux and macOS only (``fork``); elsewhere, or when a worker dies, the server answers in its own process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import threading
from multiprocessing.connection import Connection
from typing import Any

from . import config
from .chat import Chatbot, History, Reply

log = logging.getLogger("rolebot")

PARENT_CHECK_S = 1.0
"""How often an idle worker checks that its server is still there (it exits when the server is gone)."""


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


class WorkerPool:
    """``workers`` forked processes answering ``Chatbot.quote`` for ``bot``; ``quote`` is thread-safe and
    blocks until an idle worker has answered (callers bound how many wait: the server's engine slots)."""

    def __init__(self, bot: Chatbot, workers: int) -> None:
        self.bot = bot
        # One entry per worker: (process, pipe), or (None, None) once that worker is gone (answered here).
        self._idle: queue.Queue[tuple[Any, Connection | None]] = queue.Queue()
        self.processes: list[multiprocessing.Process] = []
        context = multiprocessing.get_context("fork")
        started = []
        for number in range(workers):
            ours, theirs = context.Pipe()
            process = context.Process(
                target=_serve, args=(bot, theirs, ours, os.getpid()), name=f"rolebot-worker-{number}", daemon=True
            )
            process.start()
            theirs.close()  # the worker's end lives in the worker: when it exits, our recv() ends
            self.processes.append(process)
            started.append((process, ours))
        for process, conn in started:  # each answers its warm-up question before the server opens its port
            try:
                conn.recv()
            except (EOFError, OSError):
                process, conn = self._gone(process, conn)
            self._idle.put((process, conn))

    def quote(self, question: str, history: History | None, top_k: int) -> Reply:
        process, conn = self._idle.get()
        try:
            if conn is None:
                return self.bot.quote(question, history, top_k)
            try:
                conn.send((question, history, top_k))
                ok, value = conn.recv()
            except (EOFError, OSError):  # the worker died (killed, out of memory): answer here from now on
                process, conn = self._gone(process, conn)
                return self.bot.quote(question, history, top_k)
        finally:
            self._idle.put((process, conn))
        if not ok:
            raise value
        return value

    @staticmethod
    def _gone(process: multiprocessing.Process, conn: Connection) -> tuple[None, None]:
        log.error("engine worker %s (pid %s) is gone; the server answers its share itself", process.name, process.pid)
        conn.close()
        return None, None

    def close(self) -> None:
        """Stop the workers (they also stop by themselves when the server exits)."""
        while not self._idle.empty():
            _, conn = self._idle.get_nowait()
            if conn is not None:
                conn.close()  # the worker's recv() ends: it exits
        for process in self.processes:
            process.join(timeout=5)


def _serve(bot: Chatbot, conn: Connection, server_end: Connection, server_pid: int) -> None:
    """A worker's life: warm up, then answer questions from ``conn`` until the server closes it or exits."""
    server_end.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal reaches the whole group: the server decides
    bot.writer = None  # a language model, if any, writes in the server: a worker only decides and quotes
    bot.warm_up()
    conn.send(True)
    while True:
        try:
            while not conn.poll(PARENT_CHECK_S):
                if os.getppid() != server_pid:
                    return
            question, history, top_k = conn.recv()
        except (EOFError, OSError):
            return
        try:
            result: tuple[bool, Any] = (True, bot.quote(question, history, top_k))
        except Exception as exc:  # the server raises it: EmptyQuestionError, or a 500 it logs
            result = (False, exc)
        try:
            conn.send(result)
        except (EOFError, OSError):
            return


class PooledChatbot(Chatbot):
    """``bot`` with its engine work (``quote``) done by a WorkerPool: ``ask``, ``stream`` and the rest are
    Chatbot's own, so a language model (``writer``) still writes in the server, outside the workers."""

    def __init__(self, bot: Chatbot, workers: int) -> None:
        self.__dict__.update(bot.__dict__)
        self.pool = WorkerPool(bot, workers)

    def quote(self, question: str, history: History | None = None, top_k: int = config.TOP_K_SOURCES) -> Reply:
        return self.pool.quote(question, history, top_k)


def with_workers(bot: Chatbot, workers: int | None = None) -> Chatbot:
    """``bot`` answering in ``workers`` processes (default ROLEBOT_WORKERS), or ``bot`` itself for 0, where
    processes cannot be forked, or when it has its workers already. Call it before starting threads or opening
    sockets, and best before importing gradio (``rolebot serve`` does): the workers need none of its ~100 MB."""
    workers = config.workers() if workers is None else workers
    if workers <= 0 or isinstance(bot, PooledChatbot):
        return bot
    if not can_fork():
        log.warning("ROLEBOT_WORKERS=%d: this platform cannot fork, so the server answers in its own process", workers)
        return bot
    if threading.active_count() > 1:
        log.warning("engine workers forked beside %d other threads", threading.active_count() - 1)
    pooled = PooledChatbot(bot, workers)
    log.info("%d engine worker processes answer questions (pids %s)", workers, [p.pid for p in pooled.pool.processes])
    return pooled
