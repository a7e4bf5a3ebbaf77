"""A reader for dlib's serialised ResNet face recogniser and its conversion to ONNX.

dlib ships ``dlib_face_recognition_resnet_model_v1.dat`` in its own binary serialisation
(``dlib/serialize.h``): integers as a control byte (length in the low nibble, sign in bit
7) then little-endian bytes; strings as a length then bytes; bools as ASCII ``'1'`` /
``'0'``; floats and doubles as an integer mantissa and exponent; tensors as four sizes then
little-endian float32s. A network is written outside-in: each layer's version number, then
its sub-network, then (for computational layers) its parameters. The layer types can only
be known from the network's C++ type, so this module spells out that type
(:func:`network_layers`, from dlib's ``dnn_face_recognition_ex.cpp``) and checks every
version tag, size and stride in the file against it.

The network (``anet_type``), on a 150 x 150 RGB chip, ``(pixel - mean) / 256``:
``con 32 7x7/2`` → affine → relu → ``max_pool 3x3/2`` → 3 residual blocks of 32, a
down-sampling block and 3 of 64, a down-sampling block and 2 of 128, a down-sampling block
and 2 of 256, a last down-sampling block of 256 → global average pool → ``fc 128`` (no
bias). A residual block is ``relu(x + affine(con3x3(relu(affine(con3x3(x))))))``; a
down-sampling block's first convolution has stride 2 and no padding, and its shortcut is a
2 x 2 average pool. dlib adds tensors of different shapes by zero-padding the smaller one
(channels, rows and columns at the end), which the ONNX graph reproduces with ``Pad``.
``affine`` layers stored as batch normalisation (``bn_con2``) are folded the way dlib's
``affine_(const bn_&)`` does: ``gamma / sqrt(var + eps)`` and ``beta - mean * scale``.

The ONNX graph takes ``input``: N x 3 x 150 x 150 float32 RGB pixels 0..255 (the mean
subtraction and scaling are inside the graph) and returns ``output``: N x 128 float32, the
face descriptor, unnormalised, as dlib's ``compute_face_descriptor`` returns it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

__all__ = [
    "CONVERTER_VERSION",
    "DlibLayer",
    "DlibNetwork",
    "UnsupportedDlibModel",
    "convert_dlib_resnet",
    "network_layers",
    "read_dlib_resnet",
]

CONVERTER_VERSION = 1
"""Bumped whenever the produced graph changes, together with
:data:`facekit.local.embedding.PREPARED_TAG` (the conversion's name in the model cache)."""

CHIP_SIZE = 150
"""Side of the network's input chip, pixels."""

_OPSET = 13

F32 = npt.NDArray[np.float32]


class UnsupportedDlibModel(ValueError):
    """The file is not dlib's ResNet face recogniser in a serialisation this reader knows."""


# -- the network's type, outside-in ------------------------------------------------------------


@dataclass
class DlibLayer:
    """One layer of the network as read from the file.

    Attributes:
        kind: ``con``, ``affine``, ``relu``, ``max_pool``, ``avg_pool``, ``add_prev``,
            ``tag``, ``skip``, ``fc`` or ``input``.
        n: Filters (``con``), outputs (``fc``) or the tag id (``tag``, ``skip``, ``add_prev``).
        k: Window side (``con``, pools; 0 = the whole input for ``avg_pool``).
        stride: Stride (``con``, pools).
        pad: Padding on each side (``con``, pools), as dlib's default for the stride.
        params: Weights by name (``W``, ``b``, ``gamma``, ``beta``, ``mean``).
    """

    kind: str
    n: int = 0
    k: int = 0
    stride: int = 1
    pad: int = 0
    params: dict[str, F32] = field(default_factory=dict)


def _con(n: int, k: int, s: int) -> DlibLayer:
    return DlibLayer("con", n=n, k=k, stride=s, pad=0 if s != 1 else k // 2)


def _block(n: int, stride: int) -> list[DlibLayer]:
    # BN<con<N,3,3,1,1,relu<BN<con<N,3,3,stride,stride,SUBNET>>>>>, outside-in
    return [DlibLayer("affine"), _con(n, 3, 1), DlibLayer("relu"), DlibLayer("affine"), _con(n, 3, stride)]


def _ares(n: int) -> list[DlibLayer]:
    # relu<add_prev1<block<N,BN,1,tag1<SUBNET>>>>
    return [DlibLayer("relu"), DlibLayer("add_prev", n=1), *_block(n, 1), DlibLayer("tag", n=1)]


def _ares_down(n: int) -> list[DlibLayer]:
    # relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,BN,2,tag1<SUBNET>>>>>>>
    return [
        DlibLayer("relu"),
        DlibLayer("add_prev", n=2),
        DlibLayer("avg_pool", k=2, stride=2),
        DlibLayer("skip", n=1),
        DlibLayer("tag", n=2),
        *_block(n, 2),
        DlibLayer("tag", n=1),
    ]


def network_layers() -> list[DlibLayer]:
    """Return ``anet_type``'s layers outside-in (loss excluded), without parameters.

    From dlib's ``examples/dnn_face_recognition_ex.cpp``::

        alevel0 = ares_down<256>; alevel1 = ares<256,ares<256,ares_down<256>>>;
        alevel2 = ares<128,ares<128,ares_down<128>>>;
        alevel3 = ares<64,ares<64,ares<64,ares_down<64>>>>;
        alevel4 = ares<32,ares<32,ares<32>>>;
        anet_type = loss_metric<fc_no_bias<128,avg_pool_everything<alevel0<alevel1<alevel2<
            alevel3<alevel4<max_pool<3,3,2,2,relu<affine<con<32,7,7,2,2,
            input_rgb_image_sized<150>>>>>>>>>>>>;
    """
    levels: list[DlibLayer] = [DlibLayer("fc", n=128), DlibLayer("avg_pool", k=0, stride=1)]
    levels += _ares_down(256)
    levels += _ares(256) + _ares(256) + _ares_down(256)
    levels += _ares(128) + _ares(128) + _ares_down(128)
    levels += _ares(64) + _ares(64) + _ares(64) + _ares_down(64)
    levels += _ares(32) + _ares(32) + _ares(32)
    levels += [DlibLayer("max_pool", k=3, stride=2), DlibLayer("relu"), DlibLayer("affine"), _con(32, 7, 2)]
    return levels


# -- dlib's serialisation ----------------------------------------------------------------------


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.buf = memoryview(data)
        self.pos = 0

    def _take(self, n: int) -> memoryview:
        if self.pos + n > len(self.buf):
            raise UnsupportedDlibModel(f"file ends early (wanted {n} bytes at offset {self.pos})")
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out

    def integer(self) -> int:
        ctrl = self._take(1)[0]
        size = ctrl & 0x0F
        if size == 0 or size > 8 or ctrl & 0x70:
            raise UnsupportedDlibModel(f"bad integer control byte 0x{ctrl:02x} at offset {self.pos - 1}")
        value = int.from_bytes(self._take(size), "little")
        return -value if ctrl & 0x80 else value

    def boolean(self) -> bool:
        ch = bytes(self._take(1))
        if ch not in (b"0", b"1"):
            raise UnsupportedDlibModel(f"bad bool {ch!r} at offset {self.pos - 1}")
        return ch == b"1"

    def string(self) -> str:
        n = self.integer()
        return bytes(self._take(n)).decode("latin-1")

    def real(self) -> float:
        mantissa, exponent = self.integer(), self.integer()
        if exponent >= 32000:  # is_inf, is_ninf, is_nan
            return {32000: float("inf"), 32001: float("-inf")}.get(exponent, float("nan"))
        return float(mantissa) * 2.0**exponent

    def tensor(self) -> F32:
        self.expect_int(2, "tensor version")
        shape = tuple(self.integer() for _ in range(4))
        count = int(np.prod(shape))
        raw = self._take(4 * count)
        return np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(shape)

    def alias(self) -> tuple[int, ...]:
        self.expect_int(1, "alias_tensor version")
        return tuple(self.integer() for _ in range(4))

    def expect_int(self, want: int | tuple[int, ...], what: str) -> int:
        got = self.integer()
        allowed = want if isinstance(want, tuple) else (want,)
        if got not in allowed:
            raise UnsupportedDlibModel(f"{what}: expected {want}, found {got} (offset {self.pos})")
        return got

    def expect_str(self, allowed: tuple[str, ...], what: str) -> str:
        got = self.string()
        if got not in allowed:
            raise UnsupportedDlibModel(f"{what}: expected one of {allowed}, found {got!r}")
        return got


def _check(layer: DlibLayer, what: str, got: int, want: int) -> None:
    if got != want:
        raise UnsupportedDlibModel(f"{layer.kind} layer: {what} is {got}, expected {want}")


def _read_window(r: _Reader, layer: DlibLayer) -> None:
    """nr, nc (long), stride_y, stride_x, padding_y, padding_x (int) of a con or pool."""
    nr, nc, sy, sx, py, px = (r.integer() for _ in range(6))
    _check(layer, "rows", nr, layer.k)
    _check(layer, "columns", nc, layer.k)
    _check(layer, "stride", sy, layer.stride)
    _check(layer, "stride", sx, layer.stride)
    _check(layer, "padding", py, layer.pad)
    _check(layer, "padding", px, layer.pad)


def _read_details(r: _Reader, layer: DlibLayer) -> None:
    kind = layer.kind
    if kind == "con":
        version = r.expect_str(("con_4", "con_5", "con_6"), "con_ version")
        params = r.tensor().ravel()
        _check(layer, "filters", r.integer(), layer.n)
        _read_window(r, layer)
        filters, biases = r.alias(), r.alias()
        for _ in range(4):  # learning-rate and weight-decay multipliers
            r.real()
        use_bias = r.boolean() if version in ("con_5", "con_6") else True
        if version == "con_6" and r.boolean():
            raise UnsupportedDlibModel("con_ layer with a fused relu")
        nw = int(np.prod(filters))
        layer.params["W"] = params[:nw].reshape(filters)
        if use_bias:
            layer.params["b"] = params[nw : nw + int(np.prod(biases))]
    elif kind == "affine":
        version = r.expect_str(("affine_", "affine_2", "bn_con2"), "affine_ version")
        if version == "bn_con2":  # fold as dlib's affine_(const bn_&) does
            params = r.tensor().ravel()
            gamma_shape, _beta_shape = r.alias(), r.alias()
            r.tensor(), r.tensor()  # batch means and inverse stds (training only)
            mean, var = r.tensor().ravel(), r.tensor().ravel()
            r.integer(), r.integer()  # num_updates, running_stats_window_size
            for _ in range(4):
                r.real()
            eps = r.real()
            ng = int(np.prod(gamma_shape))
            scale = params[:ng] / np.sqrt(var + np.float32(eps))
            layer.params["gamma"] = scale.astype(np.float32)
            layer.params["beta"] = (params[ng : 2 * ng] - scale * mean).astype(np.float32)
            return
        params = r.tensor().ravel()
        gamma_shape, beta_shape = r.alias(), r.alias()
        mode = r.integer()
        if mode != 0:  # CONV_MODE: one scale per channel
            raise UnsupportedDlibModel(f"affine_ mode {mode}")
        if version == "affine_2" and r.boolean():
            raise UnsupportedDlibModel("disabled affine_ layer")
        ng = int(np.prod(gamma_shape))
        layer.params["gamma"] = params[:ng]
        layer.params["beta"] = params[ng : ng + int(np.prod(beta_shape))]
    elif kind == "relu":
        if r.expect_str(("relu_", "relu_2"), "relu_ version") == "relu_2" and r.boolean():
            raise UnsupportedDlibModel("disabled relu_ layer")
    elif kind in ("max_pool", "avg_pool"):
        r.expect_str((f"{kind}_2",), f"{kind}_ version")
        _read_window(r, layer)
    elif kind == "add_prev":
        r.expect_str(("add_prev_",), "add_prev_ version")
    elif kind == "fc":
        version = r.expect_str(("fc_2", "fc_3"), "fc_ version")
        _check(layer, "outputs", r.integer(), layer.n)
        n_in = r.integer()
        params = r.tensor().ravel()
        weights, _biases = r.alias(), r.alias()
        bias_mode = r.integer()
        for _ in range(4):
            r.real()
        if version == "fc_3":
            r.boolean()
        if bias_mode != 1:  # FC_NO_BIAS
            raise UnsupportedDlibModel(f"fc_ bias mode {bias_mode}")
        if weights != (n_in, layer.n, 1, 1):
            raise UnsupportedDlibModel(f"fc_ weights {weights}")
        layer.params["W"] = params[: n_in * layer.n].reshape(n_in, layer.n)
    else:  # pragma: no cover - network_layers() produces no other kind
        raise UnsupportedDlibModel(kind)


def _read_trailer(r: _Reader, *, input_layer: bool, version: int) -> None:
    """add_layer's training state after the details: three bools, three tensors."""
    for _ in range(3):
        r.boolean()
    for _ in range(3):
        r.tensor()
    if input_layer and version >= 3:
        r.integer()  # _sample_expansion_factor


@dataclass
class DlibNetwork:
    """The network as read: layers outside-in, and the input's channel means (0..255, RGB)."""

    layers: list[DlibLayer]
    mean_rgb: tuple[float, float, float]
    loss: str


def read_dlib_resnet(path: str | os.PathLike[str]) -> DlibNetwork:
    """Read ``dlib_face_recognition_resnet_model_v1.dat``.

    Raises:
        UnsupportedDlibModel: Anything in the file that does not match ``anet_type``.
    """
    r = _Reader(open(os.fspath(path), "rb").read())  # noqa: SIM115 - read at once
    r.expect_int(1, "add_loss_layer version")
    loss = r.expect_str(("loss_metric_", "loss_metric_2"), "loss version")
    if loss == "loss_metric_2":
        r.real(), r.real()  # margin, distance threshold (training only)
    layers = network_layers()
    versions: list[int] = []
    for layer in layers:
        if layer.kind in ("tag", "skip"):
            r.expect_int(1, f"{layer.kind} layer version")
        elif layer is layers[-1]:
            versions.append(r.expect_int((2, 3), "input add_layer version"))
        else:
            versions.append(r.expect_int(2, "add_layer version"))
    r.expect_str(("input_rgb_image_sized",), "input layer")
    mean = (r.real(), r.real(), r.real())
    rows, cols = r.integer(), r.integer()
    if (rows, cols) != (CHIP_SIZE, CHIP_SIZE):
        raise UnsupportedDlibModel(f"input is {rows} x {cols}, expected {CHIP_SIZE} x {CHIP_SIZE}")
    computational = [ly for ly in layers if ly.kind not in ("tag", "skip")]
    for i, layer in enumerate(reversed(computational)):
        _read_details(r, layer)
        _read_trailer(r, input_layer=i == 0, version=versions[-1 - i])
    if r.pos != len(r.buf):
        raise UnsupportedDlibModel(f"{len(r.buf) - r.pos} bytes left after the network")
    return DlibNetwork(layers=layers, mean_rgb=mean, loss=loss)


# -- ONNX --------------------------------------------------------------------------------------


@dataclass
class _Graph:
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    inits: list[onnx.TensorProto] = field(default_factory=list)
    count: int = 0

    def const(self, arr: npt.NDArray[Any], dtype: Any = np.float32) -> str:
        name = f"c{len(self.inits)}"
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, dtype), name))
        return name

    def node(self, op: str, inputs: list[str], **attrs: Any) -> str:
        self.count += 1
        out = f"{op.lower()}{self.count}"
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out


