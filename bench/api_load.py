"""Questions a second through the JSON API: N clients posting to ``POST /api/ask`` for a fixed time.

Starts `rolebot serve` on 127.0.0.1 (as bench/load.py does), then runs ``--clients`` clients for ``--seconds``,
each sending one question at a time on its own keep-alive connection and the next as soon as the reply is in.
The questions are every turn of the article's eval sets (about 500, all different), each client going through
them in its own shuffled order, so with the answer cache on a question repeats only after the first few
hundred replies, and ``--cache off`` (ROLEBOT_ANSWER_CACHE=0) measures the engine alone. The clients are
asyncio coroutines on raw sockets in one process, so that they take as little of the machine as possible
from the server they measure.

Prints questions answered per second, latency median / p95 / p99 as the clients saw it, errors (any status but
200 and 503), "busy" refusals (503), the server's CPU time per answer and its peak memory. With engine workers
(ROLEBOT_WORKERS) the CPU is the server's and its workers' together, and the memory of each process is added
up too, as peak RSS (shared pages counted in each) and as PSS (shared pages divided among the sharers).

Usage: python bench/api_load.py [--clients 50] [--seconds 30] [--cache on|off|both] [--json]
(The server inherits the environment: ROLEBOT_WEB_CONCURRENCY, ROLEBOT_ENCODER, ROLEBOT_THREADS …)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from load import cpu_seconds, rss_mb, start_server, stop_server  # noqa: E402


def family(pid: int) -> list[int]:
    """``pid`` and its child processes (the engine workers of ROLEBOT_WORKERS), from /proc."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid, *(int(child) for child in children)]


def pss_mb(pid: int) -> float | None:
    """A process's proportional set size: its resident pages, each shared page divided among its sharers, so
    the figures of a server and its forked workers add up to what they hold together."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def questions() -> list[str]:
    from bot.evaluation import load_cases, load_sets

    sets = [s for s in load_sets() if s.corpus is None]
    return list(dict.fromkeys(t.question for s in sets for c in load_cases(s.file) for t in c.turns))


async def client(host: str, port: int, asked: list[str], stop: float, seen: dict) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for question in asked:
            if time.perf_counter() >= stop:
                return
            body = json.dumps({"question": question}).encode()
            head = (
                f"POST /api/ask HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            started = time.perf_counter()
            writer.write(head + body)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            elapsed = time.perf_counter() - started
            status = int(status_line.split()[1]) if status_line else 0
            if status == 200:
                seen["ms"].append(elapsed * 1000)
            elif status == 503:
                seen["busy"] += 1
                await asyncio.sleep(0.2)
            else:
                seen["errors"] += 1
    except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
        seen["errors"] += 1
    finally:
        writer.close()


async def load(host: str, port: int, clients: int, seconds: float, pool: list[str]) -> dict:
    seen: dict = {"ms": [], "busy": 0, "errors": 0}
    stop = time.perf_counter() + seconds
    orders = []
    for number in range(clients):
        order = list(pool)
        random.Random(number).shuffle(order)
        orders.append(order * 20)  # more than any client gets through in the time
    started = time.perf_counter()
    await asyncio.gather(*(client(host, port, order, stop, seen) for order in orders))
    seen["elapsed"] = time.perf_counter() - started
    return seen


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def run(cache: str, clients: int, seconds: float, pool: list[str]) -> dict:
    env = {"ROLEBOT_ANSWER_CACHE": "0"} if cache == "off" else {}
    with tempfile.TemporaryDirectory() as folder:
        server, url = start_server(Path(folder) / "server.log", env)
        try:
            port = int(url.rstrip("/").rsplit(":", 1)[1])
            asyncio.run(load("127.0.0.1", port, 2, 2.0, pool[:20]))  # connections, first replies: not measured
            pids = family(server.pid)
            cpu_before = sum(cpu_seconds(pid) or 0 for pid in pids)
            seen = asyncio.run(load("127.0.0.1", port, clients, seconds, pool))
            cpu = sum(cpu_seconds(pid) or 0 for pid in pids) - cpu_before
            peak = rss_mb(server.pid)
            peaks = [rss_mb(pid) or 0 for pid in pids]
            pss = [pss_mb(pid) or 0 for pid in pids]
        finally:
            stop_server(server)
    answered = len(seen["ms"])
    return {
        "cache": cache,
        "clients": clients,
        "seconds": round(seen["elapsed"], 1),
        "answered": answered,
        "per_second": round(answered / seen["elapsed"], 1),
        "p50_ms": round(percentile(seen["ms"], 0.5), 1),
        "p95_ms": round(percentile(seen["ms"], 0.95), 1),
        "p99_ms": round(percentile(seen["ms"], 0.99), 1),
        "busy": seen["busy"],
        "errors": seen["errors"],
        "server_cpu_ms_per_answer": round(1000 * cpu / answered, 2) if answered else None,
        "server_peak_rss_mb": round(peak, 1) if peak else None,
        "processes": len(pids),
        "peak_rss_sum_mb": round(sum(peaks), 1),
        "pss_sum_mb": round(sum(pss), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--cache", choices=["on", "off", "both"], default="both", help="the server's answer cache")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    pool = questions()
    results = [
        run(c, args.clients, args.seconds, pool) for c in (["on", "off"] if args.cache == "both" else [args.cache])
    ]
    if args.json:
        print(json.dumps(results))
        return
    print(f"nproc {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}; {len(pool)} different questions")
    for r in results:
        print(
            f"cache {r['cache']:3}: {r['per_second']:6.1f} questions/s ({r['answered']} in {r['seconds']} s, "
            f"{r['clients']} clients), p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, p99 {r['p99_ms']} ms, "
            f"{r['busy']} busy, {r['errors']} errors; server {r['server_cpu_ms_per_answer']} ms CPU per answer, "
            f"peak {r['server_peak_rss_mb']} MB"
            + (
                f"; {r['processes']} processes: peak RSS {r['peak_rss_sum_mb']} MB summed, PSS {r['pss_sum_mb']} MB"
                if r["processes"] > 1
                else ""
            )
        )


if __name__ == "__main__":
    main()
