"""Hybrid retrieval: dense (FAISS, cosine) and BM25 (bm25s) rankings fused by reciprocal rank.

Dense search finds paraphrases ("what do they earn" ~ nothing; "duties" ~ responsibilities);
BM25 finds exact terms that a small embedding model blurs ("XGBoost", "R", "Keras").
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .chunking import Chunk
from .config import RRF_K
from .index import KnowledgeIndex
from .text import stems


@dataclass
class Hit:
    chunk: Chunk
    dense: float  # cosine similarity of query and chunk
    bm25: float  # BM25 score (0 when no query term occurs)
    fused: float  # reciprocal-rank-fusion score, normalised so 1.0 = first in both rankings


def _import_bm25s():  # -> the bm25s module
    """bm25s without SciPy: it imports scipy.sparse (~80 ms, a quarter of a one-shot ask's imports) only to offer
    a sparse-matrix backend; its NumPy backend, which rolebot asks for, builds the same arrays. And without tqdm:
    its progress bars (rolebot shows none) import asyncio (~20 ms) and start a monitor thread, which a server
    forking engine workers (bot/workers.py) should not have; bm25s reads DISABLE_TQDM when it is imported."""
    if "bm25s" in sys.modules:
        return _quiet(sys.modules["bm25s"])
    masked = "scipy.sparse" not in sys.modules
    if masked:
        sys.modules["scipy.sparse"] = None  # type: ignore[assignment]  # makes `import scipy.sparse` fail in bm25s
    version = _version_module() if "bm25s.version" not in sys.modules else None
    if version is not None:
        sys.modules["bm25s.version"] = version
    disable_tqdm = os.environ.get("DISABLE_TQDM")
    os.environ["DISABLE_TQDM"] = "1"
    try:
        import bm25s
    except BaseException:
        if version is not None:
            sys.modules.pop("bm25s.version", None)
        raise
    finally:
        if masked:
            del sys.modules["scipy.sparse"]  # any later import of SciPy works as usual
        if disable_tqdm is None:
            del os.environ["DISABLE_TQDM"]
        else:
            os.environ["DISABLE_TQDM"] = disable_tqdm
    return _quiet(bm25s)


def _version_module() -> types.ModuleType | None:
    """A stand-in for ``bm25s.version``, which asks ``importlib.metadata`` for bm25s's version: importing that
    (with the email package it parses metadata with) is ~15 ms of a one-shot ask, for a string bm25s only writes
    into saved indexes (rolebot saves none). The installed ``bm25s-<version>.dist-info`` folder names the same
    version; without exactly one such folder beside the package, bm25s asks importlib.metadata as usual."""
    spec = importlib.util.find_spec("bm25s")
    if spec is None or spec.origin is None:
        return None
    found = list(Path(spec.origin).parent.parent.glob("bm25s-*.dist-info"))
    if len(found) != 1:
        return None
    module = types.ModuleType("bm25s.version")
    module.__version__ = found[0].name[len("bm25s-") : -len(".dist-info")]  # type: ignore[attr-defined]
    return module


def _quiet(bm25s):  # -> the bm25s module
    # bm25s sets its own logger to DEBUG when imported ("Building index from tokens" on every start): let it
    # inherit the application's level instead.
    logging.getLogger("bm25s").setLevel(logging.NOTSET)
    return bm25s


class Retriever:
    def __init__(self, index: KnowledgeIndex) -> None:
        self.index = index
        self.bm25 = _import_bm25s().BM25(csc_backend="numpy")
        # bm25s wants at least one token per document; the heading path is part of each chunk anyway.
        corpus_tokens = [stems(c.embed_text) or ["_"] for c in index.chunks]
        self.bm25.index(corpus_tokens, show_progress=False)
        self.known_stems = {t for doc in corpus_tokens for t in doc}

    def bm25_scores(self, query: str) -> np.ndarray:
        terms = [t for t in stems(query) if t in self.known_stems]  # bm25s rejects unseen tokens
        if not terms:
            return np.zeros(len(self.index.chunks), dtype=np.float32)
        return np.asarray(self.bm25.get_scores(terms), dtype=np.float32)

    def best_dense(self, vector: np.ndarray) -> float:
        """Cosine of the closest chunk: how near the article comes to the question at all."""
        ranked = self.index.search(vector, 1)
        return ranked[0][1] if ranked else 0.0

    def search(self, query: str, vector: np.ndarray, k: int = 8) -> list[Hit]:
        """The top-k chunks, best first, with the scores of each ranking and of the fusion."""
        n = len(self.index.chunks)
        ranked = self.index.search(vector, n)  # exact search over a small corpus: every chunk gets a score
        dense_order = [i for i, _ in ranked]
        dense = np.zeros(n, dtype=np.float32)
        dense[dense_order] = [score for _, score in ranked]
        lexical = self.bm25_scores(query)
        bm25_order = [int(i) for i in np.argsort(-lexical, kind="stable") if lexical[i] > 0]
        fused = np.zeros(n, dtype=np.float64)
        for order in (dense_order, bm25_order):
            for rank, chunk_id in enumerate(order):
                fused[chunk_id] += 1.0 / (RRF_K + rank + 1)
        fused /= 2.0 / (RRF_K + 1)
        best = sorted(range(n), key=lambda i: (-fused[i], -dense[i]))[:k]
        return [Hit(self.index.chunks[i], float(dense[i]), float(lexical[i]), float(fused[i])) for i in best]
