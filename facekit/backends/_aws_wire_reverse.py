"""facekit faces -> Rekognition ``DetectFaces`` JSON (the reverse of :mod:`._aws_wire`).

Pure functions, no boto3: :func:`face_detail_from_face` renders one :class:`~facekit.Face` as a
``FaceDetail`` (ratios of the image, confidences 0-100, Rekognition's landmark and emotion
vocabulary), :func:`detect_faces_response` a whole answer, and :func:`parse_aws_attributes`
reads a request's ``Attributes`` into canonical names. ``facekit serve`` uses them; the
round-trip tests hold them together with :func:`~._aws_wire.parse_detect_faces`.

A field the backend did not fill is left out. Two values are *derived* when the backend has
no Rekognition-shaped value, so that Rekognition clients find the keys they read (the
derivation is exact about what it knows, and ``docs/serve.md`` lists it):

* ``AgeRange`` from a point age (Azure, local engine): ``Low = floor(age)``, ``High = ceil(age)``;
* ``Smile`` from a smile intensity 0..1: ``Value = intensity >= 0.5``,
  ``Confidence = 100 * max(intensity, 1 - intensity)``.

Emotions with no Rekognition type (``neutral``, ``contempt``: ``CALM`` is not ``neutral``)
are left out; landmarks with no Rekognition name (e.g. Azure's ``noseRootLeft``) too.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from typing import Any, Final

from facekit._attributes import BooleanAttribute
from facekit._errors import InvalidRequestError
from facekit._models import Face
from facekit._vocabulary import AWS_LANDMARKS
from facekit.backends._aws_wire import AWS_ATTRIBUTES, AWS_EMOTIONS, DEFAULT_COVERED

__all__ = [
    "AWS_ATTRIBUTE_VALUES",
    "MAX_FACES",
    "detect_faces_response",
    "face_detail_from_face",
    "parse_aws_attributes",
]

#: Every value ``DetectFaces`` takes in ``Attributes``.
AWS_ATTRIBUTE_VALUES: Final[tuple[str, ...]] = (
    "DEFAULT", "ALL", "AGE_RANGE", "BEARD", "EMOTIONS", "EYE_DIRECTION", "EYEGLASSES", "EYES_OPEN",
    "GENDER", "MOUTH_OPEN", "MUSTACHE", "FACE_OCCLUDED", "SMILE", "SUNGLASSES",
)
#: Most faces Rekognition returns (the largest ones).
MAX_FACES: Final = 100

_EMOTION_TYPES: Final[dict[str, str]] = {canonical: aws for aws, canonical in AWS_EMOTIONS.items()}
_LANDMARK_TYPES: Final[dict[str, str]] = {canonical: aws for aws, canonical in AWS_LANDMARKS.items()}
#: Rekognition ``Attributes`` value -> canonical attribute name.
_CANONICAL_OF: Final[dict[str, str]] = {
    value: name for name, values in AWS_ATTRIBUTES.items() for value in values if value != "DEFAULT"
}
_BOOLEANS: Final[tuple[tuple[str, str, str], ...]] = (
    # (FaceDetail key, FaceAttributes field, canonical attribute)
    ("Eyeglasses", "eyeglasses", "glasses"),
    ("Sunglasses", "sunglasses", "glasses"),
    ("Beard", "beard", "facial_hair"),
    ("Mustache", "mustache", "facial_hair"),
    ("EyesOpen", "eyes_open", "eyes_open"),
    ("MouthOpen", "mouth_open", "mouth_open"),
    ("FaceOccluded", "face_occluded", "occlusion"),
)


def parse_aws_attributes(values: Sequence[Any] | None) -> tuple[tuple[str, ...], bool]:
    """A request's ``Attributes`` -> (canonical attribute names, whether the defaults come back).

    ``DEFAULT`` (or no ``Attributes``) means BoundingBox, Confidence, Pose, Quality and
    Landmarks; ``ALL`` means everything; a list of specific names without ``DEFAULT`` returns
    only those (with BoundingBox and Confidence).

    Raises:
        InvalidRequestError: ``Attributes`` is not a list of known values.
    """
    if values is None:
        return tuple(sorted(DEFAULT_COVERED)), True
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise InvalidRequestError("Attributes must be a list of strings")
    unknown = [value for value in values if value not in AWS_ATTRIBUTE_VALUES]
    if unknown:
        raise InvalidRequestError(
            f"1 validation error detected: Value {unknown!r} at 'attributes' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(AWS_ATTRIBUTE_VALUES)}]"
        )
    if "ALL" in values:
        return tuple(AWS_ATTRIBUTES), True
    defaults = not values or "DEFAULT" in values
    names: list[str] = sorted(DEFAULT_COVERED) if defaults else []
    for value in values:
        name = _CANONICAL_OF.get(value)
        if name is not None and name not in names:
            names.append(name)
    return tuple(names), defaults


def _pct(value: float | None) -> float | None:
    return None if value is None else value * 100.0


def _boolean(value: BooleanAttribute) -> dict[str, Any]:
    out: dict[str, Any] = {"Value": value.value}
    if value.confidence is not None:
        out["Confidence"] = value.confidence * 100.0
    return out


def _ratio(value: float, size: int) -> float:
    return value / size


def face_detail_from_face(
    face: Face, width: int, height: int, *, attributes: Collection[str] | None = None, landmarks: bool = True
) -> dict[str, Any]:
    """One face as a ``FaceDetail``, coordinates as ratios of a ``width`` x ``height`` image.

    Args:
        face: The face, in pixels of the image the client sent.
        width: Width of that image, pixels.
        height: Height of that image, pixels.
        attributes: Canonical attributes to render (None: every one filled).
        landmarks: Include ``Landmarks`` (the defaults).
    """
    wanted = set(attributes) if attributes is not None else None

    def asked(name: str) -> bool:
        return wanted is None or name in wanted

    a = face.attributes
    box = face.box
    detail: dict[str, Any] = {
        "BoundingBox": {
            "Width": _ratio(box.width, width), "Height": _ratio(box.height, height),
            "Left": _ratio(box.left, width), "Top": _ratio(box.top, height),
        }
    }
    if asked("age"):
        if a.age_range is not None:
            detail["AgeRange"] = {"Low": round(a.age_range.low), "High": round(a.age_range.high)}
        elif a.age is not None:
            detail["AgeRange"] = {"Low": math.floor(a.age), "High": math.ceil(a.age)}
    if asked("smile") and a.smile is not None:
        if a.smile.value is not None:
            detail["Smile"] = {"Value": a.smile.value, **_present_confidence(a.smile.confidence)}
        elif a.smile.intensity is not None:
            intensity = a.smile.intensity
            detail["Smile"] = {"Value": intensity >= 0.5, "Confidence": 100.0 * max(intensity, 1.0 - intensity)}
    if asked("gender") and a.gender is not None:
        detail["Gender"] = {"Value": a.gender.value.capitalize(), **_present_confidence(a.gender.confidence)}
    for key, field, canonical in _BOOLEANS:
        value = getattr(a, field)
        if asked(canonical) and value is not None:
            detail[key] = _boolean(value)
    if asked("emotion") and a.emotion is not None:
        detail["Emotions"] = [
            {"Type": aws, "Confidence": score * 100.0}
            for canonical, aws in _EMOTION_TYPES.items()
            if (score := getattr(a.emotion, canonical)) is not None
        ]
    if landmarks and face.landmarks:
        detail["Landmarks"] = [
            {"Type": _LANDMARK_TYPES[name], "X": _ratio(point.x, width), "Y": _ratio(point.y, height)}
            for name, point in face.landmarks.items()
            if name in _LANDMARK_TYPES
        ]
    if asked("head_pose") and a.head_pose is not None:
        pose = a.head_pose
        detail["Pose"] = {
            key: value for key, value in (("Roll", pose.roll), ("Yaw", pose.yaw), ("Pitch", pose.pitch))
            if value is not None
        }
    if asked("quality") and a.quality is not None:
        detail["Quality"] = {
            key: value * 100.0
            for key, value in (("Brightness", a.quality.brightness), ("Sharpness", a.quality.sharpness))
            if value is not None
        }
    if face.confidence is not None:
        detail["Confidence"] = face.confidence * 100.0
    if asked("eye_direction") and a.eye_direction is not None:
        gaze = a.eye_direction
        detail["EyeDirection"] = {
            key: value
            for key, value in (("Yaw", gaze.yaw), ("Pitch", gaze.pitch), ("Confidence", _pct(gaze.confidence)))
            if value is not None
        }
    return detail


def _present_confidence(confidence: float | None) -> dict[str, float]:
    return {} if confidence is None else {"Confidence": confidence * 100.0}


def detect_faces_response(
    faces: Iterable[Face], width: int, height: int, *, attributes: Collection[str] | None = None,
    landmarks: bool = True,
) -> dict[str, Any]:
    """A whole ``DetectFaces`` answer: the (at most 100, largest first) faces as ``FaceDetails``."""
    return {
        "FaceDetails": [
            face_detail_from_face(face, width, height, attributes=attributes, landmarks=landmarks)
            for face in list(faces)[:MAX_FACES]
        ]
    }
