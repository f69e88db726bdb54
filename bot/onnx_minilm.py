"""The NumPy encoder's transformer layers run by onnxruntime: the same arithmetic, about twice as fast per query.

Why: a question is a dozen tokens, so each of the 24 matrix products is a thin (12 x 384) by (384 x 1,536)
product, and NumPy's OpenBLAS re-packs the weight matrix on every call, which costs more than the product
itself; onnxruntime packs each weight once, when the session starts (4.3 ms a question instead of 8.9 ms here,
see docs/performance.md). Nothing is exported and no file is written: the graph is written as ONNX protobuf
bytes (a few KB, by the small writer in this module, so neither torch nor the ``onnx`` package is needed), and
onnxruntime reads the weights in place from the mapped model file.

The embedding layer, the attention mask, the pooling and the normalisation stay in NumPy (minilm.py), so only
``_layers`` differs from the NumPy encoder; vectors agree with it and with sentence-transformers to 1 - cos
below 1e-6. onnxruntime is optional (``pip install 'rolebot[fast]'``, about 80 MB installed); without it the
NumPy encoder answers.
"""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path

import numpy as np

from .minilm import NumpyMiniLM, SafetensorsFile

OPSET = 17
"""ONNX operator set: the first with LayerNormalization."""

IR_VERSION = 8
"""ONNX IR version of the graph: the one that goes with OPSET 17."""

LAYERS_PER_SESSION = 1
"""Layers per onnxruntime session. A session holds its layers' weights twice while it starts (the file's pages
and its packed copy): one session for all six layers raised a server's peak memory by 40 MB, one per layer
raises it by 7 MB, and the five more calls per question cost nothing measurable (4.71 against 4.76 ms here)."""

FLOAT, INT64 = 1, 7  # ONNX TensorProto data types
ATTR_FLOAT, ATTR_INT, ATTR_INTS = 1, 2, 7  # ONNX AttributeProto types


def available() -> bool:
    """True when onnxruntime is installed (checked without importing it)."""
    return importlib.util.find_spec("onnxruntime") is not None


