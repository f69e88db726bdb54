"""Likes and dislikes from the web chat, one JSON object per line in ``<data folder>/feedback.jsonl``.

Feedback is a side channel: a full disk or a read-only folder must never break the chat, so
``record`` logs its errors and returns False instead of raising.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from . import config

FEEDBACK_FILE = "feedback.jsonl"
"""File name inside ``config.data_dir()`` (ROLEBOT_DATA)."""

log = logging.getLogger(__name__)
_lock = threading.Lock()  # one writer at a time, so concurrent votes never interleave inside a line


def feedback_path() -> Path:
    """Where votes go: read at call time, so ROLEBOT_DATA can change while a server runs (tests do)."""
    return config.data_dir() / FEEDBACK_FILE


def record(
    question: str,
    answer: str,
    source_ids: Sequence[int | str],
    vote: str,
    *,
    in_scope: bool | None = None,
    path: Path | None = None,
) -> bool:
    """Append one vote: ``{"time", "question", "answer", "source_ids", "vote", "in_scope"}``. True when written."""
    entry = {
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "question": question,
        "answer": answer,
        "source_ids": list(source_ids),
        "vote": vote,
        "in_scope": in_scope,
    }
    target = path or feedback_path()
    try:
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with _lock:
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("a", encoding="utf-8") as handle:
                handle.write(line)
        return True
    except (OSError, TypeError, ValueError):
        log.exception("could not record feedback in %s", target)
        return False


def read(path: Path | None = None) -> list[dict]:
    """All recorded votes, oldest first; a damaged line is skipped (a crash mid-write leaves at most one)."""
    target = path or feedback_path()
    if not target.exists():
        return []
    entries = []
    for line in target.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return entries
