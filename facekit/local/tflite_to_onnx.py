"""A small TFLite (flatbuffer) to ONNX converter for MediaPipe's face landmark model.

MediaPipe ships its face mesh network only as ``face_landmark.tflite``. This module reads
the flatbuffer with its own minimal reader (no TensorFlow, no ``tflite`` package, no
``flatbuffers`` package) and writes the equivalent ONNX graph with ``onnx.helper``.

Supported operators (the ones the model uses): ``CONV_2D``, ``DEPTHWISE_CONV_2D``,
``PRELU``, ``ADD``, ``MAX_POOL_2D``, ``PAD`` (constant paddings) and ``DEQUANTIZE`` of
float16 constants (folded into float32 initializers); fused activations none, relu,
relu6; ``SAME`` or ``VALID`` padding (TF "same": the odd pixel of padding goes at the
end); dilation 1; one subgraph; float32 activations. Anything else raises
:class:`UnsupportedTFLiteModel`.

The ONNX graph takes N x C x H x W float32 (channels first, TFLite's NHWC transposed) and
returns each TFLite output flattened to (N, features) when its spatial size is 1 x 1,
under the TFLite tensor's name. The batch is symbolic.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

__all__ = ["CONVERTER_VERSION", "UnsupportedTFLiteModel", "convert_tflite"]

CONVERTER_VERSION = 1
"""Bumped whenever the produced graph changes (part of the conversion cache key)."""

_OPSET = 13

# BuiltinOperator codes (tensorflow/lite/schema/schema.fbs).
_ADD, _CONV_2D, _DEPTHWISE_CONV_2D, _DEQUANTIZE, _MAX_POOL_2D, _PAD, _PRELU = 0, 3, 4, 6, 17, 34, 54
_OP_NAMES = {
    _ADD: "ADD",
    _CONV_2D: "CONV_2D",
    _DEPTHWISE_CONV_2D: "DEPTHWISE_CONV_2D",
    _DEQUANTIZE: "DEQUANTIZE",
    _MAX_POOL_2D: "MAX_POOL_2D",
    _PAD: "PAD",
    _PRELU: "PRELU",
}
# TensorType codes.
_DTYPES: dict[int, Any] = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64, 9: np.int8}


class UnsupportedTFLiteModel(ValueError):
    """The TFLite file uses an operator, option or layout this converter does not handle."""


class _Flat:
    """Read-only access to a flatbuffer: tables, vectors, strings and scalars by field index."""

    def __init__(self, data: bytes) -> None:
        self.b = data

    def u32(self, p: int) -> int:
        v: int = struct.unpack_from("<I", self.b, p)[0]
        return v

    def root(self) -> int:
        return self.u32(0)

    def _field(self, table: int, index: int) -> int:
        """Absolute position of a field's value, or 0 when absent (default)."""
        vt = table - struct.unpack_from("<i", self.b, table)[0]
        vsize = struct.unpack_from("<H", self.b, vt)[0]
        slot = 4 + 2 * index
        if slot >= vsize:
            return 0
        off: int = struct.unpack_from("<H", self.b, vt + slot)[0]
        return table + off if off else 0

    def scalar(self, table: int, index: int, fmt: str, default: int) -> int:
        p = self._field(table, index)
        if not p:
            return default
        v: int = struct.unpack_from("<" + fmt, self.b, p)[0]
        return v

    def table(self, table: int, index: int) -> int:
        p = self._field(table, index)
        return p + self.u32(p) if p else 0

    def _vector(self, table: int, index: int) -> tuple[int, int]:
        p = self._field(table, index)
        if not p:
            return 0, 0
        v = p + self.u32(p)
        return v + 4, self.u32(v)

    def tables(self, table: int, index: int) -> list[int]:
        start, n = self._vector(table, index)
        return [start + 4 * k + self.u32(start + 4 * k) for k in range(n)]

    def ints(self, table: int, index: int) -> list[int]:
        start, n = self._vector(table, index)
        return list(struct.unpack_from(f"<{n}i", self.b, start)) if n else []

    def raw(self, table: int, index: int) -> bytes:
        start, n = self._vector(table, index)
        return self.b[start : start + n]

    def string(self, table: int, index: int) -> str:
        return self.raw(table, index).decode("utf-8")


@dataclass
class _Tensor:
    name: str
    shape: list[int]
    dtype: Any
    data: bytes


@dataclass
class _Builder:
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    inits: list[onnx.TensorProto] = field(default_factory=list)

    def const(self, name: str, arr: npt.NDArray[Any]) -> str:
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output


