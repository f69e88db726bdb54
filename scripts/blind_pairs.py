"""Blind, paired grading of two versions' answers, as ../shared/ANSWERS.md asks.

    python scripts/blind_pairs.py make BEFORE.jsonl AFTER.jsonl SHEET.md KEY.json   # the reader's sheet
    python scripts/blind_pairs.py score KEY.json GRADES.jsonl                      # unblinded figures

``make`` writes every question once with the two answers (from scripts/dump_answers.py) as "A" and "B" in
random order, with no mark of which version wrote which; the key is kept apart. The reader grades each answer
against the article and ANSWERS.md and writes one JSON line per question:
    {"id": ..., "kind": "answerable" | "partial" | "unanswerable", "A": grade, "B": grade}
where a grade is 0-3 for a question the article answers (fully or in part) and one of "declined well",
"declined, wrong reason", "harmless", "misleading" for one it does not. ``score`` unblinds the grades and
prints, per version, the mean per kind, the refusals of answerable questions, the outcome counts for
unanswerable ones, and how many questions got better, worse or stayed.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
from collections import Counter
from pathlib import Path

SEED = 2026
UNANSWERABLE = ("declined well", "declined, wrong reason", "harmless", "misleading")
RANK = {"misleading": 0, "declined, wrong reason": 1, "harmless": 2, "declined well": 3}


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def make(before: Path, after: Path, sheet: Path, key: Path) -> None:
    rng = random.Random(SEED)
    old = {r["id"]: r for r in _lines(before)}
    new = {r["id"]: r for r in _lines(after)}
    out, order = [], {}
    for qid, b in old.items():
        a = new[qid]
        pair = [("before", b), ("after", a)]
        rng.shuffle(pair)
        order[qid] = {"A": pair[0][0], "B": pair[1][0]}
        out.append(f"## {qid}\n\n**Question:** {b['question']}\n")
        for label, (_, reply) in zip("AB", pair, strict=True):
            sources = "; ".join(reply["sources"]) or "(none)"
            out.append(f"### Answer {label}\n\n{reply['answer']}\n\n_Sources: {sources}_\n")
    sheet.write_text("\n".join(out), encoding="utf-8")
    key.write_text(json.dumps(order, indent=1), encoding="utf-8")


def score(key: Path, grades: Path) -> dict:
    order = json.loads(key.read_text(encoding="utf-8"))
    by_version: dict[str, dict[str, list]] = {"before": {}, "after": {}}
    changes: Counter[str] = Counter()
    for g in _lines(grades):
        versions = order[g["id"]]
        graded = {versions["A"]: g["A"], versions["B"]: g["B"]}
        for version, grade in graded.items():
            by_version[version].setdefault(g["kind"], []).append(grade)
        b, a = graded["before"], graded["after"]
        rank = (lambda x: RANK[x]) if g["kind"] == "unanswerable" else (lambda x: x)
        changes["better" if rank(a) > rank(b) else "worse" if rank(a) < rank(b) else "same"] += 1
    report: dict = {"changes": dict(changes)}
    for version, kinds in by_version.items():
        figures = {}
        for kind, values in sorted(kinds.items()):
            if kind == "unanswerable":
                figures[kind] = {o: values.count(o) for o in UNANSWERABLE} | {"n": len(values)}
            else:
                figures[kind] = {"mean": round(statistics.mean(values), 2), "zeros": values.count(0), "n": len(values)}
        report[version] = figures
    return report


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "make":
        make(*map(Path, sys.argv[2:]))
    elif len(sys.argv) == 4 and sys.argv[1] == "score":
        print(json.dumps(score(Path(sys.argv[2]), Path(sys.argv[3])), indent=1))
    else:
        sys.exit(__doc__)
