"""The CenterFace detector in 8-bit integers, prepared once into the model cache (opt-in).

The float detector's convolutions are most of a detection: 13.5 of 16 ms for a 1200x630
group photo at the default 640 pixels on the shared 2-core machine. Quantised, ``session.run``
is 1.4-1.5x faster at 640 pixels and 1.3x at 320 (``benchmarks/local/calibrate_centerface.py``
measures both, and the agreement): the same faces on the annotated evaluation photos (AP@0.5
1.000 both, at 640 and 320 pixels), box IoU with the float boxes 0.96 on average, landmarks
within 6% of the box width and scores within 0.04 -- all closer than the float detector is to
itself on the mirror image of the same photo. The landmarks move the aligned chips that age,
emotion, embeddings and the mesh see (about 2 pixels on an 88-pixel face), so the float
detector stays the default: ``LocalEngine(detector_precision="int8")`` opts in.

Derived from the pinned, sha256-checked ``centerface.onnx`` and never downloaded: the graph
edit of :mod:`facekit.local.centerface_graph` first, then :mod:`facekit.local._int8`'s recipe
(weights int8 per channel, 7 bits; activations uint8 at the ranges of
:mod:`facekit.local._centerface_int8_ranges`, measured on real photos that AP is not
measured on). What stays float:

* the image preparation prepended by the edit (resize, cast, transpose, pad): the first
  convolution's input is the padded 0..255 image, exact in uint8 at scale 1;
* the head (the convolutions that make the four outputs, and the heatmap's sigmoid): box
  sizes are ``exp`` of one of them, where 8 bits would move a box by percents;
* the three ``ConvTranspose`` upsamplings and their batch norms (no integer kernel on the
  CPU; quantising around them measured slower).

Building needs ``onnx`` and onnxruntime's quantisation tools, once per machine (``facekit
models fetch`` does it); afterwards the engine loads the cached file and imports neither.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from facekit.local.centerface import PREPARED_TAG as GRAPH_TAG

if TYPE_CHECKING:
    from facekit.local.store import ModelStore

__all__ = ["MODEL_FILE", "PREPARED_TAG", "build_int8_centerface", "float_nodes", "prepared_int8_centerface"]

MODEL_FILE: Final = "centerface.onnx"
#: Names the graph edit and the quantisation step with their versions (a new tag never
#: reuses a stale cached file).
PREPARED_TAG: Final = f"{GRAPH_TAG}-int8r1"

#: Operators computed in integers.
QUANTISED_OPS: Final = ("Conv", "Relu", "Add")


def float_nodes(model: Any) -> list[str]:
    """Names of the nodes that stay float: the image preparation and the head.

    The head is every node that makes a graph output, and the node before it when its
    output goes nowhere else (the heatmap's convolution before the sigmoid).

    Args:
        model: The edited, named float graph (``onnx.ModelProto``).
    """
    graph = model.graph
    outputs = {output.name for output in graph.output}
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    head = [node for node in graph.node if set(node.output) & outputs]
    head_ids = {id(node) for node in head}
    for node in graph.node:
        users = [user for out in node.output for user in consumers.get(out, [])]
        if users and all(id(user) in head_ids for user in users) and not set(node.output) & outputs:
            head.append(node)
    keep = [node.name for node in graph.node if node.name.startswith("pre.")]
    return keep + sorted({node.name for node in head})


def float_graph(source: Path) -> Any:
    """The edited float CenterFace graph with named nodes (``onnx.ModelProto``), imports ``onnx``.

    Args:
        source: Path of the verified pinned ``centerface.onnx``.
    """
    import onnx

    from facekit.local._int8 import name_nodes
    from facekit.local.centerface import load_centerface_model

    return name_nodes(onnx.load_from_string(load_centerface_model(source)))


def build_int8_centerface(source: Path, ranges: dict[str, tuple[float, float]] | None = None) -> bytes:
    """The quantised detector derived from the pinned ``centerface.onnx`` at ``source``.

    Args:
        source: Path of the verified pinned file.
        ranges: Activation ranges by tensor name (min, max); default the shipped ones.

    Returns:
        The serialized quantised graph (same inputs and outputs as the prepared float one).

    Raises:
        ValueError: A tensor to quantise has no range (the ranges do not fit this graph).
    """
    import numpy as np

    from facekit.local._int8 import quantize_with_ranges

    if ranges is None:
        from facekit.local._centerface_int8_ranges import RANGES

        ranges = RANGES
    model = float_graph(source)
    blank = {
        "image": np.zeros((1, 64, 64, 3), np.uint8),
        "sizes": np.array([1, 64, 64, 3], np.int64),
        "pads": np.zeros(8, np.int64),
    }
    return quantize_with_ranges(
        model, ranges, ops=QUANTISED_OPS, blank_feed=blank, exclude=float_nodes(model), what="detector"
    )


def prepared_int8_centerface(store: ModelStore) -> Path | bytes:
    """The quantised detector from the cache, built on first use (see the module docstring).

    Raises:
        ModelNotAvailableError: The pinned file is missing, or the quantised graph could not
            be built (the message says how to use the float detector instead).
    """
    from facekit.local._int8 import prepared_int8

    return prepared_int8(
        store, MODEL_FILE, PREPARED_TAG, build_int8_centerface, what="detector",
        float_option="detector_precision='float32' (or FACEKIT_LOCAL_DETECTOR_PRECISION=float32)",
    )  # fmt: skip
