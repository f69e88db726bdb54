"""The index folder: FAISS vectors for chunks, NumPy arrays for answer units and vocabulary,
the chunks as JSON, and a manifest that describes and checksums it all. No pickle anywhere.

The index never embeds anything: it stores vectors it is given (see ``build.py``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import faiss
import numpy as np

from .chunking import Chunk, Unit
from .errors import IndexLoadError

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHUNKS_JSON = "chunks.json"
CHUNKS_FAISS = "chunks.faiss"
UNITS_NPY = "units.npy"
VOCAB_NPY = "vocabulary.npy"
PROBES_NPY = "probes.npy"
DATA_FILES = (CHUNKS_JSON, CHUNKS_FAISS, UNITS_NPY, VOCAB_NPY, PROBES_NPY)


@dataclass
class KnowledgeIndex:
    chunks: list[Chunk]
    units: list[Unit]
    chunk_vectors: np.ndarray  # (n_chunks, dim), L2-normalised
    unit_vectors: np.ndarray  # (n_units, dim)
    vocabulary: list[str]  # the corpus's distinct content words, for the scope check
    vocabulary_vectors: np.ndarray  # (n_words, dim)
    manifest: dict = field(default_factory=dict)
    faiss_index: faiss.Index | None = None
    # Questions the scope check compares a question with (topics such articles do not discuss), embedded
    # at build time so that answering embeds nothing but the question; see scope.probes_for.
    probes: list[dict] = field(default_factory=list)
    probe_vectors: np.ndarray | None = None  # (n_probes, dim)

    def __post_init__(self) -> None:
        if self.probe_vectors is None:
            self.probe_vectors = np.zeros((0, self.chunk_vectors.shape[1]), dtype=np.float32)
        for name, vectors, rows in (
            ("probe", self.probe_vectors, len(self.probes)),
            ("chunk", self.chunk_vectors, len(self.chunks)),
            ("unit", self.unit_vectors, len(self.units)),
            ("vocabulary", self.vocabulary_vectors, len(self.vocabulary)),
        ):
            if vectors.ndim != 2 or vectors.shape[0] != rows:
                raise ValueError(f"{name} vectors have shape {vectors.shape}, expected ({rows}, dim)")
        if self.faiss_index is None:
            # Inner product equals cosine similarity on L2-normalised vectors; exact search suits a small corpus.
            self.faiss_index = faiss.IndexFlatIP(self.dimension)
            self.faiss_index.add(np.ascontiguousarray(self.chunk_vectors, dtype=np.float32))

    @property
    def dimension(self) -> int:
        return int(self.chunk_vectors.shape[1])

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(chunk id, cosine) pairs, best first."""
        k = min(k, len(self.chunks))
        scores, ids = self.faiss_index.search(np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32), k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def save(self, folder: Path, manifest: dict) -> None:
        """Write every file to a temporary name, then rename; the manifest goes last and checksums the rest.

        A build killed half-way leaves either the old manifest (whose checksums no longer match, so the
        next load rebuilds) or no change at all; never a manifest that vouches for half-written files.
        """
        folder.mkdir(parents=True, exist_ok=True)
        payload = {
            "chunks": [asdict(c) for c in self.chunks],
            "units": [asdict(u) for u in self.units],
            "vocabulary": self.vocabulary,
            "probes": self.probes,
        }
        blobs = {
            CHUNKS_JSON: json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8"),
            CHUNKS_FAISS: faiss.serialize_index(self.faiss_index).tobytes(),
            UNITS_NPY: _npy_bytes(self.unit_vectors),
            VOCAB_NPY: _npy_bytes(self.vocabulary_vectors),
            PROBES_NPY: _npy_bytes(self.probe_vectors),
        }
        manifest = dict(
            manifest,
            format=FORMAT_VERSION,
            dimension=self.dimension,
            counts={
                "chunks": len(self.chunks),
                "units": len(self.units),
                "vocabulary": len(self.vocabulary),
                "probes": len(self.probes),
            },
            files={name: hashlib.sha256(data).hexdigest() for name, data in blobs.items()},
        )
        _remove_leftovers(folder)
        for name, data in blobs.items():
            _atomic_write(folder / name, data)
        _atomic_write(folder / MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
        self.manifest = manifest

    @classmethod
    def load(cls, folder: Path) -> KnowledgeIndex:
        """Read and verify an index folder; any damage raises IndexLoadError naming the file."""
        manifest = read_manifest(folder)
        blobs = read_verified(folder, manifest)
        try:
            payload = json.loads(blobs[CHUNKS_JSON])
            chunks = [Chunk(**c) for c in payload["chunks"]]
            units = [Unit(**u) for u in payload["units"]]
            index = faiss.deserialize_index(np.frombuffer(blobs[CHUNKS_FAISS], dtype=np.uint8))
            chunk_vectors = index.reconstruct_n(0, index.ntotal)
            unit_vectors = _npy_load(blobs[UNITS_NPY])
            vocab_vectors = _npy_load(blobs[VOCAB_NPY])
            probe_vectors = _npy_load(blobs[PROBES_NPY])
            loaded = cls(
                chunks,
                units,
                chunk_vectors,
                unit_vectors,
                payload["vocabulary"],
                vocab_vectors,
                manifest,
                index,
                payload["probes"],
                probe_vectors,
            )
        except (ValueError, KeyError, TypeError, AttributeError, RuntimeError) as exc:
            raise IndexLoadError(f"Index in {folder} cannot be parsed ({exc})") from exc
        # Checksums prove the files are the ones the manifest vouches for; these prove they fit together.
        dims = {
            "manifest": manifest.get("dimension"),
            CHUNKS_FAISS: loaded.dimension,
            UNITS_NPY: int(unit_vectors.shape[1]),
            VOCAB_NPY: int(vocab_vectors.shape[1]),
            PROBES_NPY: int(probe_vectors.shape[1]),
        }
        if len(set(dims.values())) != 1:
            raise IndexLoadError(f"Index manifest {folder / MANIFEST} does not match its files (dimensions {dims})")
        counts = {
            "chunks": len(chunks),
            "units": len(units),
            "vocabulary": len(loaded.vocabulary),
            "probes": len(loaded.probes),
        }
        if manifest.get("counts") != counts:
            raise IndexLoadError(f"Index manifest {folder / MANIFEST} does not match its files (counts {counts})")
        return loaded


def read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexLoadError(f"No index in {folder} ({MANIFEST} is missing)") from exc
    except (OSError, ValueError) as exc:
        raise IndexLoadError(f"Index manifest {path} is unreadable ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise IndexLoadError(f"Index manifest {path} has an unknown format")
    if not isinstance(manifest.get("files"), dict):
        raise IndexLoadError(f"Index manifest {path} lists no file checksums")
    return manifest


def read_verified(folder: Path, manifest: dict) -> dict[str, bytes]:
    """The data files' bytes, each checked against the manifest's checksum; IndexLoadError names a bad one."""
    blobs = {}
    for name in DATA_FILES:
        path = folder / name
        try:
            blobs[name] = path.read_bytes()
        except OSError as exc:
            raise IndexLoadError(f"Index file {path} cannot be read ({exc.strerror or exc})") from exc
        if hashlib.sha256(blobs[name]).hexdigest() != manifest["files"].get(name):
            raise IndexLoadError(f"Index file {path} is damaged or from another build (checksum mismatch)")
    return blobs


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array, dtype=np.float32), allow_pickle=False)
    return buffer.getvalue()


def _npy_load(data: bytes) -> np.ndarray:
    import io

    return np.load(io.BytesIO(data), allow_pickle=False)


LEFTOVER_AGE_S = 3600
"""A temp file this old belongs to a save that was killed (SIGKILL skips cleanup), not to one still writing."""


def _remove_leftovers(folder: Path) -> None:
    cutoff = time.time() - LEFTOVER_AGE_S
    for name in (MANIFEST, *DATA_FILES):
        for path in folder.glob(f".{name}.*.tmp"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the index is meant to be readable by the app's user
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
