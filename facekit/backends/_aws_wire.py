"""Rekognition ``DetectFaces`` wire format -> facekit faces (pure functions, no boto3).

Rekognition gives every coordinate as a ratio of the image it analysed. :func:`parse_detect_faces`
converts them to pixels with the size of **that** image (the bytes facekit sent, or the
upright S3 object), keeps boxes that stick out of the image as they are, and maps every
field onto :class:`~facekit.FaceAttributes`:

* confidences 0-100 -> 0..1 (``Face.confidence``, booleans, gender, emotions, gaze);
* ``Quality`` 0-100 -> 0..1; ``Pose`` and ``EyeDirection`` angles stay in degrees;
* the 9 emotion types -> :class:`~facekit.EmotionScores` with ``independent=True``
  (``CALM`` -> ``calm``, never ``neutral``); a type outside the enum goes to ``other``
  under its own name, with a warning;
* the 30 landmark types -> canonical names (:data:`facekit._vocabulary.AWS_LANDMARKS`); an
  unknown type is kept under its own name, a repeated type keeps its first point; both warn.

It also chooses the ``Attributes`` to request (:func:`aws_attributes_for`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any, Final

from facekit._attributes import (
    ATTRIBUTE_FIELDS,
    AgeRange,
    BooleanAttribute,
    EmotionScores,
    EyeDirection,
    FaceAttributes,
    Gender,
    HeadPose,
    ImageQuality,
    Smile,
)
from facekit._errors import ProviderError
from facekit._geometry import BoundingBox, Point
from facekit._limits import check_face_count
from facekit._models import Face
from facekit._vocabulary import AWS_LANDMARKS

__all__ = [
    "AWS_ATTRIBUTES",
    "AWS_EMOTIONS",
    "DEFAULT_COVERED",
    "SUPPORTED_ATTRIBUTES",
    "aws_attributes_for",
    "parse_detect_faces",
    "parse_face_detail",
]

#: Canonical attribute -> the ``Attributes`` values that make Rekognition return it.
AWS_ATTRIBUTES: Final[dict[str, tuple[str, ...]]] = {
    "age": ("AGE_RANGE",),
    "gender": ("GENDER",),
    "smile": ("SMILE",),
    "emotion": ("EMOTIONS",),
    "facial_hair": ("BEARD", "MUSTACHE"),
    "glasses": ("EYEGLASSES", "SUNGLASSES"),
    "eyes_open": ("EYES_OPEN",),
    "mouth_open": ("MOUTH_OPEN",),
    "eye_direction": ("EYE_DIRECTION",),
    "occlusion": ("FACE_OCCLUDED",),
    "head_pose": ("DEFAULT",),
    "quality": ("DEFAULT",),
}

#: Canonical attributes Rekognition returns without asking (``Pose``, ``Quality``).
DEFAULT_COVERED: Final[frozenset[str]] = frozenset({"head_pose", "quality"})

#: Every canonical attribute Rekognition ``DetectFaces`` can return.
SUPPORTED_ATTRIBUTES: Final[frozenset[str]] = frozenset(AWS_ATTRIBUTES)

#: Rekognition ``Emotions[].Type`` -> :class:`~facekit.EmotionScores` field.
AWS_EMOTIONS: Final[dict[str, str]] = {
    "HAPPY": "happiness",
    "SAD": "sadness",
    "ANGRY": "anger",
    "CONFUSED": "confusion",
    "DISGUSTED": "disgust",
    "SURPRISED": "surprise",
    "CALM": "calm",
    "UNKNOWN": "unknown",
    "FEAR": "fear",
}

#: ``FaceDetail`` key -> :class:`~facekit.FaceAttributes` field, for the ``{Value, Confidence}`` booleans.
_BOOLEANS: Final[dict[str, str]] = {
    "Beard": "beard",
    "Mustache": "mustache",
    "Eyeglasses": "eyeglasses",
    "Sunglasses": "sunglasses",
    "EyesOpen": "eyes_open",
    "MouthOpen": "mouth_open",
    "FaceOccluded": "face_occluded",
}


def aws_attributes_for(attributes: Collection[str], *, landmarks: bool = False) -> list[str]:
    """The ``Attributes`` list to send for canonical attribute names (already validated).

    Args:
        attributes: Canonical names the caller asked for (``"all"`` already expanded).
        landmarks: Whether landmarks were asked for (they come with ``DEFAULT``).

    Returns:
        ``["ALL"]`` when every supported attribute is asked for; ``["DEFAULT"]`` when none, or
        only ones ``DEFAULT`` covers (head pose, quality); otherwise the specific names, in
        the caller's order, preceded by ``"DEFAULT"`` when a default-covered attribute or
        landmarks were asked for too.
    """
    wanted = set(attributes)
    if wanted >= SUPPORTED_ATTRIBUTES:
        return ["ALL"]
    specific: list[str] = []
    for name in attributes:
        for value in AWS_ATTRIBUTES.get(name, ()):
            if value != "DEFAULT" and value not in specific:
                specific.append(value)
    if not specific:
        return ["DEFAULT"]
    if landmarks or wanted & DEFAULT_COVERED:
        return ["DEFAULT", *specific]
    return specific


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _ratio(value: Any) -> float | None:
    """A 0-100 confidence or quality as 0..1 (None when absent)."""
    number = _number(value)
    return None if number is None else number / 100.0


def _boolean(block: Any) -> BooleanAttribute | None:
    if not isinstance(block, Mapping) or not isinstance(block.get("Value"), bool):
        return None
    return BooleanAttribute(value=block["Value"], confidence=_ratio(block.get("Confidence")))


def _emotions(items: Any, where: str, warnings: list[str]) -> EmotionScores | None:
    if not isinstance(items, list):
        return None
    scores: dict[str, float] = {}
    other: dict[str, float] = {}
    for item in items:
        if not isinstance(item, Mapping):
            continue
        kind = str(item.get("Type"))
        confidence = _ratio(item.get("Confidence"))
        if confidence is None:
            warnings.append(f"{where}: emotion {kind!r} has no confidence; left out")
            continue
        field = AWS_EMOTIONS.get(kind)
        target, key = (scores, field) if field is not None else (other, kind)
        if field is None:
            warnings.append(f"{where}: unknown Rekognition emotion type {kind!r}; kept in emotion.other")
        if key in target:
            warnings.append(f"{where}: emotion {kind!r} appears twice; kept the first score")
            continue
        target[key] = confidence
    return EmotionScores(independent=True, other=other, **scores)


def _landmarks(items: Any, width: int, height: int, where: str, warnings: list[str]) -> dict[str, Point] | None:
    if not isinstance(items, list):
        return None
    points: dict[str, Point] = {}
    for item in items:
        if not isinstance(item, Mapping):
            continue
        kind = str(item.get("Type"))
        x, y = _number(item.get("X")), _number(item.get("Y"))
        if x is None or y is None:
            warnings.append(f"{where}: landmark {kind!r} has no X/Y; left out")
            continue
        name = AWS_LANDMARKS.get(kind)
        if name is None:
            name = kind
            warnings.append(f"{where}: unknown Rekognition landmark type {kind!r}; kept under that name")
        if name in points:
            warnings.append(f"{where}: landmark {kind!r} appears more than once; kept the first point")
            continue
        points[name] = Point(x=x * width, y=y * height)
    return points


def _attributes(detail: Mapping[str, Any], where: str, warnings: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    age = detail.get("AgeRange")
    if isinstance(age, Mapping) and _number(age.get("Low")) is not None and _number(age.get("High")) is not None:
        found["age_range"] = AgeRange(low=float(age["Low"]), high=float(age["High"]))
    gender = detail.get("Gender")
    if isinstance(gender, Mapping) and isinstance(gender.get("Value"), str):
        found["gender"] = Gender(value=gender["Value"].lower(), confidence=_ratio(gender.get("Confidence")))
    smile = _boolean(detail.get("Smile"))
    if smile is not None:
        found["smile"] = Smile(value=smile.value, confidence=smile.confidence)
    for key, field in _BOOLEANS.items():
        value = _boolean(detail.get(key))
        if value is not None:
            found[field] = value
    emotion = _emotions(detail.get("Emotions"), where, warnings)
    if emotion is not None:
        found["emotion"] = emotion
    pose = detail.get("Pose")
    if isinstance(pose, Mapping):
        found["head_pose"] = HeadPose(
            roll=_number(pose.get("Roll")), yaw=_number(pose.get("Yaw")), pitch=_number(pose.get("Pitch"))
        )
    quality = detail.get("Quality")
    if isinstance(quality, Mapping):
        found["quality"] = ImageQuality(
            brightness=_ratio(quality.get("Brightness")), sharpness=_ratio(quality.get("Sharpness"))
        )
    gaze = detail.get("EyeDirection")
    if isinstance(gaze, Mapping):
        found["eye_direction"] = EyeDirection(
            yaw=_number(gaze.get("Yaw")), pitch=_number(gaze.get("Pitch")), confidence=_ratio(gaze.get("Confidence"))
        )
    return found


def _keep(found: dict[str, Any], attributes: Iterable[str] | None) -> dict[str, Any]:
    if attributes is None:
        return found
    allowed = {field for name in attributes for field in ATTRIBUTE_FIELDS.get(name, ())}
    return {field: value for field, value in found.items() if field in allowed}


def parse_face_detail(
    detail: Mapping[str, Any],
    width: int,
    height: int,
    *,
    attributes: Iterable[str] | None = None,
    landmarks: bool = True,
    where: str = "face",
    warnings: list[str] | None = None,
) -> Face | None:
    """Convert one ``FaceDetail`` to a :class:`~facekit.Face` in pixels of a ``width`` x ``height`` image.

    Args:
        detail: One element of ``FaceDetails``.
        width: Width of the image Rekognition analysed, pixels.
        height: Height of the image Rekognition analysed, pixels.
        attributes: Canonical attributes to fill (others stay None even when present, e.g.
            ``Pose`` that comes back unasked); None fills everything present.
        landmarks: Whether to fill ``landmarks``.
        where: How warnings name this face.
        warnings: List that receives the warnings (unknown or repeated types).

    Returns:
        The face (``index`` 0, set later by the client), or None when the detail has no usable
        ``BoundingBox`` (a warning says so).
    """
    notes = warnings if warnings is not None else []
    box = detail.get("BoundingBox")
    values = [_number(box.get(key)) for key in ("Left", "Top", "Width", "Height")] if isinstance(box, Mapping) else []
    if len(values) != 4 or any(value is None for value in values):
        notes.append(f"{where}: no complete BoundingBox in the response; face left out (see raw)")
        return None
    left, top, box_width, box_height = (float(value or 0.0) for value in values)
    face_box = BoundingBox(
        left=left * width, top=top * height, width=box_width * width, height=box_height * height,
        image_width=width, image_height=height,
    )
    points = _landmarks(detail.get("Landmarks"), width, height, where, notes) if landmarks else None
    found = _keep(_attributes(detail, where, notes), attributes)
    return Face(
        box=face_box,
        confidence=_ratio(detail.get("Confidence")),
        landmarks=points,
        attributes=FaceAttributes(**found),
    )


def parse_detect_faces(
    response: Mapping[str, Any],
    width: int,
    height: int,
    *,
    attributes: Iterable[str] | None = None,
    landmarks: bool = True,
) -> tuple[list[Face], list[str]]:
    """Convert a whole ``DetectFaces`` response to faces in pixels of the analysed image.

    Args:
        response: The response as boto3 returns it (or as JSON-decoded).
        width: Width of the image Rekognition analysed, pixels.
        height: Height of the image Rekognition analysed, pixels.
        attributes: Canonical attributes to fill; None fills everything present.
        landmarks: Whether to fill landmarks.

    Returns:
        The faces in Rekognition's order, and warnings about anything unusual in the response.

    Raises:
        ProviderError: The response is not a ``DetectFaces`` answer (no ``FaceDetails`` list of
            objects: botocore turns an HTML page, an empty or cut body into ``{}``), lists more
            faces than the call accepts, or holds a number that cannot be read.
    """
    attribute_list = None if attributes is None else list(attributes)
    warnings: list[str] = []
    faces: list[Face] = []
    details = response.get("FaceDetails") if isinstance(response, Mapping) else None
    if not isinstance(details, list) or not all(isinstance(detail, Mapping) for detail in details):
        raise ProviderError(
            "Rekognition answered without a FaceDetails list (an empty, cut or non-JSON body, or another "
            "operation's answer); this is not a DetectFaces answer: check endpoint_url and the network",
            provider="aws",
            body=_metadata_free(response),
        )
    check_face_count(len(details), provider="aws")
    try:
        for number, detail in enumerate(details):
            face = parse_face_detail(
                detail, width, height, attributes=attribute_list, landmarks=landmarks,
                where=f"Rekognition face {number}", warnings=warnings,
            )
            if face is not None:
                faces.append(face)
    except (OverflowError, TypeError, ValueError) as exc:
        raise ProviderError(
            f"Rekognition's answer holds a value facekit cannot read as a number ({type(exc).__name__})",
            provider="aws",
        ) from exc
    return faces, warnings


def _metadata_free(response: Any) -> Any:
    if isinstance(response, Mapping):
        return {key: value for key, value in response.items() if key != "ResponseMetadata"}
    return None