def _same_pads(size: int, k: int, s: int, padding: int) -> tuple[int, int]:
    """(begin, end) padding for one spatial axis; TFLite Padding SAME = 0, VALID = 1."""
    if padding == 1:
        return 0, 0
    if padding != 0:
        raise UnsupportedTFLiteModel(f"padding type {padding}")
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def _activation(b: _Builder, code: int, x: str, name: str) -> str:
    """Fused activation: NONE = 0, RELU = 1, RELU6 = 3."""
    if code == 0:
        return x
    if code == 1:
        return b.node("Relu", [x], f"{name}.relu")
    if code == 3:
        return b.node("Clip", [x, b.const(f"{name}.lo", np.array(0, np.float32)), b.const(f"{name}.hi", np.array(6, np.float32))],
                      f"{name}.relu6")  # fmt: skip
    raise UnsupportedTFLiteModel(f"{name}: fused activation {code}")


def _read(
    fb: _Flat,
) -> tuple[list[int], list[_Tensor], list[tuple[int, list[int], list[int], int]], list[int], list[int]]:
    """Return opcodes, tensors, operators (opcode, inputs, outputs, options table), inputs, outputs."""
    model = fb.root()
    if fb.b[4:8] != b"TFL3":
        raise UnsupportedTFLiteModel("not a TFLite flatbuffer (identifier TFL3 missing)")
    codes = [max(fb.scalar(o, 0, "b", 0), fb.scalar(o, 3, "i", 0)) for o in fb.tables(model, 1)]
    subgraphs = fb.tables(model, 2)
    if len(subgraphs) != 1:
        raise UnsupportedTFLiteModel(f"{len(subgraphs)} subgraphs (one supported)")
    g = subgraphs[0]
    buffers = fb.tables(model, 4)
    tensors: list[_Tensor] = []
    for t in fb.tables(g, 0):
        kind = fb.scalar(t, 1, "b", 0)
        if kind not in _DTYPES:
            raise UnsupportedTFLiteModel(f"tensor type {kind}")
        if fb.table(t, 4) and fb.ints(fb.table(t, 4), 2):  # quantization.scale present
            raise UnsupportedTFLiteModel("quantized tensors")
        buf = fb.scalar(t, 2, "I", 0)
        data = fb.raw(buffers[buf], 0) if buf < len(buffers) else b""
        tensors.append(_Tensor(fb.string(t, 3), fb.ints(t, 0), _DTYPES[kind], data))
    ops = [(codes[fb.scalar(op, 0, "I", 0)], fb.ints(op, 1), fb.ints(op, 2), fb.table(op, 4)) for op in fb.tables(g, 3)]
    return codes, tensors, ops, fb.ints(g, 1), fb.ints(g, 2)


