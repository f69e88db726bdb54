"""Likes and dislikes from the web chat, one JSON object per line in ``<data folder>/feedback.jsonl``.

A public page lets strangers vote, so every entry is bounded: the vote is one of ``VOTES``, the question and
answer are the server's own (the web shell passes the turn it answered, found by the turn's id), each line is
at most FEEDBACK_ENTRY_BYTES, votes are rate-limited per session and overall (``VoteLimiter``), and the file
is rotated at ROLEBOT_FEEDBACK_MAX_BYTES with FEEDBACK_KEEP_FILES old files kept.

Feedback is a side channel: a full disk or a read-only folder must never break the chat, so ``record`` logs
its errors and returns False instead of raising. A vote that breaks a rule raises ``VoteRefused`` before
anything is written. With ROLEBOT_FEEDBACK_REPO set, ``start_hub_sync`` also pushes the files to a Hub dataset
in batches (huggingface_hub's CommitScheduler), so votes outlive a Space's ephemeral disk.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import config
from .errors import VoteRefused

FEEDBACK_FILE = "feedback.jsonl"
"""File name inside ``config.data_dir()`` (ROLEBOT_DATA); rotated files are ``feedback-<UTC time>.jsonl``."""

VOTES = ("like", "dislike", "cleared")
"""The documented votes: a thumb up, a thumb down, and a thumb taken back."""

log = logging.getLogger(__name__)
_lock = threading.Lock()  # one writer at a time, so concurrent votes never interleave inside a line
_hub_lock: Any = None  # the CommitScheduler's lock once Hub sync runs: no push reads a half-written line


def feedback_path() -> Path:
    """Where votes go: read at call time, so ROLEBOT_DATA can change while a server runs (tests do)."""
    return config.data_dir() / FEEDBACK_FILE


def vote_of(liked: Any) -> str:
    """The vote Gradio's like event carries (True, False, or "" when a thumb is taken back) as one of VOTES."""
    if liked is True:
        return "like"
    if liked is False:
        return "dislike"
    if liked in ("", None):
        return "cleared"
    if isinstance(liked, str) and liked in VOTES:
        return liked
    raise VoteRefused("A vote is like, dislike or cleared; nothing was recorded.")


class VoteLimiter:
    """At most ``per_session`` votes per session and ``overall`` votes in total in any ``window`` seconds."""

    def __init__(self, per_session: int | None = None, overall: int | None = None, window: float = 60.0) -> None:
        self.per_session = per_session or config.votes_per_session_per_minute()
        self.overall = overall or config.votes_per_minute()
        self.window = window
        self._all: deque[float] = deque()
        self._sessions: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def take(self, session: str) -> None:
        """Count one vote for ``session``, or raise VoteRefused when a limit is reached (nothing counted)."""
        now = time.monotonic()
        with self._lock:
            for times in (self._all, self._sessions[session]):
                while times and times[0] <= now - self.window:
                    times.popleft()
            if len(self._sessions[session]) >= self.per_session:
                raise VoteRefused("Too many votes from this page: please wait a minute before voting again.")
            if len(self._all) >= self.overall:
                raise VoteRefused("Too many votes right now: please wait a minute before voting again.")
            self._all.append(now)
            self._sessions[session].append(now)
            if len(self._sessions) > 10 * self.overall:  # forget sessions with no vote in the window
                for key in [k for k, v in self._sessions.items() if not v or v[-1] <= now - self.window]:
                    del self._sessions[key]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def entry(
    question: str,
    answer: str,
    source_ids: Sequence[int | str],
    vote: str,
    *,
    in_scope: bool | None = None,
    turn_id: str | None = None,
) -> dict:
    """One log line's object, its JSON at most FEEDBACK_ENTRY_BYTES: the question is cut at the question
    limit, then the longer of question and answer is halved until the line fits."""
    if vote not in VOTES:
        raise VoteRefused("A vote is like, dislike or cleared; nothing was recorded.")
    data = {
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "turn_id": None if turn_id is None else str(turn_id)[:64],
        "question": _cut(str(question), config.max_question_chars()),
        "answer": str(answer),
        "source_ids": [i for i in list(source_ids)[:20] if isinstance(i, int) or (isinstance(i, str) and len(i) <= 64)],
        "vote": vote,
        "in_scope": in_scope if isinstance(in_scope, bool) else None,
    }
    while len(_line(data).encode()) > config.FEEDBACK_ENTRY_BYTES:
        longer = "answer" if len(data["answer"]) >= len(data["question"]) else "question"
        data[longer] = _cut(data[longer], len(data[longer]) // 2)
    return data


def _line(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)


def record(
    question: str,
    answer: str,
    source_ids: Sequence[int | str],
    vote: str,
    *,
    in_scope: bool | None = None,
    turn_id: str | None = None,
    path: Path | None = None,
) -> bool:
    """Append one vote: ``{"time", "turn_id", "question", "answer", "source_ids", "vote", "in_scope"}``.
    True when written; VoteRefused (nothing written) for a vote not in VOTES."""
    target = path or feedback_path()
    line = _line(entry(question, answer, source_ids, vote, in_scope=in_scope, turn_id=turn_id))
    try:
        with _lock, _hub_lock or contextlib.nullcontext():
            target.parent.mkdir(parents=True, exist_ok=True)
            _rotate_if_full(target, len(line) + 1)
            with target.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        return True
    except OSError:
        log.exception("could not record feedback in %s", target)
        return False


def _rotate_if_full(target: Path, adding: int) -> None:
    """Rename ``target`` aside when ``adding`` bytes would take it past the cap; keep the newest rotated files."""
    size = target.stat().st_size if target.exists() else 0
    if size == 0 or size + adding <= config.feedback_max_bytes():
        return
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    target.rename(target.with_name(f"{target.stem}-{stamp}{target.suffix}"))
    rotated = sorted(target.parent.glob(f"{target.stem}-*{target.suffix}"))
    for old in rotated[: -config.FEEDBACK_KEEP_FILES]:
        old.unlink(missing_ok=True)


def read(path: Path | None = None) -> list[dict]:
    """All votes in the current file, oldest first; a damaged line is skipped (a crash mid-write leaves at most one)."""
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


def start_hub_sync(repo: str | None = None, *, hf_api: Any = None) -> Any:
    """Push the feedback files to the Hub dataset ``repo`` (default ROLEBOT_FEEDBACK_REPO) every
    ROLEBOT_FEEDBACK_EVERY minutes, under ``runs/<start time>-<id>/`` so a restarted Space (whose disk starts
    empty) adds files instead of overwriting the last run's. Returns the CommitScheduler, or None when no repo
    is set or the Hub cannot be reached: then votes stay on disk only, and one warning says so."""
    global _hub_lock
    repo = repo or config.feedback_repo()
    if not repo:
        return None
    from huggingface_hub import CommitScheduler

    run = f"{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:6]}"
    try:
        scheduler = CommitScheduler(
            repo_id=repo,
            repo_type="dataset",
            folder_path=config.data_dir(),
            path_in_repo=f"runs/{run}",
            allow_patterns=[f"{Path(FEEDBACK_FILE).stem}*{Path(FEEDBACK_FILE).suffix}"],
            every=config.feedback_push_minutes(),
            private=True,
            hf_api=hf_api,
        )
    except Exception as exc:  # offline, unreachable, no token, no access: the chat goes on without the Hub
        log.warning("feedback stays on disk only: cannot reach the Hub dataset %s (%s)", repo, str(exc)[:300])
        return None
    _hub_lock = scheduler.lock
    log.info("feedback is pushed to the Hub dataset %s every %s minutes", repo, scheduler.every)
    return scheduler
