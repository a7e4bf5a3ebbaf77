"""Request shapes and responses through the real boto3 client with botocore's Stubber
(which validates both against the real Rekognition service model)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from facekit import FaceClient, FacekitWarning, UnsupportedFeatureError
from facekit.backends.aws import RekognitionBackend
from tests.aws.conftest import REGION, load

boto3 = pytest.importorskip("boto3")
from botocore.response import StreamingBody  # noqa: E402
from botocore.stub import ANY, Stubber  # noqa: E402

PHOTO = Path(__file__).resolve().parent.parent / "data" / "grace_hopper.jpg"  # 512x600 JPEG, no EXIF
ALL_2023 = "devguide-detectfaces-all-attributes-2023.json"


class Stubbed:
    """A FaceClient over a stubbed Rekognition client (and optionally a stubbed S3 client)."""

    def __init__(self) -> None:
        self.rekognition = boto3.client("rekognition", region_name=REGION)
        self.s3 = boto3.client("s3", region_name=REGION)
        self.stub = Stubber(self.rekognition)
        self.s3_stub = Stubber(self.s3)
        self.sent: list[dict[str, Any]] = []
        self.rekognition.meta.events.register("before-parameter-build.rekognition.DetectFaces", self._record)
        self.client = FaceClient(backend=RekognitionBackend(client=self.rekognition, s3_client=self.s3))
        self.stub.activate()
        self.s3_stub.activate()

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        self.sent.append(params)

    def done(self) -> None:
        self.stub.assert_no_pending_responses()
        self.s3_stub.assert_no_pending_responses()


@pytest.fixture
def stubbed() -> Stubbed:
    return Stubbed()


@pytest.mark.parametrize(
    ("attributes", "landmarks", "expected"),
    [
        (None, False, ["DEFAULT"]),
        (["head_pose"], True, ["DEFAULT"]),
        (["age"], False, ["AGE_RANGE"]),
        (["AGE_RANGE", "headPose"], False, ["DEFAULT", "AGE_RANGE"]),
        ("facial_hair,glasses", False, ["BEARD", "MUSTACHE", "EYEGLASSES", "SUNGLASSES"]),
        (["emotion", "occlusion", "eye_direction"], False, ["EMOTIONS", "FACE_OCCLUDED", "EYE_DIRECTION"]),
        ("all", False, ["ALL"]),
    ],
)
def test_bytes_request_shape(stubbed: Stubbed, attributes: Any, landmarks: bool, expected: list[str]) -> None:
    data = PHOTO.read_bytes()
    stubbed.stub.add_response(
        "detect_faces", {"FaceDetails": []}, expected_params={"Image": {"Bytes": data}, "Attributes": expected}
    )
    result = stubbed.client.detect(data, attributes=attributes, landmarks=landmarks)
    stubbed.done()
    assert result.faces == []
    assert (result.image.width, result.image.height) == (512, 600)
    assert result.image.reencoded is False


def test_all_attributes_response_in_pixels_of_the_caller_image(stubbed: Stubbed) -> None:
    fixture = load(ALL_2023)
    stubbed.stub.add_response("detect_faces", fixture, expected_params={"Image": {"Bytes": ANY}, "Attributes": ["ALL"]})
    result = stubbed.client.detect(PHOTO, attributes="all", landmarks=True)
    stubbed.done()
    assert result.provider == "aws"
    face = result.faces[0]
    assert face.index == 0
    assert face.box.left == pytest.approx(0.08881539851427078 * 512)
    assert face.box.top == pytest.approx(0.151064932346344 * 600)
    assert face.box.width == pytest.approx(0.7919622659683228 * 512)
    assert face.box.height == pytest.approx(0.7510867118835449 * 600)
    assert (face.box.image_width, face.box.image_height) == (512, 600)
    assert face.confidence == pytest.approx(0.9999872589111328)
    assert face.landmarks is not None and len(face.landmarks) == 30
    assert face.landmarks["chin_bottom"].x == pytest.approx(0.4939905107021332 * 512)
    assert face.landmarks["chin_bottom"].y == pytest.approx(0.8877836465835571 * 600)
    a = face.attributes
    assert a.age_range is not None and (a.age_range.low, a.age_range.high) == (18, 26)
    assert a.emotion is not None and a.emotion.calm == pytest.approx(0.058196024894714355)
    assert a.face_occluded is not None and a.face_occluded.value is True
    assert a.eye_direction is not None and a.eye_direction.yaw == 16.299732
    assert result.raw["FaceDetails"] == fixture["FaceDetails"]
    assert result.raw["ResponseMetadata"]["RequestId"] == "8bf02607-70b7-4f20-be55-473fe1bba9a2"
    assert result.models == {"detection": "rekognition-detect-faces"}
    assert result.runtime["requested_attributes"] == ["ALL"]
    assert result.warnings == []


def test_default_attributes_not_asked_stay_none(stubbed: Stubbed) -> None:
    stubbed.stub.add_response("detect_faces", load(ALL_2023))
    result = stubbed.client.detect(PHOTO)
    assert result.faces[0].attributes.returned() == []
    assert result.faces[0].landmarks is None
    assert result.raw["FaceDetails"][0]["Pose"]["Roll"] == -5.83309268951416  # still in raw


def test_small_png_is_upscaled_and_mapped_back(stubbed: Stubbed) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), (200, 120, 90)).save(buffer, format="PNG")
    box = {"Width": 0.5, "Height": 0.5, "Left": 0.25, "Top": -0.1}
    stubbed.stub.add_response("detect_faces", {"FaceDetails": [{"BoundingBox": box, "Confidence": 99.5}]})
    result = stubbed.client.detect(buffer.getvalue())
    sent = Image.open(io.BytesIO(stubbed.sent[0]["Image"]["Bytes"]))
    assert sent.size == (120, 80)  # the short side brought up to Rekognition's 80 px
    assert result.image.scale == 2.0
    assert result.faces[0].box.xywh == pytest.approx((15.0, -4.0, 30.0, 20.0))
    assert result.faces[0].confidence == pytest.approx(0.995)


def test_s3_request_shape_with_version_and_ranged_header_read(stubbed: Stubbed) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 20, 30)).save(buffer, format="JPEG")
    data = buffer.getvalue()
    stubbed.s3_stub.add_response(
        "get_object",
        {"Body": StreamingBody(io.BytesIO(data), len(data)), "ContentRange": f"bytes 0-{len(data) - 1}/{len(data)}",
         "ContentLength": len(data)},
        expected_params={"Bucket": "photos", "Key": "people/a b.jpg", "VersionId": "v42", "Range": "bytes=0-65535"},
    )
    stubbed.stub.add_response(
        "detect_faces",
        {"FaceDetails": [{"BoundingBox": {"Width": 0.1, "Height": 0.2, "Left": 0.5, "Top": 0.5}}]},
        expected_params={"Image": {"S3Object": {"Bucket": "photos", "Name": "people/a b.jpg", "Version": "v42"}},
                         "Attributes": ["GENDER"]},
    )
    result = stubbed.client.detect("s3://photos/people/a b.jpg?versionId=v42", attributes=["gender"])
    stubbed.done()
    assert (result.image.width, result.image.height) == (300, 200)
    assert result.image.source == "s3" and result.image.sent_format == "s3"
    assert result.faces[0].box.xywh == pytest.approx((150.0, 100.0, 30.0, 40.0))
    assert (result.faces[0].box.image_width, result.faces[0].box.image_height) == (300, 200)
    assert result.runtime["s3_object"]["object_bytes"] == len(data)


def test_unsupported_attribute_is_refused_before_sending(stubbed: Stubbed) -> None:
    with pytest.raises(UnsupportedFeatureError) as info:
        stubbed.client.detect(PHOTO, attributes=["hair"])
    assert info.value.feature == "hair"
    assert "does not return it" in str(info.value)
    with pytest.raises(UnsupportedFeatureError) as info:
        stubbed.client.detect(PHOTO, face_id=True)
    assert info.value.feature == "face_id"
    assert stubbed.sent == []
    stubbed.stub.add_response("detect_faces", {"FaceDetails": []},
                              expected_params={"Image": ANY, "Attributes": ["AGE_RANGE"]})
    with pytest.warns(FacekitWarning, match="mask"):
        result = stubbed.client.detect(PHOTO, attributes=["mask", "age"], strict=False)
    stubbed.done()
    assert any("'mask'" in warning for warning in result.warnings)
