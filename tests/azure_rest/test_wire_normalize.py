"""normalize_azure_faces against every real response and seed, field by field."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from facekit import LANDMARKS, ProviderError
from facekit._vocabulary import AZURE_LANDMARKS
from facekit.backends._azure_wire import normalize_azure_faces, recognition_model_of

FIXTURES = Path(__file__).parent.parent / "fixtures" / "azure"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_recording_v1_0_detection01_all_attributes() -> None:
    body = load("v1.0-westus2-2021-recording-queryface-detect01-all-attributes.json")
    [face] = normalize_azure_faces(body, width=188, height=203)
    assert face.box.xywh == (31.0, 84.0, 97.0, 97.0)
    assert (face.box.image_width, face.box.image_height) == (188, 203)
    assert face.confidence is None
    assert face.face_id == "f0957113-5ce4-435b-a715-2f2ea5384f41"
    assert face.landmarks is None
    a = face.attributes
    assert a.smile is not None and a.smile.intensity == 1.0 and a.smile.value is None
    assert a.head_pose is not None
    assert (a.head_pose.pitch, a.head_pose.roll, a.head_pose.yaw) == (0.7, 0.6, -7.4)
    assert a.head_pose.derived_from is None
    assert a.gender is not None and a.gender.value == "female" and a.gender.confidence is None
    assert a.age == 53.0
    assert a.facial_hair is not None
    assert (a.facial_hair.moustache, a.facial_hair.beard, a.facial_hair.sideburns) == (0.0, 0.0, 0.0)
    assert a.glasses == "no_glasses"  # "NoGlasses" PascalCase
    assert a.emotion is not None
    assert a.emotion.happiness == 1.0
    for name in ("anger", "contempt", "disgust", "fear", "neutral", "sadness", "surprise"):
        assert getattr(a.emotion, name) == 0.0
    assert (a.emotion.calm, a.emotion.confusion, a.emotion.unknown) == (None, None, None)
    assert a.emotion.independent is False and a.emotion.other == {}
    assert a.emotion.dominant == "happiness"
    assert a.blur is not None and (a.blur.level, a.blur.value) == ("low", 0.0)
    assert a.exposure is not None and (a.exposure.level, a.exposure.value) == ("good", 0.72)
    assert a.noise is not None and (a.noise.level, a.noise.value) == ("low", 0.03)
    assert a.makeup is not None and (a.makeup.eye, a.makeup.lip) == (True, True)
    assert a.accessories == []  # present and empty: none found (not None)
    assert a.occlusion is not None and (a.occlusion.forehead, a.occlusion.eye, a.occlusion.mouth) == (False, False, False)
    assert a.hair is not None and a.hair.bald == 0.66 and a.hair.invisible is False
    assert a.hair.colors is not None
    assert [(c.color, c.confidence) for c in a.hair.colors] == [
        ("blond", 1.0), ("gray", 0.93), ("other", 0.48), ("red", 0.05), ("black", 0.04), ("brown", 0.02), ("white", 0.0),
    ]
    assert a.mask is None and a.quality_for_recognition is None
    assert a.age_range is None and a.eyes_open is None and a.quality is None
    assert recognition_model_of(body) is None


def _assert_spec_landmarks(landmarks: Any) -> None:
    assert landmarks is not None and len(landmarks) == 27
    assert set(landmarks) == set(AZURE_LANDMARKS.values()) and set(landmarks) <= set(LANDMARKS)
    expected = {
        "left_pupil": (412.7, 78.4), "right_pupil": (446.8, 74.2), "nose_tip": (437.7, 92.4),
        "mouth_left": (417.8, 114.4), "mouth_right": (451.3, 109.3),
        "left_eyebrow_outer": (397.9, 78.5), "left_eyebrow_inner": (425.4, 70.5),
        "left_eye_outer": (406.7, 80.6), "left_eye_top": (412.2, 76.2), "left_eye_bottom": (413.0, 80.1),
        "left_eye_inner": (418.9, 78.0),
        "right_eyebrow_inner": (4.8, 69.7), "right_eyebrow_outer": (5.5, 68.5),  # far outside the face: kept
        "right_eye_inner": (441.5, 75.0), "right_eye_top": (446.4, 71.7), "right_eye_bottom": (447.0, 75.3),
        "right_eye_outer": (451.7, 73.4), "nose_root_left": (428.0, 77.1), "nose_root_right": (435.8, 75.6),
        "nose_left_alar_top": (428.3, 89.7), "nose_right_alar_top": (442.2, 87.0),
        "nose_left_alar_out_tip": (424.3, 96.4), "nose_right_alar_out_tip": (446.6, 92.5),
        "upper_lip_top": (437.6, 105.9), "upper_lip_bottom": (437.6, 108.2),
        "under_lip_top": (436.8, 111.4), "under_lip_bottom": (437.3, 114.5),
    }
    assert {name: (p.x, p.y) for name, p in landmarks.items()} == expected
    # viewer's left: the left pupil has the smaller x
    assert landmarks["left_pupil"].x < landmarks["right_pupil"].x


@pytest.mark.parametrize("name", ["spec-example-v1.0-DetectWithUrl-body.json", "seed-001-reference-v1.0-response.json"])
def test_v1_0_vendor_examples(name: str) -> None:
    body = load(name)
    [face] = normalize_azure_faces(body, width=None, height=None)
    assert face.box.xywh == (394.0, 54.0, 78.0, 78.0)
    assert face.box.image_width is None
    assert face.face_id == "c5c24a82-6845-4031-9d5d-978df9175426"
    _assert_spec_landmarks(face.landmarks)
    a = face.attributes
    assert a.age == 71.0 and isinstance(a.age, float)
    assert a.gender is not None and a.gender.value == "male"
    assert a.smile is not None and a.smile.intensity == 0.88
    assert a.facial_hair is not None
    assert (a.facial_hair.moustache, a.facial_hair.beard, a.facial_hair.sideburns) == (0.8, 0.1, 0.02)
    assert a.glasses == "sunglasses"
    assert a.head_pose is not None and (a.head_pose.roll, a.head_pose.yaw, a.head_pose.pitch) == (2.1, 3.0, 1.6)
    assert isinstance(a.head_pose.yaw, float)  # integer-valued "yaw": 3
    assert a.emotion is not None
    assert (a.emotion.anger, a.emotion.contempt, a.emotion.disgust, a.emotion.fear) == (0.575, 0.0, 0.006, 0.008)
    assert (a.emotion.happiness, a.emotion.neutral, a.emotion.sadness, a.emotion.surprise) == (0.394, 0.013, 0.0, 0.004)
    assert a.emotion.dominant == "anger"
    assert a.hair is not None and (a.hair.bald, a.hair.invisible) == (0.0, False)
    assert a.hair.colors is not None
    assert [(c.color, c.confidence) for c in a.hair.colors] == [
        ("brown", 1.0), ("blond", 0.88), ("black", 0.48), ("other", 0.11), ("gray", 0.07), ("red", 0.03),
    ]
    assert a.makeup is not None and (a.makeup.eye, a.makeup.lip) == (True, False)
    assert a.occlusion is not None and (a.occlusion.forehead, a.occlusion.eye, a.occlusion.mouth) == (False, False, False)
    assert a.accessories is not None
    assert [acc.type for acc in a.accessories] == ["headwear", "glasses", "mask"]  # "headWear" -> "headwear"
    assert [acc.confidence for acc in a.accessories[:2]] == [0.99, 1.0]
    if name.startswith("seed-001"):
        # the reference's typo {"type": "mask", " confidence": 0.87}: not guessed at, None (raw keeps it)
        assert a.accessories[2].confidence is None
        assert body[0]["faceAttributes"]["accessories"][2][" confidence"] == 0.87
        assert recognition_model_of(body) == "recognition_02"
    else:
        assert a.accessories[2].confidence == 0.87
        assert recognition_model_of(body) == "recognition_01"
    assert a.blur is not None and (a.blur.level, a.blur.value) == ("medium", 0.51)  # "Medium"
    assert a.exposure is not None and (a.exposure.level, a.exposure.value) == ("good", 0.55)  # "GoodExposure"
    assert a.noise is not None and (a.noise.level, a.noise.value) == ("low", 0.12)  # "Low"


def test_v1_2_vendor_example_camel_case_and_quality() -> None:
    body = load("spec-example-v1.2-DetectFromUrl-body.json")
    [face] = normalize_azure_faces(body)
    assert face.box.xywh == (394.0, 54.0, 78.0, 78.0)
    _assert_spec_landmarks(face.landmarks)
    a = face.attributes
    assert a.glasses == "sunglasses"
    assert a.head_pose is not None and (a.head_pose.roll, a.head_pose.yaw, a.head_pose.pitch) == (2.1, 3.0, 1.6)
    assert a.occlusion is not None and (a.occlusion.forehead, a.occlusion.eye, a.occlusion.mouth) == (False, False, False)
    assert a.accessories is not None
    assert [(x.type, x.confidence) for x in a.accessories] == [("headwear", 0.99), ("glasses", 1.0), ("mask", 0.87)]
    assert a.blur is not None and (a.blur.level, a.blur.value) == ("medium", 0.51)
    assert a.exposure is not None and (a.exposure.level, a.exposure.value) == ("good", 0.55)  # "goodExposure"
    assert a.noise is not None and (a.noise.level, a.noise.value) == ("low", 0.12)
    assert a.quality_for_recognition == "high"
    for retired in ("age", "gender", "smile", "emotion", "facial_hair", "hair", "makeup"):
        assert getattr(a, retired) is None
    assert recognition_model_of(body) == "recognition_03"


def test_seed_000_two_faces() -> None:
    body = load("seed-000-quickstart-2018-v1.0-two-faces.json")
    first, second = normalize_azure_faces(body, width=640, height=480)
    assert first.box.xywh == (228.0, 208.0, 91.0, 91.0)
    assert second.box.xywh == (125.0, 109.0, 79.0, 79.0)
    assert first.face_id == "35102aa8-4263-4139-bfd6-185bb0f52d88"
    assert second.face_id == "42502166-31bb-4ac8-81c0-a7adcb3b3e70"
    a, b = first.attributes, second.attributes
    assert a.gender is not None and a.gender.value == "female" and a.age == 27.0
    assert b.gender is not None and b.gender.value == "male" and b.age == 32.0
    assert a.smile is not None and a.smile.intensity == 1.0
    assert a.head_pose is not None and (a.head_pose.pitch, a.head_pose.roll, a.head_pose.yaw) == (0.0, 4.3, -0.3)
    assert b.head_pose is not None and (b.head_pose.pitch, b.head_pose.roll, b.head_pose.yaw) == (0.0, 1.7, 2.1)
    assert b.facial_hair is not None
    assert (b.facial_hair.moustache, b.facial_hair.beard, b.facial_hair.sideburns) == (0.4, 0.4, 0.4)
    assert a.glasses == b.glasses == "no_glasses"
    assert a.emotion is not None and a.emotion.happiness == 1.0 and a.emotion.neutral == 0.0
    assert a.blur is not None and (a.blur.level, a.blur.value) == ("low", 0.0)
    assert b.blur is not None and (b.blur.level, b.blur.value) == ("low", 0.11)
    assert a.exposure is not None and (a.exposure.level, a.exposure.value) == ("good", 0.65)
    assert b.exposure is not None and (b.exposure.level, b.exposure.value) == ("good", 0.74)
    assert a.noise is not None and (a.noise.level, a.noise.value) == ("low", 0.0)
    assert a.makeup is not None and (a.makeup.eye, a.makeup.lip) == (True, True)
    assert b.makeup is not None and (b.makeup.eye, b.makeup.lip) == (False, True)
    assert a.accessories == [] and b.accessories == []
    assert a.hair is not None and a.hair.bald == 0.06 and a.hair.colors is not None
    assert [(c.color, c.confidence) for c in a.hair.colors][:3] == [("brown", 1.0), ("blond", 0.5), ("black", 0.34)]
    assert b.hair is not None and b.hair.bald == 0.02 and b.hair.colors is not None
    assert [(c.color, c.confidence) for c in b.hair.colors][-1] == ("black", 0.01)


def test_seed_002_detection03_box_only_and_detection01_attributes() -> None:
    [plain] = normalize_azure_faces(load("seed-002-rest-quickstart-2020-detection03.json"))
    assert plain.box.xywh == (177.0, 131.0, 162.0, 162.0)
    assert plain.face_id == "49d55c17-e018-4a42-ba7b-8cbbdfae7c6f"
    assert plain.attributes.returned() == [] and plain.landmarks is None
    [face] = normalize_azure_faces(load("seed-002-rest-quickstart-2020-detection01-attributes.json"))
    a = face.attributes
    assert a.age == 22.9 and a.gender is not None and a.gender.value == "female"
    assert a.head_pose is not None and (a.head_pose.pitch, a.head_pose.roll, a.head_pose.yaw) == (0.0, 0.1, -32.9)
    assert a.emotion is not None and (a.emotion.neutral, a.emotion.sadness, a.emotion.surprise) == (0.986, 0.009, 0.005)
    assert a.emotion.dominant == "neutral"
    assert a.blur is not None and (a.blur.level, a.blur.value) == ("low", 0.06)
    assert a.exposure is not None and (a.exposure.level, a.exposure.value) == ("good", 0.67)
    assert a.hair is not None and a.hair.colors is not None and a.hair.colors[1].color == "black"


def test_seed_003_sdk_sample_typos_are_not_guessed() -> None:
    body = ast.literal_eval((FIXTURES / "seed-003-sdk-sample-with-typos.pyliteral").read_text(encoding="utf-8"))
    with pytest.raises(ProviderError, match="faceRectangle"):
        normalize_azure_faces(body)  # 'fceRectangle': no box can be made, and none is invented
    fixed = [{**body[0], "faceRectangle": body[0]["fceRectangle"]}]
    [face] = normalize_azure_faces(fixed)
    assert face.box.xywh == (247.0, 174.0, 246.0, 246.0)
    pose = face.attributes.head_pose
    assert pose is not None and (pose.roll, pose.yaw, pose.pitch) == (-7.7, -20.9, None)  # 'putch'
    assert face.attributes.occlusion is None  # 'occllusion'
    assert face.attributes.accessories is not None
    assert [(x.type, x.confidence) for x in face.attributes.accessories] == [("glasses", 1.0)]


def test_enum_casings_and_mask() -> None:
    body = [{
        "faceRectangle": {"top": 1, "left": 2, "width": 3, "height": 4},
        "faceAttributes": {
            "glasses": "ReadingGlasses",
            "mask": {"type": "otherMaskOrOcclusion", "noseAndMouthCovered": True},
            "exposure": {"exposureLevel": "UnderExposure", "value": 0.1},
            "noise": {"noiseLevel": "High", "value": 0.9},
            "qualityForRecognition": "Medium",
            "accessories": [{"type": "headwear", "confidence": 0.5}, {"type": "HeadWear"}],
            "emotion": {"anger": 0.5, "boredom": 0.25},
        },
    }, {
        "faceRectangle": {"top": 1, "left": 2, "width": 3, "height": 4},
        "faceAttributes": {"glasses": "swimmingGoggles", "mask": {"type": "noMask", "noseAndMouthCovered": False}},
    }]
    first, second = normalize_azure_faces(body)
    a = first.attributes
    assert a.glasses == "reading_glasses"
    assert a.mask is not None and (a.mask.type, a.mask.nose_and_mouth_covered) == ("other_mask_or_occlusion", True)
    assert a.exposure is not None and a.exposure.level == "under"
    assert a.noise is not None and a.noise.level == "high"
    assert a.quality_for_recognition == "medium"
    assert a.accessories is not None
    assert [(x.type, x.confidence) for x in a.accessories] == [("headwear", 0.5), ("headwear", None)]
    assert a.emotion is not None and a.emotion.anger == 0.5 and a.emotion.other == {"boredom": 0.25}
    assert a.emotion.happiness is None
    assert second.attributes.glasses == "swimming_goggles"
    assert second.attributes.mask is not None and second.attributes.mask.type == "no_mask"
    assert first.face_id is None and first.confidence is None


@pytest.mark.parametrize("body", [{"faces": []}, "oops", None, [{"faceRectangle": {"top": 1, "left": 2, "width": 3}}]])
def test_malformed_bodies_raise_provider_error(body: Any) -> None:
    with pytest.raises(ProviderError):
        normalize_azure_faces(body)


def test_empty_list_is_no_face() -> None:
    assert normalize_azure_faces([]) == []
