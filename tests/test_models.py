"""The result model: a fully populated result round-trips through JSON without loss."""

from __future__ import annotations

from facekit import (
    Accessory,
    AgeRange,
    BooleanAttribute,
    BoundingBox,
    DetectionResult,
    DetectRequest,
    EmotionScores,
    EyeDirection,
    Face,
    FaceAttributes,
    FacialHair,
    Gender,
    Hair,
    HairColor,
    HeadPose,
    ImageInfo,
    ImageQuality,
    LevelValue,
    Makeup,
    Mask,
    Occlusion,
    Point,
    Smile,
)


def _full_attributes() -> FaceAttributes:
    yes = BooleanAttribute(value=True, confidence=0.987654321)
    return FaceAttributes(
        age=53.0,
        age_range=AgeRange(low=20, high=38),
        gender=Gender(value="female", confidence=0.99),
        smile=Smile(intensity=1.0, derived_from=None),
        emotion=EmotionScores(happiness=1.0, neutral=0.0, contempt=0.0, other={"BORED": 0.12}),
        head_pose=HeadPose(roll=0.6, yaw=-7.4, pitch=0.7),
        facial_hair=FacialHair(moustache=0.0, beard=0.1, sideburns=0.02),
        beard=yes,
        mustache=BooleanAttribute(value=False, confidence=0.5),
        glasses="no_glasses",
        eyeglasses=yes,
        sunglasses=yes,
        eyes_open=yes,
        mouth_open=yes,
        eye_direction=EyeDirection(yaw=1.5, pitch=-2.25, confidence=0.99),
        occlusion=Occlusion(forehead=False, eye=False, mouth=True),
        face_occluded=yes,
        accessories=[Accessory(type="headwear", confidence=0.99)],
        hair=Hair(bald=0.66, invisible=False, colors=[HairColor(color="blond", confidence=1.0)]),
        makeup=Makeup(eye=True, lip=False),
        blur=LevelValue(level="low", value=0.0),
        exposure=LevelValue(level="good", value=0.72),
        noise=LevelValue(level="low", value=0.03, derived_from="immerkaer"),
        quality=ImageQuality(brightness=0.376, sharpness=0.8),
        mask=Mask(type="no_mask", nose_and_mouth_covered=False),
        quality_for_recognition="high",
    )


def test_every_attribute_field_is_exercised() -> None:
    attributes = _full_attributes()
    assert attributes.returned() == list(FaceAttributes.model_fields)


def test_json_round_trip_is_lossless() -> None:
    face = Face(
        index=0,
        box=BoundingBox(left=-3.25, top=84, width=97, height=97.5, image_width=188, image_height=203),
        confidence=0.999999999999,
        face_id="f0957113-5ce4-435b-a715-2f2ea5384f41",
        landmarks={"left_pupil": Point(x=412.7, y=78.4), "nose_tip": Point(x=4.8, y=1e-9)},
        attributes=_full_attributes(),
    )
    result = DetectionResult(
        provider="azure-rest",
        models={"detection": "detection_01", "recognition": "recognition_04"},
        image=ImageInfo(
            width=188,
            height=203,
            format="JPEG",
            source="path",
            exif_orientation=6,
            orientation_applied=True,
            scale=0.5,
            sent_width=94,
            sent_height=101,
            sent_format="JPEG",
            reencoded=True,
        ),
        faces=[face, Face(index=1, box=BoundingBox(left=1, top=2, width=3, height=4))],
        request=DetectRequest(
            attributes=("age", "emotion"), landmarks=True, options={"detection_model": "detection_01"}
        ),
        raw=[{"faceId": "x", "faceRectangle": {"top": 84}, "values": [1, 2.5, None, True]}],
        warnings=["something"],
        runtime={"providers": ["CPUExecutionProvider"]},
    )
    text = result.model_dump_json()
    again = DetectionResult.model_validate_json(text)
    assert again == result
    assert again.model_dump_json() == text
    assert again.faces[0].attributes.emotion is not None
    assert again.faces[0].attributes.emotion.other == {"BORED": 0.12}


def test_unreturned_fields_are_none_not_zero() -> None:
    attributes = FaceAttributes()
    assert attributes.returned() == []
    assert attributes.age is None and attributes.emotion is None
    emotion = EmotionScores(happiness=0.7, sadness=0.2, calm=None)
    assert emotion.contempt is None
    assert emotion.scores() == {"happiness": 0.7, "sadness": 0.2}
    assert emotion.dominant == "happiness"
    assert EmotionScores().dominant is None