# A protobuf writer for the few ONNX messages the graph needs (field numbers from onnx/onnx.proto).


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64 values take ten bytes, as protobuf encodes them
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _int(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def _bytes(field: int, value: bytes | str) -> bytes:
    data = value.encode("utf-8") if isinstance(value, str) else value
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def _float(field: int, value: float) -> bytes:
    return _varint(field << 3 | 5) + struct.pack("<f", value)


def _attribute(name: str, value: float | int | list[int]) -> bytes:
    if isinstance(value, float):
        return _bytes(1, name) + _float(2, value) + _int(20, ATTR_FLOAT)
    if isinstance(value, int):
        return _bytes(1, name) + _int(3, value) + _int(20, ATTR_INT)
    return _bytes(1, name) + b"".join(_int(8, v) for v in value) + _int(20, ATTR_INTS)


def _node(op: str, inputs: list[str], outputs: list[str], **attributes: float | int | list[int]) -> bytes:
    return (
        b"".join(_bytes(1, name) for name in inputs)
        + b"".join(_bytes(2, name) for name in outputs)
        + _bytes(4, op)
        + b"".join(_bytes(5, _attribute(k, v)) for k, v in attributes.items())
    )


def _constant(name: str, value: np.ndarray) -> bytes:
    """A small tensor stored in the graph itself."""
    kind = {np.dtype(np.float32): FLOAT, np.dtype(np.int64): INT64}[value.dtype]
    dims = b"".join(_int(1, d) for d in value.shape)
    data = value.astype(value.dtype.newbyteorder("<")).tobytes()  # raw_data is little-endian
    return dims + _int(2, kind) + _bytes(8, name) + _bytes(9, data)


def _external(name: str, shape: tuple[int, ...], nbytes: int) -> bytes:
    """A weight whose data the session receives from memory (``add_external_initializers``): the graph holds
    only its name and shape, so the model's 40 MB are neither copied into the graph nor read from a file."""
    dims = b"".join(_int(1, d) for d in shape)
    entries = b"".join(
        _bytes(13, _bytes(1, key) + _bytes(2, value))
        for key, value in (("location", "memory"), ("offset", "0"), ("length", str(nbytes)))
    )
    return dims + _int(2, FLOAT) + _bytes(8, name) + entries + _int(14, 1)  # data_location = EXTERNAL


def _value_info(name: str, dims: list[int | str]) -> bytes:
    shape = b"".join(_bytes(1, _int(1, d) if isinstance(d, int) else _bytes(2, d)) for d in dims)
    tensor_type = _int(1, FLOAT) + _bytes(2, shape)
    return _bytes(1, name) + _bytes(2, _bytes(1, tensor_type))


def layer_names(layers: range) -> list[str]:
    """The weights a graph of ``layers`` reads, as the model file names them (without a "bert." prefix)."""
    names = []
    for i in layers:
        p = f"encoder.layer.{i}."
        dense = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense")
        dense += ("intermediate.dense", "output.dense", "attention.output.LayerNorm", "output.LayerNorm")
        names += [p + name + part for name in dense for part in (".weight", ".bias")]
    return names


def layers_graph(weights: dict[str, np.ndarray], layers: range, heads: int, dimension: int, eps: float) -> bytes:
    """ONNX model bytes for ``layers`` of ``NumpyMiniLM._layers``: inputs ``x`` (tokens, dimension) and ``bias``
    (tokens, tokens), output ``hidden``. ``weights`` holds ``layer_names(layers)`` as the model file stores them
    (dense weights as (out, in)); each is an external initializer, read in place."""
    head_dim = dimension // heads
    scale = float(np.float32(1.0 / np.sqrt(head_dim)))
    nodes: list[bytes] = []
    constants = [
        _constant("shape_heads", np.array([-1, heads, head_dim], dtype=np.int64)),
        _constant("shape_context", np.array([-1, dimension], dtype=np.int64)),
        _constant("half", np.array(0.5, dtype=np.float32)),
        _constant("one", np.array(1.0, dtype=np.float32)),
        _constant("inv_sqrt2", np.array(1.0 / np.sqrt(2.0), dtype=np.float32)),
    ]
    count = 0

    def node(op: str, *inputs: str, **attributes: float | int | list[int]) -> str:
        nonlocal count
        count += 1
        output = f"{op.lower()}_{count}"
        nodes.append(_node(op, list(inputs), [output], **attributes))
        return output

    def dense(x: str, name: str, scaled: float = 1.0) -> str:
        # Gemm with transB reads the (out, in) matrix as stored; (x W^T + b) * scaled, as alpha and beta.
        return node("Gemm", x, name + ".weight", name + ".bias", transB=1, alpha=scaled, beta=scaled)

    def layer_norm(x: str, name: str) -> str:
        return node("LayerNormalization", x, name + ".weight", name + ".bias", axis=-1, epsilon=eps)

    def heads_first(x: str, perm: list[int]) -> str:
        return node("Transpose", node("Reshape", x, "shape_heads"), perm=perm)

    x = "x"
    for i in layers:
        p = f"encoder.layer.{i}."
        q = heads_first(dense(x, p + "attention.self.query", scale), [1, 0, 2])  # (heads, tokens, head_dim)
        k = heads_first(dense(x, p + "attention.self.key"), [1, 2, 0])  # (heads, head_dim, tokens)
        v = heads_first(dense(x, p + "attention.self.value"), [1, 0, 2])
        scores = node("Add", node("MatMul", q, k), "bias")
        context = node("MatMul", node("Softmax", scores, axis=-1), v)
        context = node("Reshape", node("Transpose", context, perm=[1, 0, 2]), "shape_context")
        x = layer_norm(node("Add", x, dense(context, p + "attention.output.dense")), p + "attention.output.LayerNorm")
        inner = dense(x, p + "intermediate.dense")
        # BERT's exact GELU, 0.5 x (1 + erf(x / sqrt 2)), not the tanh approximation.
        gelu = node("Mul", node("Mul", inner, "half"), node("Add", node("Erf", node("Mul", inner, "inv_sqrt2")), "one"))
        x = layer_norm(node("Add", x, dense(gelu, p + "output.dense")), p + "output.LayerNorm")
    nodes.append(_node("Identity", [x], ["hidden"]))
    initializers = constants + [_external(name, weights[name].shape, weights[name].nbytes) for name in weights]
    graph = (
        b"".join(_bytes(1, n) for n in nodes)
        + _bytes(2, "minilm_layers")
        + b"".join(_bytes(5, t) for t in initializers)
        + _bytes(11, _value_info("x", ["tokens", dimension]))
        + _bytes(11, _value_info("bias", ["tokens", "tokens"]))
        + _bytes(12, _value_info("hidden", ["tokens", dimension]))
    )
    opset = _bytes(1, "") + _int(2, OPSET)
    return _int(1, IR_VERSION) + _bytes(2, "rolebot") + _bytes(7, graph) + _bytes(8, opset)


class OnnxMiniLM(NumpyMiniLM):
    """``NumpyMiniLM`` whose transformer layers run in onnxruntime, one session per LAYERS_PER_SESSION layers
    (thread-safe, as ``run`` is)."""

    def __init__(self, folder: Path, threads: int = 1) -> None:
        self.threads = threads
        super().__init__(folder)

    def _load_layers(self, weights: SafetensorsFile, prefix: str) -> None:
        """onnxruntime sessions instead of NumPy copies of the layers: each session reads the model file's tensors
        in place (mapped, not read) and packs each matrix once into its own form, which is where the time is
        saved; the mapped pages are let go once it has, so the process holds the layers once, not twice. A
        session per LAYERS_PER_SESSION layers keeps the moment both are held short (peak memory)."""
        import onnxruntime as ort

        self.sessions = []
        self._values = []  # what the sessions read in place: kept as long as they are
        for first in range(0, self.layers, LAYERS_PER_SESSION):
            layers = range(first, min(first + LAYERS_PER_SESSION, self.layers))
            tensors = {name: weights.map(prefix + name).astype(np.float32, copy=False) for name in layer_names(layers)}
            values = [ort.OrtValue.ortvalue_from_numpy(t) for t in tensors.values()]
            options = ort.SessionOptions()
            # One thread per question, as NumPy's BLAS (config.THREADS): servers answer several questions at once.
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.enable_cpu_mem_arena = False  # 16 MB less memory, no slower: a question allocates little
            options.log_severity_level = 3  # errors only
            options.add_external_initializers(list(tensors), values)
            graph = layers_graph(tensors, layers, self.heads, self.dimension, self.eps)
            self.sessions.append(ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"]))
            self._values += values
            weights.drop_pages()

    def _layers(self, x: np.ndarray, bias: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        for session in self.sessions:
            x = session.run(["hidden"], {"x": x, "bias": bias})[0]
        return x
