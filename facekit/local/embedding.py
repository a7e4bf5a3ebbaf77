"""128-D face embeddings from dlib's ResNet face recogniser, on onnxruntime.

dlib's ``dlib_face_recognition_resnet_model_v1.dat`` (CC0) is converted once by
:mod:`facekit.local.dlib_to_onnx` and the graph cached next to the weights as
``dlib_face_recognition_resnet_model_v1.<sha256[:16]>.v<N>.onnx`` (keyed by the file's
sha256 and the converter version); if that directory is read-only, the store's cache
directory is used, and failing that the graph is kept in memory only.

Input: 150 x 150 RGB chips in dlib's face-chip layout (``get_face_chip(img, shape, 150,
0.25)``): the five landmarks are mapped by a least-squares similarity transform onto
:data:`TEMPLATE_150`, the positions of the same points in dlib's 68-point mean face shape
with 0.25 padding. Output: unnormalised 128-D descriptors; two faces of one person are
usually closer than :data:`DEFAULT_THRESHOLD` (0.6, dlib's documented threshold) in
Euclidean distance. Descriptors are only comparable with descriptors of this model.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from facekit.local._ort import make_session
from facekit.local.align import TEMPLATE_64_DLIB_MEAN, warp_chips
from facekit.local.dlib_to_onnx import CHIP_SIZE, CONVERTER_VERSION, convert_dlib_resnet
from facekit.local.store import sha256_file

__all__ = ["DEFAULT_THRESHOLD", "EMBEDDING_MODEL", "TEMPLATE_150", "FaceEmbedder", "converted_model"]

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


def converted_model(dat: str | os.PathLike[str], cache_dirs: Sequence[Path] = ()) -> bytes:
    """Return the ONNX conversion of ``dat``, from cache or freshly converted.

    Args:
        dat: Path to ``dlib_face_recognition_resnet_model_v1.dat`` (verified by the store).
        cache_dirs: Extra directories to try for the cache after the file's own directory.

    Returns:
        The serialized ONNX model.
    """
    src = Path(dat)
    fname = f"{src.stem}.{sha256_file(src)[:16]}.v{CONVERTER_VERSION}.onnx"
    dirs = [src.parent, *cache_dirs]
    for d in dirs:
        cand = d / fname
        if cand.is_file():
            cached: bytes = cand.read_bytes()
            return cached
    data: bytes = convert_dlib_resnet(src).SerializeToString()
    for d in dirs:
        try:
            d.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{fname}.", dir=d)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, d / fname)
            break
        except OSError:
            continue
    return data


class FaceEmbedder:
    """dlib's face recogniser on onnxruntime.

    Args:
        dat_path: Path to ``dlib_face_recognition_resnet_model_v1.dat``.
        cache_dirs: Extra directories for the converted graph (see :func:`converted_model`).
        providers: onnxruntime execution providers, in order of preference.
        intra_op_threads: onnxruntime threads per operator; ``None`` for its default.
    """

    def __init__(
        self,
        dat_path: str | os.PathLike[str],
        *,
        cache_dirs: Sequence[Path] = (),
        providers: Sequence[str] | None = None,
        intra_op_threads: int | None = None,
    ) -> None:
        self.session: ort.InferenceSession = make_session(
            converted_model(dat_path, cache_dirs), providers=providers, intra_op_threads=intra_op_threads
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
