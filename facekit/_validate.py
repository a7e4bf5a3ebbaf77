"""One validation of every normalised value, shared by all backends.

The wire normalisers turn what a provider sent into :class:`~facekit.Face` objects without
judging the numbers (Python's JSON reader accepts ``NaN`` and ``Infinity``, and a stand-in or a
broken gateway can send anything). :func:`validate_faces` then decides, per value:

* **the face is dropped, with a warning**, when its box is not a box (a coordinate that is not a
  finite number, a width or height of 0 or less, or a position more than
  :data:`MAX_EXTENT` image sides away from the image) or its detection confidence is not a
  finite number in 0..1: such a face is not a face, and keeping it would draw, count and
  serialise garbage;
* **the attribute is set to None, with a warning**, when any of its numbers is not finite or
  outside its range (ages 0..:data:`MAX_AGE` years, angles -180..180 degrees, every other score
  0..1): the face stays, the broken attribute does not;
* **the landmark point is dropped, with a warning**, when it is not finite or lies more than
  :data:`MAX_EXTENT` image sides away.

``result.raw`` keeps the provider's answer as received, so nothing is lost for inspection.
Answers that are not answers at all (not JSON, wrong shape, too many faces) never get here:
the backends raise :class:`~facekit.ProviderError` for them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any, Final

from pydantic import BaseModel

from facekit._models import Face

__all__ = ["MAX_AGE", "MAX_EXTENT", "validate_face", "validate_faces"]

#: Oldest age accepted, years.
MAX_AGE: Final = 150.0
#: How far outside the image a box or landmark may lie, in image sides (boxes may be partly
#: outside; a point 10 widths away is not on the photo).
MAX_EXTENT: Final = 10.0
#: Slack on range ends, for values such as 1.0000001.
_TOLERANCE: Final = 1e-6
_ANGLE_FIELDS: Final = frozenset({"head_pose", "eye_direction"})
_ANGLE_LEAVES: Final = frozenset({"yaw", "pitch", "roll"})
_AGE_FIELDS: Final = frozenset({"age", "age_range"})


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _numbers(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every number inside an attribute value, with its field path."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, (int, float)):
        yield path, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _numbers(getattr(value, name), (*path, name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _numbers(item, (*path, str(key)))
    elif isinstance(value, (list, tuple)):
        for number, item in enumerate(value):
            yield from _numbers(item, (*path, str(number)))


def _range(path: tuple[str, ...]) -> tuple[float, float, str]:
    """The allowed range of the number at ``path`` (attribute field first), and its unit."""
    if path[0] in _AGE_FIELDS:
        return 0.0, MAX_AGE, "years"
    if path[0] in _ANGLE_FIELDS and path[-1] in _ANGLE_LEAVES:
        return -180.0, 180.0, "degrees"
    return 0.0, 1.0, ""


def _bad_number(value: Any, low: float, high: float) -> bool:
    return not _finite(value) or not low - _TOLERANCE <= value <= high + _TOLERANCE


def _within(value: float, side: int | None) -> bool:
    return side is None or -MAX_EXTENT * side <= value <= (MAX_EXTENT + 1) * side


def _box_problem(face: Face, width: int | None, height: int | None) -> str | None:
    box = face.box
    values = {"left": box.left, "top": box.top, "width": box.width, "height": box.height}
    for name, value in values.items():
        if not _finite(value):
            return f"its box {name} is {value!r}, not a finite number"
    if box.width <= 0 or box.height <= 0:
        return f"its box is {box.width!r} x {box.height!r} pixels (a face has a positive width and height)"
    if not (_within(box.left, width) and _within(box.top, height)):
        return f"its box at ({box.left:g}, {box.top:g}) lies more than {MAX_EXTENT:g} image sides outside the image"
    if face.confidence is not None and _bad_number(face.confidence, 0.0, 1.0):
        return f"its confidence is {face.confidence!r}, not a number in 0..1"
    return None


def validate_face(
    face: Face, *, width: int | None = None, height: int | None = None, where: str = "face"
) -> tuple[Face | None, list[str]]:
    """Check one normalised face (coordinates in pixels of an image ``width`` x ``height``).

    Args:
        face: The face as a normaliser made it.
        width: Width of the image its coordinates refer to, pixels, or None when unknown.
        height: Height of that image, pixels, or None when unknown.
        where: How to name the face in warnings (e.g. ``"azure-rest face 3"``).

    Returns:
        The face (None when it is dropped, possibly with attributes or landmarks removed) and
        the warnings that say what was removed and why.
    """
    problem = _box_problem(face, width, height)
    if problem is not None:
        return None, [f"{where} was dropped: {problem}; result.raw keeps what the provider sent"]
    warnings: list[str] = []
    update: dict[str, Any] = {}
    attributes = face.attributes
    cleared: dict[str, None] = {}
    for name in type(attributes).model_fields:
        value = getattr(attributes, name)
        for path, number in _numbers(value, (name,)):
            low, high, unit = _range(path)
            if _bad_number(number, low, high):
                units = f" {unit}" if unit else ""
                warnings.append(
                    f"{where}: attribute {name!r} was set to None: {'.'.join(path)} is {number!r}, not a number in "
                    f"{low:g}..{high:g}{units}"
                )
                cleared[name] = None
                break
    if cleared:
        update["attributes"] = attributes.model_copy(update=cleared)
    if face.landmarks is not None:
        kept = {
            name: point
            for name, point in face.landmarks.items()
            if _finite(point.x) and _finite(point.y) and _within(point.x, width) and _within(point.y, height)
        }
        dropped = sorted(set(face.landmarks) - set(kept))
        if dropped:
            warnings.append(
                f"{where}: landmark(s) {', '.join(dropped)} dropped: not finite or more than {MAX_EXTENT:g} image "
                "sides outside the image"
            )
            update["landmarks"] = kept
    return (face.model_copy(update=update) if update else face), warnings


def validate_faces(
    faces: Sequence[Face], *, width: int | None = None, height: int | None = None, provider: str = "the provider"
) -> tuple[list[Face], list[str]]:
    """Check every face of one answer; see the module docs for what is dropped and why.

    Args:
        faces: The faces of one answer, in pixels of the image the provider received.
        width: Width of that image, pixels, or None when unknown.
        height: Height of that image, pixels, or None when unknown.
        provider: Backend name for warnings.

    Returns:
        The faces kept (in their order) and the warnings.
    """
    kept: list[Face] = []
    warnings: list[str] = []
    for number, face in enumerate(faces):
        checked, notes = validate_face(face, width=width, height=height, where=f"{provider} face {number}")
        warnings.extend(notes)
        if checked is not None:
            kept.append(checked)
    return kept, warnings
