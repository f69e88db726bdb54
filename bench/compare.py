"""Each speed figure of this checkout beside the same figure of another commit, measured in the same run:
quiet, then beside one competing CPU-bound process. On a shared machine only such pairs mean anything.

Figures (medians over --runs rounds; the two checkouts run alternately within each round):
warm question median and p95 (Chatbot.ask over the article's eval questions, no answer cache), one-shot
`rolebot ask` wall time, process start to first answer through the Python API, peak RSS of a serving process,
and `rolebot index --rebuild` wall time with an empty vector cache and with the previous build's cache.

Usage: python bench/compare.py [--base HEAD~5] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "How is an AI Engineer different from an ML Engineer?"

WARM = """
import json, resource, statistics, time
from bot import Chatbot
from bot.evaluation import load_cases, load_sets
bot = Chatbot.load()
cases = [c for s in load_sets() if s.corpus is None and s.name.startswith("article") for c in load_cases(s.file)]
questions = [t.question for c in cases for t in c.turns][:150]
bot.warm_up()
for q in questions:
    bot.ask(q)
ms = []
for q in questions:
    started = time.perf_counter()
    bot.ask(q)
    ms.append((time.perf_counter() - started) * 1000)
ms.sort()
print(json.dumps({"warm_median_ms": statistics.median(ms), "warm_p95_ms": ms[round(0.95 * (len(ms) - 1))],
                  "serving_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

FIRST_ANSWER = f"from bot import Chatbot; Chatbot.load().ask({QUESTION!r})"

FIGURES = {
    "warm_median_ms": "warm question median (ms)",
    "warm_p95_ms": "warm question p95 (ms)",
    "ask_s": "one-shot `rolebot ask` (s)",
    "first_answer_s": "start → first answer, Python API (s)",
    "serving_peak_rss_mb": "peak RSS serving (MB)",
    "rebuild_cold_s": "`rolebot index --rebuild`, empty cache (s)",
    "rebuild_warm_s": "`rolebot index --rebuild`, cached vectors (s)",
}


def wall(command: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - started


def measure(tree: Path, work: Path) -> dict[str, float]:
    """One round of every figure for the checkout in ``tree`` (its own code, corpus and index)."""
    py = sys.executable
    env = os.environ | {"PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("ROLEBOT_INDEX", None)
    out = subprocess.run([py, "-c", WARM], env=env, cwd=tree, check=True, capture_output=True, text=True)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    figures["ask_s"] = wall([py, "-m", "bot", "ask", QUESTION], env, tree)
    figures["first_answer_s"] = wall([py, "-c", FIRST_ANSWER], env, tree)
    index, cache = work / "index", work / "cache"
    for path in (index, cache):
        shutil.rmtree(path, ignore_errors=True)
    shutil.copytree(tree / "index", index)
    build_env = env | {"ROLEBOT_INDEX": str(index), "ROLEBOT_CACHE": str(cache)}
    figures["rebuild_cold_s"] = wall([py, "-m", "bot", "index", "--rebuild"], build_env, tree)
    figures["rebuild_warm_s"] = wall([py, "-m", "bot", "index", "--rebuild"], build_env, tree)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD~1", help="the commit to compare with (default HEAD~1)")
    parser.add_argument("--runs", type=int, default=3, help="rounds per condition (default 3)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rolebot-compare-"))
    base = work / "base"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(base), args.base], cwd=ROOT, check=True, capture_output=True
    )
    trees = {"base": base, "this": ROOT}
    for tree in trees.values():  # as an install has them: else PYTHONDONTWRITEBYTECODE=1 recompiles bot/ per run
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "bot")], env=env, capture_output=True)
    results: dict[str, dict[str, dict[str, list[float]]]] = {}
    try:
        for condition in ("quiet", "busy"):
            competitor = None
            if condition == "busy":  # one CPU-bound process, as another engineer's test run would be
                competitor = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            try:
                for _ in range(args.runs):
                    for name, tree in trees.items():
                        for key, value in measure(tree, work / f"scratch-{name}").items():
                            results.setdefault(condition, {}).setdefault(name, {}).setdefault(key, []).append(value)
            finally:
                if competitor is not None:
                    competitor.kill()
                    competitor.wait()
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)

    described = subprocess.run(
        ["git", "log", "-1", "--format=%h %s", args.base], cwd=ROOT, capture_output=True, text=True
    )
    print(f"base: {described.stdout.strip()[:90]}")
    print(f"this: {ROOT} (working tree)")
    print(f"nproc {os.cpu_count()}, load average {os.getloadavg()[0]:.1f} at the end; medians of {args.runs} rounds\n")
    width = max(len(label) for label in FIGURES.values())
    print(f"{'':{width}}  {'quiet: base':>12} {'this':>8}   {'busy: base':>11} {'this':>8}")
    for key, label in FIGURES.items():
        cells = []
        for condition in ("quiet", "busy"):
            for name in ("base", "this"):
                values = results[condition][name].get(key)
                cells.append(statistics.median(values) if values else float("nan"))
        print(f"{label:{width}}  {cells[0]:12.2f} {cells[1]:8.2f}   {cells[2]:11.2f} {cells[3]:8.2f}")


if __name__ == "__main__":
    main()
