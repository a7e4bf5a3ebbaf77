"""Canonical names shared by every backend: attributes, emotions and landmarks.

``left`` and ``right`` in landmark names always mean the **viewer's** left and right
(the smaller and larger x in the image), as in Azure Face and Rekognition.

The per-provider landmark mapping tables live here so that documentation and tests read
one source: :data:`AZURE_LANDMARKS` (Azure's 27), :data:`AWS_LANDMARKS` (Rekognition's 30)
and :data:`LOCAL_LANDMARKS` (the local engine's 5), and :data:`MESH_LANDMARKS` (the
local engine's face mesh indices behind each name with ``landmarks="mesh"``).
"""

from __future__ import annotations

import difflib
from typing import Final, Literal

__all__ = [
    "ATTRIBUTES",
    "AWS_LANDMARKS",
    "AZURE_LANDMARKS",
    "EMOTIONS",
    "LANDMARKS",
    "LOCAL_LANDMARKS",
    "MESH_LANDMARKS",
    "normalize_attribute_names",
    "normalize_landmarks_option",
]

#: Canonical attribute names a caller may request (``attributes=[...]``); ``"all"`` asks
#: for everything the backend can return.
ATTRIBUTES: Final[tuple[str, ...]] = (
    "age",  # years; Rekognition gives a range (age_range)
    "gender",
    "smile",
    "emotion",
    "head_pose",
    "facial_hair",  # Azure lengths; Rekognition beard/mustache booleans
    "glasses",  # Azure glasses type; Rekognition eyeglasses/sunglasses booleans
    "eyes_open",
    "mouth_open",
    "eye_direction",
    "occlusion",  # Azure per region; Rekognition face_occluded
    "accessories",
    "hair",
    "makeup",
    "blur",
    "exposure",
    "noise",
    "quality",  # Rekognition brightness and sharpness
    "mask",
    "quality_for_recognition",
)

_ATTRIBUTE_ALIASES: Final[dict[str, str]] = {
    "headpose": "head_pose",
    "pose": "head_pose",
    "facialhair": "facial_hair",
    "beard": "facial_hair",
    "mustache": "facial_hair",
    "moustache": "facial_hair",
    "emotions": "emotion",
    "age_range": "age",
    "agerange": "age",
    "eyeglasses": "glasses",
    "sunglasses": "glasses",
    "eyesopen": "eyes_open",
    "mouthopen": "mouth_open",
    "eyedirection": "eye_direction",
    "face_occluded": "occlusion",
    "faceoccluded": "occlusion",
    "qualityforrecognition": "quality_for_recognition",
}

#: Canonical emotion names: the union of Azure's 8 and Rekognition's 9 types.
#: ``calm`` (Rekognition) is not ``neutral`` (Azure); ``confusion`` and ``unknown`` are
#: Rekognition's; ``contempt`` is Azure's.
EMOTIONS: Final[tuple[str, ...]] = (
    "anger",
    "contempt",
    "disgust",
    "fear",
    "happiness",
    "neutral",
    "sadness",
    "surprise",
    "calm",
    "confusion",
    "unknown",
)

