"""The attacks of issue 26 ("a public Space that strangers cannot fill up") against `rolebot serve` on
127.0.0.1, each bounded in count and time, printing what the server kept: memory, feedback file, response size.

1. Large page requests: ``--big`` requests of 20 MB each to the page's routes (the question, the vote), then
   ``--sessions`` sessions asking a question just under the body limit; the server's RSS before and after.
2. Feedback: ten votes carrying a 10 MB value, then 1,000 rapid votes from 20 sessions; the data folder's growth.
3. JSON nested 1,000 deep to /api/ask: status and body.
4. One conversation of ``--turns`` turns on the page: size and time of the response at turn 10 and the last.

Usage: python bench/attacks.py [--big 10] [--sessions 200] [--turns 400] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import rss_mb, start_server, stop_server

MB = 1024 * 1024
QUESTION = "Who do AI Engineers work with?"


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def join(url: str, session: str, data: list, fn_index: int | None = None, api: str | None = "/chat", **extra):
    body = {"data": data, "session_hash": session, "fn_index": fn_index, "trigger_id": None, **extra}
    if api:
        body["api_name"] = api
    return httpx.post(f"{url}gradio_api/queue/join", json=body, timeout=120)


def large_requests(url: str, pid: int, big: int, sessions: int) -> dict:
    from gradio_client import Client

    Client(url, verbose=False).predict(QUESTION, api_name="/chat")  # warm: the first answer allocates
    before = rss_mb(pid, "VmRSS")
    statuses = []
    for i in range(big):
        statuses.append(join(url, f"big{i}", ["x" * (20 * MB), None]).status_code)
        vote = {
            "data": [None],
            "event_data": {"index": 1, "value": None, "liked": "x" * (20 * MB)},
            "session_hash": f"big{i}",
        }
        statuses.append(httpx.post(f"{url}gradio_api/run/feedback", json=vote, timeout=120).status_code)
    after_big = rss_mb(pid, "VmRSS")
    near_limit = "What tools do ML Engineers use? " + "y " * 30_000  # ~60 KB: just under the body limit
    clients = []
    for _ in range(sessions):
        client = Client(url, verbose=False)
        client.predict(near_limit, api_name="/chat")
        clients.append(client)
    after_sessions = rss_mb(pid, "VmRSS")
    return {
        "rss_before_mb": before,
        "rss_after_big_mb": after_big,
        "rss_after_sessions_mb": after_sessions,
        "big_requests": 2 * big,
        "big_statuses": sorted(set(statuses)),
        "sessions": sessions,
    }


def votes(url: str, data: Path) -> dict:
    from gradio_client import Client

    before = folder_bytes(data)
    huge = [
        httpx.post(
            f"{url}gradio_api/run/feedback",
            json={
                "data": [None],
                "event_data": {"index": 1, "value": None, "liked": "x" * (10 * MB)},
                "session_hash": "s",
            },
            timeout=120,
        ).status_code
        for _ in range(10)
    ]
    sessions = []
    for _ in range(20):
        client = Client(url, verbose=False)
        client.predict("What are the key responsibilities of an AI Engineer?", api_name="/chat")
        sessions.append(client.session_hash)
    started = time.perf_counter()
    codes: dict[int, int] = {}
    with httpx.Client(timeout=30) as http:
        for i in range(1000):
            body = {
                "data": [None],
                "event_data": {"index": 1, "value": None, "liked": i % 2 == 0},
                "session_hash": sessions[i % 20],
            }
            status = http.post(f"{url}gradio_api/run/feedback", json=body).status_code
            codes[status] = codes.get(status, 0) + 1
    return {
        "ten_10MB_statuses": sorted(set(huge)),
        "rapid_votes_statuses": codes,
        "rapid_votes_s": round(time.perf_counter() - started, 1),
        "data_growth_bytes": folder_bytes(data) - before,
    }


def nested(url: str) -> dict:
    body = b"[" * 1000 + b"]" * 1000
    response = httpx.post(f"{url}api/ask", content=body, headers={"Content-Type": "application/json"}, timeout=30)
    return {"status": response.status_code, "content_type": response.headers["content-type"], "body": response.json()}


def conversation(url: str, turns: int) -> dict:
    from gradio_client import Client

    client = Client(url, verbose=False)
    questions = [
        "How is an AI Engineer different from an ML Engineer?",
        "What tools and frameworks do ML Engineers use?",
        QUESTION,
        "How do AI Engineers optimize and deploy models?",
    ]
    seen: dict[int, tuple[int, float]] = {}
    window: dict[str, list[float]] = {"early": [], "late": []}
    for n in range(1, turns + 1):
        started = time.perf_counter()
        result = client.predict(questions[n % 4], api_name="/chat")
        elapsed = time.perf_counter() - started
        if n in (10, turns):
            seen[n] = (len(json.dumps(result).encode()), elapsed)
        if 6 <= n <= 15:
            window["early"].append(elapsed)
        if n > turns - 10:
            window["late"].append(elapsed)
    return {
        "turns": turns,
        "bytes_at_10": seen[10][0],
        f"bytes_at_{turns}": seen[turns][0],
        "median_s_turns_6_15": round(statistics.median(window["early"]), 3),
        "median_s_last_10": round(statistics.median(window["late"]), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--big", type=int, default=10)
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--turns", type=int, default=400)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        server, url = start_server(Path(tmp) / "server.log", env={"ROLEBOT_DATA": str(data)})
        try:
            results = {
                "cores": os.cpu_count(),
                "large_requests": large_requests(url, server.pid, args.big, args.sessions),
                "votes": votes(url, data),
                "nested_json": nested(url),
                "conversation": conversation(url, args.turns),
            }
        finally:
            stop_server(server)
    print(json.dumps(results, indent=2 if not args.json else None))


if __name__ == "__main__":
    main()
