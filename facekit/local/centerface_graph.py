"""One-time edit of the shipped CenterFace graph (the only detector code that imports ``onnx``).

The edit runs once, when the model cache is prepared (``facekit models fetch`` or the first
detection on a machine), and its result is stored in the model cache under
:data:`facekit.local.centerface.PREPARED_TAG`
(:meth:`facekit.local.store.ModelStore.prepared`); every later process loads the stored graph
straight into onnxruntime, without importing ``onnx`` (about 0.9 s of start-up).
"""

from __future__ import annotations

import os

import onnx
from onnx import TensorProto, helper, version_converter

__all__ = ["load_centerface_model"]


def load_centerface_model(path: str | os.PathLike[str], *, preprocess: bool = True) -> bytes:
    """Load ``centerface.onnx`` and return it edited, serialized.

    Batch, height and width become symbolic; initializers are removed from the graph
    inputs (so onnxruntime may fold them); fixed output shapes are dropped. With
    ``preprocess`` the model is raised to opset 13 and the image preparation is prepended
    to it, so that it runs inside onnxruntime (multi-threaded, about 1 ms instead of 3 to 4
    for Pillow on a 1280 px photo):

    * ``image``: 1 x H x W x 3 uint8 RGB;
    * ``sizes``: int64 [1, h, w, 3], the size to resize to (bilinear, half-pixel centres,
      no anti-aliasing: callers box-reduce first when shrinking by 2 or more);
    * ``pads``: int64 [0, 0, 0, 0, 0, 0, bottom, right], the zero padding up to multiples
      of 32.

    Without ``preprocess`` the input is the raw ``input.1`` (N x 3 x H x W float32).

    Args:
        path: Path to the pinned ``centerface.onnx``.
        preprocess: Prepend the resize, cast, transpose and pad.

    Returns:
        The edited model, serialized (to pass to ``onnxruntime.InferenceSession``).
    """
    model = onnx.load(os.fspath(path))
    graph = model.graph
    init_names = {t.name for t in graph.initializer}
    keep = [i for i in graph.input if i.name not in init_names]
    del graph.input[:]
    graph.input.extend(keep)
    for inp in graph.input:
        dims = inp.type.tensor_type.shape.dim
        for d, sym in zip(dims, ("N", None, "H", "W"), strict=True):
            if sym is not None:
                d.ClearField("dim_value")
                d.dim_param = sym
    for out in graph.output:
        dims = out.type.tensor_type.shape.dim
        for d, sym in zip(dims, ("N", None, "h", "w"), strict=True):
            if sym is not None:
                d.ClearField("dim_value")
                d.dim_param = sym
    del graph.value_info[:]
    if not preprocess:
        raw: bytes = model.SerializeToString()
        return raw
    model = version_converter.convert_version(model, 13)
    graph = model.graph
    net_in = graph.input[0].name
    del graph.input[:]
    graph.input.extend(
        [
            helper.make_tensor_value_info("image", TensorProto.UINT8, [1, "H", "W", 3]),
            helper.make_tensor_value_info("sizes", TensorProto.INT64, [4]),
            helper.make_tensor_value_info("pads", TensorProto.INT64, [8]),
        ]
    )
    pre = [
        helper.make_node(
            "Resize", ["image", "", "", "sizes"], ["pre.resized"], mode="linear",
            coordinate_transformation_mode="half_pixel", name="pre.resize",
        ),
        helper.make_node("Cast", ["pre.resized"], ["pre.float"], to=TensorProto.FLOAT,
                         name="pre.cast"),
        helper.make_node("Transpose", ["pre.float"], ["pre.nchw"], perm=[0, 3, 1, 2],
                         name="pre.transpose"),
        helper.make_node("Pad", ["pre.nchw", "pads"], [net_in], mode="constant", name="pre.pad"),
    ]  # fmt: skip
    nodes = pre + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    data: bytes = model.SerializeToString()
    return data
