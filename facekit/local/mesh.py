"""MediaPipe's 468-point face mesh (``face_landmark.tflite``) on onnxruntime.

The TFLite file is converted once to ONNX by :mod:`facekit.local.tflite_to_onnx`, at
``facekit models fetch`` or first use, into the model cache as
``face_landmark.facekit-tflite<N>.<sha256[:16]>.onnx`` (:meth:`ModelStore.prepared`, sha256
checked); afterwards only that graph is read (no onnx import at run time).

Input: a 192 x 192 RGB crop, values 0..1. Output: 468 points (x, y, z) in crop pixels (z
uses the x scale; smaller z is nearer the camera) and a face-presence logit.

The crop is placed from the detector's five points the way MediaPipe places it from its own
detector: rotated so that the eye line is horizontal, centred between the eyes and the
mouth (:data:`CENTER_SHIFT`), its side :data:`SIDE_SCALE` times the face's size measured by
the eye distance and the eye-to-mouth distance. MediaPipe then re-crops from the mesh itself
(its bounding box, 1.5 times, square); :class:`FaceMesh` does the same when ``passes=2``.
How these constants were fitted and what a second pass buys: ``docs/mesh.md``.

Points are mapped back to the input image's pixels; z is scaled by the same factor as x
and y (image pixels, relative to the face's centre).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from facekit.local._ort import make_session
from facekit.local.align import warp_affine
from facekit.local.store import ModelStore

__all__ = [
    "CENTER_SHIFT",
    "INPUT_SIZE",
    "MESH_POINTS",
    "SIDE_SCALE",
    "FaceMesh",
    "prepared_mesh_model",
    "mesh_matrices",
    "refined_matrices",
]

INPUT_SIZE = 192
"""Side of the network's RGB input, pixels."""

MESH_POINTS = 468
"""Number of mesh points."""

CENTER_SHIFT = 0.46
"""Crop centre between the eyes' midpoint (0) and the mouth's midpoint (1)."""

SIDE_SCALE = 2.78
"""Crop side over ``hypot(eye distance, eye-to-mouth distance)``."""

REFINE_SCALE = 1.5
"""Second-pass crop side over the mesh's longer bounding-box side (MediaPipe's value)."""


MODEL_FILE = "face_landmark.tflite"
"""The pinned source file."""

PREPARED_TAG = "facekit-tflite1"
"""Names the conversion step and its version (bump with :data:`tflite_to_onnx.CONVERTER_VERSION`)."""


def prepared_mesh_model(store: ModelStore) -> Path | bytes:
    """The ONNX conversion of ``face_landmark.tflite`` from the model cache, converting it there once.

    Returns:
        The prepared graph's path in the cache, or the graph itself (bytes) when no cache
        directory is writable.

    Raises:
        ModelNotAvailable: The pinned file is missing and could not be fetched.
    """

    def build(tflite: Path) -> bytes:
        from facekit.local.tflite_to_onnx import convert_tflite

        data: bytes = convert_tflite(tflite, graph_name="mediapipe_face_landmark").SerializeToString()
        return data

    return store.prepared(MODEL_FILE, PREPARED_TAG, build, ext="onnx")


def _matrix(center: npt.NDArray[np.float64], angle: float, side: float) -> npt.NDArray[np.float64]:
    """Chip-to-image (2, 3) map of a square of ``side`` pixels rotated by ``angle`` radians."""
    s = side / INPUT_SIZE
    c, n = math.cos(angle) * s, math.sin(angle) * s
    half = INPUT_SIZE / 2
    # image = R * s * (chip - half) + center
    return np.array(
        [[c, -n, center[0] - c * half + n * half], [n, c, center[1] - n * half - c * half]], dtype=np.float64
    )


def mesh_matrices(landmarks: npt.NDArray[np.floating]) -> list[npt.NDArray[np.float64]]:
    """Chip-to-image matrices of the first-pass crops from the detector's five points.

    Args:
        landmarks: (N, 5, 2) x, y pixels: eye left, eye right, nose, mouth left, mouth right.

    Returns:
        One (2, 3) matrix per face mapping 192-pixel chip coordinates to image pixels.
    """
    mats = []
    for lm in np.asarray(landmarks, dtype=np.float64).reshape(-1, 5, 2):
        eyes = (lm[0] + lm[1]) / 2
        mouth = (lm[3] + lm[4]) / 2
        d = lm[1] - lm[0]
        angle = math.atan2(d[1], d[0])
        size = math.hypot(float(np.hypot(*d)), float(np.hypot(*(mouth - eyes))))
        mats.append(_matrix(eyes + CENTER_SHIFT * (mouth - eyes), angle, SIDE_SCALE * max(size, 1.0)))
    return mats


