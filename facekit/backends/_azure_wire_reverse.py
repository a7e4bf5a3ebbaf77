"""facekit faces -> the Azure Face ``/detect`` wire format (the reverse of :mod:`._azure_wire`).

Pure functions, no HTTP: :func:`azure_faces_to_wire` renders :class:`~facekit.Face` objects as
the JSON list a given API version answers, and :func:`parse_azure_query` reads a ``/detect``
query string into the canonical request it stands for. ``facekit serve`` uses both; the
round-trip tests hold them together with :func:`~._azure_wire.normalize_azure_faces`
(wire -> canonical -> wire gives back every field both sides know).

Rules of the rendering (what Azure itself does, per version):

* ``faceRectangle`` in integer pixels (rounded), ``faceLandmarks`` in float pixels;
* only the attributes asked for **and** returned by the backend; a field the backend did not
  fill is left out (never a zero or a guess), so ``faceAttributes`` may be ``{}``;
* ``faceLandmarks`` holds only those of Azure's 27 names the backend filled (the local engine
  fills ``noseTip``, ``mouthLeft`` and ``mouthRight``: its eye points are eye centres, not pupils);
* v1.0 spells the glasses enum in PascalCase (``"NoGlasses"``) and the accessory ``"headWear"``;
  v1.1 and later use camelCase (``"noGlasses"``, ``"headwear"``); levels are lower case
  (``"low"``, ``"goodExposure"``) in every version, as in real responses.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from facekit._attributes import FaceAttributes, LevelValue
from facekit._errors import InvalidRequestError
from facekit._models import Face
from facekit._vocabulary import AZURE_LANDMARKS
from facekit.backends._azure_wire import (
    API_VERSIONS,
    AZURE_ATTRIBUTE_NAMES,
    AZURE_EMOTIONS,
    FACE_ID_TTL_RANGE,
    MAX_FACES,
    AzureOptions,
)

__all__ = [
    "AZURE_QUERY_PARAMETERS",
    "AzureQuery",
    "azure_attributes_to_wire",
    "azure_face_to_wire",
    "azure_faces_to_wire",
    "parse_azure_query",
]

#: Every ``/detect`` query parameter facekit's Azure backends send or accept.
AZURE_QUERY_PARAMETERS: Final[tuple[str, ...]] = (
    "returnFaceId",
    "returnFaceLandmarks",
    "returnFaceAttributes",
    "detectionModel",
    "recognitionModel",
    "returnRecognitionModel",
    "faceIdTimeToLive",
)

_CANONICAL_OF: Final[dict[str, str]] = {wire.lower(): name for name, wire in AZURE_ATTRIBUTE_NAMES.items()}
_LANDMARK_WIRE: Final[dict[str, str]] = {canonical: wire for wire, canonical in AZURE_LANDMARKS.items()}
_EXPOSURE_WIRE: Final[dict[str, str]] = {"good": "goodExposure", "over": "overExposure", "under": "underExposure"}


def _camel(value: str) -> str:
    """``"reading_glasses"`` -> ``"readingGlasses"``."""
    first, *rest = value.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def _pascal(value: str) -> str:
    """``"reading_glasses"`` -> ``"ReadingGlasses"``."""
    return "".join(part[:1].upper() + part[1:] for part in value.split("_"))


def _enum(value: str, api_version: str) -> str:
    return _pascal(value) if api_version == "v1.0" else _camel(value)


def _present(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    return {key: value for key, value in pairs if value is not None}


def _level(value: LevelValue, key: str, *, exposure: bool = False) -> dict[str, Any]:
    level = value.level
    if level is not None:
        level = _EXPOSURE_WIRE.get(level, _camel(level)) if exposure else _camel(level)
    return _present([(key, level), ("value", value.value)])


def azure_attributes_to_wire(
    attributes: FaceAttributes, wanted: Collection[str], *, api_version: str = "v1.2"
) -> dict[str, Any]:
    """The ``faceAttributes`` object for the canonical attribute names in ``wanted``.

    Args:
        attributes: The face's attributes.
        wanted: Canonical attribute names asked for; others are left out even when filled.
        api_version: The version whose spelling to use (``v1.0`` PascalCase enums).

    Returns:
        Azure key -> value, for the fields that hold a value, in Azure's names.
    """
    a = attributes
    out: dict[str, Any] = {}
    for name in AZURE_ATTRIBUTE_NAMES:
        if name not in wanted:
            continue
        key = AZURE_ATTRIBUTE_NAMES[name]
        value: Any = None
        if name == "age":
            value = a.age
        elif name == "gender" and a.gender is not None:
            value = a.gender.value
        elif name == "smile" and a.smile is not None:
            value = a.smile.intensity
        elif name == "emotion" and a.emotion is not None:
            value = _present((emotion, getattr(a.emotion, emotion)) for emotion in AZURE_EMOTIONS)
        elif name == "head_pose" and a.head_pose is not None:
            pose = a.head_pose
            value = _present([("pitch", pose.pitch), ("roll", pose.roll), ("yaw", pose.yaw)])
        elif name == "facial_hair" and a.facial_hair is not None:
            hair = a.facial_hair
            value = _present([("moustache", hair.moustache), ("beard", hair.beard), ("sideburns", hair.sideburns)])
        elif name == "glasses" and a.glasses is not None:
            value = _enum(a.glasses, api_version)
        elif name == "hair" and a.hair is not None:
            colors = None
            if a.hair.colors is not None:
                colors = [_present([("color", c.color), ("confidence", c.confidence)]) for c in a.hair.colors]
            value = _present([("bald", a.hair.bald), ("invisible", a.hair.invisible), ("hairColor", colors)])
        elif name == "makeup" and a.makeup is not None:
            value = _present([("eyeMakeup", a.makeup.eye), ("lipMakeup", a.makeup.lip)])
        elif name == "occlusion" and a.occlusion is not None:
            o = a.occlusion
            value = _present([("foreheadOccluded", o.forehead), ("eyeOccluded", o.eye), ("mouthOccluded", o.mouth)])
        elif name == "accessories" and a.accessories is not None:
            value = [
                _present([("type", "headWear" if item.type == "headwear" and api_version == "v1.0" else _camel(item.type)),
                          ("confidence", item.confidence)])
                for item in a.accessories
            ]
        elif name in ("blur", "noise") and getattr(a, name) is not None:
            value = _level(getattr(a, name), f"{name}Level")
        elif name == "exposure" and a.exposure is not None:
            value = _level(a.exposure, "exposureLevel", exposure=True)
        elif name == "mask" and a.mask is not None:
            mask_type = _camel(a.mask.type) if a.mask.type is not None else None
            value = _present([("type", mask_type), ("noseAndMouthCovered", a.mask.nose_and_mouth_covered)])
        elif name == "quality_for_recognition":
            value = a.quality_for_recognition
        if value is not None:
            out[key] = value
    return out


def azure_face_to_wire(
    face: Face,
    *,
    api_version: str = "v1.2",
    attributes: Collection[str] = (),
    landmarks: bool = False,
    face_id: bool = False,
    recognition_model: str | None = None,
) -> dict[str, Any]:
    """One face as an element of the ``/detect`` answer.

    Args:
        face: The face, in pixels of the image the client sent.
        api_version: One of :data:`~._azure_wire.API_VERSIONS`.
        attributes: Canonical attribute names asked for (``returnFaceAttributes``); when
            empty, ``faceAttributes`` is left out as Azure does.
        landmarks: ``returnFaceLandmarks``: include ``faceLandmarks`` (the points filled).
        face_id: ``returnFaceId``: include ``faceId`` when the backend returned one.
        recognition_model: Echoed as ``recognitionModel`` when given (``returnRecognitionModel``).
    """
    out: dict[str, Any] = {}
    if face_id and face.face_id is not None:
        out["faceId"] = face.face_id
    if recognition_model is not None:
        out["recognitionModel"] = recognition_model
    box = face.box
    out["faceRectangle"] = {
        "top": round(box.top), "left": round(box.left), "width": round(box.width), "height": round(box.height),
    }
    if landmarks:
        points = face.landmarks or {}
        out["faceLandmarks"] = {
            wire: {"x": points[canonical].x, "y": points[canonical].y}
            for wire, canonical in AZURE_LANDMARKS.items()
            if canonical in points
        }
    if attributes:
        out["faceAttributes"] = azure_attributes_to_wire(face.attributes, attributes, api_version=api_version)
    return out


def azure_faces_to_wire(
    faces: Iterable[Face],
    *,
    api_version: str = "v1.2",
    attributes: Collection[str] = (),
    landmarks: bool = False,
    face_id: bool = False,
    recognition_model: str | None = None,
) -> list[dict[str, Any]]:
    """Faces (largest first) as the ``/detect`` JSON list, at most :data:`MAX_FACES` of them.

    See :func:`azure_face_to_wire` for the arguments.
    """
    return [
        azure_face_to_wire(
            face, api_version=api_version, attributes=attributes, landmarks=landmarks, face_id=face_id,
            recognition_model=recognition_model,
        )
        for face in list(faces)[:MAX_FACES]
    ]


# -- the request side ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AzureQuery:
    """A ``/detect`` query string, read and checked.

    Attributes:
        attributes: Canonical attribute names asked for, in the caller's order.
        landmarks: ``returnFaceLandmarks``.
        face_id: ``returnFaceId`` (Azure's default: true).
        options: The model options as facekit's Azure backends take them
            (``detection_model``, ``recognition_model``, ``return_recognition_model``,
            ``face_id_time_to_live``), validated for ``api_version``.
    """

    api_version: str
    attributes: tuple[str, ...]
    landmarks: bool
    face_id: bool
    options: AzureOptions

    def backend_options(self) -> dict[str, Any]:
        """Per-call options for an Azure backend (only those the caller set or that matter)."""
        found: dict[str, Any] = {
            "detection_model": self.options.detection_model,
            "recognition_model": self.options.recognition_model,
        }
        if self.options.return_recognition_model:
            found["return_recognition_model"] = True
        if self.options.face_id_time_to_live is not None:
            found["face_id_time_to_live"] = self.options.face_id_time_to_live
        return found


def _bool(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise InvalidRequestError(f"Invalid argument {name}: {value!r} is not true or false.")


def parse_azure_query(api_version: str, query: Mapping[str, str]) -> AzureQuery:
    """Read a ``/detect`` query string the way Azure does.

    Args:
        api_version: The version in the path.
        query: Query parameters (one value each).

    Raises:
        InvalidRequestError: An unknown version or parameter, or a bad value (Azure's
            ``BadArgument``); the message names it.
    """
    if api_version not in API_VERSIONS:
        raise InvalidRequestError(f"Unknown API version {api_version!r}; known: {', '.join(API_VERSIONS)}.")
    unknown = sorted(set(query) - set(AZURE_QUERY_PARAMETERS))
    if unknown:
        raise InvalidRequestError(
            f"Invalid argument(s) {', '.join(unknown)}; /detect takes {', '.join(AZURE_QUERY_PARAMETERS)}."
        )
    names: list[str] = []
    for part in query.get("returnFaceAttributes", "").split(","):
        if not part.strip():
            continue
        canonical = _CANONICAL_OF.get(part.strip().lower())
        if canonical is None:
            raise InvalidRequestError(
                f"Invalid argument returnFaceAttributes: {part.strip()!r} is not a face attribute; "
                f"use {', '.join(AZURE_ATTRIBUTE_NAMES.values())}."
            )
        if canonical not in names:
            names.append(canonical)
    ttl_text = query.get("faceIdTimeToLive")
    ttl: int | None = None
    if ttl_text is not None:
        if api_version == "v1.0":
            raise InvalidRequestError("Invalid argument faceIdTimeToLive: v1.0 has no faceIdTimeToLive.")
        try:
            ttl = int(ttl_text)
        except ValueError as exc:
            raise InvalidRequestError(f"Invalid argument faceIdTimeToLive: {ttl_text!r} is not an integer.") from exc
        low, high = FACE_ID_TTL_RANGE
        if not low <= ttl <= high:
            raise InvalidRequestError(f"Invalid argument faceIdTimeToLive: it must be {low}..{high} seconds.")
    try:
        options = AzureOptions.build(
            api_version=api_version,
            detection_model=query.get("detectionModel"),
            recognition_model=query.get("recognitionModel"),
            face_id_time_to_live=ttl,
            return_recognition_model=_bool(query["returnRecognitionModel"], "returnRecognitionModel")
            if "returnRecognitionModel" in query
            else None,
        )
    except InvalidRequestError:
        raise
    except Exception as exc:  # ConfigurationError: a bad model name
        raise InvalidRequestError(f"Invalid argument: {getattr(exc, 'message', exc)}.") from exc
    return AzureQuery(
        api_version=api_version,
        attributes=tuple(names),
        landmarks=_bool(query.get("returnFaceLandmarks", "false"), "returnFaceLandmarks"),
        face_id=_bool(query.get("returnFaceId", "true"), "returnFaceId"),
        options=options,
    )