def convert_tflite(path: str | os.PathLike[str], *, graph_name: str = "tflite") -> onnx.ModelProto:
    """Convert a float TFLite model (see the module docstring for the operator set) to ONNX.

    Args:
        path: The ``.tflite`` file.
        graph_name: Name recorded in the ONNX graph.

    Returns:
        A checked ONNX model (opset 13) with input ``input`` (N x C x H x W float32) and one
        output per TFLite output, named as in the TFLite file.

    Raises:
        UnsupportedTFLiteModel: An operator or option outside the supported set.
    """
    with open(os.fspath(path), "rb") as f:
        fb = _Flat(f.read())
    _, tensors, ops, inputs, outputs = _read(fb)
    consts: dict[int, npt.NDArray[Any]] = {
        i: np.frombuffer(t.data, dtype=t.dtype).reshape(t.shape) for i, t in enumerate(tensors) if t.data
    }
    b = _Builder()
    names: dict[int, str] = {}  # tflite tensor index -> onnx value name (activations, NCHW)
    if len(inputs) != 1 or len(tensors[inputs[0]].shape) != 4:
        raise UnsupportedTFLiteModel("exactly one NHWC image input supported")
    _, ih, iw, ic = tensors[inputs[0]].shape
    graph_in = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", ic, ih, iw])
    names[inputs[0]] = "input"

    def weight(i: int) -> npt.NDArray[np.float32]:
        if i not in consts:
            raise UnsupportedTFLiteModel(f"{tensors[i].name}: weights must be constants")
        return consts[i].astype(np.float32)

    for code, ins, outs, opt in ops:
        out = tensors[outs[0]]
        name = out.name
        if code == _DEQUANTIZE:
            if ins[0] not in consts:
                raise UnsupportedTFLiteModel(f"{name}: DEQUANTIZE of a non-constant")
            consts[outs[0]] = consts[ins[0]].astype(np.float32)
            continue
        if code not in _OP_NAMES:
            raise UnsupportedTFLiteModel(f"operator code {code} ({name})")
        x = names.get(ins[0])
        if x is None:
            raise UnsupportedTFLiteModel(f"{name}: first input is not an activation")
        _, h, w, _ = tensors[ins[0]].shape
        if code in (_CONV_2D, _DEPTHWISE_CONV_2D):
            padding = fb.scalar(opt, 0, "b", 0)
            sw, sh = fb.scalar(opt, 1, "i", 1), fb.scalar(opt, 2, "i", 1)
            act_slot, dil_slot = (3, 4) if code == _CONV_2D else (4, 5)
            act = fb.scalar(opt, act_slot, "b", 0)
            if (fb.scalar(opt, dil_slot, "i", 1), fb.scalar(opt, dil_slot + 1, "i", 1)) != (1, 1):
                raise UnsupportedTFLiteModel(f"{name}: dilation")
            kern = weight(ins[1])
            kh, kw = int(kern.shape[1]), int(kern.shape[2])
            t, bt = _same_pads(h, kh, sh, padding)
            left, r = _same_pads(w, kw, sw, padding)
            attrs: dict[str, Any] = {"kernel_shape": [kh, kw], "strides": [sh, sw], "pads": [t, left, bt, r]}
            if code == _CONV_2D:
                k_onnx = kern.transpose(0, 3, 1, 2)  # OHWI -> OIHW
            else:
                cin = tensors[ins[0]].shape[3]
                k_onnx = kern.transpose(3, 0, 1, 2)  # 1HW(C*m) -> (C*m)1HW
                attrs["group"] = cin
            conv_in = [x, b.const(f"{name}.W", k_onnx)]
            if len(ins) > 2 and ins[2] >= 0:
                conv_in.append(b.const(f"{name}.B", weight(ins[2])))
            y = b.node("Conv", conv_in, f"{name}.conv", **attrs)
            y = _activation(b, act, y, name)
        elif code == _PRELU:
            alpha = weight(ins[1])
            c = int(alpha.size) if alpha.ndim <= 3 else -1
            if alpha.shape[-1] != c:
                raise UnsupportedTFLiteModel(f"{name}: PRELU alpha shape {alpha.shape}")
            y = b.node("PRelu", [x, b.const(f"{name}.alpha", alpha.reshape(c, 1, 1))], f"{name}.prelu")
        elif code == _ADD:
            other = names.get(ins[1])
            if other is None:
                raise UnsupportedTFLiteModel(f"{name}: ADD with a constant")
            y = b.node("Add", [x, other], f"{name}.add")
            y = _activation(b, fb.scalar(opt, 0, "b", 0), y, name)
        elif code == _MAX_POOL_2D:
            padding = fb.scalar(opt, 0, "b", 0)
            sw, sh = fb.scalar(opt, 1, "i", 1), fb.scalar(opt, 2, "i", 1)
            fw, fh = fb.scalar(opt, 3, "i", 1), fb.scalar(opt, 4, "i", 1)
            t, bt = _same_pads(h, fh, sh, padding)
            left, r = _same_pads(w, fw, sw, padding)
            y = b.node("MaxPool", [x], f"{name}.pool", kernel_shape=[fh, fw], strides=[sh, sw], pads=[t, left, bt, r])
            y = _activation(b, fb.scalar(opt, 5, "b", 0), y, name)
        else:  # _PAD
            if ins[1] not in consts:
                raise UnsupportedTFLiteModel(f"{name}: PAD with non-constant paddings")
            p = consts[ins[1]].astype(np.int64).reshape(4, 2)[[0, 3, 1, 2]]  # NHWC -> NCHW rows
            pads = np.concatenate([p[:, 0], p[:, 1]])
            y = b.node("Pad", [x, b.const(f"{name}.pads", pads)], f"{name}.pad", mode="constant")
        names[outs[0]] = y
    graph_out: list[onnx.ValueInfoProto] = []
    for i in outputs:
        tensor = tensors[i]
        if i not in names or len(tensor.shape) != 4 or tensor.shape[1:3] != [1, 1]:
            raise UnsupportedTFLiteModel(f"output {tensor.name}: only 1 x 1 x C outputs supported")
        b.node("Flatten", [names[i]], tensor.name, axis=1)
        graph_out.append(helper.make_tensor_value_info(tensor.name, TensorProto.FLOAT, ["N", tensor.shape[3]]))
    graph = helper.make_graph(b.nodes, graph_name, [graph_in], graph_out, initializer=b.inits)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", _OPSET)],
        producer_name="facekit.local.tflite_to_onnx",
        producer_version=str(CONVERTER_VERSION),
    )
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model
