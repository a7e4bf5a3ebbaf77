"""Exports: JSON records per input, flat CSV rows, and pandas data frames.

* :func:`item_record` -> one JSON-compatible record per batch input (``facekit detect
  --format json/jsonl``): the input, ``status`` (``"ok"``/``"error"``), the full lossless
  result or the error's type and message.
* :func:`csv_rows` -> one CSV row per face; an input with no face gives one row with
  ``face_count`` 0, a failed input one row with ``status`` ``error``. The columns are fixed
  (:data:`CSV_COLUMNS`) so rows can be streamed; everything else is in ``attributes_json``
  and ``landmarks_json``.

Data frames (``result.to_dataframe()``) are built in :mod:`facekit._frame`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from facekit._errors import FacekitError, RecordedError

if TYPE_CHECKING:
    from facekit._batch import BatchItem
    from facekit._face import Face

__all__ = ["CSV_COLUMNS", "csv_rows", "error_record", "face_row", "item_record"]

#: Columns of ``facekit detect --format csv``, in order. Pixels for boxes, 0..1 for confidences.
CSV_COLUMNS: tuple[str, ...] = (
    "input",
    "status",
    "error_type",
    "error_message",
    "provider",
    "image_width",
    "image_height",
    "face_count",
    "face_index",
    "left",
    "top",
    "width",
    "height",
    "confidence",
    "age",
    "age_low",
    "age_high",
    "gender",
    "gender_confidence",
    "emotion",
    "emotion_score",
    "smile",
    "head_roll",
    "head_yaw",
    "head_pitch",
    "attributes_json",
    "landmarks_json",
    "warnings",
)


def input_name(value: Any) -> str:
    """A printable name for a batch input (paths and URLs as given; others by type)."""
    if isinstance(value, str):
        return value
    if hasattr(value, "__fspath__"):
        return str(value.__fspath__())
    name = getattr(value, "name", None)
    if isinstance(name, str):
        return name
    return f"<{type(value).__name__}>"


def error_record(error: BaseException) -> dict[str, Any]:
    """The JSON form of an error: type, message and, for facekit errors, provider details."""
    if isinstance(error, RecordedError):
        return dict(error.record)  # read back from saved results: written again as it was
    record: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    if isinstance(error, FacekitError):
        record["message"] = error.message
        for name in ("provider", "status", "code", "request_id"):
            record[name] = getattr(error, name)
    return record


def item_record(item: BatchItem, *, name: str | None = None) -> dict[str, Any]:
    """One JSON-compatible record for a batch input.

    Returns:
        ``{"input", "index", "status", "result", "error"}``; ``result`` is the lossless
        ``DetectionResult`` JSON (load with ``DetectionResult.model_validate``).
    """
    return {
        "input": name if name is not None else input_name(item.input),
        "index": item.index,
        "status": "ok" if item.ok else "error",
        "result": item.result.model_dump(mode="json") if item.result is not None else None,
        "error": error_record(item.error) if item.error is not None else None,
    }


def _drop_none(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _drop_none(inner) for key, inner in value.items() if inner is not None}
    if isinstance(value, list):
        return [_drop_none(inner) for inner in value]
    return value


def face_row(face: Face) -> dict[str, Any]:
    """The face part of a CSV row (box, confidence, common attributes, JSON of the rest)."""
    attributes = face.attributes
    gender = attributes.gender
    emotion = attributes.emotion
    dominant = emotion.dominant if emotion is not None else None
    pose = attributes.head_pose
    smile = attributes.smile
    smile_value: Any = None
    if smile is not None:
        smile_value = smile.intensity if smile.intensity is not None else smile.value
    landmarks = {name: [point.x, point.y] for name, point in (face.landmarks or {}).items()}
    return {
        "face_index": face.index,
        "left": face.box.left,
        "top": face.box.top,
        "width": face.box.width,
        "height": face.box.height,
        "confidence": face.confidence,
        "age": attributes.age,
        "age_low": attributes.age_range.low if attributes.age_range else None,
        "age_high": attributes.age_range.high if attributes.age_range else None,
        "gender": gender.value if gender else None,
        "gender_confidence": gender.confidence if gender else None,
        "emotion": dominant,
        "emotion_score": emotion.scores()[dominant] if emotion is not None and dominant else None,
        "smile": smile_value,
        "head_roll": pose.roll if pose else None,
        "head_yaw": pose.yaw if pose else None,
        "head_pitch": pose.pitch if pose else None,
        "attributes_json": json.dumps(_drop_none(attributes.model_dump(mode="json")), sort_keys=True)
        if attributes.returned()
        else None,
        "landmarks_json": json.dumps(landmarks) if face.landmarks is not None else None,
    }


def csv_rows(item: BatchItem, *, name: str | None = None) -> list[dict[str, Any]]:
    """CSV rows for one batch input: one per face, or one for an input with no face or an error.

    Every row has every key of :data:`CSV_COLUMNS`; absent values are None (empty cells).
    """
    base: dict[str, Any] = dict.fromkeys(CSV_COLUMNS)
    base["input"] = name if name is not None else input_name(item.input)
    if item.error is not None or item.result is None:
        error = error_record(item.error) if item.error is not None else {"type": None, "message": None}
        base.update(status="error", error_type=error["type"], error_message=error["message"])
        return [base]
    result = item.result
    base.update(
        status="ok",
        provider=result.provider,
        image_width=result.image.width,
        image_height=result.image.height,
        face_count=len(result.faces),
        warnings="; ".join(result.warnings) or None,
    )
    if not result.faces:
        return [base]
    return [{**base, **face_row(face)} for face in result.faces]
