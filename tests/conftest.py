"""Shared fixtures: offline Hub, per-test data folders, and one real Chatbot per session."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import shutil
from pathlib import Path

import pytest

from bot import Chatbot, config


@pytest.fixture(autouse=True)
def _isolated_data(tmp_path, monkeypatch):
    """Nothing a test writes (feedback logs, rebuilt indexes) lands in the repo or the user's cache."""
    monkeypatch.setenv("ROLEBOT_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("ROLEBOT_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def corpus(tmp_path) -> Path:
    """A copy of the corpus that a test may edit (test_corpus.py defines its own one-file corpus)."""
    folder = tmp_path / "corpus"
    shutil.copytree(config.corpus_dir(), folder)
    return folder


@pytest.fixture(scope="session")
def bot(tmp_path_factory) -> Chatbot:
    """The real engine on the real article and a copy of the committed index (model loaded once per session).

    A copy, so that a stale committed index is rebuilt (and its test fails) without the suite
    rewriting index/ in the working tree.
    """
    index = tmp_path_factory.mktemp("index")
    shutil.copytree(config.index_dir(), index, dirs_exist_ok=True)
    chatbot = Chatbot.load(index=index)
    chatbot.warm_up()
    return chatbot
