"""Answer a file of questions with the engine and write one JSON line per question, for blind grading.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/dump_answers.py questions.jsonl answers.jsonl

Each input line needs "question" (an "id" is kept when present, else the line number is used). Each output line
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
            reply = bot.ask(record["question"])
            data = reply.to_dict()
            row = {
                "id": record.get("id", str(number)),
                "question": record["question"],
                "answer": reply.answer,
                "outcome": data.get("outcome", "answered" if reply.in_scope else "declined"),
                "sources": [f"[{i}] {s.section}" for i, s in enumerate(reply.sources, 1)],
            }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
