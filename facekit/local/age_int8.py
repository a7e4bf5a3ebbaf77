"""The age network in 8-bit integers, prepared once into the model cache.

``age-v1.onnx`` (float32, a ResNet of eleven 3x3 convolutions) costs 19 ms for the six faces
of a group photo on the shared 2-core machine; quantised it costs 1.5 ms, with ages within
0.3 to 0.8 years of the float model on average (held-out real faces, largest difference 6
years on a 37-pixel face; ``benchmarks/local/calibrate_age.py`` measures both). The float model
stays available: ``LocalEngine(age_precision="float32")``.

The quantised model is derived from the pinned, sha256-checked float file, never downloaded:

1. dlib's affine layers (a ``Mul`` and an ``Add`` after every convolution) are folded into the
   convolution's weights and bias, so that each convolution is one quantisable operator; the
   tensor names stay those of the float graph.
2. onnxruntime's static QDQ quantisation: weights int8 per output channel with
   ``reduce_range`` (7 bits: no saturation on CPUs without VNNI dot products), activations
   uint8 per tensor with the ranges of :mod:`facekit.local._age_int8_ranges` (MinMax over 64
   real faces and their mirror images, from the evaluation photos). The ranges are given as
   overrides, so no calibration runs here; a tensor without a range is an error, never a
   guessed range.

Building needs ``onnx`` and onnxruntime's quantisation tools, once per machine (``facekit
models fetch`` does it); afterwards the engine loads the cached file and imports neither.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from facekit.local.store import ModelStore

__all__ = ["MODEL_FILE", "PREPARED_TAG", "build_int8_age", "fold_affine_layers", "prepared_int8_age"]

MODEL_FILE: Final = "age-v1.onnx"
#: Names the preparation step and its version (a new tag never reuses a stale cached file).
PREPARED_TAG: Final = "facekit-int8r1"


#: Operators computed in integers; the final ``Softmax`` stays float (its probabilities in 8 bits
#: would move the expected age).
_QUANTISED_OPS: Final = ["Conv", "Relu", "Add", "Pad", "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten", "Gemm"]


def fold_affine_layers(model: Any) -> Any:
    """Fold each ``Conv -> Mul(scale) -> Add(offset)`` chain into the ``Conv`` (in place).

    ``W' = W * scale`` per output channel and ``b' = b * scale + offset``; the convolution
    takes the ``Add``'s output name, so the rest of the graph is unchanged.

    Args:
        model: An ``onnx.ModelProto``.

    Returns:
        The same model, for chaining.

    Raises:
        ValueError: A chain whose scale or offset is not one value per output channel.
    """
    import numpy as np
    from onnx import numpy_helper

    graph = model.graph
    inits = {init.name: init for init in graph.initializer}
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    removed: set[int] = set()
    for conv in graph.node:
        if conv.op_type != "Conv" or len(conv.input) < 3:
            continue
        after = consumers.get(conv.output[0], [])
        if len(after) != 1 or after[0].op_type != "Mul" or after[0].input[1] not in inits:
            continue
        mul = after[0]
        after_mul = consumers.get(mul.output[0], [])
        if len(after_mul) != 1 or after_mul[0].op_type != "Add" or after_mul[0].input[1] not in inits:
            continue
        add = after_mul[0]
        weight = numpy_helper.to_array(inits[conv.input[1]]).astype(np.float32)
        bias = numpy_helper.to_array(inits[conv.input[2]]).astype(np.float32)
        scale = numpy_helper.to_array(inits[mul.input[1]]).astype(np.float32).reshape(-1)
        offset = numpy_helper.to_array(inits[add.input[1]]).astype(np.float32).reshape(-1)
        channels = weight.shape[0]
        if scale.shape != (channels,) or offset.shape != (channels,):
            raise ValueError(f"affine layer after {conv.output[0]} is not per output channel")
        folded_w = numpy_helper.from_array(weight * scale[:, None, None, None], conv.input[1] + "_folded")
        folded_b = numpy_helper.from_array(bias * scale + offset, conv.input[2] + "_folded")
        graph.initializer.extend([folded_w, folded_b])
        conv.input[1], conv.input[2] = folded_w.name, folded_b.name
        conv.output[0] = add.output[0]
        removed.update((id(mul), id(add)))
    kept = [node for node in graph.node if id(node) not in removed]
    del graph.node[:]
    graph.node.extend(kept)
    used = {name for node in graph.node for name in node.input}
    unused = [init for init in graph.initializer if init.name not in used]
    for init in unused:
        graph.initializer.remove(init)
    return model


def build_int8_age(source: Path, ranges: dict[str, tuple[float, float]] | None = None) -> bytes:
    """The quantised age model derived from the float ``age-v1.onnx`` at ``source``.

    Args:
        source: Path of the verified float model.
        ranges: Activation ranges by tensor name (min, max); default the shipped ones.

    Returns:
        The serialized quantised model.

    Raises:
        ValueError: A tensor to quantise has no range (the ranges do not fit this graph).
    """
    import numpy as np
    import onnx

    from facekit.local._int8 import quantize_with_ranges

    if ranges is None:
        from facekit.local._age_int8_ranges import RANGES

        ranges = RANGES
    return quantize_with_ranges(
        fold_affine_layers(onnx.load(str(source))), ranges, ops=_QUANTISED_OPS,
        blank_feed={"images": np.zeros((1, 3, 64, 64), np.float32)}, what="age model",
    )  # fmt: skip


def prepared_int8_age(store: ModelStore) -> Path | bytes:
    """The quantised age model from the cache, built on first use (see the module docstring).

    Raises:
        ModelNotAvailableError: The float source is missing, or the quantised model could not
            be built (the message says how to use the float network instead).
    """
    from facekit.local._int8 import prepared_int8

    return prepared_int8(
        store, MODEL_FILE, PREPARED_TAG, build_int8_age, what="age model",
        float_option="age_precision='float32' (or FACEKIT_LOCAL_AGE_PRECISION=float32)",
    )  # fmt: skip
