"""The Azure Face wire format, shared by the ``azure-rest`` and ``azure-sdk`` backends.

Pure functions, no SDK and no HTTP:

* :func:`normalize_azure_faces` turns a Face - Detect response body (a JSON list) into
  :class:`~facekit.Face` objects in pixels of the image sent (Azure already answers in pixels).
* :class:`AzureOptions`, :func:`capabilities_for` and :func:`check_azure_request` validate a
  request against what each detection/recognition model can return, before anything is sent.
* :func:`build_query` builds the ``/detect`` query parameters.
* :func:`map_azure_error` maps an error answer (status, body, headers) to the facekit tree.

Quirks handled (all seen in real responses, vendor examples or the seeds): PascalCase (v1.0)
and camelCase (v1.1+) enum values, capitalised levels (``"Medium"``, ``"GoodExposure"``),
integer-valued floats (``"age": 27``), ``"headWear"`` vs ``"headwear"``, landmarks far outside
the face (kept as returned), and the two error body shapes ``{"error": {"code", "message"}}``
and ``{"error": {"statusCode", "message"}}``. Misspelt keys (the seeds' ``" confidence"``,
``"putch"``, ``"occllusion"``) are never guessed at: the field is None and ``raw`` keeps them.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from facekit._attributes import (
    Accessory,
    EmotionScores,
    FaceAttributes,
    FacialHair,
    Gender,
    Hair,
    HairColor,
    HeadPose,
    LevelValue,
    Makeup,
    Mask,
    Occlusion,
    Smile,
)
from facekit._errors import (
    AuthenticationError,
    ConfigurationError,
    FacekitError,
    InvalidImageError,
    InvalidRequestError,
    ProviderError,
    QuotaExceededError,
    RateLimitError,
    RequestTimeoutError,
    ServiceUnavailableError,
    UnsupportedFeatureError,
)
from facekit._geometry import BoundingBox, Point
from facekit._limits import check_face_count
from facekit._models import DetectRequest, Face
from facekit._options import check_call_options
from facekit._vocabulary import ATTRIBUTES, AZURE_LANDMARKS
from facekit.backends._base import Capabilities, check_request

__all__ = [
    "API_VERSIONS",
    "AZURE_ATTRIBUTE_NAMES",
    "AZURE_EMOTIONS",
    "DEFAULT_API_VERSION",
    "DEFAULT_DETECTION_MODEL",
    "DEFAULT_RECOGNITION_MODEL",
    "DETECTION_MODELS",
    "FACE_ID_TTL_RANGE",
    "LIMITED_ACCESS_URL",
    "MAX_FACES",
    "MODEL_ATTRIBUTES",
    "PER_CALL_OPTIONS",
    "RECOGNITION_MODELS",
    "RETIRED_ATTRIBUTES",
    "AzureOptions",
    "build_query",
    "capabilities_for",
    "check_azure_request",
    "map_azure_error",
    "normalize_azure_face",
    "normalize_azure_faces",
    "parse_retry_after",
    "recognition_model_of",
    "request_id_of",
]

#: API versions facekit knows (same ``/face/{version}/detect`` path shape for all).
API_VERSIONS: Final[tuple[str, ...]] = ("v1.0", "v1.1-preview.1", "v1.2-preview.1", "v1.2")
#: The default API version: v1.2, the current generally available one.
DEFAULT_API_VERSION: Final = "v1.2"
#: Detection models.
DETECTION_MODELS: Final[tuple[str, ...]] = ("detection_01", "detection_02", "detection_03")
#: Recognition models.
RECOGNITION_MODELS: Final[tuple[str, ...]] = ("recognition_01", "recognition_02", "recognition_03", "recognition_04")
#: facekit's default detection model: the service's own default, and the only one with
#: glasses, occlusion, accessories, exposure and noise (and, formerly, the retired attributes).
DEFAULT_DETECTION_MODEL: Final = "detection_01"
#: facekit's default recognition model: the service's own default.
DEFAULT_RECOGNITION_MODEL: Final = "recognition_01"
#: ``faceIdTimeToLive`` bounds, seconds (v1.1 and later).
FACE_ID_TTL_RANGE: Final = (60, 86400)
#: Most faces Azure returns per image.
MAX_FACES: Final = 100
#: Where to apply for Limited Access (face ids, identification).
LIMITED_ACCESS_URL: Final = "https://aka.ms/facerecognition"

#: Canonical attribute name -> Azure ``returnFaceAttributes`` name.
AZURE_ATTRIBUTE_NAMES: Final[dict[str, str]] = {
    "age": "age",
    "gender": "gender",
    "smile": "smile",
    "emotion": "emotion",
    "head_pose": "headPose",
    "facial_hair": "facialHair",
    "glasses": "glasses",
    "hair": "hair",
    "makeup": "makeup",
    "occlusion": "occlusion",
    "accessories": "accessories",
    "blur": "blur",
    "exposure": "exposure",
    "noise": "noise",
    "mask": "mask",
    "quality_for_recognition": "qualityForRecognition",
}

#: Attributes Microsoft retired in June 2023 (Responsible AI); only detection_01 returned them.
RETIRED_ATTRIBUTES: Final[frozenset[str]] = frozenset(
    {"age", "gender", "emotion", "smile", "facial_hair", "hair", "makeup"}
)

#: What each detection model can return today (canonical names; quality_for_recognition is
#: added by :func:`capabilities_for` for recognition_03/04).
MODEL_ATTRIBUTES: Final[dict[str, frozenset[str]]] = {
    "detection_01": frozenset({"accessories", "blur", "exposure", "glasses", "head_pose", "noise", "occlusion"}),
    "detection_02": frozenset(),
    "detection_03": frozenset({"blur", "head_pose", "mask"}),
}
_LANDMARK_MODELS: Final = frozenset({"detection_01", "detection_03"})
_QUALITY_DETECTION: Final = frozenset({"detection_01", "detection_03"})
_QUALITY_RECOGNITION: Final = frozenset({"recognition_03", "recognition_04"})

#: Azure's 8 emotion types (all canonical names).
AZURE_EMOTIONS: Final[tuple[str, ...]] = (
    "anger", "contempt", "disgust", "fear", "happiness", "neutral", "sadness", "surprise",
)

#: Options a caller may override per call: ``client.detect(..., detection_model="detection_03")``.
PER_CALL_OPTIONS: Final[Mapping[str, str]] = {
    "detection_model": "detection_01, detection_02 or detection_03",
    "recognition_model": "recognition_01 .. recognition_04",
    "face_id_time_to_live": "seconds a face id lives, 60..86400 (v1.1+)",
    "return_recognition_model": "echo the recognition model per face (True/False)",
    "allow_retired_attributes": "allow asking for the attributes retired in 2023 (True/False)",
}

_RETIRED_NOTE: Final = (
    "retired by Microsoft in June 2023 under its Responsible AI rules, so current endpoints refuse it; "
    "for an old endpoint or recording that still returns it, pass allow_retired_attributes=True"
)


# -- options and validation -------------------------------------------------------------------


def _as_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("0", "false", "no", "off", ""):
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ConfigurationError(f"{name} must be true or false, got {value!r}")


@dataclass(frozen=True)
class AzureOptions:
    """Model choices sent with every detect call (validated on construction).

    Attributes:
        api_version: One of :data:`API_VERSIONS` (or a later ``vX.Y[-preview.N]``).
        detection_model: ``detection_01`` (default), ``detection_02`` or ``detection_03``.
        recognition_model: ``recognition_01`` (default) .. ``recognition_04``.
        face_id_time_to_live: Seconds a face id lives, 60..86400 (v1.1+); None: service default (86400).
        return_recognition_model: Ask the service to echo the recognition model per face.
        allow_retired_attributes: Allow asking for the attributes retired in 2023 (age, gender,
            emotion, smile, facial_hair, hair, makeup); only old endpoints still return them.
    """

    api_version: str = DEFAULT_API_VERSION
    detection_model: str = DEFAULT_DETECTION_MODEL
    recognition_model: str = DEFAULT_RECOGNITION_MODEL
    face_id_time_to_live: int | None = None
    return_recognition_model: bool = False
    allow_retired_attributes: bool = False

    def __post_init__(self) -> None:
        if not re.fullmatch(r"v\d+\.\d+(-preview\.\d+)?", self.api_version):
            raise ConfigurationError(
                f"api_version {self.api_version!r} is not an Azure Face API version; "
                f"use one of {', '.join(API_VERSIONS)}"
            )
        if self.detection_model not in DETECTION_MODELS:
            raise ConfigurationError(
                f"detection_model {self.detection_model!r} is unknown; use one of {', '.join(DETECTION_MODELS)}"
            )
        if self.recognition_model not in RECOGNITION_MODELS:
            raise ConfigurationError(
                f"recognition_model {self.recognition_model!r} is unknown; use one of {', '.join(RECOGNITION_MODELS)}"
            )
        if self.face_id_time_to_live is not None:
            low, high = FACE_ID_TTL_RANGE
            if isinstance(self.face_id_time_to_live, bool) or not low <= self.face_id_time_to_live <= high:
                raise ConfigurationError(
                    f"face_id_time_to_live must be {low}..{high} seconds, got {self.face_id_time_to_live!r}"
                )
            if self.api_version == "v1.0":
                raise ConfigurationError(
                    "face_id_time_to_live needs api_version 'v1.1-preview.1' or later (v1.0 has no faceIdTimeToLive)"
                )

    @classmethod
    def build(cls, **values: Any) -> AzureOptions:
        """Build from loosely typed values (strings from environment variables or TOML).

        None values take the defaults. Raises :class:`ConfigurationError` for bad values.
        """
        clean: dict[str, Any] = {key: value for key, value in values.items() if value is not None}
        if "face_id_time_to_live" in clean:
            ttl = clean["face_id_time_to_live"]
            try:
                clean["face_id_time_to_live"] = int(ttl) if not isinstance(ttl, bool) else ttl
            except (TypeError, ValueError) as exc:
                raise ConfigurationError(f"face_id_time_to_live must be an integer (seconds), got {ttl!r}") from exc
        for name in ("return_recognition_model", "allow_retired_attributes"):
            if name in clean:
                clean[name] = _as_bool(clean[name], name)
        for name in ("api_version", "detection_model", "recognition_model"):
            if name in clean:
                clean[name] = str(clean[name]).strip()
        return cls(**clean)

    def with_overrides(self, overrides: Mapping[str, Any]) -> AzureOptions:
        """These options with a call's ``request.options`` applied.

        Raises:
            InvalidRequestError: An unknown option or an invalid value.
        """
        check_call_options(overrides, PER_CALL_OPTIONS, backend="Azure")
        if not overrides:
            return self
        try:
            merged = AzureOptions.build(**{**self.__dict__, **dict(overrides)})
        except ConfigurationError as exc:
            raise InvalidRequestError(exc.message) from exc
        return merged


def capability_variants() -> dict[str, Capabilities]:
    """Capabilities per model choice, for listings and the generated capability matrix."""
    return {
        "detection_01": capabilities_for("detection_01", "recognition_04"),
        "detection_01 + allow_retired_attributes": capabilities_for("detection_01", "recognition_04", True),
        "detection_02": capabilities_for("detection_02", "recognition_04"),
        "detection_03 + recognition_04": capabilities_for("detection_03", "recognition_04"),
    }


def capabilities_for(
    detection_model: str = DEFAULT_DETECTION_MODEL,
    recognition_model: str = DEFAULT_RECOGNITION_MODEL,
    allow_retired: bool = False,
) -> Capabilities:
    """What Azure Face returns for a model combination.

    Args:
        detection_model: ``detection_01``, ``detection_02`` or ``detection_03``.
        recognition_model: ``recognition_01`` .. ``recognition_04``.
        allow_retired: Include the attributes retired in 2023 (detection_01 only).

    Returns:
        Capabilities with a note for every canonical attribute it cannot return, saying why.
    """
    attributes = set(MODEL_ATTRIBUTES[detection_model])
    if detection_model in _QUALITY_DETECTION and recognition_model in _QUALITY_RECOGNITION:
        attributes.add("quality_for_recognition")
    if allow_retired and detection_model == "detection_01":
        attributes |= RETIRED_ATTRIBUTES
    notes: dict[str, str] = {}
    for name in ATTRIBUTES:
        if name in attributes:
            continue
        if name not in AZURE_ATTRIBUTE_NAMES:
            notes[name] = "Azure Face has no such attribute (AWS Rekognition has it)"
        elif name in RETIRED_ATTRIBUTES and not allow_retired:
            notes[name] = _RETIRED_NOTE
        elif name in RETIRED_ATTRIBUTES:
            notes[name] = f"retired in 2023, and only detection_01 ever returned it (this call uses {detection_model})"
        elif name == "quality_for_recognition":
            notes[name] = (
                "it needs recognition_model 'recognition_03' or 'recognition_04' with detection_01 or detection_03 "
                f"(this call uses {detection_model} and {recognition_model})"
            )
        else:
            able = [model for model, names in MODEL_ATTRIBUTES.items() if name in names]
            notes[name] = f"{detection_model} does not return it; pass detection_model={able[0]!r}"
    if detection_model not in _LANDMARK_MODELS:
        notes["landmarks"] = (
            f"{detection_model} returns no landmarks; pass detection_model='detection_01' or 'detection_03'"
        )
    landmarks = frozenset(AZURE_LANDMARKS.values()) if detection_model in _LANDMARK_MODELS else frozenset()
    return Capabilities(
        attributes=frozenset(attributes),
        landmarks=landmarks,
        face_id=True,
        inputs=frozenset({"bytes", "url"}),
        max_faces=MAX_FACES,
        notes=notes,
        verify="face_id",
        find_similar="face_id",
        identity_note=(
            "Azure /verify and /findsimilars compare face ids, which need Limited Access approval "
            f"({LIMITED_ACCESS_URL}); without it Azure answers 403 UnsupportedFeature"
        ),
    )


def check_azure_request(
    request: DetectRequest, options: AzureOptions, *, backend: str
) -> tuple[DetectRequest, list[str]]:
    """Validate ``request`` for Azure before sending (per-call options applied).

    Returns:
        The checked request and warnings, as :func:`facekit.backends.check_request`.

    Raises:
        UnsupportedFeatureError: ``strict`` and the model cannot return something asked for
            (including a retired attribute without ``allow_retired_attributes=True``).
        InvalidRequestError: Unknown or invalid per-call option.
    """
    effective = options.with_overrides(request.options)
    capabilities = capabilities_for(
        effective.detection_model, effective.recognition_model, effective.allow_retired_attributes
    )
    return check_request(request, capabilities, backend=backend)


def build_query(request: DetectRequest, options: AzureOptions) -> dict[str, str]:
    """The ``/detect`` query parameters for a checked request.

    ``returnFaceId`` is ``false`` unless face ids were asked for (asking without Limited Access
    approval is a 403). Every model choice is sent explicitly so that the result records it.

    Args:
        request: A request that passed :func:`check_azure_request`.
        options: The effective options (``options.with_overrides(request.options)``).
    """
    names = [AZURE_ATTRIBUTE_NAMES[name] for name in request.attributes if name in AZURE_ATTRIBUTE_NAMES]
    query = {
        "returnFaceId": "true" if request.face_id else "false",
        "returnFaceLandmarks": "true" if request.landmarks else "false",
    }
    if names:
        query["returnFaceAttributes"] = ",".join(names)
    query["recognitionModel"] = options.recognition_model
    query["returnRecognitionModel"] = "true" if options.return_recognition_model else "false"
    query["detectionModel"] = options.detection_model
    if options.face_id_time_to_live is not None and options.api_version != "v1.0":
        query["faceIdTimeToLive"] = str(options.face_id_time_to_live)
    return query


# -- response normalisation --------------------------------------------------------------------


def _num(value: Any) -> float | None:
    """A JSON number as float (integer-valued floats included); anything else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _obj(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _snake(value: Any) -> str | None:
    """``"ReadingGlasses"``/``"readingGlasses"``/``"Medium"`` -> ``"reading_glasses"``/``"medium"``."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", value.strip())
    return re.sub(r"[\s\-]+", "_", text).lower()


_EXPOSURE_LEVELS: Final = {"good_exposure": "good", "over_exposure": "over", "under_exposure": "under"}
_ACCESSORY_TYPES: Final = {"head_wear": "headwear"}


def _level(value: Any, *, exposure: bool = False) -> str | None:
    level = _snake(value)
    if level is not None and exposure:
        return _EXPOSURE_LEVELS.get(level, level)
    return level


def _level_value(data: Any, level_key: str, *, exposure: bool = False) -> LevelValue | None:
    obj = _obj(data)
    if obj is None:
        return None
    return LevelValue(level=_level(obj.get(level_key), exposure=exposure), value=_num(obj.get("value")))


def _emotion(data: Any) -> EmotionScores | None:
    obj = _obj(data)
    if obj is None:
        return None
    scores = {name: _num(obj.get(name)) for name in AZURE_EMOTIONS}
    other = {
        key: number for key, value in obj.items() if key not in AZURE_EMOTIONS and (number := _num(value)) is not None
    }
    return EmotionScores(**scores, independent=False, other=other)


def _hair(data: Any) -> Hair | None:
    obj = _obj(data)
    if obj is None:
        return None
    colors = None
    if isinstance(obj.get("hairColor"), list):
        colors = [
            HairColor(color=str(item["color"]).lower(), confidence=_num(item.get("confidence")))
            for item in obj["hairColor"]
            if isinstance(item, dict) and isinstance(item.get("color"), str)
        ]
    return Hair(bald=_num(obj.get("bald")), invisible=_flag(obj.get("invisible")), colors=colors)


def _accessories(data: Any) -> list[Accessory] | None:
    if not isinstance(data, list):
        return None
    found = []
    for item in data:
        kind = _snake(item.get("type")) if isinstance(item, dict) else None
        if kind is None:
            continue
        # Exact keys only: the v1.0 reference's {"type": "mask", " confidence": 0.87} gives None.
        found.append(Accessory(type=_ACCESSORY_TYPES.get(kind, kind), confidence=_num(item.get("confidence"))))
    return found


def _attributes(data: Any) -> FaceAttributes:
    obj = _obj(data)
    if obj is None:
        return FaceAttributes()
    pose = _obj(obj.get("headPose"))
    facial_hair = _obj(obj.get("facialHair"))
    makeup = _obj(obj.get("makeup"))
    occlusion = _obj(obj.get("occlusion"))
    mask = _obj(obj.get("mask"))
    smile = _num(obj.get("smile"))
    gender = _snake(obj.get("gender"))
    return FaceAttributes(
        age=_num(obj.get("age")),
        gender=Gender(value=gender) if gender else None,
        smile=Smile(intensity=smile) if smile is not None else None,
        emotion=_emotion(obj.get("emotion")),
        head_pose=HeadPose(roll=_num(pose.get("roll")), yaw=_num(pose.get("yaw")), pitch=_num(pose.get("pitch")))
        if pose is not None
        else None,
        facial_hair=FacialHair(
            moustache=_num(facial_hair.get("moustache")),
            beard=_num(facial_hair.get("beard")),
            sideburns=_num(facial_hair.get("sideburns")),
        )
        if facial_hair is not None
        else None,
        glasses=_snake(obj.get("glasses")),
        occlusion=Occlusion(
            forehead=_flag(occlusion.get("foreheadOccluded")),
            eye=_flag(occlusion.get("eyeOccluded")),
            mouth=_flag(occlusion.get("mouthOccluded")),
        )
        if occlusion is not None
        else None,
        accessories=_accessories(obj.get("accessories")),
        hair=_hair(obj.get("hair")),
        makeup=Makeup(eye=_flag(makeup.get("eyeMakeup")), lip=_flag(makeup.get("lipMakeup")))
        if makeup is not None
        else None,
        blur=_level_value(obj.get("blur"), "blurLevel"),
        exposure=_level_value(obj.get("exposure"), "exposureLevel", exposure=True),
        noise=_level_value(obj.get("noise"), "noiseLevel"),
        mask=Mask(type=_snake(mask.get("type")), nose_and_mouth_covered=_flag(mask.get("noseAndMouthCovered")))
        if mask is not None
        else None,
        quality_for_recognition=_snake(obj.get("qualityForRecognition")),
    )


def _landmarks(data: Any) -> dict[str, Point] | None:
    obj = _obj(data)
    if obj is None:
        return None
    points: dict[str, Point] = {}
    for azure_name, canonical in AZURE_LANDMARKS.items():
        point = _obj(obj.get(azure_name))
        if point is None:
            continue
        x, y = _num(point.get("x")), _num(point.get("y"))
        if x is not None and y is not None:
            points[canonical] = Point(x=x, y=y)  # kept as returned, even far outside the face
    return points


def normalize_azure_face(item: Any, *, width: int | None = None, height: int | None = None, index: int = 0) -> Face:
    """One Azure face entry -> :class:`~facekit.Face` in pixels of the image sent.

    Args:
        item: One element of the Detect response list.
        width: Width of the image sent, pixels (None when unknown, e.g. a URL input).
        height: Height of the image sent, pixels.
        index: Position in the response (for error messages).

    Raises:
        ProviderError: The entry has no usable ``faceRectangle``.
    """
    face = _obj(item)
    rect = _obj(face.get("faceRectangle")) if face is not None else None
    values = {key: _num(rect.get(key)) for key in ("left", "top", "width", "height")} if rect is not None else {}
    if rect is None or any(value is None for value in values.values()):
        raise ProviderError(
            f"Azure returned face {index} without a usable faceRectangle (keys: "
            f"{sorted(face) if face is not None else type(item).__name__}); see the raw response",
            body=item,
        )
    assert face is not None
    box = BoundingBox(
        left=values["left"] or 0.0,
        top=values["top"] or 0.0,
        width=values["width"] or 0.0,
        height=values["height"] or 0.0,
        image_width=width,
        image_height=height,
    )
    face_id = face.get("faceId")
    return Face(
        box=box,
        confidence=None,  # Azure gives no detection confidence
        face_id=face_id if isinstance(face_id, str) else None,
        landmarks=_landmarks(face.get("faceLandmarks")),
        attributes=_attributes(face.get("faceAttributes")),
    )


def normalize_azure_faces(body: Any, *, width: int | None = None, height: int | None = None) -> list[Face]:
    """A Face - Detect response body -> faces in pixels of the image sent, in Azure's order.

    Args:
        body: The parsed JSON response (a list of face entries; empty when no face).
        width: Width of the image sent, pixels, or None when unknown.
        height: Height of the image sent, pixels, or None when unknown.

    Raises:
        ProviderError: The body is not a list, or an entry has no ``faceRectangle``.
    """
    if not isinstance(body, list):
        raise ProviderError(
            f"Azure's detect response is not a list of faces but {type(body).__name__}", body=_excerpt(body)
        )
    check_face_count(len(body))
    try:
        return [normalize_azure_face(item, width=width, height=height, index=i) for i, item in enumerate(body)]
    except (OverflowError, TypeError, ValueError) as exc:  # e.g. a 400-digit integer: not a coordinate
        raise ProviderError(
            f"Azure's detect response holds a value facekit cannot read as a number ({type(exc).__name__}); "
            "it is not a Face - Detect answer",
        ) from exc


def _excerpt(body: Any) -> Any:
    """``body`` for an error's ``body`` attribute: text cut to 2,000 characters."""
    return body[:2000] if isinstance(body, str) else body


def recognition_model_of(body: Any) -> str | None:
    """The ``recognitionModel`` echoed in a response (``returnRecognitionModel=true``), else None."""
    if isinstance(body, list):
        for item in body:
            if isinstance(item, dict) and isinstance(item.get("recognitionModel"), str):
                return str(item["recognitionModel"])
    return None


# -- errors -----------------------------------------------------------------------------------

_TRY_AGAIN_RE: Final = re.compile(r"try again in (\d+(?:\.\d+)?) seconds?", re.IGNORECASE)
_REQUEST_ID_HEADERS: Final = ("apim-request-id", "x-ms-request-id")
_QUOTA_CODES: Final = frozenset({"quotaexceeded", "outofquota", "403"})


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def request_id_of(headers: Mapping[str, str] | None) -> str | None:
    """The service's request id from ``apim-request-id`` or ``x-ms-request-id``."""
    for name in _REQUEST_ID_HEADERS:
        value = _header(headers, name)
        if value:
            return value
    return None


def parse_retry_after(
    headers: Mapping[str, str] | None, message: str | None = None, *, now: float | None = None
) -> float | None:
    """Seconds to wait, from the ``Retry-After`` header (seconds or an HTTP date), else from
    a message such as "Try again in 26 seconds" (the value only; never used to classify)."""
    value = _header(headers, "retry-after")
    if value:
        try:
            return max(0.0, float(value.strip()))
        except ValueError:
            parsed = email.utils.parsedate_tz(value)
            if parsed is not None:
                return max(0.0, email.utils.mktime_tz(parsed) - (time.time() if now is None else now))
    if message:
        match = _TRY_AGAIN_RE.search(message)
        if match:
            return float(match.group(1))
    return None


def _error_fields(body: Any) -> tuple[str | None, str | None]:
    """(code, message) from either body shape; code None for the ``statusCode`` shape."""
    error = _obj(body.get("error")) if isinstance(body, dict) else None
    if error is None:
        return None, body.strip()[:500] if isinstance(body, str) and body.strip() else None
    code = error.get("code")
    message = error.get("message")
    return (str(code) if code is not None else None), (str(message) if message is not None else None)


def map_azure_error(
    status: int, body: Any, headers: Mapping[str, str] | None = None, *, provider: str = "azure-rest"
) -> FacekitError:
    """Map an Azure Face error answer to the facekit error tree (by status and code only).

    Args:
        status: HTTP status.
        body: Parsed JSON body (either shape), or its text when it was not JSON.
        headers: Response headers (request id, ``Retry-After``).
        provider: Backend name to record.

    Returns:
        The error to raise (``raise map_azure_error(...) from exc``).
    """
    code, message = _error_fields(body)
    said = f": {message}" if message else ""
    common: dict[str, Any] = {
        "provider": provider,
        "status": status,
        "code": code,
        "request_id": request_id_of(headers),
        "body": body,
    }
    lowered = (code or "").lower()
    if status == 400:
        if lowered in ("invalidimage", "invalidimagesize"):
            return InvalidImageError(
                f"Azure rejected the image{said} (it takes JPEG, PNG, GIF or BMP, 1 KB to 6 MB; "
                "detect(..., fit=True) lets facekit re-encode it)",
                **common,
            )
        if lowered == "invalidurl":
            return InvalidRequestError(
                f"Azure could not use the image URL{said}; check that it is public, or pass the image bytes", **common
            )
        return InvalidRequestError(f"Azure rejected the request{said}", **common)
    if status == 401:
        return AuthenticationError(
            f"Azure refused the credentials{said}; check the key or token and that the endpoint is your resource's",
            **common,
        )
    if status == 403:
        if lowered == "unsupportedfeature":
            return UnsupportedFeatureError(
                f"Azure refused a Limited Access feature{said}; face ids (face_id=True) and recognition need "
                f"approval: apply at {LIMITED_ACCESS_URL}, or call without face_id=True",
                feature="face_id",
                **common,
            )
        if code is None or lowered in _QUOTA_CODES:
            return QuotaExceededError(
                f"Azure says the call volume quota is spent{said}; wait for it to refill or move to a paid tier",
                **common,
            )
        return AuthenticationError(f"Azure denied access{said}", **common)
    if status == 408:
        return RequestTimeoutError(f"Azure timed out processing the request{said}", **common)
    if status == 415:
        return InvalidRequestError(f"Azure refused the media type{said}", **common)
    if status == 429:
        return RateLimitError(
            f"Azure rate limit exceeded{said}; a RateLimiter (e.g. RateLimiter.per_minute(20) for the free tier) "
            "keeps calls under it",
            retry_after=parse_retry_after(headers, message),
            **common,
        )
    if status == 404:
        return ProviderError(f"Azure answered 404{said}; check the endpoint and api_version", **common)
    if status >= 500:
        return ServiceUnavailableError(f"Azure failed with HTTP {status}{said}; try again later", **common)
    return ProviderError(f"Azure answered HTTP {status}{said}", **common)