def refined_matrices(points: npt.NDArray[np.floating]) -> list[npt.NDArray[np.float64]]:
    """Second-pass crops from meshes, as MediaPipe re-crops from its own landmarks.

    Rotation from the eyes' outer corners (points 33 and 263), centre and size from the
    points' axis-aligned bounding box, side :data:`REFINE_SCALE` times its longer side.

    Args:
        points: (N, 468, 2 or 3) mesh points in image pixels.
    """
    mats = []
    for p in np.asarray(points, dtype=np.float64):
        d = p[263, :2] - p[33, :2]
        lo, hi = p[:, :2].min(axis=0), p[:, :2].max(axis=0)
        side = REFINE_SCALE * float(max(hi - lo))
        mats.append(_matrix((lo + hi) / 2, math.atan2(d[1], d[0]), max(side, 1.0)))
    return mats


class FaceMesh:
    """MediaPipe's face landmark network on onnxruntime.

    Args:
        model: The converted graph: a path or the serialized bytes (:func:`prepared_mesh_model`).
        providers: onnxruntime execution providers, in order of preference.
        intra_op_threads: onnxruntime threads per operator; ``None`` for its default.
    """

    def __init__(
        self,
        model: Path | bytes,
        *,
        providers: Sequence[str] | None = None,
        intra_op_threads: int | None = None,
    ) -> None:
        self.session: ort.InferenceSession = make_session(
            model if isinstance(model, bytes) else str(model), providers=providers, intra_op_threads=intra_op_threads
        )

    def run_chips(self, chips: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """Run the network on (N, 192, 192, 3) uint8 RGB chips.

        Returns:
            (N, 468, 3) points in chip pixels and (N,) face-presence probabilities 0..1.
        """
        if len(chips) == 0:
            return np.zeros((0, MESH_POINTS, 3), np.float32), np.zeros((0,), np.float32)
        x = chips.astype(np.float32).transpose(0, 3, 1, 2) * np.float32(1 / 255)
        points, flag = self.session.run(None, {"input": np.ascontiguousarray(x)})
        pts = np.asarray(points, dtype=np.float32).reshape(-1, MESH_POINTS, 3)
        prob = (1.0 / (1.0 + np.exp(-np.asarray(flag, dtype=np.float64).reshape(-1)))).astype(np.float32)
        return pts, prob

    def run(
        self, image: npt.NDArray[np.uint8], matrices: list[npt.NDArray[np.float64]]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float32]]:
        """Crop with chip-to-image ``matrices``, run the network, map the points back.

        Args:
            image: (H, W, 3) uint8 RGB.
            matrices: One (2, 3) chip-to-image matrix per face.

        Returns:
            (N, 468, 3) points in image pixels (z scaled like x, y) and (N,) face-presence
            probabilities 0..1.
        """
        pts, prob = self.run_chips(warp_affine(image, matrices, INPUT_SIZE))
        return to_image(pts, matrices), prob

    def detect(
        self, image: npt.NDArray[np.uint8], landmarks: npt.NDArray[np.floating], passes: int = 1
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float32]]:
        """Mesh every face of one image from the detector's five points.

        Args:
            image: (H, W, 3) uint8 RGB.
            landmarks: (N, 5, 2) detector points, pixels.
            passes: 1 (crop from the five points) or 2 (then re-crop from the first mesh).

        Returns:
            (N, 468, 3) points in image pixels and (N,) face-presence probabilities 0..1.
        """
        pts, prob = self.run(image, mesh_matrices(landmarks))
        for _ in range(passes - 1):
            pts, prob = self.run(image, refined_matrices(pts))
        return pts, prob


def to_image(points: npt.NDArray[np.floating], matrices: list[npt.NDArray[np.float64]]) -> npt.NDArray[np.float64]:
    """Map (N, 468, 3) chip points to image pixels with chip-to-image (2, 3) matrices."""
    out = np.empty((len(matrices), MESH_POINTS, 3), np.float64)
    for i, m in enumerate(matrices):
        p = np.asarray(points[i], dtype=np.float64)
        out[i, :, :2] = p[:, :2] @ m[:, :2].T + m[:, 2]
        out[i, :, 2] = p[:, 2] * math.sqrt(abs(float(np.linalg.det(m[:, :2]))))
    return out
