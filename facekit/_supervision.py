"""Hand results to `supervision <https://supervision.roboflow.com>`_: ``sv.Detections`` and ``sv.KeyPoints``.

Boxes go over as pixel ``xyxy``; every face has ``class_id`` 0 and ``data["class_name"]`` ``"face"``
so supervision's annotators (box, label, blur, pixelate, vertex) work unchanged. Per-face values
go into ``data`` (one entry per face): ``index``, ``age`` (NaN when not returned), ``gender`` and
``emotion`` (None when not returned), ``label`` (facekit's default drawing label).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from facekit._deps import require
from facekit._vocabulary import LANDMARKS

#: The result whose faces this module reads; typed loosely because ``DetectionResult``'s own
#: methods call this module, which must not import it back (no import cycle, tests/test_import_graph.py).
DetectionResult = Any

__all__ = ["SupervisionFaces", "to_supervision"]


class SupervisionFaces(NamedTuple):
    """What :meth:`DetectionResult.to_supervision` returns.

    Attributes:
        detections: ``sv.Detections``, one per face, in face order.
        keypoints: ``sv.KeyPoints`` with one row per face and one column per landmark name
            in ``keypoint_names``, or None when the result has no landmarks. A landmark a face
            lacks is ``(0, 0)`` with ``visible`` False (supervision skips it when drawing).
        keypoint_names: Canonical landmark name of each keypoint column.
    """

    detections: Any
    keypoints: Any
    keypoint_names: tuple[str, ...]


def to_supervision(result: DetectionResult) -> SupervisionFaces:
    """Convert a result to supervision's types.

    Raises:
        MissingDependencyError: supervision is not installed (``pip install 'facekit-detect[supervision]'``).
    """
    sv = require("supervision", extra="supervision", feature="to_supervision()")
    np = require("numpy", extra="supervision", feature="to_supervision()")
    from facekit._arrays import confidence_array, landmark_array, xyxy_array
    from facekit._draw import face_label

    faces = result.faces
    count = len(faces)
    confidence = confidence_array(result)
    data: dict[str, Any] = {
        "class_name": np.array(["face"] * count, dtype=object),
        "index": np.array([face.index for face in faces], dtype=np.int64),
        "age": np.array(
            [np.nan if face.attributes.age is None else face.attributes.age for face in faces], dtype=np.float64
        ),
        "gender": np.array(
            [face.attributes.gender.value if face.attributes.gender else None for face in faces], dtype=object
        ),
        "emotion": np.array(
            [face.attributes.emotion.dominant if face.attributes.emotion else None for face in faces], dtype=object
        ),
        "label": np.array([face_label(face) or "" for face in faces], dtype=object),
    }
    detections = sv.Detections(
        xyxy=xyxy_array(result).astype(np.float32),
        confidence=None if count == 0 or np.isnan(confidence).any() else confidence.astype(np.float32),
        class_id=np.zeros(count, dtype=int),
        data=data,
        metadata={"provider": result.provider},
    )
    present = {name for face in faces for name in (face.landmarks or {})}
    names = tuple(name for name in LANDMARKS if name in present)
    names += tuple(sorted(present - set(names)))
    if not names:
        return SupervisionFaces(detections, None, ())
    xy = landmark_array(result, names)
    visible = ~np.isnan(xy).any(axis=2)
    keypoints = sv.KeyPoints(
        xy=np.nan_to_num(xy, nan=0.0).astype(np.float32),
        class_id=np.zeros(count, dtype=int),
        visible=visible,
        data={"index": data["index"]},
    )
    return SupervisionFaces(detections, keypoints, names)
