"""Shared fixtures: offline Hub, per-test data folders, and one real Chatbot per article per session."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot import Chatbot, config


@pytest.fixture(autouse=True)
def _isolated_data(tmp_path, monkeypatch):
    """Nothing a test writes (feedback logs, rebuilt indexes) lands in the repo or the user's cache."""
    monkeypatch.setenv("ROLEBOT_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("ROLEBOT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(config, "_one_shot", False)  # `rolebot ask` run in-process says so for its process


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


@pytest.fixture(scope="session")
def index_cache(request, tmp_path_factory) -> Path:
    """Where the fixture articles' indexes are built, kept between sessions in pytest's cache folder.

    Building one takes 10-25 s of sentence-transformers on 2 cores, and the per-test ROLEBOT_CACHE above used
    to rebuild it in every test that asked that article. Keeping them is safe: loading checks each index's
    manifest (model, chunker version, scope data, corpus fingerprint, file checksums) and rebuilds a stale one.
    ``pytest --cache-clear`` starts from nothing; with ``-p no:cacheprovider`` they last one session.
    """
    cache = getattr(request.config, "cache", None)
    if cache is None:
        return tmp_path_factory.mktemp("indexes")
    return Path(cache.mkdir("rolebot-indexes"))


@pytest.fixture(scope="session")
def article_bot(bot, index_cache) -> Callable[[str], Chatbot]:
    """``article_bot(name)``: the bot an eval set of tests/eval/sets.toml is asked (``bot`` itself, or one on the
    set's own corpus), loaded once per session through ``bot_for``, as `rolebot eval` loads it."""
    from bot.evaluation import bot_for, load_sets

    sets = {s.name: s for s in load_sets()}
    bots: dict[str, Chatbot] = {}

    def get(name: str) -> Chatbot:
        if name not in bots:
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("ROLEBOT_CACHE", str(index_cache))
                bots[name] = bot_for(sets[name], bot)
        return bots[name]

    return get
