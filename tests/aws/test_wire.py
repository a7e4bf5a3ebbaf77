"""The pure normaliser, field by field against real Rekognition responses (tests/fixtures/aws)."""

from __future__ import annotations

import pytest

from facekit import LANDMARKS
from facekit._vocabulary import AWS_LANDMARKS
from facekit.backends._aws_wire import aws_attributes_for, parse_detect_faces
from tests.aws.conftest import load

ALL_2023 = "devguide-detectfaces-all-attributes-2023.json"
VENDOR = "botocore-examples-1-detectfaces-output.json"
W, H = 1000, 800

# (canonical name, X ratio, Y ratio) for the 30 landmarks of the 2023 capture, in its order.
LANDMARKS_2023 = [
    ("left_eye", 0.30225440859794617, 0.41018882393836975),  # eyeLeft
    ("right_eye", 0.6439348459243774, 0.40341562032699585),  # eyeRight
    ("mouth_left", 0.343580037355423, 0.6951127648353577),  # mouthLeft
    ("mouth_right", 0.6306480765342712, 0.6898072361946106),  # mouthRight
    ("nose_tip", 0.47164231538772583, 0.5763645172119141),  # nose
    ("left_eyebrow_outer", 0.1732882857322693, 0.34452149271965027),  # leftEyeBrowLeft
    ("left_eyebrow_inner", 0.3655243515968323, 0.33231860399246216),  # leftEyeBrowRight
    ("left_eyebrow_top", 0.2671719491481781, 0.31669262051582336),  # leftEyeBrowUp
    ("right_eyebrow_inner", 0.5613729953765869, 0.32813435792922974),  # rightEyeBrowLeft
    ("right_eyebrow_outer", 0.7665090560913086, 0.3318614959716797),  # rightEyeBrowRight
    ("right_eyebrow_top", 0.6612788438796997, 0.3082450032234192),  # rightEyeBrowUp
    ("left_eye_outer", 0.2416982799768448, 0.4085965156555176),  # leftEyeLeft
    ("left_eye_inner", 0.36943578720092773, 0.41230902075767517),  # leftEyeRight
    ("left_eye_top", 0.29974061250686646, 0.3971870541572571),  # leftEyeUp
    ("left_eye_bottom", 0.30360740423202515, 0.42347756028175354),  # leftEyeDown
    ("right_eye_inner", 0.5755768418312073, 0.4081145226955414),  # rightEyeLeft
    ("right_eye_outer", 0.7050536870956421, 0.39924031496047974),  # rightEyeRight
    ("right_eye_top", 0.642906129360199, 0.39026668667793274),  # rightEyeUp
    ("right_eye_bottom", 0.6423097848892212, 0.41669243574142456),  # rightEyeDown
    ("nose_left", 0.4122826159000397, 0.5987403392791748),  # noseLeft
    ("nose_right", 0.5394935011863708, 0.5960900187492371),  # noseRight
    ("upper_lip_top", 0.478581964969635, 0.6660456657409668),  # mouthUp
    ("under_lip_bottom", 0.483366996049881, 0.7497162818908691),  # mouthDown
    ("left_pupil", 0.30225440859794617, 0.41018882393836975),  # leftPupil
    ("right_pupil", 0.6439348459243774, 0.40341562032699585),  # rightPupil
    ("jawline_upper_left", 0.11031254380941391, 0.3980775475502014),  # upperJawlineLeft
    ("jawline_mid_left", 0.19301874935626984, 0.7034031748771667),  # midJawlineLeft
    ("chin_bottom", 0.4939905107021332, 0.8877836465835571),  # chinBottom
    ("jawline_mid_right", 0.7990140914916992, 0.6899225115776062),  # midJawlineRight
    ("jawline_upper_right", 0.8548634648323059, 0.38160091638565063),  # upperJawlineRight
]