#: Azure Face ``faceLandmarks`` keys (27) -> canonical names.
AZURE_LANDMARKS: Final[dict[str, str]] = {
    "pupilLeft": "left_pupil",
    "pupilRight": "right_pupil",
    "noseTip": "nose_tip",
    "mouthLeft": "mouth_left",
    "mouthRight": "mouth_right",
    "eyebrowLeftOuter": "left_eyebrow_outer",
    "eyebrowLeftInner": "left_eyebrow_inner",
    "eyeLeftOuter": "left_eye_outer",
    "eyeLeftTop": "left_eye_top",
    "eyeLeftBottom": "left_eye_bottom",
    "eyeLeftInner": "left_eye_inner",
    "eyebrowRightInner": "right_eyebrow_inner",
    "eyebrowRightOuter": "right_eyebrow_outer",
    "eyeRightInner": "right_eye_inner",
    "eyeRightTop": "right_eye_top",
    "eyeRightBottom": "right_eye_bottom",
    "eyeRightOuter": "right_eye_outer",
    "noseRootLeft": "nose_root_left",
    "noseRootRight": "nose_root_right",
    "noseLeftAlarTop": "nose_left_alar_top",
    "noseRightAlarTop": "nose_right_alar_top",
    "noseLeftAlarOutTip": "nose_left_alar_out_tip",
    "noseRightAlarOutTip": "nose_right_alar_out_tip",
    "upperLipTop": "upper_lip_top",
    "upperLipBottom": "upper_lip_bottom",
    "underLipTop": "under_lip_top",
    "underLipBottom": "under_lip_bottom",
}

#: Rekognition ``Landmarks[].Type`` (30) -> canonical names. ``eyeLeft``/``eyeRight`` are eye
#: centres (``left_eye``), distinct from the pupils; ``mouthUp``/``mouthDown`` are the top of
#: the upper lip and the bottom of the lower lip, the points Azure calls ``upperLipTop`` and
#: ``underLipBottom``.
AWS_LANDMARKS: Final[dict[str, str]] = {
    "eyeLeft": "left_eye",
    "eyeRight": "right_eye",
    "nose": "nose_tip",
    "mouthLeft": "mouth_left",
    "mouthRight": "mouth_right",
    "leftEyeBrowLeft": "left_eyebrow_outer",
    "leftEyeBrowRight": "left_eyebrow_inner",
    "leftEyeBrowUp": "left_eyebrow_top",
    "rightEyeBrowLeft": "right_eyebrow_inner",
    "rightEyeBrowRight": "right_eyebrow_outer",
    "rightEyeBrowUp": "right_eyebrow_top",
    "leftEyeLeft": "left_eye_outer",
    "leftEyeRight": "left_eye_inner",
    "leftEyeUp": "left_eye_top",
    "leftEyeDown": "left_eye_bottom",
    "rightEyeLeft": "right_eye_inner",
    "rightEyeRight": "right_eye_outer",
    "rightEyeUp": "right_eye_top",
    "rightEyeDown": "right_eye_bottom",
    "noseLeft": "nose_left",
    "noseRight": "nose_right",
    "mouthUp": "upper_lip_top",
    "mouthDown": "under_lip_bottom",
    "leftPupil": "left_pupil",
    "rightPupil": "right_pupil",
    "upperJawlineLeft": "jawline_upper_left",
    "midJawlineLeft": "jawline_mid_left",
    "chinBottom": "chin_bottom",
    "midJawlineRight": "jawline_mid_right",
    "upperJawlineRight": "jawline_upper_right",
}

#: The local engine's 5 points (CenterFace order: eye centres, nose tip, mouth corners) -> canonical names.
LOCAL_LANDMARKS: Final[dict[str, str]] = {
    "eye_left": "left_eye",
    "eye_right": "right_eye",
    "nose_tip": "nose_tip",
    "mouth_left": "mouth_left",
    "mouth_right": "mouth_right",
}

_EYE_L: Final = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
_EYE_R: Final = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)

