"""corpus → chunks → embeddings → index folder; and the load path that rebuilds when needed."""

from __future__ import annotations

import hashlib
import json
import logging
import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from . import config
from .chunking import CHUNKER_VERSION, chunk_documents
from .corpus import fingerprint, load_corpus
from .embeddings import Embedder, can_build, get_embedder, resolve_model
from .errors import IndexLoadError, MissingDependencyError
from .index import KnowledgeIndex, read_manifest, read_verified
from .profile import load_profile
from .scope import probes_fingerprint, probes_for
from .text import STOPWORDS, tokens
from .vectorcache import VectorCache, text_hash

log = logging.getLogger("rolebot")

Progress = Callable[[str, float], None]
REBUILD_HINT = "rebuild it with `rolebot index --rebuild`"


@dataclass
class LoadedIndex:
    index: KnowledgeIndex
    folder: Path  # where it was read from or written to
    built: bool  # True when this call (re)built it
    reason: str  # why it was built, or "current"
    corpus: Path = config.PROJECT_ROOT / "corpus"  # the corpus it was built from (its profile lives there)


def vocabulary(texts: list[str]) -> list[str]:
    """The corpus's distinct content words, in a stable order."""
    words = {
        t for text in texts for t in tokens(text) if t not in STOPWORDS and not t.isdigit() and (len(t) > 1 or t == "r")
    }
    return sorted(words)


def expected_manifest(corpus: Path, model_id: str) -> dict:
    return {
        "model": model_id,
        "corpus_fingerprint": fingerprint(corpus),
        "chunker_version": CHUNKER_VERSION,
        "probes_fingerprint": probes_fingerprint(),
    }


def stale_reason(folder: Path, corpus: Path, model_id: str | None = None) -> str | None:
    """None when ``folder`` holds an intact index for this corpus, model and chunker; else the reason, in words."""
    try:
        manifest = read_manifest(folder)
    except IndexLoadError as exc:
        return str(exc)
    spec = resolve_model()
    expected = expected_manifest(corpus, model_id or spec.model_id)
    if manifest.get("model") != expected["model"]:
        return f"the index was built with model {manifest.get('model')!r}, not {expected['model']!r}"
    dimension = model_dimension(spec.location) if expected["model"] == spec.model_id else None
    if dimension is not None and manifest.get("dimension") != dimension:
        # Same model name, other vectors (e.g. ROLEBOT_MODEL now names another folder): queries would not fit.
        return f"the index holds {manifest.get('dimension')}-dimensional vectors, the model makes {dimension}"
    if manifest.get("chunker_version") != expected["chunker_version"]:
        return f"the chunker changed (index v{manifest.get('chunker_version')}, code v{CHUNKER_VERSION})"
    if manifest.get("probes_fingerprint") != expected["probes_fingerprint"]:
        return "the scope data (bot/data/out_of_scope.toml, wording.toml) changed"
    if manifest.get("corpus_fingerprint") != expected["corpus_fingerprint"]:
        return f"the corpus in {corpus} changed since the index was built"
    try:
        read_verified(folder, manifest)  # hashing ~0.5 MB: cheap enough to run at every start
    except IndexLoadError as exc:
        return str(exc)
    return None


