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
    index = loaded.index
    assert spy.texts == len(index.chunks) + len(index.units) + len(index.vocabulary) + len(index.probes)
    assert {p["kind"] for p in index.probes} == {"topic"}  # the scope check's probes, embedded once
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


# --- a rebuild of an unchanged corpus changes no file ----------------------------------------------------

BUILD_FIELDS = {
    "model",
    "corpus_fingerprint",
    "chunker_version",
    "probes_fingerprint",
    "versions",
    "format",
    "dimension",
    "counts",
    "files",
}
"""Every field a build writes to manifest.json: none of them changes when an unchanged corpus is rebuilt."""


class NoisyEmbedder(HashEmbedder):
    """The spy's vectors plus noise of a chosen size, as another CPU's kernels would give."""

    def __init__(self, noise: float) -> None:
        super().__init__(16, "tests/spy-embedder")
        self.noise = noise
        self.rng = np.random.default_rng(7)

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = super().encode(texts)
        return (vectors + self.rng.uniform(-self.noise, self.noise, vectors.shape)).astype(np.float32)


def file_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_the_manifest_holds_exactly_the_build_fields(spy: HashEmbedder, corpus: Path, folder: Path) -> None:
    load_or_build(corpus, folder)
    assert set(json.loads((folder / MANIFEST).read_text())) == BUILD_FIELDS  # no build time or duration


def test_the_committed_manifest_has_exactly_the_fields_a_build_writes() -> None:
    assert set(json.loads((config.index_dir() / MANIFEST).read_text())) == BUILD_FIELDS


def test_rebuilding_with_float_noise_keeps_every_file_byte_for_byte(
    spy: HashEmbedder, corpus: Path, folder: Path, monkeypatch
) -> None:
    load_or_build(corpus, folder)
    before = file_bytes(folder)
    noisy = NoisyEmbedder(noise=1e-7)
    monkeypatch.setattr(build, "get_embedder", lambda purpose="query": noisy)
    monkeypatch.setattr(build, "_versions", lambda: {"numpy": "another build"})
    loaded = load_or_build(corpus, folder, rebuild=True)
    assert loaded.built and noisy.texts > 0  # it did embed again
    assert file_bytes(folder) == before  # ... and kept the saved vectors and the versions that made them
    np.testing.assert_array_equal(loaded.index.unit_vectors, KnowledgeIndex.load(folder).unit_vectors)
    assert loaded.index.search(loaded.index.chunk_vectors[0], 1)[0][0] == 0  # the kept vectors are searched


def test_rebuilding_with_other_vectors_writes_them(spy: HashEmbedder, corpus: Path, folder: Path, monkeypatch) -> None:
    load_or_build(corpus, folder)
    before = file_bytes(folder)
    noisy = NoisyEmbedder(noise=1e-3)  # well past float noise: another model, or other text
    monkeypatch.setattr(build, "get_embedder", lambda purpose="query": noisy)
    loaded = load_or_build(corpus, folder, rebuild=True)
    after = file_bytes(folder)
    assert after["units.npy"] != before["units.npy"] and after[MANIFEST] != before[MANIFEST]
    assert after[CHUNKS_JSON] == before[CHUNKS_JSON]
    np.testing.assert_array_equal(loaded.index.unit_vectors, KnowledgeIndex.load(folder).unit_vectors)


def test_a_legacy_manifest_loses_its_build_time_on_the_next_rebuild(spy: HashEmbedder, corpus: Path, folder: Path):
    """Indexes built before the manifest was made deterministic carried built_at and build_seconds."""
    load_or_build(corpus, folder)
    data = {name: content for name, content in file_bytes(folder).items() if name != MANIFEST}
    manifest = json.loads((folder / MANIFEST).read_text())
    (folder / MANIFEST).write_text(json.dumps(manifest | {"built_at": "2026-01-01T00:00:00+00:00", "build_seconds": 8}))
    load_or_build(corpus, folder, rebuild=True)
    assert json.loads((folder / MANIFEST).read_text()) == manifest
    assert {name: content for name, content in file_bytes(folder).items() if name != MANIFEST} == data


