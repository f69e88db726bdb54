"""bot/minilm.py: the NumPy encoder gives sentence-transformers' vectors, so queries it embeds match the index."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bot import config
from bot.chunking import chunk_documents
from bot.corpus import load_corpus
from bot.embeddings import FastEmbedder, SentenceTransformerEmbedder, get_embedder, resolve_model
from bot.minilm import PACK_TOKENS, NumpyMiniLM, is_supported

ODD_INPUTS = [
    "",
    " ",
    "?",
    "R",
    "C++ vs C#",
    "AI",
    "ÀÍ éngînéèr — naïve façade",
    "人工智能工程师做什么？",
    "🚀🚀🚀 emoji only 🤖",
    "\u200bzero\u200bwidth",
    "x" * 3000,  # one very long word: many word pieces, truncated at the model's limit
    "What does an AI engineer do? " * 120,  # far beyond 256 word pieces
]


@pytest.fixture(scope="module")
def reference() -> SentenceTransformerEmbedder:
    embedder = get_embedder("reference")
    assert isinstance(embedder, SentenceTransformerEmbedder)
    return embedder


@pytest.fixture(scope="module")
def fast() -> FastEmbedder:
    embedder = get_embedder("query")
    assert isinstance(embedder, FastEmbedder)
    return embedder


@pytest.fixture(scope="module")
def article_texts() -> list[str]:
    chunks, units = chunk_documents(load_corpus(config.corpus_dir()))
    return [c.embed_text for c in chunks] + [u.embed_text for u in units]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_bundled_model_is_supported() -> None:
    assert is_supported(Path(resolve_model().location))


def _one_at_a_time(embedder: FastEmbedder, texts: list[str]) -> np.ndarray:
    # Each text in a pass of its own: the reference the packed batches are checked against.
    return np.vstack([embedder.encode([text]) for text in texts])


def test_same_vectors_as_sentence_transformers_on_the_article(reference, fast, article_texts) -> None:
    expected = reference.encode(article_texts)
    got = _one_at_a_time(fast, article_texts)
    assert got.shape == expected.shape == (len(article_texts), 384)
    assert got.dtype == np.float32
    cosines = _cosines(got, expected)
    assert cosines.min() > 0.9999, article_texts[int(cosines.argmin())]


def test_same_vectors_on_odd_inputs(reference, fast) -> None:
    cosines = _cosines(_one_at_a_time(fast, ODD_INPUTS), reference.encode(ODD_INPUTS))
    assert cosines.min() > 0.9999, ODD_INPUTS[int(cosines.argmin())][:40]


EXACT = 1e-6
"""Largest 1 - cos between a fast encoder's vector and sentence-transformers': float32 rounding gives ~1e-7."""


def test_numpy_vectors_equal_the_reference_to_float32_rounding(reference, article_texts) -> None:
    texts = article_texts + ODD_INPUTS
    encoder = NumpyMiniLM(Path(resolve_model().location))
    expected = reference.encode(texts)
    for got in (encoder.encode(texts), np.vstack([encoder.encode([t]) for t in texts])):  # packed, then alone
        assert (1 - _cosines(got, expected)).max() <= EXACT


def test_batch_gives_the_same_vectors_as_one_at_a_time(fast, article_texts) -> None:
    # Mixed lengths packed into one sequence: no text may attend to another's tokens or share its mean.
    texts = article_texts[:6] + ODD_INPUTS[:5]
    batch = fast.encode(texts)
    single = _one_at_a_time(fast, texts)
    assert _cosines(batch, single).min() > 0.99999
    np.testing.assert_allclose(batch, single, atol=1e-5)


def test_a_batch_across_several_packs_keeps_each_vector(reference, fast, article_texts) -> None:
    # More tokens than one pack holds, a text that fills a pack on its own, and words after it.
    texts = [*article_texts, ODD_INPUTS[-1], "nutshell", "badge", "R"]
    lengths = [len(e.ids) for e in fast.encoder.tokenize(texts)]
    assert sum(lengths) > 3 * PACK_TOKENS and max(lengths) >= PACK_TOKENS
    batch = fast.encode(texts)
    assert batch.shape == (len(texts), 384)
    np.testing.assert_allclose(batch, _one_at_a_time(fast, texts), atol=1e-5)
    assert _cosines(batch, reference.encode(texts)).min() > 0.9999


def test_vectors_are_unit_length_and_discriminate(fast) -> None:
    vectors = fast.encode(["What does an AI engineer do?", "What do AI engineers do?", "How do I bake bread?"])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > 0.9
    assert vectors[0] @ vectors[2] < 0.3


def test_empty_batch(fast) -> None:
    assert fast.encode([]).shape == (0, 384)


def _model_copy(tmp_path: Path) -> Path:
    source = Path(resolve_model().location)
    copy = tmp_path / "model"
    copy.mkdir()
    for item in source.iterdir():
        (copy / item.name).symlink_to(item)  # the weights stay where they are
    (copy / "1_Pooling").unlink()
    shutil.copytree(source / "1_Pooling", copy / "1_Pooling")
    for name in ("config.json", "modules.json"):
        (copy / name).unlink()
        shutil.copy(source / name, copy / name)
    return copy


def test_a_local_copy_is_supported_and_encodes_alike(tmp_path: Path, fast) -> None:
    copy = _model_copy(tmp_path)
    assert is_supported(copy)
    text = ["AI Engineers optimize models for edge devices."]
    np.testing.assert_allclose(NumpyMiniLM(copy).encode(text), fast.encode(text), atol=1e-6)


@pytest.mark.parametrize(
    "damage",
    [
        lambda m: (m / "tokenizer.json").unlink(),
        lambda m: (m / "config.json").write_text(json.dumps({"model_type": "roberta", "hidden_act": "gelu"})),
        lambda m: (m / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True})),
        lambda m: (m / "1_Pooling" / "config.json").write_text(
            json.dumps({"pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": True})
        ),
        lambda m: (m / "modules.json").write_text("not json"),
        lambda m: (m / "modules.json").write_text(
            json.dumps(
                [{"type": "sentence_transformers.models.Transformer"}, {"type": "sentence_transformers.models.Pooling"}]
            )
        ),
    ],
    ids=["no-tokenizer", "not-bert", "cls-pooling", "mean-and-max", "bad-modules", "no-normalize"],
)
def test_models_it_cannot_reproduce_are_not_supported(tmp_path: Path, damage) -> None:
    copy = _model_copy(tmp_path)
    damage(copy)
    assert not is_supported(copy)


def test_tensors_read_one_by_one_equal_safetensors_own_reader() -> None:
    from safetensors.numpy import load_file

    from bot.minilm import SafetensorsFile

    path = Path(resolve_model().location) / "model.safetensors"
    expected = load_file(str(path))
    with SafetensorsFile(path) as weights:
        assert set(weights.header) == set(expected)
        for name, value in expected.items():
            for got in (weights.read(name), weights.map(name)):  # map: a view of the file, as the words are held
                assert got.dtype == value.dtype and got.shape == value.shape, name
                np.testing.assert_array_equal(got, value, err_msg=name)


def test_a_truncated_weights_file_is_refused(tmp_path: Path) -> None:
    from bot.minilm import SafetensorsFile

    source = Path(resolve_model().location) / "model.safetensors"
    cut = tmp_path / "model.safetensors"
    cut.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    with SafetensorsFile(cut) as weights, pytest.raises(ValueError, match="truncated"):
        for name in weights.header:
            weights.read(name)
    with SafetensorsFile(cut) as weights, pytest.raises(ValueError, match="truncated"):
        for name in weights.header:
            weights.map(name)


def test_tokenize_gives_encode_batchs_word_pieces(fast, article_texts) -> None:
    # One text at a time on the calling thread, instead of the tokenizer's thread pool: the same ids, truncated alike.
    texts = article_texts + ODD_INPUTS
    expected = fast.encoder.tokenizer.encode_batch(texts)
    assert [e.ids for e in fast.encoder.tokenize(texts)] == [e.ids for e in expected]
    assert max(len(e.ids) for e in expected) == 256  # the long inputs were cut at the model's limit


def _cached_encoder(folder: Path, key: str = "numpy-minilm-test") -> NumpyMiniLM:
    from bot.minilm import LayerCache

    return NumpyMiniLM(Path(resolve_model().location), LayerCache(folder, key))


def _cache_files(folder: Path) -> list[Path]:
    return sorted((folder / "minilm").glob("*/layers.*"))


def test_cached_layers_give_the_same_weights_and_vectors(tmp_path: Path, monkeypatch) -> None:
    text = ["How is an AI Engineer different from an ML Engineer?", "R"]
    computed = NumpyMiniLM(Path(resolve_model().location))
    _cached_encoder(tmp_path)  # computes the layers and writes the cache
    assert [p.name for p in _cache_files(tmp_path)] == ["layers.f32", "layers.json"]
    monkeypatch.setattr(NumpyMiniLM, "_load_layers", lambda *a: pytest.fail("layers recomputed despite the cache"))
    cached = _cached_encoder(tmp_path)
    assert set(cached.w) == set(computed.w)
    for name, value in computed.w.items():
        assert np.array_equal(cached.w[name], value), name
    assert np.array_equal(cached.encode(text), computed.encode(text))  # bit for bit


@pytest.mark.parametrize(
    "spoil",
    [
        lambda f: f.write_bytes(f.read_bytes()[: f.stat().st_size // 2]) if f.suffix == ".f32" else None,
        lambda f: f.write_bytes(b"\x00" * 4 + f.read_bytes()[4:]) if f.suffix == ".f32" else None,
        lambda f: f.write_text("{not json") if f.suffix == ".json" else None,
        lambda f: f.unlink() if f.suffix == ".json" else None,
    ],
    ids=["truncated", "changed-bytes", "bad-json", "no-json"],
)
def test_damaged_layer_cache_is_recomputed_and_rewritten(tmp_path: Path, spoil) -> None:
    _cached_encoder(tmp_path)
    before = {p.name: p.read_bytes() for p in _cache_files(tmp_path)}
    for path in _cache_files(tmp_path):
        spoil(path)
    calls = []
    original = NumpyMiniLM._load_layers

    def counting(self, *args):
        calls.append(1)
        return original(self, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(NumpyMiniLM, "_load_layers", counting)
        encoder = _cached_encoder(tmp_path)
    assert calls == [1]
    assert {p.name: p.read_bytes() for p in _cache_files(tmp_path)} == before
    text = ["What does an AI engineer do?"]
    assert np.array_equal(encoder.encode(text), NumpyMiniLM(Path(resolve_model().location)).encode(text))


def test_layer_cache_of_another_key_is_not_used(tmp_path: Path, monkeypatch) -> None:
    # Each key has its own folder; the key inside layers.json is checked too (a hash prefix may collide).
    _cached_encoder(tmp_path, key="numpy-minilm-new")
    (meta,) = (p for p in _cache_files(tmp_path) if p.suffix == ".json")
    meta.write_text(json.dumps(json.loads(meta.read_text()) | {"key": "numpy-minilm-old"}))
    monkeypatch.setattr(NumpyMiniLM, "_load_layers", lambda *a: pytest.fail("computed"))
    with pytest.raises(pytest.fail.Exception):
        _cached_encoder(tmp_path, key="numpy-minilm-new")


def test_unwritable_or_missing_cache_folder_still_encodes(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")  # mkdir under it fails even for root, unlike a chmod'ed folder
    text = ["What does an AI engineer do?"]
    expected = NumpyMiniLM(Path(resolve_model().location)).encode(text)
    assert np.array_equal(_cached_encoder(blocked).encode(text), expected)
    assert blocked.read_text() == "not a folder"
    missing = tmp_path / "not" / "yet"
    assert np.array_equal(_cached_encoder(missing).encode(text), expected)
    assert len(_cache_files(missing)) == 2


def test_fast_embedder_keeps_its_layers_in_rolebot_cache(tmp_path: Path) -> None:
    FastEmbedder(resolve_model())
    assert len(_cache_files(config.cache_dir())) == 2
    assert str(config.cache_dir()).startswith(str(tmp_path))
