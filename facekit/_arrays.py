"""numpy views of a result: box corners, confidences, landmark arrays (numpy imported on use).

Every array has one row per face, in face order (``row i`` is ``result.faces[i]``). Values the
provider did not return are NaN in float arrays, never a made-up number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from facekit._deps import require

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


#: The result whose faces this module reads; typed loosely because ``DetectionResult``'s own
#: methods call this module, which must not import it back (no import cycle, tests/test_import_graph.py).
DetectionResult = Any

__all__ = ["FIVE_POINTS", "confidence_array", "five_points", "landmark_array", "xyxy_array"]

#: The five canonical alignment points, viewer's left first, and where each may come from:
#: eye centres (local engine, Rekognition) or else pupils (Azure has pupils, no eye centres).
FIVE_POINTS: tuple[tuple[str, ...], ...] = (
    ("left_eye", "left_pupil"),
    ("right_eye", "right_pupil"),
    ("nose_tip",),
    ("mouth_left",),
    ("mouth_right",),
)


def xyxy_array(result: DetectionResult) -> npt.NDArray[np.float64]:
    """``(N, 4)`` float64 array of ``x1, y1, x2, y2`` in pixels of the upright image."""
    np = require("numpy", extra="numpy", feature="result.xyxy")
    return np.array([face.box.xyxy for face in result.faces], dtype=np.float64).reshape(-1, 4)  # type: ignore[no-any-return]


def confidence_array(result: DetectionResult) -> npt.NDArray[np.float64]:
    """``(N,)`` float64 detection confidences 0..1; NaN where the provider gives none (Azure)."""
    np = require("numpy", extra="numpy", feature="result.confidence")
    values = [np.nan if face.confidence is None else face.confidence for face in result.faces]
    return np.array(values, dtype=np.float64)  # type: ignore[no-any-return]


def landmark_array(result: DetectionResult, names: tuple[str, ...]) -> npt.NDArray[np.float64]:
    """``(N, K, 2)`` float64 landmark x, y in pixels for the given canonical names; NaN where absent."""
    np = require("numpy", extra="numpy", feature="landmark arrays")
    out = np.full((len(result.faces), len(names), 2), np.nan, dtype=np.float64)
    for row, face in enumerate(result.faces):
        for column, name in enumerate(names):
            point = (face.landmarks or {}).get(name)
            if point is not None:
                out[row, column] = (point.x, point.y)
    return out  # type: ignore[no-any-return]


def five_points(result: DetectionResult) -> list[npt.NDArray[np.float64] | None]:
    """Per face, the ``(5, 2)`` alignment points (eyes, nose tip, mouth corners) or None when any is missing.

    Azure returns pupils and no eye centres: its pupils stand in for the eyes.
    """
    numpy = require("numpy", extra="numpy", feature="face alignment")
    points: list[npt.NDArray[np.float64] | None] = []
    for face in result.faces:
        marks = face.landmarks or {}
        chosen = []
        for candidates in FIVE_POINTS:
            point = next((marks[name] for name in candidates if name in marks), None)
            if point is None:
                break
            chosen.append((point.x, point.y))
        points.append(numpy.array(chosen, dtype=numpy.float64) if len(chosen) == 5 else None)
    return points
