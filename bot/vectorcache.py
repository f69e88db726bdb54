"""Vectors of texts already embedded, kept between index builds so that a build embeds only new text.

Most of what the index embeds does not change from one build to the next: the scope probes (about three
quarters of the tokens), the vocabulary, the sections an edit did not touch. The cache lives in
``config.cache_dir()`` (never in the index folder, which may be committed or read-only), one folder per
encoder, keyed by each text's SHA-256. An encoder takes part by having a ``cache_key`` that names the model
files and the code that turns them into vectors; one without it is never cached.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np

from . import config

log = logging.getLogger("rolebot")

HASHES = "texts.json"
VECTORS = "vectors.npy"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class VectorCache:
    """Text → vector for one encoder; ``save`` keeps the last build's texts only, so the cache stays its size."""

    def __init__(self, key: str, folder: Path | None = None) -> None:
        tag = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
        self.folder = (folder or config.cache_dir()) / "vectors" / tag
        self.key = key

    def load(self) -> dict[str, np.ndarray]:
        """Hash → vector; empty when there is no cache or it cannot be read (a cache is never worth an error)."""
        try:
            meta = json.loads((self.folder / HASHES).read_text(encoding="utf-8"))
            vectors = np.load(self.folder / VECTORS, allow_pickle=False)
        except (OSError, ValueError):
            return {}
        hashes = meta.get("hashes") if isinstance(meta, dict) and meta.get("key") == self.key else None
        if not isinstance(hashes, list) or vectors.ndim != 2 or len(hashes) != len(vectors):
            return {}
        return dict(zip(hashes, vectors, strict=True))

    def save(self, texts: list[str], vectors: np.ndarray) -> None:
        """Write atomically (vectors first, then the list that vouches for them); a failure only costs time."""
        from .index import _atomic_write, _npy_bytes

        hashes = list(dict.fromkeys(text_hash(t) for t in texts))
        rows = {text_hash(t): i for i, t in enumerate(texts)}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _atomic_write(self.folder / VECTORS, _npy_bytes(vectors[[rows[h] for h in hashes]]))
            _atomic_write(self.folder / HASHES, json.dumps({"key": self.key, "hashes": hashes}).encode("utf-8"))
        except OSError as exc:
            log.info("Cannot save embedded vectors to %s (%s); the next build embeds everything", self.folder, exc)
