"""Every reply to every question of this article's eval and reader sets, one JSON line each, and the replies that
differ between two such files: the check that a refactor changed no answer.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/snapshot_replies.py write before.jsonl   # in one checkout
    HF_HUB_OFFLINE=1 .venv/bin/python scripts/snapshot_replies.py write after.jsonl    # in the other
    python scripts/snapshot_replies.py diff before.jsonl after.jsonl [--show]        # "0 changed of 926"

Conversations are asked turn by turn with the turns before them as history.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETS = sorted((ROOT / "tests" / "eval").glob("*.jsonl")) + sorted(
    (ROOT / "tests" / "eval" / "reader").glob("*-questions.jsonl")
)


def write(target: Path) -> None:
    from bot import Chatbot

    bot = Chatbot.load()
    with target.open("w", encoding="utf-8") as out:
        for path in SETS:
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
                record = json.loads(line)
                history: list[tuple[str, str]] = []
                for turn_number, turn in enumerate(record.get("turns", [record])):
                    if not turn.get("question"):
                        break
                    reply = bot.ask(turn["question"], history)
                    history.append((turn["question"], reply.answer))
                    tag = f"{path.name}:{record.get('id', number)}.{turn_number}"
                    row = {"tag": tag, "q": turn["question"], "outcome": reply.outcome, "answer": reply.answer}
                    out.write(json.dumps(row | {"reason": reply.trace.scope_reason}, ensure_ascii=False) + "\n")


def diff(before: Path, after: Path, show: bool) -> None:
    old = {r["tag"]: r for r in map(json.loads, before.read_text(encoding="utf-8").splitlines())}
    new = {r["tag"]: r for r in map(json.loads, after.read_text(encoding="utf-8").splitlines())}
    changed = [
        t for t in old if t in new and (old[t]["answer"], old[t]["outcome"]) != (new[t]["answer"], new[t]["outcome"])
    ]
    for tag in changed if show else []:
        a, b = old[tag], new[tag]
        print(
            f"=== {tag} | {a['q']}\n--- {a['outcome']} ({a['reason']})\n{a['answer']}\n+++ {b['outcome']} ({b['reason']})\n{b['answer']}\n"
        )
    print(f"{len(changed)} changed of {len(old)}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        write(Path(sys.argv[2]))
    elif len(sys.argv) in (4, 5) and sys.argv[1] == "diff":
        diff(Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4:] == ["--show"])
    else:
        sys.exit(__doc__)