#: The local engine's face mesh (MediaPipe's 468-point topology): canonical name -> mesh point
#: indices; the name's point is their mean. Every name of :data:`AZURE_LANDMARKS` and
#: :data:`AWS_LANDMARKS` is here. The mesh has no iris: pupils are the eye contour's centre.
MESH_LANDMARKS: Final[dict[str, tuple[int, ...]]] = {
    # eyes (viewer's left eye = the person's right eye)
    "left_pupil": _EYE_L,
    "right_pupil": _EYE_R,
    "left_eye": _EYE_L,
    "right_eye": _EYE_R,
    "left_eye_outer": (33,),
    "left_eye_inner": (133,),
    "left_eye_top": (159,),
    "left_eye_bottom": (145,),
    "right_eye_inner": (362,),
    "right_eye_outer": (263,),
    "right_eye_top": (386,),
    "right_eye_bottom": (374,),
    # eyebrows: ends on the brow's mid line (mean of its upper and lower edge), top = upper edge
    "left_eyebrow_outer": (70, 46),
    "left_eyebrow_inner": (107, 55),
    "left_eyebrow_top": (105,),
    "right_eyebrow_inner": (336, 285),
    "right_eyebrow_outer": (300, 276),
    "right_eyebrow_top": (334,),
    # nose
    "nose_tip": (1,),
    "nose_root_left": (193,),
    "nose_root_right": (417,),
    "nose_left_alar_top": (102,),
    "nose_right_alar_top": (331,),
    "nose_left_alar_out_tip": (64,),
    "nose_right_alar_out_tip": (294,),
    "nose_left": (129,),
    "nose_right": (358,),
    # mouth
    "mouth_left": (61,),
    "mouth_right": (291,),
    "upper_lip_top": (0,),
    "upper_lip_bottom": (13,),
    "under_lip_top": (14,),
    "under_lip_bottom": (17,),
    # jaw line (face oval)
    "jawline_upper_left": (234,),
    "jawline_mid_left": (172,),
    "chin_bottom": (152,),
    "jawline_mid_right": (397,),
    "jawline_upper_right": (454,),
}

#: Every canonical landmark name, in a stable order.
LANDMARKS: Final[tuple[str, ...]] = tuple(
    dict.fromkeys([*AZURE_LANDMARKS.values(), *AWS_LANDMARKS.values(), *LOCAL_LANDMARKS.values()])
)


def normalize_landmarks_option(value: object) -> bool | Literal["mesh"]:
    """Check the ``landmarks=`` option: ``False``, ``True`` (the backend's points) or ``"mesh"``.

    ``"mesh"`` asks the local engine for its 468-point face mesh (``Face.mesh``) and the named
    landmarks derived from it.

    Raises:
        InvalidRequestError: Any other value (``"yes"``, ``1``, ``"Mesh "`` are not accepted).
    """
    from facekit._errors import InvalidRequestError

    if value is True or value is False:
        return value
    if value == "mesh":
        return "mesh"
    raise InvalidRequestError(f"landmarks must be True, False or 'mesh', not {value!r}")


def normalize_attribute_names(names: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """Turn the caller's attribute names into canonical ones.

    Accepts canonical names, provider spellings (``headPose``, ``AGE_RANGE``) and ``"all"``.

    Args:
        names: One name, several, a comma-separated string, or None for none.

    Returns:
        Canonical names without duplicates, in the caller's order; ``("all",)`` when asked.

    Raises:
        InvalidRequestError: A name that is not an attribute facekit knows.
    """
    from facekit._errors import InvalidRequestError

    if names is None:
        return ()
    if isinstance(names, str):
        names = [part for part in names.split(",") if part.strip()]
    result: dict[str, None] = {}
    for name in names:
        key = name.strip().replace("-", "_")
        lowered = key.lower()
        if lowered == "all":
            return ("all",)
        if lowered in ATTRIBUTES:
            result[lowered] = None
            continue
        compact = lowered.replace("_", "")
        alias = _ATTRIBUTE_ALIASES.get(lowered) or _ATTRIBUTE_ALIASES.get(compact)
        if alias is None:
            alias = next((a for a in ATTRIBUTES if a.replace("_", "") == compact), None)
        if alias is None:
            near = difflib.get_close_matches(lowered, list(ATTRIBUTES), n=1, cutoff=0.6)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise InvalidRequestError(
                f"unknown attribute {name!r}; {hint}known attributes: {', '.join(ATTRIBUTES)} (or 'all')"
            )
        result[alias] = None
    return tuple(result)