def _pool_out(size: int, k: int, s: int, p: int) -> int:
    return 1 + (size + 2 * p - k) // s


def convert_dlib_resnet(path: str | os.PathLike[str]) -> onnx.ModelProto:
    """Convert dlib's ResNet face recogniser to a checked ONNX model (opset 13).

    Args:
        path: ``dlib_face_recognition_resnet_model_v1.dat`` (already verified by the store).

    Returns:
        A model with input ``input`` (N x 3 x 150 x 150 float32, RGB 0..255) and output
        ``output`` (N x 128 float32).

    Raises:
        UnsupportedDlibModel: The file does not match the network this reader knows.
    """
    net = read_dlib_resnet(path)
    g = _Graph()
    mean = np.array(net.mean_rgb, np.float32).reshape(1, 3, 1, 1)
    x = g.node("Sub", ["input", g.const(mean)])
    x = g.node("Mul", [x, g.const(np.array(1 / 256, np.float32))])
    shape = (3, CHIP_SIZE, CHIP_SIZE)  # channels, rows, cols of x
    tags: dict[int, tuple[str, tuple[int, int, int]]] = {}
    for layer in reversed(net.layers):
        c, h, w = shape
        if layer.kind == "con":
            ins = [x, g.const(layer.params["W"])]
            if "b" in layer.params:
                ins.append(g.const(layer.params["b"]))
            p = layer.pad
            x = g.node("Conv", ins, kernel_shape=[layer.k] * 2, strides=[layer.stride] * 2, pads=[p] * 4)
            ho = _pool_out(h, layer.k, layer.stride, p)
            shape = (layer.n, ho, _pool_out(w, layer.k, layer.stride, p))
        elif layer.kind == "affine":
            x = g.node("Mul", [x, g.const(layer.params["gamma"].reshape(1, -1, 1, 1))])
            x = g.node("Add", [x, g.const(layer.params["beta"].reshape(1, -1, 1, 1))])
        elif layer.kind == "relu":
            x = g.node("Relu", [x])
        elif layer.kind == "max_pool":
            x = g.node("MaxPool", [x], kernel_shape=[layer.k] * 2, strides=[layer.stride] * 2, pads=[layer.pad] * 4)
            shape = (c, _pool_out(h, layer.k, layer.stride, layer.pad), _pool_out(w, layer.k, layer.stride, layer.pad))
        elif layer.kind == "avg_pool" and layer.k == 0:
            x = g.node("GlobalAveragePool", [x])
            x = g.node("Flatten", [x], axis=1)
            shape = (c, 1, 1)
        elif layer.kind == "avg_pool":
            x = g.node("AveragePool", [x], kernel_shape=[layer.k] * 2, strides=[layer.stride] * 2)
            shape = (c, _pool_out(h, layer.k, layer.stride, 0), _pool_out(w, layer.k, layer.stride, 0))
        elif layer.kind == "tag":
            tags[layer.n] = (x, shape)
        elif layer.kind == "skip":
            x, shape = tags[layer.n]
        elif layer.kind == "add_prev":
            other, oshape = tags[layer.n]
            full = tuple(max(a, b) for a, b in zip(shape, oshape, strict=True))
            a = _pad_to(g, x, shape, full)
            b = _pad_to(g, other, oshape, full)
            x = g.node("Add", [a, b])
            shape = (full[0], full[1], full[2])
        elif layer.kind == "fc":
            x = g.node("MatMul", [x, g.const(layer.params["W"])])
            shape = (layer.n, 1, 1)
    g.nodes.append(helper.make_node("Identity", [x], ["output"], name="output"))
    graph = helper.make_graph(
        g.nodes,
        "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, CHIP_SIZE, CHIP_SIZE])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", shape[0]])],
        initializer=g.inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", _OPSET)],
        producer_name="facekit.local.dlib_to_onnx",
        producer_version=str(CONVERTER_VERSION),
    )
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def _pad_to(g: _Graph, x: str, shape: tuple[int, int, int], full: tuple[int, ...]) -> str:
    """Zero-pad (N, C, H, W) ``x`` at the end of C, H and W up to ``full`` (dlib's add)."""
    if tuple(shape) == tuple(full):
        return x
    pads = [0, 0, 0, 0, 0, full[0] - shape[0], full[1] - shape[1], full[2] - shape[2]]
    return g.node("Pad", [x, g.const(np.array(pads, np.int64), np.int64)], mode="constant")
