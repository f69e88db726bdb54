"""Load test of the web app through its two HTTP paths: simulated users, each holding one conversation with
follow-ups, against `rolebot serve` started in a subprocess on 127.0.0.1.

Two targets, run one after the other against the same server: ``gradio`` (each user is a gradio_client session
on the page's own /chat endpoint, which keeps the history server-side) and ``api`` (each user posts to the JSON
API, ``POST /api/ask``, sending the history itself). Every reply is checked against what the engine answers for
*that user's own* conversation, so a crossed conversation (a follow-up resolved against another user's history)
counts as wrong. Half the users ask about AI Engineers first and then "what about ML engineers?", the other half
the reverse. A reply is either correct, or a clear "busy, try again" refusal (Gradio's queue is full, or the API
answers 503; retried after a pause), or an error: the aim is no errors.

Prints, per target, throughput, latency median and p95 (per request, seen by the client), busy/error/wrong
counts and the CPU time per answered request of the server and of the simulated clients (they share the
machine's cores, so this separates what the server spends from what the clients spend), then the server's peak memory (VmHWM of its
process). tests/test_load.py runs a small version.

Usage: python bench/load.py [--target gradio|api|both] [--users 50] [--questions 10] [--json]
(The server inherits the environment: ROLEBOT_WEB_QUEUE=16 python bench/load.py shows the "busy" path.)
"""

from __future__ import annotations

import argparse
import html
import json
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

AI_FIRST = [  # the first follow-up's answer differs by role, so a crossed conversation shows
    "What does an AI engineer do?",
    "what about ML engineers?",
    "Who do AI Engineers work with?",
    "and ML engineers?",
    "What is the capital of France?",
    "How do AI Engineers optimize and deploy models?",
    "what skills do they need?",
    "How is an AI Engineer different from an ML Engineer?",
    "What are the key responsibilities of an AI Engineer?",
    "and what tools do they use?",
]
ML_FIRST = [
    "What does an ML engineer do?",
    "what about AI engineers?",
    "Who do ML Engineers work with?",
    "and AI engineers?",
    "How do I bake sourdough bread?",
    "How do ML Engineers deploy models?",
    "what skills do they need?",
    "What does an ML Engineer focus on?",
    "What are the key responsibilities of an ML Engineer?",
    "and what tools do they use?",
]
SCRIPTS = (AI_FIRST, ML_FIRST)
MAX_TRIES = 8  # a "busy" reply is retried after a pause, as a person would


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    log_path: Path, env: dict[str, str] | None = None, timeout: float = 180
) -> tuple[subprocess.Popen, str]:
    """`rolebot serve` on a free loopback port; returns the process and its URL once it answers HTTP."""
    port = free_port()
    log = log_path.open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        env=dict(os.environ, **(env or {})),
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(url, server, log_path, timeout)
    except RuntimeError:
        stop_server(server)
        raise
    return server, url


def wait_until_up(url: str, process: subprocess.Popen, log_path: Path, timeout: float = 180) -> None:
    """Return once ``url`` answers HTTP 200; raise RuntimeError, with the end of the process's log, when the
    process exits first or ``timeout`` seconds pass. (tests/test_spaces.py waits for its app.py with it too.)"""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{log_path.name}: the server exited with {process.returncode}: {_tail(log_path)}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{log_path.name}: the server did not answer on {url} within {timeout:.0f} s: {_tail(log_path)}")


def _tail(log_path: Path) -> str:
    return log_path.read_text(errors="replace")[-2000:]


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=20)


def rss_mb(pid: int, field: str = "VmHWM") -> float | None:
    """A process's peak (VmHWM) or current (VmRSS) resident memory, from /proc; None where there is no /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system, all threads) a process has used so far, from /proc; None where there is none."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime: fields 14, 15


@dataclass(frozen=True)
class Expected:
    answer: str  # the answer as the page gives it in plain text (what its copy button copies, sources left out)
    resolved: str  # the standalone question a follow-up was rewritten to, shown in "How it works"
    markdown: str = ""  # the engine's own answer: what the JSON API returns


def expected_answers(bot, script: list[str]) -> list[Expected]:
    """The engine's replies to one conversation, with history passed as the web page passes it."""
    from bot.render import copy_text

    history: list[tuple[str, str]] = []
    out = []
    for question in script:
        reply = bot.ask(question, history)
        history.append((reply.question, reply.answer))
        out.append(Expected(plain_answer(copy_text(reply.to_dict())), reply.trace.resolved_question, reply.answer))
    return out


def plain_answer(text: str) -> str:
    """A plain-text copy of an answer without its list of sources."""
    return text.split("\n\nSources:\n", 1)[0]


