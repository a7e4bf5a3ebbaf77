"""Static int8 quantisation with shipped activation ranges: the one recipe of the int8 models.

Both int8 models (:mod:`facekit.local.age_int8`, :mod:`facekit.local.centerface_int8`) are
derived from a pinned float graph with onnxruntime's static QDQ quantisation: weights int8
per output channel with ``reduce_range`` (7 bits: no saturation on CPUs without VNNI dot
products), activations uint8 per tensor with ranges measured once on real photos and
shipped as numbers. The ranges are given as ``TensorQuantOverrides``, so no calibration runs
when a model is built; :func:`check_ranges_used` refuses a model whose scales are not those
ranges' (an onnxruntime that ignored the overrides would have calibrated on one blank input).

Needs ``onnx`` and ``onnxruntime.quantization``: only while building.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from facekit.local.store import ModelStore

__all__ = ["check_ranges_used", "name_nodes", "prepared_int8", "quantize_with_ranges"]

Ranges = Mapping[str, tuple[float, float]]


def quantize_with_ranges(
    model: Any,
    ranges: Ranges,
    *,
    ops: Sequence[str],
    blank_feed: dict[str, Any],
    exclude: Sequence[str] = (),
    what: str,
) -> bytes:
    """The QDQ int8 form of a float ``onnx.ModelProto``, activations at the given ranges.

    Args:
        model: The float model (``onnx.ModelProto``); unnamed nodes get names first.
        ranges: Activation ranges (min, max) by tensor name; every tensor quantised needs one.
        ops: Operator types computed in integers.
        blank_feed: One input for the quantiser's calibration pass (its ranges are all
            overridden).
        exclude: Names of nodes that stay float.
        what: The model's name for messages (``"age model"``).

    Returns:
        The serialized quantised model.

    Raises:
        ValueError: A quantised tensor without a range, or scales that are not the ranges'.
    """
    import numpy as np
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class _Blank(CalibrationDataReader):  # type: ignore[misc]
        """One input for the calibrator's pass: every range it finds is overridden."""

        def __init__(self) -> None:
            self._items = iter([blank_feed])

        def get_next(self) -> dict[str, Any] | None:
            return next(self._items, None)

    name_nodes(model)
    overrides = {name: [{"rmin": np.float32(low), "rmax": np.float32(high)}] for name, (low, high) in ranges.items()}
    quiet = _DropQuantiserAdvice()
    logging.getLogger().addFilter(quiet)  # its "consider pre-processing" lines, on the root logger
    try:
        with tempfile.TemporaryDirectory(prefix="facekit-int8-") as tmp:
            source, out = Path(tmp) / "float.onnx", Path(tmp) / "int8.onnx"
            onnx.save(model, str(source))
            quantize_static(
                str(source), str(out), _Blank(), quant_format=QuantFormat.QDQ,
                activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
                op_types_to_quantize=list(ops), nodes_to_exclude=list(exclude),
                extra_options={"TensorQuantOverrides": overrides},
            )  # fmt: skip
            data = out.read_bytes()
    finally:
        logging.getLogger().removeFilter(quiet)
    check_ranges_used(onnx.load_from_string(data), ranges, what=what)
    return data


def name_nodes(model: Any) -> Any:
    """Give every unnamed node of ``model`` a name from its type and first output (in place).

    The names are stable (the output names are the pinned file's), so that nodes can be
    excluded from quantisation by name.
    """
    for node in model.graph.node:
        if not node.name:
            node.name = f"{node.op_type}_{node.output[0]}"
    return model


def check_ranges_used(quantized: Any, ranges: Ranges, *, what: str) -> None:
    """Every quantised activation has a shipped range, and its scale is that range's.

    Args:
        quantized: The quantised ``onnx.ModelProto``.
        ranges: The ranges it was built with.
        what: The model's name for messages.

    Raises:
        ValueError: A tensor without a range, or a scale that is not its range's.
    """
    from onnx import numpy_helper

    inits = {init.name: init for init in quantized.graph.initializer}
    activations = [node for node in quantized.graph.node if node.op_type == "QuantizeLinear" and node.input[0] not in inits]
    missing = sorted({node.input[0] for node in activations} - set(ranges))
    if missing:
        raise ValueError(f"no calibrated range for {', '.join(missing)}: the ranges do not fit this {what}")
    # uint8 scales of the calibrated ranges (each widened to hold 0); pooling, padding and
    # activation outputs share their input's scale, so a scale must be one of these
    expected = [(max(high, 0.0) - min(low, 0.0)) / 255.0 for low, high in ranges.values()]
    for node in activations:
        scale = float(numpy_helper.to_array(inits[node.input[1]]).reshape(-1)[0])
        if not any(abs(scale - e) <= 1e-4 * e for e in expected):
            raise ValueError(
                f"the quantiser did not use the calibrated ranges (scale {scale:.6g} for {node.input[0]}): "
                "this onnxruntime ignores TensorQuantOverrides"
            )


def prepared_int8(
    store: ModelStore, source: str, tag: str, build: Callable[[Path], bytes], *, what: str, float_option: str
) -> Path | bytes:
    """An int8 model from the cache, built from the pinned ``source`` on first use.

    Args:
        store: The model store holding ``source``.
        source: The pinned float file's name.
        tag: The preparation step and its version (part of the cached file's name).
        build: Turns the verified source's path into the quantised model's bytes.
        what: The model's name for the message (``"age model"``).
        float_option: The option and value that choose the float model instead, with its
            environment variable (``"age_precision='float32' (or FACEKIT_...=float32)"``).

    Raises:
        ModelNotAvailableError: The source is missing, or the quantised model could not be built
            (the message names ``float_option``).
    """
    from facekit._errors import ModelNotAvailableError

    try:
        return store.prepared(source, tag, build)
    except ModelNotAvailableError:
        raise
    except Exception as exc:  # the seam: onnx, onnxruntime.quantization, the checks above
        raise ModelNotAvailableError(
            f"the int8 {what} could not be prepared from {source} ({type(exc).__name__}: {exc}); "
            f"use the float one with {float_option}, or upgrade onnx and onnxruntime"
        ) from exc


class _DropQuantiserAdvice(logging.Filter):
    """Drops onnxruntime.quantization's advice to pre-process the model (the graph is ours)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Please consider")
