"""Face attributes: the union of what Azure Face (v1.0, v1.2, SDK), Rekognition and the local
engine return, one typed field each.

Rules every backend follows:

* A field the provider did not return is ``None`` (never 0, never "unknown").
* Confidences and scores are ``0..1``; Rekognition's 0-100 values are divided by 100. The
  provider's own numbers stay in ``DetectionResult.raw``. Confidences are not calibrated
  across providers.
* Enumerations are lower-case snake_case (``"reading_glasses"``, ``"good"``), whatever the
  provider's casing (``"ReadingGlasses"``, ``"readingGlasses"``, ``"GoodExposure"``).
* Values computed by facekit rather than returned by the provider say so in ``derived_from``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Accessory",
    "AgeRange",
    "BooleanAttribute",
    "EmotionScores",
    "EyeDirection",
    "FaceAttributes",
    "FacialHair",
    "Gender",
    "Hair",
    "HairColor",
    "HeadPose",
    "ImageQuality",
    "LevelValue",
    "Makeup",
    "Mask",
    "Occlusion",
    "Smile",
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BooleanAttribute(_Model):
    """A yes/no attribute with the provider's confidence (Rekognition style).

    Attributes:
        value: True when the feature is present.
        confidence: Confidence in ``value``, 0..1, or None.
        derived_from: For facekit-computed values, the measure used (e.g.
            ``"mesh:eye_aspect_ratio"`` for the local engine); None when the provider returned it.
    """

    value: bool
    confidence: float | None = None
    derived_from: str | None = None


class AgeRange(_Model):
    """Estimated age range, years (Rekognition's ``AgeRange``)."""

    low: float
    high: float


class Gender(_Model):
    """Predicted gender presentation.

    Attributes:
        value: ``"male"`` or ``"female"`` (lower case).
        confidence: 0..1, or None when the provider gives none (Azure).
    """

    value: str
    confidence: float | None = None


class Smile(_Model):
    """Smile, as each provider reports it.

    Attributes:
        intensity: Smile intensity 0..1 (Azure; local engine's derived value).
        value: True when smiling (Rekognition; local engine's mouth geometry when the mesh ran).
        confidence: Confidence in ``value``, 0..1 (Rekognition; local engine's mesh).
        derived_from: Where a facekit-computed value comes from, e.g. ``"emotion.happiness"``
            for the local engine (an approximation: P(happy) is not a smile detector); None when
            the provider returned it.
    """

    intensity: float | None = None
    value: bool | None = None
    confidence: float | None = None
    derived_from: str | None = None


class EmotionScores(_Model):
    """Emotion scores, 0..1, on facekit's canonical set (Azure's 8 and Rekognition's 9 types).

    A type the provider does not predict is None (e.g. ``contempt`` for Rekognition and the
    local engine, ``calm`` for Azure). ``calm`` is Rekognition's and is not ``neutral``.

    Attributes:
        independent: True when the scores are independent confidences that need not sum to 1
            (Rekognition); False when they form a distribution (Azure, local engine).
        other: Types outside facekit's set, as the provider named them (kept, never dropped).
    """

    anger: float | None = None
    contempt: float | None = None
    disgust: float | None = None
    fear: float | None = None
    happiness: float | None = None
    neutral: float | None = None
    sadness: float | None = None
    surprise: float | None = None
    calm: float | None = None
    confusion: float | None = None
    unknown: float | None = None
    independent: bool = False
    other: dict[str, float] = Field(default_factory=dict)

    def scores(self) -> dict[str, float]:
        """Every returned score by name (canonical and ``other``), None values left out."""
        from facekit._vocabulary import EMOTIONS

        found = {name: getattr(self, name) for name in EMOTIONS if getattr(self, name) is not None}
        found.update(self.other)
        return found

    @property
    def dominant(self) -> str | None:
        """The name of the highest score, or None when there are none."""
        scores = self.scores()
        return max(scores, key=lambda name: scores[name]) if scores else None


class HeadPose(_Model):
    """Head pose angles, degrees.

    Attributes:
        roll: Rotation in the image plane, degrees.
        yaw: Left-right turn, degrees.
        pitch: Up-down tilt, degrees.
        derived_from: For facekit-computed poses, e.g. ``"landmarks:5"`` (local engine: roll
            reliable, yaw approximate, pitch coarse); None when the provider returned it.
    """

    roll: float | None = None
    yaw: float | None = None
    pitch: float | None = None
    derived_from: str | None = None


class FacialHair(_Model):
    """Facial hair lengths 0..1 (Azure): 0 none, 1 long or thick."""

    moustache: float | None = None
    beard: float | None = None
    sideburns: float | None = None


class EyeDirection(_Model):
    """Gaze direction, degrees (Rekognition)."""

    yaw: float | None = None
    pitch: float | None = None
    confidence: float | None = None


class Occlusion(_Model):
    """Which regions are occluded (Azure)."""

    forehead: bool | None = None
    eye: bool | None = None
    mouth: bool | None = None


class Accessory(_Model):
    """An accessory on the face (Azure): ``type`` is ``headwear``, ``glasses`` or ``mask``."""

    type: str
    confidence: float | None = None


class HairColor(_Model):
    """A hair colour and its confidence 0..1 (Azure)."""

    color: str
    confidence: float | None = None


class Hair(_Model):
    """Hair (Azure, retired in 2023): baldness 0..1, invisibility and colours."""

    bald: float | None = None
    invisible: bool | None = None
    colors: list[HairColor] | None = None


class Makeup(_Model):
    """Make-up on eyes and lips (Azure, retired in 2023)."""

    eye: bool | None = None
    lip: bool | None = None


class LevelValue(_Model):
    """A graded quality measure: a level and a value 0..1.

    Attributes:
        level: ``"low"``/``"medium"``/``"high"`` for blur and noise;
            ``"under"``/``"good"``/``"over"`` for exposure.
        value: 0..1 (larger is blurrier, noisier, brighter).
        derived_from: For facekit-computed measures (local engine), the method used.
    """

    level: str | None = None
    value: float | None = None
    derived_from: str | None = None


class ImageQuality(_Model):
    """Brightness and sharpness of the face, 0..1 (Rekognition's 0-100 divided by 100)."""

    brightness: float | None = None
    sharpness: float | None = None


class Mask(_Model):
    """Face mask (Azure detection_03): ``type`` is ``no_mask``, ``face_mask``,
    ``other_mask_or_occlusion`` or ``uncertain``."""

    type: str | None = None
    nose_and_mouth_covered: bool | None = None


class FaceAttributes(_Model):
    """Everything known about a face besides its box and landmarks; every field None unless returned.

    Attributes:
        age: Estimated (visual) age, years (Azure, local engine).
        age_range: Estimated age range, years (Rekognition).
        gender: Gender presentation (Azure until 2023, Rekognition, local engine).
        smile: Smile intensity or boolean (see :class:`Smile`).
        emotion: Emotion scores (see :class:`EmotionScores`).
        head_pose: Roll, yaw, pitch in degrees.
        facial_hair: Azure's moustache, beard and sideburns lengths 0..1.
        beard: Rekognition's beard boolean.
        mustache: Rekognition's mustache boolean.
        glasses: Azure's glasses type: ``no_glasses``, ``reading_glasses``, ``sunglasses``,
            ``swimming_goggles``.
        eyeglasses: Rekognition's eyeglasses boolean.
        sunglasses: Rekognition's sunglasses boolean.
        eyes_open: Rekognition's eyes-open boolean.
        mouth_open: Rekognition's mouth-open boolean.
        eye_direction: Rekognition's gaze direction.
        occlusion: Azure's occluded regions.
        face_occluded: Rekognition's face-occluded boolean.
        accessories: Azure's accessories (an empty list means none were found).
        hair: Azure's hair.
        makeup: Azure's make-up.
        blur: Blur level and value.
        exposure: Exposure level and value.
        noise: Noise level and value.
        quality: Rekognition's brightness and sharpness.
        mask: Azure's mask.
        quality_for_recognition: Azure's ``low``/``medium``/``high`` fitness for recognition.
    """

    age: float | None = None
    age_range: AgeRange | None = None
    gender: Gender | None = None
    smile: Smile | None = None
    emotion: EmotionScores | None = None
    head_pose: HeadPose | None = None
    facial_hair: FacialHair | None = None
    beard: BooleanAttribute | None = None
    mustache: BooleanAttribute | None = None
    glasses: str | None = None
    eyeglasses: BooleanAttribute | None = None
    sunglasses: BooleanAttribute | None = None
    eyes_open: BooleanAttribute | None = None
    mouth_open: BooleanAttribute | None = None
    eye_direction: EyeDirection | None = None
    occlusion: Occlusion | None = None
    face_occluded: BooleanAttribute | None = None
    accessories: list[Accessory] | None = None
    hair: Hair | None = None
    makeup: Makeup | None = None
    blur: LevelValue | None = None
    exposure: LevelValue | None = None
    noise: LevelValue | None = None
    quality: ImageQuality | None = None
    mask: Mask | None = None
    quality_for_recognition: Literal["low", "medium", "high"] | str | None = None

    def returned(self) -> list[str]:
        """Names of the fields that hold a value."""
        return [name for name in type(self).model_fields if getattr(self, name) is not None]


#: Which :class:`FaceAttributes` fields answer each requested canonical attribute name.
ATTRIBUTE_FIELDS: dict[str, tuple[str, ...]] = {
    "age": ("age", "age_range"),
    "gender": ("gender",),
    "smile": ("smile",),
    "emotion": ("emotion",),
    "head_pose": ("head_pose",),
    "facial_hair": ("facial_hair", "beard", "mustache"),
    "glasses": ("glasses", "eyeglasses", "sunglasses"),
    "eyes_open": ("eyes_open",),
    "mouth_open": ("mouth_open",),
    "eye_direction": ("eye_direction",),
    "occlusion": ("occlusion", "face_occluded"),
    "accessories": ("accessories",),
    "hair": ("hair",),
    "makeup": ("makeup",),
    "blur": ("blur",),
    "exposure": ("exposure",),
    "noise": ("noise",),
    "quality": ("quality",),
    "mask": ("mask",),
    "quality_for_recognition": ("quality_for_recognition",),
}
