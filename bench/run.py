"""rolebot's main benchmark (`make bench`): latency, accuracy, build time, load time and memory, and the
naive baseline (bench/baseline.py) scored on the same eval set, side by side.

Figures are medians (and p95 for latency) on this machine; the core count and load average are printed
because the same code is several times slower on a busy machine. The repo's index/ is never written:
everything built or loaded here lives in a temporary folder.

Targets: warm `ask` median <= 15 ms; index build <= 3 s once the model is loaded.

Usage: python bench/run.py [--repeat 5] [--build-runs 5] [--load-runs 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import baseline  # noqa: E402

from bot import Chatbot, config  # noqa: E402
from bot.build import build_index, save_index, stale_reason  # noqa: E402
from bot.embeddings import get_embedder  # noqa: E402
from bot.evaluation import Report, bot_for, load_cases, load_sets, run  # noqa: E402

TARGET_WARM_MEDIAN_MS = 15.0
TARGET_BUILD_S = 3.0

COLD_LOAD = """
import json, sys, time
started = time.perf_counter()
from bot import Chatbot
imported = time.perf_counter()
bot = Chatbot.load(corpus=__import__("pathlib").Path(sys.argv[1]), index=__import__("pathlib").Path(sys.argv[2]))
loaded = time.perf_counter()
print(json.dumps({"import_s": imported - started, "load_s": loaded - imported, "built": bot.loaded.built}))
"""

SERVING_RSS = """
import json, resource, sys
from pathlib import Path
from bot import Chatbot
from bot.evaluation import load_cases, load_sets, run
bot = Chatbot.load(corpus=Path(sys.argv[1]), index=Path(sys.argv[2]))
bot.warm_up()
run(bot, [c for s in load_sets() if s.corpus is None for c in load_cases(s.file)])
print(json.dumps({"maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    scale = 1 / 1024 / 1024 if platform.system() == "Darwin" else 1 / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


class StageRecorder:
    """Passes questions to the bot and keeps each reply's stage timings."""

    def __init__(self, bot: Chatbot) -> None:
        self.bot = bot
        self.index = bot.index  # the eval scores gold units against it
        self.timings: list[dict[str, float]] = []

    def ask(self, question: str, history=None):
        reply = self.bot.ask(question, history)
        if reply.trace is not None:
            self.timings.append(reply.trace.timings_ms)
        return reply


def run_script(script: str, corpus: Path, index: Path) -> dict:
    """Run a snippet in a fresh Python process (no torch loaded) and read the JSON it prints last."""
    out = subprocess.run(
        [sys.executable, "-c", script, str(corpus), str(index)], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def serving_rss_mb(corpus: Path, index: Path) -> float:
    """Peak RSS of a process that only serves (loads the index, answers the eval set): no torch in it."""
    return run_script(SERVING_RSS, corpus, index)["maxrss_kib"] / 1024


def cold_load(corpus: Path, index: Path, runs: int) -> dict:
    """Chatbot.load() in fresh processes, with a current index: what a one-shot CLI call pays before asking."""
    results = [run_script(COLD_LOAD, corpus, index) for _ in range(runs)]
    if any(r["built"] for r in results):
        raise SystemExit("the index was rebuilt during the cold-load runs: it was not current")
    return {
        "import_median_s": round(statistics.median(r["import_s"] for r in results), 3),
        "load_median_s": round(statistics.median(r["load_s"] for r in results), 3),
        "runs": runs,
    }


def article_cases(sets) -> list:
    """The article's own sets (train and held-out): what the latency passes time, as before the split."""
    return [c for s in sets if s.corpus is None and s.name.startswith("article") for c in load_cases(s.file)]


def per_set(bot: Chatbot, sets) -> dict:
    """rolebot and the naive baseline on every eval set; the baseline's threshold is fitted on the training
    sets of the article only, like rolebot's scope model."""
    train = [c for s in sets if s.split == "train" and s.corpus is None for c in load_cases(s.file)]
    naive, _ = baseline.evaluate(train, config.corpus_dir())
    figures = {}
    for eval_set in sets:
        cases = load_cases(eval_set.file)
        ours = run(bot_for(eval_set, bot), cases).summary()
        other = naive
        if eval_set.corpus is not None:
            other = baseline.NaiveBaseline(eval_set.corpus, get_embedder("build"), get_embedder("query"))
            other.threshold = naive.threshold
        theirs = run(other, cases).summary()  # type: ignore[arg-type]
        keys = ("answer_accuracy", "refusal_accuracy", "followup_accuracy", "median_answer_chars")
        figures[eval_set.name] = {
            "split": eval_set.split,
            "rolebot": {k: ours[k] for k in keys} | {"gold": ours["gold"], "gold_by_type": ours["gold_by_type"]},
            "baseline": {k: theirs[k] for k in keys},
        }
    return figures


def measure(args: argparse.Namespace) -> dict:
    sets = load_sets()
    cases = article_cases(sets)
    load_at_start = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="rolebot-bench-"))
    try:
        corpus = config.corpus_dir()
        index = work / "index"
        shutil.copytree(config.index_dir(), index)  # a copy: a stale index gets rebuilt here, not in the repo
        stale = stale_reason(index, corpus)

        # 1. Cold load of a current index and the serving footprint, in fresh processes.
        started = time.perf_counter()
        bot = Chatbot.load(corpus=corpus, index=index)  # rebuilds the copy first if it was stale
        first_load_s = time.perf_counter() - started
        cold = cold_load(corpus, index, args.load_runs)
        serving_rss = serving_rss_mb(corpus, index)

        # 2. Index build once the (sentence-transformers) model is loaded.
        embedder = get_embedder("build")
        embedder.encode(["warm up"])
        builds = []
        for i in range(args.build_runs):
            started = time.perf_counter()
            built, manifest = build_index(corpus, embedder=embedder)
            save_index(built, manifest, work / f"build-{i}")
            builds.append(time.perf_counter() - started)

        # 3. Accuracy: rolebot and the naive baseline on the eval set (these passes also warm both up).
        bot.warm_up()
        recorder = StageRecorder(bot)
        report: Report = run(recorder, cases)  # type: ignore[arg-type]
        naive, naive_report = baseline.evaluate(cases, corpus)

        # 4. Warm latency: timed passes alternate between the two, so a busy moment hits both alike.
        recorder.timings.clear()
        latencies: list[float] = []
        naive_latencies: list[float] = []
        pass_medians: list[float] = []
        by_kind: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            outcomes = run(recorder, cases).outcomes  # type: ignore[arg-type]
            pass_medians.append(statistics.median(o.ms for o in outcomes))
            for outcome in outcomes:
                latencies.append(outcome.ms)
                by_kind.setdefault(outcome.case.kind, []).append(outcome.ms)
            naive_latencies += [o.ms for o in run(naive, cases).outcomes]  # type: ignore[arg-type]
        stages = {name: round(statistics.median(t[name] for t in recorder.timings), 2) for name in recorder.timings[0]}
        sets_figures = per_set(bot, sets)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    summary = report.summary()
    naive_summary = naive_report.summary()
    return {
        "machine": {
            "nproc": os.cpu_count(),
            "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "load_average_1m": round(load_at_start, 2),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "eval": {"questions": summary["questions"], "turns": len(report.outcomes), "repeat": args.repeat},
        "index_was_stale": stale,
        "sets": sets_figures,
        "rolebot": {
            "answer_accuracy": summary["answer_accuracy"],
            "refusal_accuracy": summary["refusal_accuracy"],
            "followup_accuracy": summary["followup_accuracy"],
            "failures": summary["failures"],
            "median_answer_chars": baseline.median_answer_chars(report),
            "warm_latency_median_ms": round(statistics.median(latencies), 2),
            "warm_latency_p95_ms": round(percentile(latencies, 0.95), 2),
            "stage_median_ms": stages,
            "warm_latency_best_pass_median_ms": round(min(pass_medians), 2),
            "latency_median_ms_by_kind": {k: round(statistics.median(v), 2) for k, v in by_kind.items()},
        },
        "baseline": {
            "answer_accuracy": naive_summary["answer_accuracy"],
            "refusal_accuracy": naive_summary["refusal_accuracy"],
            "followup_accuracy": naive_summary["followup_accuracy"],
            "failures": naive_summary["failures"],
            "median_answer_chars": baseline.median_answer_chars(naive_report),
            "warm_latency_median_ms": round(statistics.median(naive_latencies), 2),
            "warm_latency_p95_ms": round(percentile(naive_latencies, 0.95), 2),
            "threshold": round(naive.threshold, 4),
            "chunks": len(naive.chunks),
        },
        "build": {
            "median_s": round(statistics.median(builds), 3),
            "min_s": round(min(builds), 3),
            "all_s": [round(b, 3) for b in builds],
            "runs": len(builds),
            "chunks": len(built.chunks),
            "units": len(built.units),
            "vocabulary": len(built.vocabulary),
        },
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "load": {"in_process_first_s": round(first_load_s, 3), "cold": cold},
        "peak_rss_mb": {"serving": round(serving_rss, 1), "whole_run": round(peak_rss_mb(), 1)},
        "targets": {
            "warm_median_ms": TARGET_WARM_MEDIAN_MS,
            "build_s": TARGET_BUILD_S,
        },
    }


def verdict(value: float, target: float) -> str:
    return "meets" if value <= target else "MISSES"


def print_report(r: dict) -> None:
    m, ours, naive, b = r["machine"], r["rolebot"], r["baseline"], r["build"]
    print(
        f"rolebot benchmark — nproc {m['nproc']} (usable {m['usable_cores']}), load average {m['load_average_1m']}, "
        f"(at the end {r['load_average_1m_at_end']}), Python {m['python']}"
    )
    q = r["eval"]["questions"]
    print(
        f"eval set: {r['eval']['turns']} questions ({q['answer']} to answer, {q['refuse']} to refuse, "
        f"{q['conversation']} in conversations), timed {r['eval']['repeat']}x after a warm-up pass"
    )
    if r["index_was_stale"]:
        print(f"note: the committed index was stale ({r['index_was_stale']}); a copy was rebuilt for the run")
    print()
    rows = [
        ("answer accuracy", f"{ours['answer_accuracy']:.1%}", f"{naive['answer_accuracy']:.1%}"),
        ("refusal accuracy", f"{ours['refusal_accuracy']:.1%}", f"{naive['refusal_accuracy']:.1%}"),
        ("follow-up accuracy", f"{ours['followup_accuracy']:.1%}", f"{naive['followup_accuracy']:.1%}"),
        ("failed questions", str(ours["failures"]), str(naive["failures"])),
        ("median answer length (chars)", f"{ours['median_answer_chars']:.0f}", f"{naive['median_answer_chars']:.0f}"),
        ("warm latency median (ms)", f"{ours['warm_latency_median_ms']:.2f}", f"{naive['warm_latency_median_ms']:.2f}"),
        ("warm latency p95 (ms)", f"{ours['warm_latency_p95_ms']:.2f}", f"{naive['warm_latency_p95_ms']:.2f}"),
    ]
    width = max(len(name) for name, _, _ in rows)
    print(f"{'':{width}}  {'rolebot':>10}  {'baseline':>10}")
    for name, a, c in rows:
        print(f"{name:{width}}  {a:>10}  {c:>10}")
    print(
        f"(baseline: {naive['chunks']} fixed {baseline.CHUNK_CHARS}-char chunks, top-1 passage, "
        f"refuses below cosine {naive['threshold']:.3f} — the threshold that maximises its own accuracy sum)"
    )
    print()
    print("\nby eval set (answer / refusal / follow-up accuracy; gold: first-unit, precision, recall):")
    for name, f in r["sets"].items():
        o, n, g = f["rolebot"], f["baseline"], f["rolebot"]["gold"]
        acc = "/".join(
            "–" if v is None or v != v else f"{v:.1%}"
            for v in (o["answer_accuracy"], o["refusal_accuracy"], o["followup_accuracy"])
        )
        base = "/".join(
            "–" if v is None or v != v else f"{v:.1%}"
            for v in (n["answer_accuracy"], n["refusal_accuracy"], n["followup_accuracy"])
        )
        gold = (
            f"{g['first_unit_accuracy']:.1%}, {g['unit_precision']:.2f}, {g['unit_recall']:.2f}"
            if g.get("questions")
            else "–"
        )
        print(f"  {name:<16} {f['split']:<8} rolebot {acc:<20} baseline {base:<20} gold {gold}")
    print()
    stages = ", ".join(f"{k} {v}" for k, v in ours["stage_median_ms"].items())
    print(f"rolebot stage medians (ms): {stages}; quietest pass median {ours['warm_latency_best_pass_median_ms']} ms")
    kinds = ", ".join(f"{k} {v}" for k, v in ours["latency_median_ms_by_kind"].items())
    print(f"rolebot latency medians by question kind (ms): {kinds}")
    print(
        f"warm ask median {ours['warm_latency_median_ms']:.2f} ms — {verdict(ours['warm_latency_median_ms'], TARGET_WARM_MEDIAN_MS)} "
        f"the {TARGET_WARM_MEDIAN_MS:.0f} ms target"
    )
    print(
        f"index build after model load: median {b['median_s']:.2f} s of {b['runs']} (min {b['min_s']:.2f} s; "
        f"{b['chunks']} chunks, {b['units']} units, {b['vocabulary']} words) — "
        f"{verdict(b['median_s'], TARGET_BUILD_S)} the {TARGET_BUILD_S:.0f} s target; runs (s): {b['all_s']}"
    )
    cold = r["load"]["cold"]
    print(
        f"cold Chatbot.load() with a current index (fresh process, median of {cold['runs']}): "
        f"{cold['load_median_s']:.3f} s, after {cold['import_median_s']:.3f} s of `from bot import Chatbot`"
    )
    print(
        f"peak RSS: {r['peak_rss_mb']['serving']:.0f} MB serving (fresh process: load, warm up, answer the eval set), "
        f"{r['peak_rss_mb']['whole_run']:.0f} MB whole run (with sentence-transformers for builds)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed passes over the eval set (default 5)")
    parser.add_argument("--build-runs", type=int, default=5, help="index builds to time (default 5)")
    parser.add_argument("--load-runs", type=int, default=5, help="fresh-process loads to time (default 5)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a report")
    args = parser.parse_args()
    results = measure(args)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_report(results)


if __name__ == "__main__":
    main()
