"""Answer a file of questions with the engine and write one JSON line per question, for blind grading.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/dump_answers.py questions.jsonl answers.jsonl

Each input line needs "question" (an "id" is kept when present, else the line number is used), or "turns", a
conversation whose turns are asked in order, each with the ones before as history (ids "N.0", "N.1", …). Each output line
has the id, the question, the answer as Markdown, its outcome and its sources' section titles, so that a reader
can grade it against the article (../shared/ANSWERS.md) without running rolebot.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bot import Chatbot


def main(source: Path, target: Path) -> None:
    bot = Chatbot.load()
    lines = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    with target.open("w", encoding="utf-8") as out:
        for number, record in enumerate(lines, 1):
            qid = record.get("id", str(number))
            # A conversation (tests/eval's {"kind": "conversation", "turns": [...]}): each turn after those before it.
            turns = record.get("turns", [record])
            history: list[tuple[str, str]] = []
            for turn_number, turn in enumerate(turns):
                reply = bot.ask(turn["question"], history)
                history.append((turn["question"], reply.answer))
                row = {
                    "id": qid if "turns" not in record else f"{qid}.{turn_number}",
                    "question": turn["question"],
                    "answer": reply.answer,
                    "outcome": reply.outcome,
                    "sources": [f"[{i}] {s.section}" for i, s in enumerate(reply.sources, 1)],
                }
                out.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
