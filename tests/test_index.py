"""bot/index.py: the index folder round-trips, is written atomically, holds no pickle, and detects damage."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from helpers import HashEmbedder

from bot import index as index_module
from bot.build import build_index
from bot.errors import IndexLoadError
from bot.index import (
    CHUNKS_FAISS,
    CHUNKS_JSON,
    DATA_FILES,
    MANIFEST,
    PROBES_NPY,
    UNITS_NPY,
    VOCAB_NPY,
    KnowledgeIndex,
)


@pytest.fixture
def built(corpus: Path) -> tuple[KnowledgeIndex, dict]:
    return build_index(corpus, embedder=HashEmbedder())


@pytest.fixture
def saved(built, tmp_path: Path) -> Path:
    index, manifest = built
    folder = tmp_path / "index"
    index.save(folder, manifest)
    return folder


def test_round_trip(built, saved: Path) -> None:
    index, _ = built
    loaded = KnowledgeIndex.load(saved)
    assert loaded.chunks == index.chunks
    assert loaded.units == index.units
    assert loaded.vocabulary == index.vocabulary
    np.testing.assert_array_equal(loaded.chunk_vectors, index.chunk_vectors)
    np.testing.assert_array_equal(loaded.unit_vectors, index.unit_vectors)
    np.testing.assert_array_equal(loaded.vocabulary_vectors, index.vocabulary_vectors)
    assert loaded.manifest["model"] == "tests/hash-embedder"
    assert loaded.manifest["dimension"] == 32
    assert loaded.manifest["counts"] == {
        "chunks": len(index.chunks),
        "units": len(index.units),
        "vocabulary": len(index.vocabulary),
        "probes": len(index.probes),
    }
    query = index.chunk_vectors[5]
    assert loaded.search(query, 3) == index.search(query, 3)
    assert loaded.search(query, 1)[0][0] == 5


def test_search_is_cosine_best_first(built) -> None:
    index, _ = built
    query = index.chunk_vectors[2]
    results = index.search(query, len(index.chunks) + 10)  # k beyond the size is clipped
    assert len(results) == len(index.chunks)
    scores = [s for _, s in results]
    assert scores == sorted(scores, reverse=True)
    expected = index.chunk_vectors @ query
    for chunk_id, score in results:
        assert score == pytest.approx(float(expected[chunk_id]), abs=1e-5)


def test_files_are_world_readable_and_no_temporaries_remain(saved: Path) -> None:
    names = sorted(p.name for p in saved.iterdir())
    assert names == sorted([*DATA_FILES, MANIFEST])
    for path in saved.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path.name


def test_no_pickle_anywhere(saved: Path) -> None:
    for name in (UNITS_NPY, VOCAB_NPY, PROBES_NPY):
        array = np.load(saved / name, allow_pickle=False)
        assert array.dtype == np.float32 and array.ndim == 2
    payload = json.loads((saved / CHUNKS_JSON).read_text(encoding="utf-8"))
    assert set(payload) == {"chunks", "units", "vocabulary", "probes"}
    assert payload["chunks"][0]["source"] == "ai-engineer-vs-ml-engineer.md"
    manifest = json.loads((saved / MANIFEST).read_text(encoding="utf-8"))
    for name in DATA_FILES:
        assert manifest["files"][name] == hashlib.sha256((saved / name).read_bytes()).hexdigest()


@pytest.mark.parametrize("name", DATA_FILES)
def test_a_modified_file_is_detected_and_named(saved: Path, name: str) -> None:
    path = saved / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit
    path.write_bytes(bytes(data))
    with pytest.raises(IndexLoadError, match=name.replace(".", r"\.")):
        KnowledgeIndex.load(saved)


@pytest.mark.parametrize("name", DATA_FILES)
def test_a_missing_file_is_named(saved: Path, name: str) -> None:
    (saved / name).unlink()
    with pytest.raises(IndexLoadError, match=name.replace(".", r"\.")):
        KnowledgeIndex.load(saved)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "manifest.json is missing"),
        (b"{not json", "unreadable"),
        (b'{"format": 999}', "unknown format"),
        (b"[]", "unknown format"),
    ],
)
def test_a_bad_manifest_is_named(saved: Path, content: bytes | None, message: str) -> None:
    manifest = saved / MANIFEST
    if content is None:
        manifest.unlink()
    else:
        manifest.write_bytes(content)
    with pytest.raises(IndexLoadError, match=message):
        KnowledgeIndex.load(saved)


def test_garbage_that_matches_its_checksum_is_still_an_index_load_error(saved: Path) -> None:
    """A consistent but unparseable folder (e.g. written by a broken tool) is not a crash."""
    garbage = b"\x93NUMPY garbage"
    (saved / UNITS_NPY).write_bytes(garbage)
    manifest = json.loads((saved / MANIFEST).read_text())
    manifest["files"][UNITS_NPY] = hashlib.sha256(garbage).hexdigest()
    (saved / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexLoadError, match="cannot be parsed"):
        KnowledgeIndex.load(saved)


def test_an_interrupted_save_keeps_the_old_index(built, saved: Path, monkeypatch) -> None:
    index, manifest = built
    before = {p.name: p.read_bytes() for p in saved.iterdir()}
    real_replace = os.replace
    renamed: list[str] = []

    def crash_on_second_rename(src, dst) -> None:
        if renamed:
            raise OSError(28, "No space left on device")
        renamed.append(Path(dst).name)
        real_replace(src, dst)

    monkeypatch.setattr(index_module.os, "replace", crash_on_second_rename)
    changed = KnowledgeIndex(
        index.chunks[:3],
        index.units,
        index.chunk_vectors[:3],
        index.unit_vectors,
        index.vocabulary,
        index.vocabulary_vectors,
    )
    with pytest.raises(OSError, match="No space"):
        changed.save(saved, dict(manifest, model="tests/other"))
    assert sorted(p.name for p in saved.iterdir()) == sorted(before)  # no temporary files left behind
    assert (saved / MANIFEST).read_bytes() == before[MANIFEST]  # the manifest is written last
    # The one file that was replaced no longer matches the old manifest, so loading refuses it, by name.
    assert renamed == [CHUNKS_JSON]
    with pytest.raises(IndexLoadError, match=CHUNKS_JSON.replace(".", r"\.")):
        KnowledgeIndex.load(saved)


def test_vectors_must_match_their_payload(built) -> None:
    index, _ = built
    with pytest.raises(ValueError, match="unit vectors"):
        KnowledgeIndex(
            index.chunks,
            index.units,
            index.chunk_vectors,
            index.unit_vectors[:-1],
            index.vocabulary,
            index.vocabulary_vectors,
        )


def test_faiss_file_holds_every_chunk(saved: Path, built) -> None:
    import faiss

    index, _ = built
    stored = faiss.read_index(str(saved / CHUNKS_FAISS))
    assert stored.ntotal == len(index.chunks)
    assert stored.d == 32
