"""A NumPy forward pass of a BERT sentence encoder such as all-MiniLM-L6-v2, for queries.

Why: importing sentence-transformers costs about 5 s here (torch, transformers, scikit-learn),
which is most of a one-shot ``rolebot ask``. A query is one short sequence through six small
layers, which NumPy computes in a few milliseconds from the same ``model.safetensors`` and
``tokenizer.json``. The index is built with it too (the same code embeds index and questions);
sentence-transformers stays the reference: the test suite checks that both give the same vectors
(cosine > 0.9999) on the article's own text.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import mmap
import os
import tempfile
import zlib
from pathlib import Path

import numpy as np

log = logging.getLogger("rolebot")

REQUIRED_FILES = ("config.json", "tokenizer.json", "model.safetensors", "modules.json")
# Texts are embedded packed into sequences of about this many tokens: attention is computed over the whole
# pack, so its cost grows with the square of this number, while each pass has a fixed cost in NumPy calls.
PACK_TOKENS = 256
SAFETENSORS_DTYPES = {
    "F64": "<f8", "F32": "<f4", "F16": "<f2",
    "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?",
}  # fmt: skip


def _erf(x: np.ndarray) -> np.ndarray:
    # Numerical Recipes' erfc approximation (fractional error < 1.2e-7): NumPy has no erf,
    # and BERT's GELU is the exact erf form, not the tanh approximation.
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = (
        -z * z
        - 1.26551223
        + t
        * (
            1.00002368
            + t
            * (
                0.37409196
                + t
                * (
                    0.09678418
                    + t
                    * (
                        -0.18628806
                        + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))
                    )
                )
            )
        )
    )
    erfc = t * np.exp(poly)
    return np.where(x >= 0, 1.0 - erfc, erfc - 1.0).astype(x.dtype)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def is_supported(folder: Path) -> bool:
    """True for a local sentence-transformers folder holding a BERT encoder with mean pooling + normalize."""
    if not all((folder / name).is_file() for name in REQUIRED_FILES):
        return False
    try:
        config = json.loads((folder / "config.json").read_text())
        modules = json.loads((folder / "modules.json").read_text())
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError):
        return False
    types = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    return (
        config.get("model_type") == "bert"
        and config.get("hidden_act") == "gelu"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and types == ["Transformer", "Pooling", "Normalize"]
        and pooling.get("pooling_mode_mean_tokens") is True
        and not any(v for k, v in pooling.items() if k.startswith("pooling_mode") and k != "pooling_mode_mean_tokens")
    )


class SafetensorsFile:
    """Reads one tensor at a time from a ``.safetensors`` file into its own array.

    Why not ``safetensors.numpy.load_file``: it holds every tensor at once, and memory-mapping the file keeps
    its pages in the process's memory beside the float32 copies, so a serving process held the model twice.
    The format is an 8-byte little-endian header size, a JSON header (dtype, shape, byte offsets), then data.
    """

    def __init__(self, path: Path) -> None:
        self.handle = path.open("rb")
        self.size = path.stat().st_size
        self._mapped: mmap.mmap | None = None  # the whole file, mapped on the first call to map()
        size = int.from_bytes(self.handle.read(8), "little")
        self.header: dict = json.loads(self.handle.read(size))
        self.header.pop("__metadata__", None)
        self.start = 8 + size

    def read(self, name: str) -> np.ndarray:
        info = self.header[name]
        dtype = SAFETENSORS_DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"tensor {name!r} has dtype {info['dtype']}, which this encoder does not read")
        begin, end = info["data_offsets"]
        array = np.empty(info["shape"], dtype=dtype)
        self.handle.seek(self.start + begin)
        if self.handle.readinto(memoryview(array).cast("B")) != end - begin or array.nbytes != end - begin:
            raise ValueError(f"tensor {name!r} is truncated")
        return array

    def map(self, name: str) -> np.ndarray:
        """A float32 tensor as a read-only view of the file, for the word embeddings (30,522 rows, 45 MB, of which
        a question uses a dozen): its pages are read when a row is first used and belong to the page cache, shared
        by every process that maps the file, so loading reads nothing and a serving process holds only the rows
        it has used. Other dtypes are read (and converted by the caller) as usual."""
        info = self.header[name]
        if info["dtype"] != "F32":
            return self.read(name)
        begin, end = info["data_offsets"]
        if self.start + end > self.size:
            raise ValueError(f"tensor {name!r} is truncated")
        count = (end - begin) // 4
        if self._mapped is None:
            self._mapped = mmap.mmap(self.handle.fileno(), 0, access=mmap.ACCESS_READ)
        return np.frombuffer(self._mapped, dtype="<f4", count=count, offset=self.start + begin).reshape(info["shape"])

    def drop_pages(self) -> None:
        """Let go of the mapped pages this process has read (they stay in the page cache; a view reads them
        again when used): for weights another runtime has copied into its own form."""
        if self._mapped is not None:
            self._mapped.madvise(mmap.MADV_DONTNEED)

    def __enter__(self) -> SafetensorsFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()  # a mapping outlives it: the arrays viewing it keep it open


class LayerCache:
    """The transformer layers in ``NumpyMiniLM``'s form (transposed, q/k/v fused, query scaled), kept in the cache
    folder and mapped, not recomputed: reading and reshaping 42 MB from ``model.safetensors`` is ~30 ms of a one-shot
    ``rolebot ask``, mapping the file ~1 ms (its pages are shared with every process that maps it).

    ``layers.f32`` holds the tensors' bytes; ``layers.json`` vouches for them: the key (encoder version and model
    files, as the vector cache's), each tensor's offset and shape, and the CRC-32 of the data. A file whose key
    differs, or whose size or CRC does not match, is not used, and is rewritten by the load that recomputes it.
    Both files are written atomically (data first); a folder that cannot be written only costs the time saved.
    """

    DATA = "layers.f32"
    META = "layers.json"
    ALIGN = 64  # bytes: each tensor starts on a cache line, as NumPy's own allocations do

    def __init__(self, folder: Path, key: str) -> None:
        self.folder = folder / "minilm" / hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
        self.key = key

    def load(self) -> dict[str, np.ndarray] | None:
        """Name → read-only float32 array viewing the mapped file, or None when there is no valid cache."""
        try:
            meta = json.loads((self.folder / self.META).read_text(encoding="utf-8"))
            with (self.folder / self.DATA).open("rb") as handle:
                mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):  # ValueError: bad JSON, or an empty file (which mmap refuses)
            return None
        if not isinstance(meta, dict) or meta.get("key") != self.key or meta.get("size") != len(mapped):
            return None
        if zlib.crc32(mapped) != meta.get("crc32"):
            return None
        tensors = {}
        try:
            for name, offset, shape in meta["tensors"]:
                count = int(np.prod(shape))
                tensors[name] = np.frombuffer(mapped, dtype="<f4", count=count, offset=offset).reshape(shape)
        except (KeyError, TypeError, ValueError):
            return None
        return tensors

    def save(self, tensors: dict[str, np.ndarray]) -> None:
        """Write tensor by tensor (no 42 MB copy), then the JSON that vouches for them."""
        entries, offset, crc = [], 0, 0
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with _atomic_file(self.folder / self.DATA) as handle:
                for name, value in tensors.items():
                    pad = -offset % self.ALIGN
                    data = np.ascontiguousarray(value, dtype="<f4").tobytes()
                    for chunk in (b"\0" * pad, data):
                        handle.write(chunk)
                        crc = zlib.crc32(chunk, crc)
                    entries.append([name, offset + pad, list(value.shape)])
                    offset += pad + len(data)
            meta = {"key": self.key, "size": offset, "crc32": crc, "tensors": entries}
            with _atomic_file(self.folder / self.META) as handle:
                handle.write(json.dumps(meta).encode("utf-8"))
        except OSError as exc:
            log.info("Cannot cache the encoder's layers in %s (%s); they are computed at each start", self.folder, exc)


@contextlib.contextmanager
def _atomic_file(path: Path):  # -> Iterator[BinaryIO]: a temp file beside ``path``, renamed over it when complete
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class NumpyMiniLM:
    """Mean-pooled, L2-normalised BERT embeddings computed with NumPy (thread-safe: no shared state per call)."""

    def __init__(self, folder: Path, layer_cache: LayerCache | None = None) -> None:
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text())
        max_len = 512
        st_config = folder / "sentence_bert_config.json"
        if st_config.is_file():
            max_len = int(json.loads(st_config.read_text()).get("max_seq_length", max_len))
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.dimension = int(config["hidden_size"])
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_len)
        self.tokenizer.no_padding()
        # Tensor by tensor, only those the forward pass uses (not the pooler), each in its final form before the
        # next is read: peak memory stays near the model's size instead of twice it.
        with SafetensorsFile(folder / "model.safetensors") as weights:
            prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights.header else ""
            words = weights.map(prefix + "embeddings.word_embeddings.weight").astype(np.float32, copy=False)
            self.w = {"embeddings.word_embeddings.weight": words}
            self.w |= {
                name: weights.read(prefix + name).astype(np.float32, copy=False)
                for name in (
                    "embeddings.position_embeddings.weight",
                    "embeddings.token_type_embeddings.weight",
                    "embeddings.LayerNorm.weight",
                    "embeddings.LayerNorm.bias",
                )
            }
            cached = layer_cache.load() if layer_cache else None
            if cached is not None:
                self.w |= cached
                return
            loaded = set(self.w)
            self._load_layers(weights, prefix)
        if layer_cache:
            layer_cache.save({name: value for name, value in self.w.items() if name not in loaded})

    def _load_layers(self, weights: SafetensorsFile, prefix: str) -> None:
        """The transformer layers' weights, in the form ``_layers`` uses them."""

        def tensor(name: str, transpose: bool = False) -> np.ndarray:
            value = weights.read(prefix + name).astype(np.float32, copy=False)
            # Dense weights are stored (out, in); transposed once here, each call is a plain x @ W.
            return np.ascontiguousarray(value.T) if transpose else value

        # One matmul for query, key and value (the three are not kept apart); the attention scale
        # 1/sqrt(head size) is folded into the query.
        scale = np.float32(1.0 / np.sqrt(self.dimension // self.heads))
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            a = p + "attention.self."
            self.w[a + "qkv.weight"] = np.ascontiguousarray(
                np.concatenate(
                    [
                        tensor(a + "query.weight", True) * scale,
                        tensor(a + "key.weight", True),
                        tensor(a + "value.weight", True),
                    ],
                    1,
                )
            )
            self.w[a + "qkv.bias"] = np.concatenate(
                [tensor(a + "query.bias") * scale, tensor(a + "key.bias"), tensor(a + "value.bias")]
            )
            for name in ("attention.output.dense", "intermediate.dense", "output.dense"):
                self.w[p + name + ".weight"] = tensor(p + name + ".weight", True)
                self.w[p + name + ".bias"] = tensor(p + name + ".bias")
            for name in ("attention.output.LayerNorm", "output.LayerNorm"):
                self.w[p + name + ".weight"] = tensor(p + name + ".weight")
                self.w[p + name + ".bias"] = tensor(p + name + ".bias")

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.encode_tokens(self.tokenize(texts), len(texts))

    def tokenize(self, texts: list[str]) -> list:
        """Word pieces of each text, one text after another on the calling thread. Not ``encode_batch``: it hands
        the texts to a pool of one thread per core, which on a busy machine took 2 ms (p95) to wake for a
        question that takes 0.02 ms to split; the ids are the same."""
        return [self.tokenizer.encode(text) for text in texts]

    def encode_tokens(self, encodings: list, count: int) -> np.ndarray:
        """Embed texts already run through ``self.tokenizer`` (callers may tokenize under a lock).

        The texts are packed into one sequence, not padded to a batch: each token attends only to the tokens
        of its own text and its positions restart at 0, so every text gets exactly the vector it would get
        alone. A question and a few short words then cost one pass of the question's length plus theirs, where
        a padded batch would run every word at the question's length.
        """
        if count == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        groups: list[list] = [[]]
        for encoding in encodings:  # packs of at most PACK_TOKENS tokens (a longer text goes alone)
            if groups[-1] and sum(len(e.ids) for e in groups[-1]) + len(encoding.ids) > PACK_TOKENS:
                groups.append([])
            groups[-1].append(encoding)
        return np.concatenate([self._encode_pack(group) for group in groups])

    def _encode_pack(self, encodings: list) -> np.ndarray:
        lengths = [len(e.ids) for e in encodings]
        ids = np.concatenate([np.asarray(e.ids, dtype=np.int64) for e in encodings])
        positions = np.concatenate([np.arange(n) for n in lengths])
        segment = np.repeat(np.arange(len(encodings)), lengths)
        hidden = self._forward(ids, positions, segment)
        pooled = (
            np.add.reduceat(hidden, np.cumsum([0, *lengths[:-1]]), axis=0)
            / np.asarray(lengths, dtype=np.float32)[:, None]
        )
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def _forward(self, ids: np.ndarray, positions: np.ndarray, segment: np.ndarray) -> np.ndarray:
        """The last hidden state of a packed sequence: (tokens, hidden size)."""
        w = self.w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][positions]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        # Block-diagonal attention: a token sees only its own text's tokens.
        bias = np.where(segment[:, None] == segment[None, :], 0.0, np.finfo(np.float32).min).astype(np.float32)
        return self._layers(x, bias)

    def _layers(self, x: np.ndarray, bias: np.ndarray) -> np.ndarray:
        """The transformer layers over embedded tokens ``x`` (tokens, hidden size), ``bias`` added to the
        attention scores (0 within a text, the float32 minimum across texts)."""
        w, eps = self.w, self.eps
        total = len(x)
        head_dim = self.dimension // self.heads
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            qkv = x @ w[p + "attention.self.qkv.weight"] + w[p + "attention.self.qkv.bias"]
            q, k, v = qkv.reshape(total, 3, self.heads, head_dim).transpose(1, 2, 0, 3)
            scores = q @ k.transpose(0, 2, 1) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(total, self.dimension)
            attn = context @ w[p + "attention.output.dense.weight"] + w[p + "attention.output.dense.bias"]
            x = _layer_norm(
                x + attn, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps
            )
            inner = x @ w[p + "intermediate.dense.weight"] + w[p + "intermediate.dense.bias"]
            inner = 0.5 * inner * (1.0 + _erf(inner * np.float32(1.0 / np.sqrt(2.0))))
            out = inner @ w[p + "output.dense.weight"] + w[p + "output.dense.bias"]
            x = _layer_norm(x + out, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
        return x
