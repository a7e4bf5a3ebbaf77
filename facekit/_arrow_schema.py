"""The pyarrow schemas of batch results (``facekit.dask``, ``facekit.write_parquet``) and their rows.

The schemas are fixed: they come from the result models (``Face``, ``FaceAttributes``), never
from the data, so an empty partition, a partition of errors and a partition full of faces
have the same columns and types and concatenate (and append to Parquet) without surprises.
"""

from __future__ import annotations

import types
import typing
from typing import Any

import pyarrow as pa
from pydantic import BaseModel

from facekit._attributes import FaceAttributes
from facekit._geometry import Point

__all__ = ["FACE_TYPE", "ROW_SCHEMA", "arrow_type", "error_row", "result_row"]


def arrow_type(annotation: Any) -> pa.DataType:
    """The Arrow type of a model field annotation (``X | None`` is a nullable ``X``).

    Models become structs, ``list[X]`` lists, ``dict[str, X]`` maps; ``Literal`` strings are
    strings. Every Arrow field is nullable, so a missing value stays null (never invented).
    """
    origin = typing.get_origin(annotation)
    args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if origin in (typing.Union, types.UnionType):
        kinds = {arrow_type(arg) for arg in args}
        if len(kinds) != 1:
            raise TypeError(f"no single Arrow type for {annotation!r}")
        return kinds.pop()
    if origin is typing.Literal:
        return pa.string()
    if origin is list:
        return pa.list_(arrow_type(args[0]))
    if origin is dict:
        return pa.map_(pa.string(), arrow_type(args[1]))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return pa.struct([pa.field(name, arrow_type(info.annotation)) for name, info in annotation.model_fields.items()])
    simple = {bool: pa.bool_(), int: pa.int64(), float: pa.float64(), str: pa.string()}
    if annotation in simple:
        return simple[annotation]
    raise TypeError(f"no Arrow type for {annotation!r}")


ATTRIBUTES_TYPE: pa.StructType = arrow_type(FaceAttributes)
#: One face: box in pixels of the upright image and as ratios 0..1 (null when the image size
#: is unknown), detection confidence 0..1, landmarks in pixels, attributes as the model has them.
FACE_TYPE = pa.struct(
    [
        pa.field("index", pa.int32()),
        pa.field("left", pa.float64()),
        pa.field("top", pa.float64()),
        pa.field("width", pa.float64()),
        pa.field("height", pa.float64()),
        pa.field("left_ratio", pa.float64()),
        pa.field("top_ratio", pa.float64()),
        pa.field("width_ratio", pa.float64()),
        pa.field("height_ratio", pa.float64()),
        pa.field("confidence", pa.float64()),
        pa.field("face_id", pa.string()),
        pa.field("landmarks", pa.map_(pa.string(), arrow_type(Point))),
        pa.field("attributes", ATTRIBUTES_TYPE),
    ]
)

#: One row per input. ``face_count`` and the image size are null for failed inputs (and the
#: size for URL inputs sent unprobed); ``result_json`` is the lossless ``DetectionResult``
#: JSON (raw provider payload included; load with ``DetectionResult.model_validate_json``).
ROW_SCHEMA = pa.schema(
    [
        pa.field("input", pa.string()),
        pa.field("ok", pa.bool_()),
        pa.field("error_type", pa.string()),
        pa.field("error_message", pa.string()),
        pa.field("provider", pa.string()),
        pa.field("image_width", pa.int64()),
        pa.field("image_height", pa.int64()),
        pa.field("face_count", pa.int64()),
        pa.field("faces", pa.list_(FACE_TYPE)),
        pa.field("warnings", pa.list_(pa.string())),
        pa.field("seconds", pa.float64()),
        pa.field("result_json", pa.string()),
    ]
)


def _face(face: Any) -> dict[str, Any]:
    box = face.box
    ratio = box.to_ratio() if box.image_width and box.image_height else None
    landmarks = None
    if face.landmarks is not None:
        landmarks = {name: {"x": point.x, "y": point.y} for name, point in face.landmarks.items()}
    return {
        "index": face.index,
        "left": box.left,
        "top": box.top,
        "width": box.width,
        "height": box.height,
        "left_ratio": ratio.left if ratio is not None else None,
        "top_ratio": ratio.top if ratio is not None else None,
        "width_ratio": ratio.width if ratio is not None else None,
        "height_ratio": ratio.height if ratio is not None else None,
        "confidence": face.confidence,
        "face_id": face.face_id,
        "landmarks": landmarks,
        "attributes": face.attributes.model_dump(mode="python"),
    }


def result_row(name: str | None, result: Any, seconds: float, *, keep_json: bool = True) -> dict[str, Any]:
    """The row of an input that has a :class:`~facekit.DetectionResult`."""
    return {
        "input": name,
        "ok": True,
        "error_type": None,
        "error_message": None,
        "provider": result.provider,
        "image_width": result.image.width,
        "image_height": result.image.height,
        "face_count": len(result.faces),
        "faces": [_face(face) for face in result.faces],
        "warnings": list(result.warnings),
        "seconds": seconds,
        "result_json": result.model_dump_json() if keep_json else None,
    }


def error_row(name: str | None, error: BaseException, seconds: float, *, provider: str | None) -> dict[str, Any]:
    """The row of an input that failed: the error's class name and message, nothing invented."""
    from facekit._errors import FacekitError

    message = error.message if isinstance(error, FacekitError) else str(error)
    return {
        "input": name,
        "ok": False,
        "error_type": type(error).__name__,
        "error_message": message,
        "provider": provider,
        "image_width": None,
        "image_height": None,
        "face_count": None,
        "faces": None,
        "warnings": None,
        "seconds": seconds,
        "result_json": None,
    }
