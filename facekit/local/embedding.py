"""128-D face embeddings from dlib's ResNet face recogniser, on onnxruntime.

dlib's ``dlib_face_recognition_resnet_model_v1.dat`` (CC0) is converted once by
:mod:`facekit.local.dlib_to_onnx` into the model cache, at ``facekit models fetch`` or on
first use (``ModelStore.prepared``: the file name carries the weights' sha256 and the
converter version, its sha256 is stored beside it); if no cache directory is writable the
graph is kept in memory only.

Input: 150 x 150 RGB chips in dlib's face-chip layout (``get_face_chip(img, shape, 150,
0.25)``): the five landmarks are mapped by a least-squares similarity transform onto
:data:`TEMPLATE_150`, the positions of the same points in dlib's 68-point mean face shape
with 0.25 padding. Output: unnormalised 128-D descriptors; two faces of one person are
usually closer than :data:`DEFAULT_THRESHOLD` (0.6, dlib's documented threshold) in
Euclidean distance. Descriptors are only comparable with descriptors of this model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from facekit.local._ort import make_session
from facekit.local.align import TEMPLATE_64_DLIB_MEAN, warp_chips

if TYPE_CHECKING:
    from facekit.local.store import ModelStore

__all__ = [
    "DEFAULT_THRESHOLD",
    "EMBEDDING_MODEL",
    "MODEL_FILE",
    "PREPARED_TAG",
    "TEMPLATE_150",
    "FaceEmbedder",
    "prepared_embedding_model",
]

MODEL_FILE = "dlib_face_recognition_resnet_model_v1.dat"
"""The pinned weight file (see :data:`facekit.local.store.PINNED`)."""

PREPARED_TAG = "facekit-onnx1"
"""Names the conversion; its number is :data:`facekit.local.dlib_to_onnx.CONVERTER_VERSION`."""

CHIP_SIZE = 150
"""Side of the network's input chip, pixels (dlib's ``input_rgb_image_sized<150>``)."""

EMBEDDING_MODEL = "dlib_resnet_v1"
"""Name recorded with every vector (vectors of different models must not be compared)."""

DEFAULT_THRESHOLD = 0.6
"""Euclidean distance at or below which two descriptors are taken as the same person."""

CHIP_PADDING = 0.25
"""dlib's padding for the recogniser's chips (``get_face_chip(..., 150, 0.25)``)."""

# TEMPLATE_64_DLIB_MEAN is (0.2 + v) / 1.4 * 64 for dlib's mean-shape point v (0..1).
_MEAN_SHAPE = TEMPLATE_64_DLIB_MEAN / 64.0 * 1.4 - 0.2
TEMPLATE_150: npt.NDArray[np.float64] = (CHIP_PADDING + _MEAN_SHAPE) / (1 + 2 * CHIP_PADDING) * CHIP_SIZE
"""(5, 2) x, y in a 150 x 150 chip: eye centres, nose tip, mouth corners (viewer's left first)."""


def prepared_embedding_model(store: ModelStore) -> Path | bytes:
    """The ONNX conversion of dlib's recogniser from the model cache, converting it there once.

    The conversion (:func:`facekit.local.dlib_to_onnx.convert_dlib_resnet`, numpy + onnx) runs
    on first use or at ``facekit models fetch``; afterwards only the sha256-checked graph is read
    (no onnx import at run time).

    Returns:
        The prepared graph's path in the cache, or the graph itself (bytes) when no cache
        directory is writable.

    Raises:
        ModelNotAvailable: The pinned weights are missing and could not be fetched.
    """

    def build(dat: Path) -> bytes:
        from facekit.local.dlib_to_onnx import convert_dlib_resnet

        data: bytes = convert_dlib_resnet(dat).SerializeToString()
        return data

    return store.prepared(MODEL_FILE, PREPARED_TAG, build, ext="onnx")


class FaceEmbedder:
    """dlib's face recogniser on onnxruntime.

    Args:
        model: The converted graph: a path or the serialized bytes
            (:func:`prepared_embedding_model`).
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

    @staticmethod
    def chips(rgb: npt.NDArray[np.uint8], landmarks: npt.NDArray[np.floating]) -> npt.NDArray[np.uint8]:
        """Cut (N, 150, 150, 3) aligned chips from an RGB image and (N, 5, 2) landmarks (pixels)."""
        return warp_chips(rgb, landmarks, CHIP_SIZE, template=TEMPLATE_150 * (64.0 / CHIP_SIZE))

    def embed(self, chips: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """Descriptors of (N, 150, 150, 3) uint8 RGB chips.

        Returns:
            (N, 128) float32, unnormalised (norms are typically 0.9..1.3).
        """
        if len(chips) == 0:
            return np.zeros((0, 128), np.float32)
        x = np.ascontiguousarray(chips.transpose(0, 3, 1, 2), dtype=np.float32)
        out = self.session.run(None, {"input": x})[0]
        return np.asarray(out, dtype=np.float32)
