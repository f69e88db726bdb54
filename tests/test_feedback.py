"""The feedback log: JSON Lines in the data folder, safe under concurrent votes, never raising on a write
error; bounded against strangers (documented votes only, sizes cut, rate limits, rotation), and pushed to a
Hub dataset when one is set."""

from __future__ import annotations

import json
import logging
import threading
import time

import httpx
import pytest
from gradio_client import Client
from helpers import free_port, serve_site

from bot import config, feedback
from bot.errors import VoteRefused


def test_votes_are_appended_as_json_lines_in_the_data_folder(tmp_path):
    assert feedback.feedback_path() == tmp_path / "data" / "feedback.jsonl"  # ROLEBOT_DATA from conftest
    assert feedback.record("What is an AI Engineer?", "An AI Engineer is…", [0, 4], "like", in_scope=True)
    assert feedback.record("What is the weather?", "The article doesn't cover that", [], "dislike", in_scope=False)
    lines = feedback.feedback_path().read_text(encoding="utf-8").splitlines()
    first, second = (json.loads(line) for line in lines)
    assert first["question"] == "What is an AI Engineer?" and first["source_ids"] == [0, 4]
    assert first["vote"] == "like" and first["in_scope"] is True and first["time"].endswith("+00:00")
    assert first["turn_id"] is None  # recorded without one
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


# --- rules a vote must keep ------------------------------------------------------------------------------


@pytest.mark.parametrize(("liked", "vote"), [(True, "like"), (False, "dislike"), ("", "cleared"), (None, "cleared")])
def test_the_documented_votes(liked, vote):
    assert feedback.vote_of(liked) == vote


@pytest.mark.parametrize("liked", ["x" * 10_000_000, "LIKE", "true", 1, 0, [True], {"liked": True}])
def test_any_other_vote_is_refused_and_nothing_is_written(liked):
    with pytest.raises(VoteRefused, match="like, dislike or cleared"):
        feedback.vote_of(liked)
    with pytest.raises(VoteRefused):
        feedback.record("q", "a", [], str(liked)[:100])
    assert not feedback.feedback_path().exists()


def test_an_entry_is_bounded_whatever_it_is_given():
    huge = "🤖" * 1_000_000
    feedback.record(huge, huge, list(range(10_000)), "like", turn_id="t" * 10_000, in_scope="yes")
    line = feedback.feedback_path().read_bytes()
    assert len(line) <= config.FEEDBACK_ENTRY_BYTES + 1
    [entry] = feedback.read()
    assert len(entry["source_ids"]) == 20 and len(entry["turn_id"]) == 64 and entry["in_scope"] is None
    assert entry["question"].startswith("🤖") and entry["answer"].endswith("…")


def test_votes_are_limited_per_session_and_overall():
    limiter = feedback.VoteLimiter(per_session=3, overall=5, window=0.5)
    for _ in range(3):
        limiter.take("a")
    with pytest.raises(VoteRefused, match="from this page"):
        limiter.take("a")
    limiter.take("b")
    limiter.take("c")
    with pytest.raises(VoteRefused, match="right now"):
        limiter.take("d")
    time.sleep(0.6)
    limiter.take("a")  # the window moved on


def test_the_file_is_rotated_at_its_cap_and_old_files_are_dropped(monkeypatch):
    monkeypatch.setenv("ROLEBOT_FEEDBACK_MAX_BYTES", "3000")
    for i in range(40):
        assert feedback.record(f"question {i} " + "x" * 400, "answer", [i], "like")
    folder = feedback.feedback_path().parent
    rotated = sorted(folder.glob("feedback-*.jsonl"))
    assert len(rotated) == config.FEEDBACK_KEEP_FILES
    assert all(p.stat().st_size <= 3000 for p in [*rotated, feedback.feedback_path()])
    assert feedback.read()[-1]["question"].startswith("question 39 ")


# --- the attacks of issue 26, against a live server on 127.0.0.1 ------------------------------------------


@pytest.fixture(scope="module")
def site(bot):
    app, url = serve_site(bot)
    yield url
    app.close()


def vote(url: str, session: str, liked, index: int = 1) -> httpx.Response:
    """What the browser posts when a thumb is clicked (gradio_client cannot send event data)."""
    body = {"data": [None], "event_data": {"index": index, "value": None, "liked": liked}, "session_hash": session}
    return httpx.post(f"{url}gradio_api/run/feedback", json=body, timeout=30)


def data_bytes() -> int:
    return sum(p.stat().st_size for p in config.data_dir().rglob("*") if p.is_file())


def test_ten_ten_megabyte_votes_are_refused_and_store_nothing(site):
    client = Client(site, verbose=False)
    client.predict("Who do AI Engineers work with?", api_name="/chat")
    for _ in range(10):
        response = vote(site, client.session_hash, "x" * 10_000_000)
        assert response.status_code == 413
        assert response.json()["error"] == "body_too_large"
    response = vote(site, client.session_hash, "x" * 10_000)  # under the body limit: still not a vote
    assert response.status_code >= 400 and "like, dislike or cleared" in response.text
    assert data_bytes() == 0


