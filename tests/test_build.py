"""bot/build.py: building, staleness, and the load path that rebuilds only when it must."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import HashEmbedder

from bot import build, config
from bot.build import build_index, load_or_build, save_index, stale_reason, vocabulary
from bot.embeddings import ModelSpec
from bot.index import CHUNKS_JSON, MANIFEST, KnowledgeIndex


@pytest.fixture
def spy(monkeypatch) -> HashEmbedder:
    """load_or_build embeds with the spy, and the spy's model is the one the code expects."""
    embedder = HashEmbedder(16, "tests/spy-embedder")
    monkeypatch.setattr(build, "get_embedder", lambda purpose="query": embedder)
    monkeypatch.setattr(build, "resolve_model", lambda: ModelSpec(embedder.model_id, "nowhere"))
    return embedder


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "index"


def test_committed_index_is_current() -> None:
    """The repo ships an index for its own corpus, chunker and model: a fresh clone starts without a build."""
    assert stale_reason(config.index_dir(), config.corpus_dir()) is None


def test_fresh_build(spy: HashEmbedder, corpus: Path, folder: Path) -> None:
    loaded = load_or_build(corpus, folder)
    assert loaded.built
    assert loaded.folder == folder
    assert "manifest.json is missing" in loaded.reason
    assert spy.texts == len(loaded.index.chunks) + len(loaded.index.units) + len(loaded.index.vocabulary)
    assert stale_reason(folder, corpus, spy.model_id) is None
    assert stale_reason(folder, corpus) is None  # the patched resolve_model agrees
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["model"] == spy.model_id
    assert manifest["chunker_version"] == build.CHUNKER_VERSION
    assert manifest["versions"]["numpy"] == np.__version__


def test_loading_a_current_index_embeds_nothing(spy: HashEmbedder, corpus: Path, folder: Path, monkeypatch) -> None:
    load_or_build(corpus, folder)
    spy.texts = 0

    def no_build(*args, **kwargs):
        raise AssertionError("a current index must not be rebuilt")

    monkeypatch.setattr(build, "build_index", no_build)
    loaded = load_or_build(corpus, folder)
    assert not loaded.built
    assert loaded.reason == "current"
    assert loaded.folder == folder
    assert spy.texts == 0


def test_corpus_edit_makes_the_index_stale(spy: HashEmbedder, corpus: Path, folder: Path) -> None:
    load_or_build(corpus, folder)
    article = corpus / "ai-engineer-vs-ml-engineer.md"
    article.write_text(
        article.read_text(encoding="utf-8") + "\nAI Engineers also write documentation.\n", encoding="utf-8"
    )
    reason = stale_reason(folder, corpus)
    assert reason is not None and "corpus" in reason


def test_a_new_corpus_file_is_indexed_under_its_name(spy: HashEmbedder, corpus: Path, folder: Path) -> None:
    load_or_build(corpus, folder)
    (corpus / "more.txt").write_text("More\nML Engineers monitor models.\n", encoding="utf-8")
    assert "corpus" in (stale_reason(folder, corpus) or "")
    loaded = load_or_build(corpus, folder)
    assert loaded.built
    assert {c.source for c in loaded.index.chunks} == {"ai-engineer-vs-ml-engineer.md", "more.txt"}
    assert any(c.source == "more.txt" and "ML Engineers monitor models." in c.text for c in loaded.index.chunks)


def test_another_model_makes_the_index_stale(spy: HashEmbedder, corpus: Path, folder: Path) -> None:
    load_or_build(corpus, folder)
    reason = stale_reason(folder, corpus, model_id="sentence-transformers/all-mpnet-base-v2")
    assert reason is not None and "model" in reason and "all-mpnet-base-v2" in reason


def test_a_chunker_change_makes_the_index_stale(spy: HashEmbedder, corpus: Path, folder: Path, monkeypatch) -> None:
    load_or_build(corpus, folder)
    monkeypatch.setattr(build, "CHUNKER_VERSION", build.CHUNKER_VERSION + "-next")
    reason = stale_reason(folder, corpus)
    assert reason is not None and "chunker" in reason


