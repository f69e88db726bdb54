"""A NumPy forward pass of a BERT sentence encoder such as all-MiniLM-L6-v2, for queries.

Why: importing sentence-transformers costs about 5 s here (torch, transformers, scikit-learn),
which is most of a one-shot ``rolebot ask``. A query is one short sequence through six small
layers, which NumPy computes in a few milliseconds from the same ``model.safetensors`` and
``tokenizer.json``. The index itself is always built by sentence-transformers; the test suite
checks that both give the same vectors (cosine > 0.9999) on the article's own text.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

REQUIRED_FILES = ("config.json", "tokenizer.json", "model.safetensors", "modules.json")
# Texts are embedded packed into sequences of about this many tokens: attention is computed over the whole
# pack, so its cost grows with the square of this number, while each pass has a fixed cost in NumPy calls.
PACK_TOKENS = 256


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


class NumpyMiniLM:
    """Mean-pooled, L2-normalised BERT embeddings computed with NumPy (thread-safe: no shared state per call)."""

    def __init__(self, folder: Path) -> None:
        from safetensors.numpy import load_file
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
        w = load_file(str(folder / "model.safetensors"))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in w else ""
        self.w = {k[len(prefix) :]: v.astype(np.float32) for k, v in w.items() if k.startswith(prefix)}
        # Pre-transpose the dense weights once so each call is a plain x @ W.
        for key in [
            k
            for k in self.w
            if k.endswith("dense.weight") or k.endswith(("query.weight", "key.weight", "value.weight"))
        ]:
            self.w[key] = np.ascontiguousarray(self.w[key].T)
        # One matmul for query, key and value; the attention scale 1/sqrt(head size) is folded into the query.
        scale = np.float32(1.0 / np.sqrt(self.dimension // self.heads))
        for i in range(self.layers):
            p = f"encoder.layer.{i}.attention.self."
            self.w[p + "qkv.weight"] = np.ascontiguousarray(
                np.concatenate(
                    [self.w[p + "query.weight"] * scale, self.w[p + "key.weight"], self.w[p + "value.weight"]], 1
                )
            )
            self.w[p + "qkv.bias"] = np.concatenate(
                [self.w[p + "query.bias"] * scale, self.w[p + "key.bias"], self.w[p + "value.bias"]]
            )

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.encode_tokens(self.tokenizer.encode_batch(list(texts)), len(texts))

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
        w, eps = self.w, self.eps
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][positions]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
        total = len(ids)
        head_dim = self.dimension // self.heads
        # Block-diagonal attention: a token sees only its own text's tokens.
        bias = np.where(segment[:, None] == segment[None, :], 0.0, np.finfo(np.float32).min).astype(np.float32)
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
