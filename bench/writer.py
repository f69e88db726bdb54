"""rolebot's own time around a language-model call: retrieval, prompt, the check of the model's answer.

The model is the scripted OpenAI-compatible server of the tests (tests/llm_server.py) on 127.0.0.1, so what is
measured is rolebot, not a model. The server notes when it has the question and when it has sent the last word,
so rolebot's own time is measured apart from the model's: from the question to the request reaching the model
(retrieval, the decision, the prompt), plus from the model's last word to the checked answer (the rest of the
check). Its CPU time, the asking thread's, counts what rolebot computed in all, waits aside, and moves less
with the machine's load. By default the server sends every word at once; ``--pace MS`` has it write one word
every MS milliseconds, as a model does (a fast local model writes about 50 words a second: --pace 20), so that
work rolebot does while the model writes is not counted as its own time. Median and p95 over repeated runs,
after one warm-up round.

Usage: HF_HUB_OFFLINE=1 .venv/bin/python bench/writer.py [--runs 20] [--pace 0]
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

LONG = "What are the key responsibilities of an AI Engineer?"
CASES = {
    "What tools do ML engineers use?": "ML Engineers use TensorFlow, PyTorch, Scikit-learn and XGBoost [1]. "
    "AI Engineers also apply TensorFlow, PyTorch and Keras [2].",
    "Who do AI engineers work with?": "AI Engineers work closely with data scientists, software engineers and "
    "product managers [1]. Product managers define AI use cases and strategies [1].",
    "How do I become an AI engineer?": "To become an AI Engineer you need strong programming skills and knowledge "
    "of machine learning [1]. You also need mathematics, data structures and problem-solving skills [1].",
    # A longer answer: what the check leaves after the model's last word matters most here.
    LONG: "AI Engineers design and develop AI solutions [1]. They implement machine learning and deep learning "
    "models [1]. They integrate AI with software applications [1]. They optimize and deploy AI models, and they work "
    "on ethical AI and bias mitigation [1]. AI Engineers process large datasets, perform feature engineering and "
    "ensure data is suitable for training and inference [2].",
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--pace", type=float, default=0.0, help="milliseconds between the model's words (0: at once)")
    args = parser.parse_args()
    bot = Chatbot.load()
    bot.warm_up()
    timings: dict[str, list[float]] = {
        "engine alone": [],
        "ask with writer": [],
        "model (question to last word)": [],
        "prompt": [],
        "check (all of it)": [],
        "before the model": [],
        "after the last word": [],
        "rolebot's own time": [],
        "rolebot's CPU time": [],
        "own time, 5 sentences": [],
    }
    with ScriptedServer([answer(text) for text in CASES.values()]) as server:
        writer = Writer(
            ChatClient("scripted", server.url, None, Limits()), bot.embedder.encode, budget=Budget(10**9, 10**9)
        )
        for round_ in range(args.runs + 1):
            for question, text in CASES.items():
                server.script([answer(text, delay=args.pace / 1000)])
                bot.writer = None
                t0 = time.perf_counter()
                quoted = bot.ask(question)
                t1 = time.perf_counter()
                prompt(question, quoted.sources)
                t2 = time.perf_counter()
                bot.writer = writer
                cpu = time.thread_time()
                written = bot.ask(question)
                t3 = time.perf_counter()
                cpu = time.thread_time() - cpu
                assert written.written_by == "scripted", written.answer
                if round_ == 0:
                    continue  # warm-up
                call = server.requests[-1]
                before, after = call["received"] - t2, t3 - call["done"]
                timings["engine alone"].append((t1 - t0) * 1000)
                timings["prompt"].append((t2 - t1) * 1000)
                timings["ask with writer"].append((t3 - t2) * 1000)
                timings["model (question to last word)"].append((call["done"] - call["received"]) * 1000)
                timings["check (all of it)"].append(written.trace.timings_ms["check"])
                timings["before the model"].append(before * 1000)
                timings["after the last word"].append(after * 1000)
                timings["rolebot's own time"].append((before + after) * 1000)
                timings["rolebot's CPU time"].append(cpu * 1000)
                if question == LONG:
                    timings["own time, 5 sentences"].append((before + after) * 1000)
    print(
        f"rolebot writer overhead, {args.runs} runs x {len(CASES)} questions, scripted model on 127.0.0.1 "
        f"({'all words at once' if not args.pace else f'a word every {args.pace:g} ms'}), {os.cpu_count()} cores"
    )
    print(f"{'':26} {'median ms':>10} {'p95 ms':>8}")
    for name, values in timings.items():
        print(f"{name:26} {statistics.median(values):10.1f} {percentile(values, 0.95):8.1f}")
    print("rolebot's own time: from the question to the request reaching the model, plus from its last word to the")
    print("checked answer (the model's time, and what rolebot does while the model writes, are not counted);")
    print("its CPU time: what the asking thread computed in all (retrieval, prompt, client, check), waits aside")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