def test_a_stale_index_is_rebuilt_transparently(spy: HashEmbedder, corpus: Path, folder: Path) -> None:
    load_or_build(corpus, folder)
    article = corpus / "ai-engineer-vs-ml-engineer.md"
    article.write_text(
        article.read_text(encoding="utf-8") + "\n## Extra\n\nAI Engineers write runbooks.\n", encoding="utf-8"
    )
    loaded = load_or_build(corpus, folder)
    assert loaded.built
    assert "corpus" in loaded.reason
    assert any("runbooks" in c.text for c in loaded.index.chunks)
    assert stale_reason(folder, corpus) is None
    assert not load_or_build(corpus, folder).built


def test_a_chunker_change_rebuilds(spy: HashEmbedder, corpus: Path, folder: Path, monkeypatch) -> None:
    load_or_build(corpus, folder)
    monkeypatch.setattr(build, "CHUNKER_VERSION", build.CHUNKER_VERSION + "-next")
    loaded = load_or_build(corpus, folder)
    assert loaded.built and "chunker" in loaded.reason
    assert json.loads((folder / MANIFEST).read_text())["chunker_version"] == build.CHUNKER_VERSION


def test_a_damaged_index_is_rebuilt_and_the_reason_names_the_file(
    spy: HashEmbedder, corpus: Path, folder: Path
) -> None:
    load_or_build(corpus, folder)
    with (folder / CHUNKS_JSON).open("ab") as handle:
        handle.write(b" ")
    loaded = load_or_build(corpus, folder)
    assert loaded.built
    assert CHUNKS_JSON in loaded.reason
    assert KnowledgeIndex.load(folder).chunks == loaded.index.chunks


def test_rebuild_on_request(spy: HashEmbedder, corpus: Path, folder: Path) -> None:
    load_or_build(corpus, folder)
    loaded = load_or_build(corpus, folder, rebuild=True)
    assert loaded.built and loaded.reason == "rebuild requested"


def test_progress_is_reported_in_order(spy: HashEmbedder, corpus: Path) -> None:
    seen: list[tuple[str, float]] = []
    build_index(corpus, embedder=spy, progress=lambda stage, fraction: seen.append((stage, fraction)))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions)
    assert all(0.0 <= f <= 1.0 for f in fractions)
    assert seen[0] == ("reading corpus", 0.0)
    assert seen[-1] == ("done", 1.0)
    assert "embedding" in {stage for stage, _ in seen}


def test_build_is_deterministic(spy: HashEmbedder, corpus: Path) -> None:
    first, _ = build_index(corpus, embedder=spy)
    second, _ = build_index(corpus, embedder=spy)
    assert first.chunks == second.chunks and first.units == second.units
    np.testing.assert_array_equal(first.chunk_vectors, second.chunk_vectors)


def test_read_only_folder_falls_back_to_the_cache(spy: HashEmbedder, corpus: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    folder = blocker / "index"  # cannot be created, whoever runs the tests (root included)
    index, manifest = build_index(corpus, embedder=spy)
    written = save_index(index, manifest, folder)
    assert written != folder
    assert written.is_relative_to(tmp_path / "cache")  # ROLEBOT_CACHE, set by conftest
    assert stale_reason(written, corpus) is None
    # The next load finds the cached index instead of building again.
    spy.texts = 0
    loaded = load_or_build(corpus, folder)
    assert not loaded.built and loaded.folder == written and spy.texts == 0


def test_vocabulary_keeps_content_words_and_r() -> None:
    words = vocabulary(["Python, R and C++ are used by the ML Engineers in 2024.", "R again; and XGBoost."])
    assert words == sorted(set(words))
    assert {"python", "r", "c++", "ml", "engineers", "xgboost"} <= set(words)
    assert not {"and", "the", "are", "in", "2024"} & set(words)
