"""The feedback log: JSON Lines in the data folder, safe under concurrent votes, never raising."""

from __future__ import annotations

import json
import threading

from bot import feedback


def test_votes_are_appended_as_json_lines_in_the_data_folder(tmp_path):
    assert feedback.feedback_path() == tmp_path / "data" / "feedback.jsonl"  # ROLEBOT_DATA from conftest
    assert feedback.record("What is an AI Engineer?", "An AI Engineer is…", [0, 4], "like", in_scope=True)
    assert feedback.record("What is the weather?", "The article doesn't cover that", [], "dislike", in_scope=False)
    lines = feedback.feedback_path().read_text(encoding="utf-8").splitlines()
    first, second = (json.loads(line) for line in lines)
    assert first["question"] == "What is an AI Engineer?" and first["source_ids"] == [0, 4]
    assert first["vote"] == "like" and first["in_scope"] is True and first["time"].endswith("+00:00")
    assert second["vote"] == "dislike" and feedback.read() == [first, second]


def test_concurrent_votes_never_interleave():
    def vote(n: int) -> None:
        for i in range(25):
            feedback.record(f"question {n}-{i} " + "x" * 2000, "answer", [n, i], "like")

    threads = [threading.Thread(target=vote, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = feedback.feedback_path().read_text(encoding="utf-8").splitlines()
    assert len(lines) == 200
    assert len({tuple(json.loads(line)["source_ids"]) for line in lines}) == 200  # every line parses


def test_a_write_error_is_logged_not_raised(tmp_path, caplog):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the data folder should be")
    assert feedback.record("q", "a", [1], "like", path=blocked / "feedback.jsonl") is False
    assert "could not record feedback" in caplog.text


def test_a_damaged_line_is_skipped_when_reading():
    feedback.record("q1", "a", [], "like")
    with feedback.feedback_path().open("a", encoding="utf-8") as handle:
        handle.write('{"time": "2026-01-01T00:00:00+00:00", "quest')  # a crash mid-write
    assert [e["question"] for e in feedback.read()] == ["q1"]