def answer_shown(message: str) -> str:
    """The answer inside a chat message (HTML): the plain-text copy the page keeps in it, without its sources."""
    found = re.search(r'<div class="rb-copy" hidden>(.*?)</div>', message, re.S)
    return plain_answer(html.unescape(found.group(1))) if found else message


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)  # seconds per answered request
    correct: int = 0
    busy: int = 0  # "queue full, try again" replies (each retried)
    gave_up: list[str] = field(default_factory=list)  # still busy after MAX_TRIES: refused clearly, not an error
    wrong: list[str] = field(default_factory=list)  # answered, but not this user's conversation's answer
    errors: list[str] = field(default_factory=list)  # anything else: exceptions, timeouts, tracebacks
    seconds: float = 0.0
    server_cpu_seconds: float | None = None  # the server process's CPU time during the run (not the clients')
    client_cpu_seconds: float = 0.0  # this process's CPU time during the run: the simulated users' HTTP clients
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def requests(self) -> int:
        return self.correct + len(self.wrong)


def run_user(url: str, user: int, script: list[str], expected: list[Expected], results: Results) -> None:
    """One person: their own client session, one question after another, each reply checked."""
    from gradio_client import Client
    from gradio_client.utils import QueueError

    try:
        client = Client(url, verbose=False)
    except Exception as exc:  # a client that cannot even connect is an error to report, not a crash
        with results.lock:
            results.errors.append(f"user {user}: cannot connect ({type(exc).__name__}: {exc})")
        return
    for turn, (question, answer) in enumerate(zip(script, expected, strict=True)):
        for attempt in range(MAX_TRIES):
            started = time.perf_counter()
            try:
                chat, _box, how = client.predict(question, api_name="/chat")
            except QueueError as exc:
                with results.lock:
                    results.busy += 1
                if "try again" not in str(exc).lower():
                    with results.lock:
                        results.errors.append(f"user {user} turn {turn}: unclear busy message {exc}")
                    return
                time.sleep(random.uniform(0.1, 0.3) * 2**attempt)  # back off, with jitter so retries spread out
                continue
            except Exception as exc:
                with results.lock:
                    results.errors.append(f"user {user} turn {turn}: {type(exc).__name__}: {exc}"[:300])
                return
            elapsed = time.perf_counter() - started
            shown = chat[-1]["content"][0]["text"] if chat and chat[-1].get("content") else ""
            # Exact answer, and the follow-up resolved against this user's own history (not a substring test:
            # one role's frameworks answer is a prefix of the other's).
            ok = (
                len(chat) == 2 * (turn + 1)
                and answer_shown(shown) == answer.answer
                and html.escape(answer.resolved) in how
            )
            with results.lock:
                results.latencies.append(elapsed)
                if ok:
                    results.correct += 1
                elif "Traceback" in shown or "Sorry, something went wrong" in shown:
                    results.errors.append(f"user {user} turn {turn}: {shown[:200]}")
                else:
                    results.wrong.append(f"user {user} turn {turn} {question!r}: got {shown[:120]!r}")
            if not ok:
                return  # the conversation has gone off its script: later turns would be meaningless
            break
        else:
            with results.lock:
                results.gave_up.append(f"user {user} turn {turn}: still busy after {MAX_TRIES} tries")
            return


def run_api_user(url: str, user: int, script: list[str], expected: list[Expected], results: Results) -> None:
    """One script over the JSON API: its own HTTP connection, sending its own history with each question."""
    import httpx

    history: list[list[str]] = []
    with httpx.Client(base_url=url, timeout=120) as http:
        for turn, (question, answer) in enumerate(zip(script, expected, strict=True)):
            for attempt in range(MAX_TRIES):
                started = time.perf_counter()
                try:
                    response = http.post("api/ask", json={"question": question, "history": history})
                except httpx.HTTPError as exc:
                    with results.lock:
                        results.errors.append(f"user {user} turn {turn}: {type(exc).__name__}: {exc}"[:300])
                    return
                if response.status_code == 503 and response.json().get("error") == "busy":
                    with results.lock:
                        results.busy += 1
                    time.sleep(random.uniform(0.1, 0.3) * 2**attempt)
                    continue
                elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    with results.lock:
                        results.errors.append(
                            f"user {user} turn {turn}: HTTP {response.status_code} {response.text[:200]}"
                        )
                    return
                reply = response.json()
                ok = reply["answer"] == answer.markdown  # exact: the two roles' follow-up answers differ
                with results.lock:
                    results.latencies.append(elapsed)
                    if ok:
                        results.correct += 1
                    else:
                        results.wrong.append(f"user {user} turn {turn} {question!r}: got {reply['answer'][:120]!r}")
                if not ok:
                    return
                history.append([reply["question"], reply["answer"]])
                break
            else:
                with results.lock:
                    results.gave_up.append(f"user {user} turn {turn}: still busy after {MAX_TRIES} tries")
                return


