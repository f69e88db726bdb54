"""The query encoders side by side in one run: NumPy's forward pass and onnxruntime's (when installed).

For each encoder: load time and memory added (each in a fresh process), then the time to embed each of the
article's eval questions with the words the engine embeds beside it (what ``Chatbot.ask`` embeds), the
encoders taking turns question by question so that the machine's load falls on both alike; and the largest
1 - cos between the two encoders' vectors. One BLAS / onnxruntime thread, as the engine runs.

Usage: python bench/encoders.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

LOAD = """
import json, os, sys, time
def rss():
    return int(open(f"/proc/{os.getpid()}/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
from pathlib import Path
import numpy as np
from bot.embeddings import limit_threads, resolve_model
from bot.minilm import NumpyMiniLM
limit_threads()
kind = sys.argv[1]
if kind == "onnxruntime":
    from bot.onnx_minilm import OnnxMiniLM as Encoder
else:
    Encoder = NumpyMiniLM
before, started = rss(), time.perf_counter()
encoder = Encoder(Path(resolve_model().location))
encoder.encode(["What does an AI engineer do?"])
print(json.dumps({"load_s": time.perf_counter() - started, "added_mb": rss() - before}))
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="passes over the questions (default 5)")
    args = parser.parse_args()

    from bot import Chatbot
    from bot.embeddings import limit_threads, resolve_model
    from bot.evaluation import load_cases, load_sets
    from bot.minilm import NumpyMiniLM
    from bot.onnx_minilm import OnnxMiniLM, available

    limit_threads()
    bot = Chatbot.load()
    cases = [c for s in load_sets() if s.corpus is None and s.name.startswith("article") for c in load_cases(s.file)]
    batches = [[q, *bot.scope.absent_terms(q)] for q in (t.question for c in cases for t in c.turns)]
    folder = Path(resolve_model().location)
    encoders = {"numpy": NumpyMiniLM(folder)}
    if available():
        encoders["onnxruntime"] = OnnxMiniLM(folder)
    else:
        print("onnxruntime is not installed: NumPy only (pip install 'rolebot[fast]')\n")
    tokens = statistics.median(sum(len(e.ids) for e in encoders["numpy"].tokenize(b)) for b in batches)
    times: dict[str, list[float]] = {name: [] for name in encoders}
    vectors: dict[str, list] = {name: [] for name in encoders}
    for name, encoder in encoders.items():  # one untimed pass: caches, first-call set-up
        vectors[name] = [encoder.encode(b) for b in batches]
    for _ in range(args.rounds):
        for batch in batches:
            for name, encoder in encoders.items():
                started = time.perf_counter()
                encoder.encode(batch)
                times[name].append((time.perf_counter() - started) * 1000)
    load = {}
    for name in encoders:
        out = subprocess.run(
            [sys.executable, "-c", LOAD, name], capture_output=True, text=True, check=True, cwd=ROOT, env=os.environ
        )
        load[name] = json.loads(out.stdout.strip().splitlines()[-1])

    print(
        f"nproc {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}; {len(batches)} questions "
        f"(median {tokens:.0f} tokens with their words) x {args.rounds} rounds, encoders alternating"
    )
    print(f"{'encoder':12} {'median ms':>10} {'p95 ms':>8} {'load s':>7} {'+RSS MB':>8}")
    for name, values in times.items():
        print(
            f"{name:12} {statistics.median(values):10.2f} {percentile(values, 0.95):8.2f} "
            f"{load[name]['load_s']:7.3f} {load[name]['added_mb']:8.0f}"
        )
    if "onnxruntime" in vectors:
        worst = max(
            float((1 - (a * b).sum(1)).max()) for a, b in zip(vectors["numpy"], vectors["onnxruntime"], strict=True)
        )
        print(f"largest 1 - cos between the encoders' vectors: {worst:.1e}")


if __name__ == "__main__":
    main()
