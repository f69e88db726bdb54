"""Engine worker processes (bot/workers.py): the same replies as the engine in-process, errors passed back, a
dead worker's share answered by the server, and `rolebot serve --workers 2` listening only where it is told."""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import httpx
import pytest
from helpers import bench_load

from bot import Chatbot, EmptyQuestionError, config
from bot.workers import PooledChatbot, with_workers

QUESTIONS = [
    "What tools does each role use?",
    "How is an AI Engineer different from an ML Engineer?",
    "What is the capital of France?",
]


@pytest.fixture(scope="module")
def pooled(bot):
    """Two workers forked from a freshly loaded engine (no model loaded yet, as `rolebot serve` forks)."""
    chatbot = with_workers(Chatbot.load(index=bot.loaded.folder), 2)
    assert isinstance(chatbot, PooledChatbot)
    yield chatbot
    chatbot.pool.close()


def test_workers_give_the_engines_own_replies(pooled, bot):
    for question in QUESTIONS:
        assert pooled.ask(question).to_dict() == bot.ask(question).to_dict()
    history = [(QUESTIONS[0], bot.ask(QUESTIONS[0]).answer)]
    follow_up = "and what about ML engineers?"
    assert pooled.ask(follow_up, history, top_k=5).to_dict() == bot.ask(follow_up, history, top_k=5).to_dict()
    *_, streamed = pooled.stream(QUESTIONS[1])
    assert streamed.to_dict() == bot.ask(QUESTIONS[1]).to_dict()
    assert all(p.is_alive() and p.pid != os.getpid() for p in pooled.pool.processes)


def test_an_error_in_a_worker_is_raised_in_the_server(pooled):
    with pytest.raises(EmptyQuestionError):
        pooled.ask("  \u200b ")


def test_no_workers_means_the_engine_itself(bot, monkeypatch):
    assert with_workers(bot, 0) is bot
    monkeypatch.setenv("ROLEBOT_WORKERS", "0")
    assert with_workers(bot) is bot
    monkeypatch.setenv("ROLEBOT_WORKERS", "3")
    assert config.workers() == 3
    monkeypatch.setenv("ROLEBOT_WORKERS", "many")
    assert config.workers() == config.WORKERS


def test_a_dead_workers_questions_are_answered_by_the_server(bot):
    chatbot = with_workers(Chatbot.load(index=bot.loaded.folder), 1)
    try:
        [worker] = chatbot.pool.processes
        os.kill(worker.pid, signal.SIGKILL)
        worker.join(timeout=10)
        for question in QUESTIONS[:2] * 2:
            assert chatbot.ask(question).to_dict() == bot.ask(question).to_dict()
    finally:
        chatbot.pool.close()


def listening_inodes() -> set[str]:
    """Socket inodes in LISTEN state (TCP over IPv4 and IPv6), from /proc/net."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        inodes |= {row.split()[9] for row in rows if row.split()[3] == "0A"}
    return inodes


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads /proc")
def test_serve_with_workers_answers_the_api_and_only_the_server_listens(tmp_path, bot):
    load = bench_load()
    shutil.copytree(bot.loaded.folder, tmp_path / "index")
    env = {"ROLEBOT_INDEX": str(tmp_path / "index"), "ROLEBOT_CACHE": str(tmp_path / "cache"), "ROLEBOT_WORKERS": "2"}
    process, url = load.start_server(tmp_path / "server.log", env=env, timeout=240)
    try:
        children = [int(pid) for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()]
        assert len(children) == 2
        for question in QUESTIONS:
            response = httpx.post(f"{url}api/ask", json={"question": question}, timeout=60)
            assert response.status_code == 200 and response.json() == bot.ask(question).to_dict()
        listening = listening_inodes()
        assert socket_inodes(process.pid) & listening  # the server listens…
        for child in children:
            assert not socket_inodes(child) & listening  # …its workers do not
    finally:
        process.kill()  # no clean shutdown: the workers notice their server is gone by themselves
        process.wait(timeout=30)
    deadline = time.monotonic() + 15  # each checks its server every PARENT_CHECK_S
    while any(Path(f"/proc/{child}").exists() for child in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [child for child in children if Path(f"/proc/{child}/status").exists() and not _zombie(child)]


def _zombie(pid: int) -> bool:
    return "State:\tZ" in Path(f"/proc/{pid}/status").read_text()