def model_dimension(location: str) -> int | None:
    """The vector size a local sentence-transformers folder produces, read from its config (None when unknown).

    Reading two small JSON files keeps the staleness check from loading the model.
    """
    folder = Path(location)
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        if any(str(m.get("type", "")).endswith("Dense") for m in modules):
            return None  # a Dense layer changes the size; only the loaded model knows it
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        return int(pooling["word_embedding_dimension"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def build_index(
    corpus: Path, embedder: Embedder | None = None, progress: Progress | None = None
) -> tuple[KnowledgeIndex, dict]:
    """Chunk and embed the corpus. Returns the index and its manifest (not yet saved)."""
    report = progress or (lambda stage, fraction: None)
    report("reading corpus", 0.0)
    # Fingerprint first: a corpus edited while we embed then looks stale at the next start, never current.
    corpus_fingerprint = fingerprint(corpus)
    docs = load_corpus(corpus)
    chunks, units = chunk_documents(docs)
    words = vocabulary([c.embed_text for c in chunks])
    probes = probes_for(load_profile(corpus, docs))
    report("loading model", 0.1)
    embedder = embedder or get_embedder("build")
    texts = [c.embed_text for c in chunks] + [u.embed_text for u in units] + words + [p.text for p in probes]
    matrix = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    # Texts embedded by a previous build with the same encoder are not embedded again (see vectorcache.py).
    key = getattr(embedder, "cache_key", None)
    cache = VectorCache(key) if isinstance(key, str) else None
    known = cache.load() if cache else {}
    missing = []
    for i, text in enumerate(texts):
        vector = known.get(text_hash(text))
        if vector is not None and vector.shape == (embedder.dimension,):
            matrix[i] = vector
        else:
            missing.append(i)
    # Batches of texts of similar length: a batch is padded to its longest text, so one passage among
    # sixty short probes would make them all cost a passage.
    order = sorted(missing, key=lambda i: len(texts[i]))
    batch = 64
    for start in range(0, len(order), batch):
        report("embedding", 0.2 + 0.75 * start / len(order))
        chosen = order[start : start + batch]
        matrix[chosen] = embedder.encode([texts[i] for i in chosen])
    if cache and missing:
        cache.save(texts, matrix)
    ends = np.cumsum([len(chunks), len(units), len(words)])
    index = KnowledgeIndex(
        chunks,
        units,
        matrix[: ends[0]],
        matrix[ends[0] : ends[1]],
        words,
        matrix[ends[1] : ends[2]],
        probes=[asdict(p) for p in probes],
        probe_vectors=matrix[ends[2] :],
    )
    # Only what describes the index: no build time or duration, which would change the committed
    # manifest at every rebuild of an unchanged corpus.
    manifest = {
        "model": embedder.model_id,
        "corpus_fingerprint": corpus_fingerprint,
        "chunker_version": CHUNKER_VERSION,
        "probes_fingerprint": probes_fingerprint(),
        "versions": _versions(),
    }
    report("done", 1.0)
    return index, manifest


def save_index(index: KnowledgeIndex, manifest: dict, folder: Path) -> Path:
    """Save to ``folder``, or to a cache folder when it is read-only (and say so in the log).

    A rebuild that gives the index already in ``folder`` (same model and chunks, vectors within
    VECTOR_TOLERANCE) keeps its vectors and versions, so the files are rewritten byte for byte and
    ``rolebot index --rebuild`` on an unchanged corpus leaves a committed index (and ``git status``) clean.
    ``index`` then holds the kept vectors, so memory and disk agree. Raises OSError only when neither
    folder can be written.
    """
    previous = _same_index(folder, index, manifest)
    if previous is not None:
        index.chunk_vectors, index.unit_vectors = previous.chunk_vectors, previous.unit_vectors
        index.vocabulary_vectors, index.faiss_index = previous.vocabulary_vectors, previous.faiss_index
        index.probe_vectors = previous.probe_vectors
        manifest = dict(manifest, versions=previous.manifest.get("versions", manifest.get("versions")))
    try:
        index.save(folder, manifest)
        return folder
    except OSError as exc:
        fallback = _cache_folder(folder)
        log.warning(
            "Index folder %s is not writable (%s); writing the index to %s instead",
            folder,
            exc.strerror or exc,
            fallback,
        )
        index.save(fallback, manifest)
        return fallback


def load_or_build(
    corpus: Path | None = None, folder: Path | None = None, *, rebuild: bool = False, progress: Progress | None = None
) -> LoadedIndex:
    """Load a current index, else rebuild it: missing, stale, or damaged indexes are rebuilt transparently.

    The cache folder is the second place looked in: it holds the rebuild made when ``folder`` was read-only.
    """
    corpus = corpus or config.corpus_dir()
    folder = folder or config.index_dir()
    model_id = resolve_model().model_id
    reason = "rebuild requested"
    if not rebuild:
        reasons = []
        for candidate in (folder, _cache_folder(folder)):
            why = stale_reason(candidate, corpus, model_id)
            if why is None:
                try:
                    loaded = LoadedIndex(KnowledgeIndex.load(candidate), candidate, False, "current", corpus)
                except IndexLoadError as exc:
                    why = str(exc)
                else:
                    if candidate != folder:
                        log.info(
                            "Index folder %s cannot be used (%s); using the rebuilt index in %s",
                            folder,
                            reasons[0],
                            candidate,
                        )
                    return loaded
            reasons.append(why)
        reason = reasons[0]  # the index folder's own problem is the one worth telling
    if not can_build():  # a model only sentence-transformers runs, and this install lacks it
        why = "" if rebuild else f" ({reason})"
        raise MissingDependencyError(
            f"Cannot build the index in {folder}{why}: building with this model needs sentence-transformers and "
            f"torch, which this install lacks; install them with {config.BUILD_INSTALL}"
        )
    if not rebuild:
        log.warning("Rebuilding the index: %s", reason)
    index, manifest = build_index(corpus, progress=progress)
    try:
        where = save_index(index, manifest, folder)
    except OSError as exc:
        # The bot can still answer from memory; it only costs a rebuild at the next start.
        log.warning(
            "Cannot save the rebuilt index anywhere (%s); using it from memory, the next start rebuilds it",
            exc.strerror or exc,
        )
        where = folder
    return LoadedIndex(index, where, True, reason, corpus)


VECTOR_TOLERANCE = 1e-5
"""Largest per-component difference between rebuilt and saved (unit-length) vectors that still counts as the
same index. torch's CPU kernels may differ in the last bits between machines and thread counts (~1e-7);
a real change of text or model moves vectors by orders of magnitude more."""


def _same_index(folder: Path, index: KnowledgeIndex, manifest: dict) -> KnowledgeIndex | None:
    """The intact index in ``folder`` when ``index`` is the same one up to float noise, else None."""
    try:
        previous = KnowledgeIndex.load(folder)
    except IndexLoadError:
        return None
    if previous.manifest.get("model") != manifest.get("model"):
        return None

    def payload(ix: KnowledgeIndex) -> str:
        parts = [[asdict(c) for c in ix.chunks], [asdict(u) for u in ix.units], ix.vocabulary, ix.probes]
        return json.dumps(parts, sort_keys=True, ensure_ascii=False)

    if payload(previous) != payload(index):
        return None
    pairs = [
        (previous.chunk_vectors, index.chunk_vectors),
        (previous.unit_vectors, index.unit_vectors),
        (previous.vocabulary_vectors, index.vocabulary_vectors),
        (previous.probe_vectors, index.probe_vectors),
    ]
    for old, new in pairs:
        if old.shape != new.shape or np.abs(old - new).max(initial=0.0) > VECTOR_TOLERANCE:
            return None
    return previous


def _cache_folder(folder: Path) -> Path:
    tag = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:12]
    return config.cache_dir() / f"index-{tag}"


def _versions() -> dict:
    from importlib import metadata  # ~15 ms to import, and only a build needs it

    versions = {"python": platform.python_version()}
    for package in ("rolebot", "sentence-transformers", "torch", "faiss-cpu", "numpy", "bm25s"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions
