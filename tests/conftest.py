"""Shared fixtures: offline Hub, per-test data folders, and one real Chatbot per session."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest

from bot import Chatbot


@pytest.fixture(autouse=True)
def _isolated_data(tmp_path, monkeypatch):
    """Nothing a test writes (feedback logs, rebuilt indexes) lands in the repo or the user's cache."""
    monkeypatch.setenv("ROLEBOT_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("ROLEBOT_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="session")
def bot() -> Chatbot:
    """The real engine on the real article and the committed index (model loaded once per session)."""
    chatbot = Chatbot.load()
    chatbot.warm_up()
    return chatbot