def test_all_attributes_capture_every_field() -> None:
    faces, warnings = parse_detect_faces(load(ALL_2023), W, H)
    assert warnings == []
    assert len(faces) == 1
    face = faces[0]
    assert face.box.left == pytest.approx(0.08881539851427078 * W)
    assert face.box.top == pytest.approx(0.151064932346344 * H)
    assert face.box.width == pytest.approx(0.7919622659683228 * W)
    assert face.box.height == pytest.approx(0.7510867118835449 * H)
    assert (face.box.image_width, face.box.image_height) == (W, H)
    assert face.confidence == pytest.approx(0.9999872589111328)
    a = face.attributes
    assert a.age is None  # Rekognition gives a range, facekit invents no point estimate
    assert (a.age_range.low, a.age_range.high) == (18.0, 26.0)  # type: ignore[union-attr]
    assert a.gender is not None and a.gender.value == "female"
    assert a.gender.confidence == pytest.approx(0.9985968780517578)
    assert a.smile is not None and a.smile.value is False and a.smile.intensity is None
    assert a.smile.confidence == pytest.approx(0.8977348327636719)
    booleans = {
        "eyeglasses": (True, 0.9999996948242188),
        "sunglasses": (True, 0.9365237426757812),
        "beard": (False, 0.7752591705322266),
        "mustache": (False, 0.9448904418945312),
        "eyes_open": (True, 0.9857169342041016),
        "mouth_open": (False, 0.7433953094482422),
        "face_occluded": (True, 0.9999726104736328),
    }
    for name, (value, confidence) in booleans.items():
        got = getattr(a, name)
        assert got.value is value, name
        assert got.confidence == pytest.approx(confidence), name
    e = a.emotion
    assert e is not None and e.independent is True
    assert e.sadness == pytest.approx(0.6556403350830078)
    assert e.confusion == pytest.approx(0.31277774810791016)
    assert e.disgust == pytest.approx(0.15553778648376465)
    assert e.anger == pytest.approx(0.08012762069702148)
    assert e.surprise == pytest.approx(0.07621500015258789)
    assert e.fear == pytest.approx(0.07243380546569824)
    assert e.calm == pytest.approx(0.058196024894714355)
    assert e.happiness == pytest.approx(0.022830512523651123)
    assert e.neutral is None and e.contempt is None  # CALM is not neutral; contempt is Azure's
    assert e.unknown is None  # not in this response: never invented
    assert e.other == {}
    assert e.dominant == "sadness"
    assert (a.head_pose.roll, a.head_pose.yaw, a.head_pose.pitch) == (  # type: ignore[union-attr]
        -5.83309268951416, -2.4244730472564697, 2.6216139793395996)
    assert a.quality is not None
    assert a.quality.brightness == pytest.approx(0.9616363525390625)
    assert a.quality.sharpness == pytest.approx(0.9551618957519531)
    assert a.eye_direction is not None
    assert (a.eye_direction.yaw, a.eye_direction.pitch) == (16.299732, -6.407457)
    assert a.eye_direction.confidence == pytest.approx(0.99968704)
    for azure_only in ("facial_hair", "glasses", "occlusion", "accessories", "hair", "makeup", "blur",
                       "exposure", "noise", "mask", "quality_for_recognition"):
        assert getattr(a, azure_only) is None, azure_only
    assert face.landmarks is not None
    assert list(face.landmarks) == [name for name, _, _ in LANDMARKS_2023]
    assert set(face.landmarks) == set(AWS_LANDMARKS.values()) and set(face.landmarks) <= set(LANDMARKS)
    for name, x, y in LANDMARKS_2023:
        assert face.landmarks[name].x == pytest.approx(x * W), name
        assert face.landmarks[name].y == pytest.approx(y * H), name
    # viewer's left: the smaller x
    assert face.landmarks["left_eye"].x < face.landmarks["right_eye"].x


def test_vendor_example_duplicate_landmark_keeps_first_and_warns() -> None:
    faces, warnings = parse_detect_faces(load(VENDOR), 640, 480)
    face = faces[0]
    assert face.box.xywh == pytest.approx((0.5555555820465088 * 640, 0.33666667342185974 * 480,
                                           0.23999999463558197 * 640, 0.18000000715255737 * 480))
    assert face.confidence == 1.0  # integer 100 in the example
    assert face.landmarks is not None
    assert set(face.landmarks) == {"left_eye", "right_eye", "under_lip_bottom", "upper_lip_top"}
    assert face.landmarks["left_eye"].x == pytest.approx(0.6394737362861633 * 640)
    assert face.landmarks["left_eye"].y == pytest.approx(0.40819624066352844 * 480)
    assert face.landmarks["right_eye"].x == pytest.approx(0.7266660928726196 * 640)  # the first eyeRight
    assert face.landmarks["right_eye"].y == pytest.approx(0.41039225459098816 * 480)
    assert face.landmarks["under_lip_bottom"].x == pytest.approx(0.6306198239326477 * 640)
    assert face.landmarks["under_lip_bottom"].y == pytest.approx(0.46700039505958557 * 480)
    assert face.landmarks["upper_lip_top"].x == pytest.approx(0.7215608954429626 * 640)
    assert face.landmarks["upper_lip_top"].y == pytest.approx(0.47114261984825134 * 480)
    assert len(warnings) == 1 and "'eyeRight' appears more than once" in warnings[0]
    a = face.attributes
    assert (a.head_pose.roll, a.head_pose.yaw, a.head_pose.pitch) == (  # type: ignore[union-attr]
        0.9950747489929199, 13.693790435791016, 4.050806522369385)
    assert a.quality is not None and a.quality.sharpness == 0.8  # integer 80 in the example
    assert a.quality.brightness == pytest.approx(0.3760169982910156)
    assert a.returned() == ["head_pose", "quality"]