def test_a_thousand_rapid_votes_grow_the_file_by_at_most_a_megabyte(site):
    sessions = []
    for _ in range(20):
        client = Client(site, verbose=False)
        client.predict("What are the key responsibilities of an AI Engineer?", api_name="/chat")  # a long answer
        sessions.append(client.session_hash)
    accepted, refused = 0, []
    with httpx.Client(timeout=30) as http:
        for i in range(1000):
            body = {
                "data": [None],
                "event_data": {"index": 1, "value": None, "liked": i % 2 == 0},
                "session_hash": sessions[i % len(sessions)],
            }
            response = http.post(f"{site}gradio_api/run/feedback", json=body)
            if response.status_code == 200:
                accepted += 1
            else:
                refused.append(response)
    assert accepted <= config.VOTES_PER_MINUTE == 60
    assert len(refused) == 1000 - accepted
    assert all("please wait a minute" in r.text for r in refused), refused[0].text
    assert data_bytes() <= 1_000_000
    entries = feedback.read()
    assert len(entries) == accepted and all(e["question"].startswith("What are the key") for e in entries)


def test_a_vote_on_another_sessions_answer_or_no_answer_is_refused(site):
    client = Client(site, verbose=False)
    client.predict("Who do AI Engineers work with?", api_name="/chat")
    stranger = "0123456789ab"  # a session that asked nothing
    assert vote(site, stranger, True).status_code >= 400
    assert vote(site, client.session_hash, True, index=3).status_code >= 400
    assert "not one of this conversation's answers" in vote(site, client.session_hash, True, index=0).text
    assert feedback.read() == []


# --- pushed to a Hub dataset, tested up to the Hub's door ---------------------------------------------------


def test_without_a_repo_nothing_is_pushed(monkeypatch):
    monkeypatch.delenv("ROLEBOT_FEEDBACK_REPO", raising=False)
    assert feedback.start_hub_sync() is None


def test_an_unreachable_hub_leaves_votes_on_disk_with_one_warning(monkeypatch, caplog):
    from huggingface_hub import HfApi, constants

    monkeypatch.setenv("ROLEBOT_FEEDBACK_REPO", "someone/rolebot-feedback")
    monkeypatch.setattr(constants, "is_offline_mode", lambda: False)  # really try: a refused connection
    nowhere = HfApi(endpoint=f"http://127.0.0.1:{free_port()}", token="hf_test")  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="bot.feedback"):
        assert feedback.start_hub_sync(hf_api=nowhere) is None
        assert feedback.record("q", "a", [1], "like")
    warnings = [r for r in caplog.records if r.name == "bot.feedback" and r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "stays on disk only" in warnings[0].getMessage()
    assert "someone/rolebot-feedback" in warnings[0].getMessage() and "offline" not in warnings[0].getMessage()
    assert [e["question"] for e in feedback.read()] == ["q"]


def test_offline_mode_is_an_unreachable_hub_too(monkeypatch, caplog):
    monkeypatch.setenv("ROLEBOT_FEEDBACK_REPO", "someone/rolebot-feedback")
    with caplog.at_level(logging.WARNING, logger="bot.feedback"):
        assert feedback.start_hub_sync() is None  # HF_HUB_OFFLINE=1 in tests
    assert "stays on disk only" in caplog.text


def test_a_reachable_hub_gets_the_feedback_files_under_this_runs_folder(monkeypatch):
    """Up to the Hub boundary: a stand-in HfApi records what the scheduler would commit."""
    import huggingface_hub

    calls = {}

    class StandIn(huggingface_hub.HfApi):
        def create_repo(self, repo_id, **kwargs):
            calls["create"] = (repo_id, kwargs)
            return huggingface_hub.RepoUrl(
                f"https://huggingface.co/datasets/{repo_id}", endpoint="https://huggingface.co"
            )

        def create_commit(self, repo_id, operations, **kwargs):
            calls["commit"] = (repo_id, [op.path_in_repo for op in operations], kwargs)

    monkeypatch.setenv("ROLEBOT_FEEDBACK_REPO", "someone/rolebot-feedback")
    scheduler = feedback.start_hub_sync(hf_api=StandIn(token="hf_test"))
    try:
        assert scheduler is not None and calls["create"][1]["repo_type"] == "dataset"
        feedback.record("q", "a", [1], "like")
        (config.data_dir() / "other.txt").write_text("not feedback")
        scheduler.push_to_hub()
    finally:
        scheduler.stop()
        feedback._hub_lock = None
    repo, paths, kwargs = calls["commit"]
    assert repo == "someone/rolebot-feedback" and kwargs["repo_type"] == "dataset"
    [path] = paths
    assert path.startswith("runs/") and path.endswith("/feedback.jsonl")  # a restarted Space adds a new run folder
