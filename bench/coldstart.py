"""Cold start of the `rolebot` command: `rolebot --help` and a one-shot `rolebot ask`, each in fresh processes.

Prints median and p95 wall time per command (targets: --help <= 0.3 s, ask <= 3 s on a 2-core machine),
then where the import time goes (`python -X importtime`) for the packages that matter.
One untimed run per command first warms the OS file cache, so the figures are "new process", not "cold disk".

Usage: python bench/coldstart.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

QUESTION = "How is an AI Engineer different from an ML Engineer?"
TARGETS = {"--help": 0.3, "ask": 3.0}


def rolebot_script() -> str:
    local = Path(sys.executable).with_name("rolebot")
    found = str(local) if local.exists() else shutil.which("rolebot")
    if not found:
        sys.exit("rolebot is not installed: run `make setup` (or `pip install -e .`)")
    return found


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr}")
    return elapsed


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


WATCHED = (
    "click",
    "rich",
    "numpy",
    "scipy",
    "faiss",
    "bm25s",
    "tokenizers",
    "bot.chat",
    "torch",
    "sentence_transformers",
    "gradio",
)
"""Packages worth watching: what each costs, or that a command does not import them at all."""


def import_breakdown(args: list[str], env: dict[str, str]) -> dict[str, float | None]:
    """Cumulative import seconds of each watched package in one run of ``python -m bot ARGS`` (None: not imported)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot", *args], capture_output=True, text=True, env=env
    )
    cumulative: dict[str, float] = {}
    total = 0.0
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, micros, name = line.split("|")
        cumulative[name.strip()] = int(micros) / 1e6
        if not name.startswith("  "):  # top level: nested imports are indented under their importer
            total += int(micros) / 1e6
    return {"all imports": total} | {name: cumulative.get(name) for name in WATCHED}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per command (default 7)")
    runs = parser.parse_args().runs

    env = os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    script = rolebot_script()
    commands = {"--help": [script, "--help"], "ask": [script, "ask", QUESTION]}
    print(
        f"rolebot cold start: {runs} runs each, new process per run; nproc={os.cpu_count()}, "
        f"Python {platform.python_version()}, {platform.machine()}"
    )
    for name, command in commands.items():
        timed(command, env)  # warm the file cache
        times = [timed(command, env) for _ in range(runs)]
        median = statistics.median(times)
        verdict = "ok" if median <= TARGETS[name] else "OVER TARGET"
        print(f"\n$ {' '.join(repr(a) if ' ' in a else a for a in command)}")
        print(
            f"  median {median:.3f} s   p95 {p95(times):.3f} s   min {min(times):.3f} s   "
            f"target <= {TARGETS[name]} s: {verdict}"
        )
        print("  imports (python -X importtime, cumulative; a package counts where it is first imported):")
        for module, seconds in import_breakdown(command[1:], env).items():
            print(f"    {module:<22}" + ("not imported" if seconds is None else f"{seconds:6.3f} s"))


if __name__ == "__main__":
    main()