@pytest.mark.slow
def test_rolebot_index_rebuild_of_the_committed_index_leaves_git_status_clean(tmp_path: Path) -> None:
    """The real model, in a new process, on a git checkout of the committed corpus and index."""
    import os
    import shutil
    import subprocess
    import sys

    repo = tmp_path / "repo"
    shutil.copytree(config.corpus_dir(), repo / "corpus")
    shutil.copytree(config.index_dir(), repo / "index")

    def git(*args: str) -> str:
        command = ["git", "-c", "user.name=rolebot-tests", "-c", "user.email=tests@rolebot.invalid", *args]
        return subprocess.run(command, cwd=repo, check=True, capture_output=True, text=True).stdout

    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "committed index")
    rolebot = Path(sys.executable).with_name("rolebot")
    env = os.environ | {"ROLEBOT_CORPUS": str(repo / "corpus"), "ROLEBOT_INDEX": str(repo / "index")}
    result = subprocess.run([str(rolebot), "index", "--rebuild"], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Built the index: rebuild requested." in result.stdout
    assert git("status", "--porcelain") == ""


# --- serving-only installs --------------------------------------------------------------------------------


@pytest.mark.parametrize("rebuild", [False, True])
def test_without_build_dependencies_a_missing_index_says_what_to_install(
    corpus: Path, folder: Path, monkeypatch, rebuild: bool
) -> None:
    from bot.errors import MissingDependencyError

    monkeypatch.setattr(build, "can_build", lambda: False)
    with pytest.raises(MissingDependencyError) as caught:
        load_or_build(corpus, folder, rebuild=rebuild)
    message = str(caught.value)
    assert "\n" not in message and "sentence-transformers and torch" in message
    assert "make setup" in message and "pip install -e '.[build]'" in message
    assert ("manifest.json is missing" in message) != rebuild  # the reason, when there is one
    assert not folder.exists()


def test_without_build_dependencies_a_current_index_still_loads(monkeypatch) -> None:
    monkeypatch.setattr(build, "can_build", lambda: False)
    assert not load_or_build().built


def test_texts_are_embedded_in_batches_of_similar_length(corpus: Path) -> None:
    """A batch is padded to its longest text: passages and short probes are not mixed, and every vector still
    lands on its own text."""
    batches: list[list[str]] = []

    class Recording(HashEmbedder):
        def encode(self, texts):
            batches.append(list(texts))
            return super().encode(texts)

    index, _ = build_index(corpus, embedder=Recording())
    lengths = [len(t) for batch in batches for t in batch]
    assert lengths == sorted(lengths) and all(len(b) <= 64 for b in batches)
    alone = HashEmbedder()
    np.testing.assert_array_equal(index.chunk_vectors, alone.encode([c.embed_text for c in index.chunks]))
    np.testing.assert_array_equal(index.probe_vectors, alone.encode([p["text"] for p in index.probes]))


# --- the vector cache (bot/vectorcache.py) ------------------------------------------------------------------


class CachedHashEmbedder(HashEmbedder):
    cache_key = "tests/hash-embedder v1"


def test_a_build_embeds_only_texts_no_earlier_build_embedded(corpus: Path) -> None:
    embedder = CachedHashEmbedder(16)
    first, _ = build_index(corpus, embedder=embedder)
    total = embedder.texts
    assert total == len(first.chunks) + len(first.units) + len(first.vocabulary) + len(first.probes)
    embedder.texts = 0
    again, _ = build_index(corpus, embedder=embedder)
    assert embedder.texts == 0  # everything came from the cache...
    np.testing.assert_array_equal(again.probe_vectors, first.probe_vectors)  # ... with the same vectors
    np.testing.assert_array_equal(again.vocabulary_vectors, first.vocabulary_vectors)
    article = corpus / "ai-engineer-vs-ml-engineer.md"
    article.write_text(article.read_text(encoding="utf-8") + "\n## Extra\n\nAI Engineers write runbooks.\n")
    embedder.texts = 0
    edited, _ = build_index(corpus, embedder=embedder)
    assert 0 < embedder.texts < total / 10  # the new section, its units and new words; not the probes
    fresh, _ = build_index(corpus, embedder=HashEmbedder(16))
    np.testing.assert_array_equal(edited.chunk_vectors, fresh.chunk_vectors)
    np.testing.assert_array_equal(edited.probe_vectors, fresh.probe_vectors)


def test_another_encoder_does_not_reuse_the_cache(corpus: Path) -> None:
    build_index(corpus, embedder=CachedHashEmbedder(16))
    other = CachedHashEmbedder(16)
    other.cache_key = "tests/hash-embedder v2"
    built, _ = build_index(corpus, embedder=other)
    assert other.texts == len(built.chunks) + len(built.units) + len(built.vocabulary) + len(built.probes)


def test_a_damaged_cache_is_ignored(corpus: Path) -> None:
    from bot.vectorcache import VectorCache

    embedder = CachedHashEmbedder(16)
    build_index(corpus, embedder=embedder)
    (VectorCache(embedder.cache_key).folder / "vectors.npy").write_bytes(b"not numpy")
    embedder.texts = 0
    built, _ = build_index(corpus, embedder=embedder)
    assert embedder.texts == len(built.chunks) + len(built.units) + len(built.vocabulary) + len(built.probes)


@pytest.mark.slow
def test_the_index_built_without_torch_matches_the_reference_encoder(corpus: Path) -> None:
    """The NumPy encoder builds the index; sentence-transformers, the reference, gives the same vectors."""
    from bot.embeddings import FastEmbedder, get_embedder

    assert isinstance(get_embedder("build"), FastEmbedder)
    built, _ = build_index(corpus)
    texts = [c.embed_text for c in built.chunks] + built.vocabulary[:200] + [p["text"] for p in built.probes[:200]]
    vectors = np.concatenate([built.chunk_vectors, built.vocabulary_vectors[:200], built.probe_vectors[:200]])
    reference = get_embedder("reference").encode(texts)
    assert ((vectors * reference).sum(1)).min() > 0.9999
    assert np.abs(vectors - reference).max() < build.VECTOR_TOLERANCE  # so a rebuild keeps the committed files