USERS = {"gradio": run_user, "api": run_api_user}
"""How a simulated user talks to the server, per target."""


def simulate(url: str, bot, users: int, questions: int, timeout: float = 600, target: str = "gradio") -> Results:
    """``users`` people at once, alternating AI-first and ML-first conversations of ``questions`` turns."""
    scripts = [script[:questions] for script in SCRIPTS]
    expected = [expected_answers(bot, script) for script in scripts]
    assert expected[0][1:] != expected[1][1:], "the two conversations' follow-ups must differ to detect crossing"
    run = USERS[target]
    results = Results()
    started, cpu_started = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(users) as pool:
        futures = [pool.submit(run, url, u, scripts[u % 2], expected[u % 2], results) for u in range(users)]
        for future in futures:
            future.result(timeout=max(1.0, timeout - (time.perf_counter() - started)))
    results.seconds = time.perf_counter() - started
    results.client_cpu_seconds = time.process_time() - cpu_started
    return results


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def figures(results: Results) -> dict:
    """The numbers reported for one target."""
    return {
        "requests_answered": results.requests,
        "correct": results.correct,
        "wrong": len(results.wrong),
        "busy": results.busy,
        "users_gave_up_busy": len(results.gave_up),
        "errors": len(results.errors),
        "seconds": round(results.seconds, 2),
        "throughput_rps": round(results.requests / results.seconds, 2) if results.seconds else None,
        "latency_median_ms": round(statistics.median(results.latencies) * 1000, 1) if results.latencies else None,
        "latency_p95_ms": round(percentile(results.latencies, 0.95) * 1000, 1) if results.latencies else None,
        "server_cpu_ms_per_request": round(results.server_cpu_seconds * 1000 / results.requests, 1)
        if results.server_cpu_seconds is not None and results.requests
        else None,
        "client_cpu_ms_per_request": round(results.client_cpu_seconds * 1000 / results.requests, 1)
        if results.requests
        else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=["gradio", "api", "both"], default="both", help="which path to load")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--questions", type=int, default=10, help=f"per user, at most {len(AI_FIRST)}")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    targets = ["gradio", "api"] if args.target == "both" else [args.target]
    questions = min(args.questions, len(AI_FIRST))

    from bot import Chatbot, config

    runs: dict[str, Results] = {}
    with tempfile.TemporaryDirectory() as tmp:
        # Server and expected answers share one copy of index/: nothing here writes into the repo.
        index = Path(tmp) / "index"
        shutil.copytree(config.index_dir(), index)
        env = {"ROLEBOT_INDEX": str(index), "ROLEBOT_CACHE": str(Path(tmp) / "cache"), "ROLEBOT_DATA": str(Path(tmp))}
        os.environ["ROLEBOT_CACHE"] = env["ROLEBOT_CACHE"]
        bot = Chatbot.load(index=index)
        bot.warm_up()
        log_path = Path(tmp) / "server.log"
        server, url = start_server(log_path, env=env)
        try:
            idle_mb = rss_mb(server.pid, "VmRSS")
            for target in targets:  # one after the other: each target has the server to itself
                before = cpu_seconds(server.pid)
                runs[target] = simulate(url, bot, args.users, questions, target=target)
                after = cpu_seconds(server.pid)
                if before is not None and after is not None:
                    runs[target].server_cpu_seconds = after - before
            peak_mb = rss_mb(server.pid)
        finally:
            stop_server(server)
        traceback_in_log = "Traceback" in log_path.read_text()
    report = {
        "users": args.users,
        "questions_per_user": questions,
        **{target: figures(results) for target, results in runs.items()},
        "server_rss_idle_mb": round(idle_mb, 1) if idle_mb else None,
        "server_peak_rss_mb": round(peak_mb, 1) if peak_mb else None,
        "traceback_in_server_log": traceback_in_log,
        "cores": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
    }
    if args.json:
        for target, results in runs.items():
            report[target] |= {"wrong_examples": results.wrong[:5], "error_examples": results.errors[:5]}
        print(json.dumps(report))
        return
    for key, value in report.items():
        if key not in runs:
            print(f"{key:<28}{value}")
    print(f"\n{'':<28}" + "".join(f"{target:>14}" for target in runs))
    for key in figures(Results()):
        print(f"{key:<28}" + "".join(f"{report[target][key]!s:>14}" for target in runs))
    for target, results in runs.items():
        for line in results.wrong[:5] + results.errors[:5] + results.gave_up[:5]:
            print(f"   [{target}] {line}")


if __name__ == "__main__":
    main()