def test_only_requested_attributes_are_filled() -> None:
    faces, _ = parse_detect_faces(load(ALL_2023), W, H, attributes=["age", "glasses"], landmarks=False)
    a = faces[0].attributes
    assert a.returned() == ["age_range", "eyeglasses", "sunglasses"]
    assert faces[0].landmarks is None
    faces, _ = parse_detect_faces(load(ALL_2023), W, H, attributes=[], landmarks=False)
    assert faces[0].attributes.returned() == []


def _detail(**extra: object) -> dict[str, object]:
    return {"BoundingBox": {"Width": 0.5, "Height": 0.6, "Left": -0.1, "Top": 0.7}, **extra}


def test_boxes_outside_the_image_are_kept_and_clip() -> None:
    faces, _ = parse_detect_faces({"FaceDetails": [_detail()]}, 200, 100)
    box = faces[0].box
    assert box.xywh == pytest.approx((-20.0, 70.0, 100.0, 60.0))
    assert box.clipped().xywh == pytest.approx((0.0, 70.0, 80.0, 30.0))
    assert faces[0].confidence is None  # absent, not invented


def test_unknown_emotion_and_landmark_types_are_kept_with_warnings() -> None:
    detail = _detail(
        Emotions=[{"Type": "UNKNOWN", "Confidence": 12.5}, {"Type": "BORED", "Confidence": 40},
                  {"Type": "CALM", "Confidence": 50}, {"Type": "CALM", "Confidence": 1}],
        Landmarks=[{"Type": "earLeft", "X": 0.5, "Y": 0.5}, {"Type": "nose", "X": 0.25, "Y": 0.75}],
    )
    faces, warnings = parse_detect_faces({"FaceDetails": [detail]}, 200, 100)
    emotion = faces[0].attributes.emotion
    assert emotion is not None
    assert emotion.unknown == 0.125 and emotion.calm == 0.5 and emotion.neutral is None
    assert emotion.other == {"BORED": 0.4}
    assert faces[0].landmarks is not None and set(faces[0].landmarks) == {"earLeft", "nose_tip"}
    assert (faces[0].landmarks["earLeft"].x, faces[0].landmarks["earLeft"].y) == (100.0, 50.0)
    assert (faces[0].landmarks["nose_tip"].x, faces[0].landmarks["nose_tip"].y) == (50.0, 75.0)
    assert any("'BORED'" in w and "emotion.other" in w for w in warnings)
    assert any("'CALM' appears twice" in w for w in warnings)
    assert any("'earLeft'" in w for w in warnings)


def test_face_without_box_is_left_out_with_a_warning() -> None:
    faces, warnings = parse_detect_faces({"FaceDetails": [{"Confidence": 99}, _detail()]}, 10, 10)
    assert len(faces) == 1
    assert "no complete BoundingBox" in warnings[0]


def test_gender_values_are_lower_case() -> None:
    faces, _ = parse_detect_faces({"FaceDetails": [_detail(Gender={"Value": "Male", "Confidence": 90})]}, 10, 10)
    assert faces[0].attributes.gender is not None
    assert (faces[0].attributes.gender.value, faces[0].attributes.gender.confidence) == ("male", 0.9)


@pytest.mark.parametrize(
    ("asked", "landmarks", "sent"),
    [
        ((), False, ["DEFAULT"]),
        ((), True, ["DEFAULT"]),
        (("head_pose",), False, ["DEFAULT"]),
        (("head_pose", "quality"), True, ["DEFAULT"]),
        (("age",), False, ["AGE_RANGE"]),
        (("age", "head_pose"), False, ["DEFAULT", "AGE_RANGE"]),
        (("emotion",), True, ["DEFAULT", "EMOTIONS"]),
        (("facial_hair", "glasses"), False, ["BEARD", "MUSTACHE", "EYEGLASSES", "SUNGLASSES"]),
        (("gender", "smile", "eyes_open", "mouth_open", "eye_direction", "occlusion"), False,
         ["GENDER", "SMILE", "EYES_OPEN", "MOUTH_OPEN", "EYE_DIRECTION", "FACE_OCCLUDED"]),
        (("age", "gender", "smile", "emotion", "head_pose", "facial_hair", "glasses", "eyes_open",
          "mouth_open", "eye_direction", "occlusion", "quality"), False, ["ALL"]),
    ],
)
def test_attributes_requested(asked: tuple[str, ...], landmarks: bool, sent: list[str]) -> None:
    assert aws_attributes_for(asked, landmarks=landmarks) == sent
