"""rolebot's own time around a language-model call: retrieval, prompt, the check of the model's answer.

The model is the scripted OpenAI-compatible server of the tests (tests/llm_server.py) on 127.0.0.1, which
answers at once, so what is measured is rolebot's overhead, not a model's speed: per question, the engine
alone, the whole ask with the writer, the HTTP round trip, and the support check. Median and p95 over
repeated runs, after one warm-up round.

Usage: HF_HUB_OFFLINE=1 .venv/bin/python bench/writer.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from llm_server import ScriptedServer, answer  # noqa: E402 - the tests' scripted server, on the path above

from bot import Chatbot  # noqa: E402
from bot.llm import ChatClient, Limits  # noqa: E402
from bot.writer import Budget, Writer, prompt  # noqa: E402

CASES = {
    "What tools do ML engineers use?": "ML Engineers use TensorFlow, PyTorch, Scikit-learn and XGBoost [1]. "
    "AI Engineers also apply TensorFlow, PyTorch and Keras [2].",
    "Who do AI engineers work with?": "AI Engineers work closely with data scientists, software engineers and "
    "product managers [1]. Product managers define AI use cases and strategies [1].",
    "How do I become an AI engineer?": "To become an AI Engineer you need strong programming skills and knowledge "
    "of machine learning [1]. You also need mathematics, data structures and problem-solving skills [1].",
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    bot = Chatbot.load()
    bot.warm_up()
    timings: dict[str, list[float]] = {
        "engine alone": [],
        "ask with writer": [],
        "model call (HTTP)": [],
        "prompt": [],
        "check": [],
    }
    with ScriptedServer([answer(text) for text in CASES.values()]) as server:
        writer = Writer(
            ChatClient("scripted", server.url, None, Limits()), bot.embedder.encode, budget=Budget(10**9, 10**9)
        )
        for round_ in range(runs + 1):
            for question, text in CASES.items():
                server.script([answer(text)])
                bot.writer = None
                t0 = time.perf_counter()
                quoted = bot.ask(question)
                t1 = time.perf_counter()
                prompt(question, quoted.sources)
                t2 = time.perf_counter()
                bot.writer = writer
                written = bot.ask(question)
                t3 = time.perf_counter()
                assert written.written_by == "scripted", written.answer
                if round_ == 0:
                    continue  # warm-up
                timings["engine alone"].append((t1 - t0) * 1000)
                timings["prompt"].append((t2 - t1) * 1000)
                timings["ask with writer"].append((t3 - t2) * 1000)
                timings["model call (HTTP)"].append(written.trace.timings_ms["llm"])
                timings["check"].append(written.trace.timings_ms["check"])
    print(
        f"rolebot writer overhead, {runs} runs x {len(CASES)} questions, scripted model on 127.0.0.1, "
        f"{os.cpu_count()} cores"
    )
    print(f"{'':20} {'median ms':>10} {'p95 ms':>8}")
    for name, values in timings.items():
        print(f"{name:20} {statistics.median(values):10.1f} {percentile(values, 0.95):8.1f}")
    overhead = [w - e for w, e in zip(timings["ask with writer"], timings["engine alone"], strict=True)]
    print(
        f"{'writer overhead':20} {statistics.median(overhead):10.1f} {percentile(overhead, 0.95):8.1f}"
        "   (ask with writer - engine alone)"
    )


if __name__ == "__main__":
    main()
