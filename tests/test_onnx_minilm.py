"""bot/onnx_minilm.py: the onnxruntime encoder gives sentence-transformers' vectors and the NumPy encoder's answers.

Skipped where onnxruntime is not installed (it is optional: `pip install 'rolebot[fast]'`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_minilm import EXACT, ODD_INPUTS, _cosines

from bot import config, embeddings, onnx_minilm
from bot.chunking import chunk_documents
from bot.corpus import load_corpus
from bot.embeddings import FastEmbedder, get_embedder, resolve_model
from bot.errors import MissingDependencyError
from bot.minilm import NumpyMiniLM

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def texts() -> list[str]:
    chunks, units = chunk_documents(load_corpus(config.corpus_dir()))
    return [c.embed_text for c in chunks] + [u.embed_text for u in units] + ODD_INPUTS


@pytest.fixture(scope="module")
def onnx() -> onnx_minilm.OnnxMiniLM:
    return onnx_minilm.OnnxMiniLM(Path(resolve_model().location))


def test_vectors_equal_the_reference_to_float32_rounding(onnx, texts) -> None:
    expected = get_embedder("reference").encode(texts)
    for got in (onnx.encode(texts), np.vstack([onnx.encode([t]) for t in texts])):  # packed, then alone
        assert got.shape == expected.shape and got.dtype == np.float32
        assert (1 - _cosines(got, expected)).max() <= EXACT


def test_vectors_equal_the_numpy_encoders(onnx, texts) -> None:
    numpy_vectors = NumpyMiniLM(Path(resolve_model().location)).encode(texts)
    assert (1 - _cosines(onnx.encode(texts), numpy_vectors)).max() <= EXACT


def test_layers_are_the_numpy_layers(onnx) -> None:
    # The graph itself, on inputs no text gives: two texts packed (a block mask), activations far from zero.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, onnx.dimension)).astype(np.float32) * 3
    segment = np.array([0, 0, 0, 1, 1, 1, 1])
    bias = np.where(segment[:, None] == segment[None, :], 0.0, np.finfo(np.float32).min).astype(np.float32)
    expected = NumpyMiniLM(Path(resolve_model().location))._layers(x, bias)
    np.testing.assert_allclose(onnx._layers(x, bias), expected, atol=1e-4)


def test_auto_uses_onnxruntime_and_numpy_can_be_chosen(monkeypatch) -> None:
    monkeypatch.delenv("ROLEBOT_ENCODER", raising=False)
    monkeypatch.setattr(embeddings, "_cache", {})
    auto = get_embedder("query")
    assert isinstance(auto, FastEmbedder) and auto.backend == "onnxruntime"
    assert isinstance(auto.encoder, onnx_minilm.OnnxMiniLM)
    assert get_embedder("build") is auto  # one encoder embeds the index and the questions
    monkeypatch.setenv("ROLEBOT_ENCODER", "NumPy")
    chosen = get_embedder("query")
    assert chosen.backend == "numpy" and not isinstance(chosen.encoder, onnx_minilm.OnnxMiniLM)
    assert chosen.cache_key != auto.cache_key  # vectors cached by one are not reused by the other


def test_a_one_shot_process_starts_the_numpy_encoder_unless_told_otherwise(monkeypatch) -> None:
    monkeypatch.delenv("ROLEBOT_ENCODER", raising=False)
    monkeypatch.setattr(embeddings, "_cache", {})
    config.answering_once()  # what `rolebot ask` says (conftest resets it after each test)
    assert config.encoder() == config.ONE_SHOT_ENCODER == "numpy"
    assert get_embedder("query").backend == "numpy"
    monkeypatch.setenv("ROLEBOT_ENCODER", "onnxruntime")  # asked for by name, it is what runs
    assert config.encoder() == "onnxruntime" and get_embedder("query").backend == "onnxruntime"


def test_rolebot_ask_says_it_answers_once(monkeypatch, bot) -> None:
    from click.testing import CliRunner

    from bot.cli import cli

    monkeypatch.delenv("ROLEBOT_ENCODER", raising=False)
    assert config.encoder() == "auto"
    result = CliRunner().invoke(cli, ["ask", "What tools does each role use?"], obj=bot)
    assert result.exit_code == 0, result.output
    assert config.encoder() == "numpy"


def test_asking_for_onnxruntime_without_it_says_how_to_install_it(monkeypatch) -> None:
    monkeypatch.setattr(embeddings, "_cache", {})
    monkeypatch.setattr(onnx_minilm, "available", lambda: False)
    monkeypatch.setenv("ROLEBOT_ENCODER", "onnxruntime")
    with pytest.raises(MissingDependencyError, match=r"rolebot\[fast\]"):
        get_embedder("query")
    monkeypatch.delenv("ROLEBOT_ENCODER")
    assert get_embedder("query").backend == "numpy"  # auto: NumPy where onnxruntime is missing
