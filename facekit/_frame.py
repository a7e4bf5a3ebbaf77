"""pandas data frames of faces (``DetectionResult.to_dataframe()``; pandas is the ``notebook`` extra).

One row per face; every returned attribute is flattened to dotted columns
(``emotion.happiness``, ``head_pose.yaw``) and landmarks to ``landmarks.<name>.x/y``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from facekit._face import Face

__all__ = ["faces_dataframe"]


def _flatten(prefix: str, value: Any, into: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, into)
    elif value is not None:
        into[prefix] = value


def faces_dataframe(faces: Sequence[Face]) -> Any:
    """One row per face: ``index``, box (pixels), ``confidence``, flattened attributes and landmarks.

    Attribute columns appear only for what was returned (``age``, ``gender.value``,
    ``emotion.happiness`` ...); lists (accessories, hair colours) stay Python lists.

    Raises:
        MissingDependencyError: pandas is not installed (``pip install 'facekit-detect[notebook]'``).
    """
    from facekit._deps import require

    pandas = require("pandas", extra="notebook", feature="to_dataframe()")
    rows: list[dict[str, Any]] = []
    for face in faces:
        row: dict[str, Any] = {
            "index": face.index,
            "left": face.box.left,
            "top": face.box.top,
            "width": face.box.width,
            "height": face.box.height,
            "confidence": face.confidence,
        }
        if face.face_id is not None:
            row["face_id"] = face.face_id
        _flatten("", face.attributes.model_dump(mode="json", exclude_none=True), row)
        for name, point in (face.landmarks or {}).items():
            row[f"landmarks.{name}.x"] = point.x
            row[f"landmarks.{name}.y"] = point.y
        rows.append(row)
    columns = ["index", "left", "top", "width", "height", "confidence"]
    return pandas.DataFrame(rows, columns=None if rows else columns)
