"""aws verify / find_similar: Rekognition CompareFaces through the real boto3 client,
with botocore's Stubber (request and response validated against the service model) and
against a loopback CompareFaces stand-in (``endpoint_url``, real HTTP)."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from facekit import FaceClient, FaceIndex, InvalidRequestError, UnsupportedFeatureError
from facekit.backends.aws import RekognitionBackend
from tests.aws.conftest import REGION
from tests.aws.standin import RekognitionStandIn, error

boto3 = pytest.importorskip("boto3")
from botocore.response import StreamingBody  # noqa: E402
from botocore.stub import ANY, Stubber  # noqa: E402

PHOTOS = Path(__file__).resolve().parent.parent / "data" / "identity"
OBAMA_1, OBAMA_2, BIDEN = PHOTOS / "obama_1.jpg", PHOTOS / "obama_2.jpg", PHOTOS / "biden_1.jpg"


def _box(left: float, top: float, width: float, height: float) -> dict[str, float]:
    return {"Left": left, "Top": top, "Width": width, "Height": height}


MATCH = {
    "SourceImageFace": {"BoundingBox": _box(0.3, 0.1, 0.3, 0.25), "Confidence": 99.9},
    "FaceMatches": [
        {"Similarity": 99.2, "Face": {"BoundingBox": _box(0.4, 0.2, 0.2, 0.15), "Confidence": 99.8}},
    ],
    "UnmatchedFaces": [{"BoundingBox": _box(0.7, 0.3, 0.1, 0.08), "Confidence": 97.0}],
}


@pytest.fixture
def stubbed() -> tuple[FaceClient, Stubber, Stubber]:
    rekognition = boto3.client("rekognition", region_name=REGION)
    s3 = boto3.client("s3", region_name=REGION)
    stub, s3_stub = Stubber(rekognition), Stubber(s3)
    stub.activate()
    s3_stub.activate()
    return FaceClient(backend=RekognitionBackend(client=rekognition, s3_client=s3)), stub, s3_stub


def test_capabilities_say_compare() -> None:
    caps = FaceClient("aws").capabilities
    assert caps.verify == "compare" and caps.find_similar == "compare" and not caps.embeddings


def test_verify_bytes_request_shape_and_pixels(stubbed: tuple[FaceClient, Stubber, Stubber]) -> None:
    client, stub, _ = stubbed
    stub.add_response(
        "compare_faces",
        MATCH,
        expected_params={"SourceImage": {"Bytes": ANY}, "TargetImage": {"Bytes": ANY}, "SimilarityThreshold": 90.0,
                         "QualityFilter": "HIGH"},
    )  # fmt: skip
    v = client.verify(OBAMA_1, OBAMA_2, threshold=0.9, quality_filter="high")
    stub.assert_no_pending_responses()
    assert v.method == "compare" and v.same and v.similarity == pytest.approx(0.992) and v.distance is None
    assert v.threshold == 0.9 and "similarity" in v.scale
    # ratios of each image -> pixels of that image (obama_1 is 910 x 1137, obama_2 626 x 1200)
    assert v.face_a is not None and v.face_a.box.xywh == pytest.approx((273.0, 113.7, 273.0, 284.25))
    assert v.face_b is not None and v.face_b.box.xywh == pytest.approx((250.4, 240.0, 125.2, 180.0))
    assert len(v.unmatched) == 1 and v.unmatched[0].box.left == pytest.approx(0.7 * 626)
    assert v.raw["FaceMatches"][0]["Similarity"] == 99.2


def test_no_match_is_not_the_same_person(stubbed: tuple[FaceClient, Stubber, Stubber]) -> None:
    client, stub, _ = stubbed
    answer = {"SourceImageFace": MATCH["SourceImageFace"], "FaceMatches": [],
              "UnmatchedFaces": [{"BoundingBox": _box(0.3, 0.1, 0.3, 0.2), "Confidence": 99.0}]}  # fmt: skip
    stub.add_response("compare_faces", answer, expected_params={"SourceImage": {"Bytes": ANY},
                      "TargetImage": {"Bytes": ANY}, "SimilarityThreshold": 80.0})  # fmt: skip
    v = client.verify(OBAMA_1, BIDEN)
    assert not v.same and v.similarity is None and v.face_b is None and len(v.unmatched) == 1


def test_s3_objects_are_sent_as_s3(stubbed: tuple[FaceClient, Stubber, Stubber]) -> None:
    client, stub, s3_stub = stubbed
    for key, size in (("a.jpg", (300, 200)), ("b.jpg", (400, 100))):
        buffer = io.BytesIO()
        Image.new("RGB", size, (10, 20, 30)).save(buffer, format="JPEG")
        data = buffer.getvalue()
        s3_stub.add_response(
            "get_object",
            {"Body": StreamingBody(io.BytesIO(data), len(data)), "ContentRange": f"bytes 0-{len(data) - 1}/{len(data)}",
             "ContentLength": len(data)},
            expected_params={"Bucket": "photos", "Key": key, "Range": "bytes=0-65535"},
        )  # fmt: skip
    stub.add_response(
        "compare_faces",
        MATCH,
        expected_params={"SourceImage": {"S3Object": {"Bucket": "photos", "Name": "a.jpg"}},
                         "TargetImage": {"S3Object": {"Bucket": "photos", "Name": "b.jpg"}}, "SimilarityThreshold": 80.0},
    )  # fmt: skip
    v = client.verify("s3://photos/a.jpg", "s3://photos/b.jpg")
    stub.assert_no_pending_responses()
    assert v.face_a is not None and v.face_a.box.xywh == pytest.approx((90.0, 20.0, 90.0, 50.0))
    assert v.face_b is not None and v.face_b.box.xywh == pytest.approx((160.0, 20.0, 80.0, 15.0))


def test_refused_before_sending(stubbed: tuple[FaceClient, Stubber, Stubber]) -> None:
    client, stub, _ = stubbed
    with pytest.raises(InvalidRequestError, match="quality_filter"):
        client.verify(OBAMA_1, OBAMA_2, quality_filter="BEST")
    with pytest.raises(InvalidRequestError, match="0..1"):
        client.verify(OBAMA_1, OBAMA_2, threshold=80)
    with pytest.raises(UnsupportedFeatureError, match="embeddings"):
        client.detect(OBAMA_1, embeddings=True)
    with pytest.raises(UnsupportedFeatureError, match="FaceIndex"):
        client.find_similar(OBAMA_1, FaceIndex())
    stub.assert_no_pending_responses()


def _size(b64: str) -> tuple[int, int]:
    with Image.open(io.BytesIO(base64.b64decode(b64))) as im:
        return im.size


def test_find_similar_over_the_wire_one_call_per_candidate() -> None:
    sizes = {Image.open(p).size: p.stem for p in (OBAMA_1, OBAMA_2, BIDEN)}

    def compare_faces(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        source = sizes[_size(body["SourceImage"]["Bytes"])]
        target = sizes[_size(body["TargetImage"]["Bytes"])]
        face = {"BoundingBox": _box(0.3, 0.1, 0.3, 0.2), "Confidence": 99.0}
        similarity = 99.5 if source.split("_")[0] == target.split("_")[0] else 3.0
        if similarity >= body["SimilarityThreshold"]:
            return 200, {"SourceImageFace": face, "FaceMatches": [{"Similarity": similarity, "Face": face}],
                         "UnmatchedFaces": []}  # fmt: skip
        return 200, {"SourceImageFace": face, "FaceMatches": [], "UnmatchedFaces": [face]}

    with RekognitionStandIn(compare_faces) as service:
        client = FaceClient("aws", endpoint_url=service.url, region="eu-west-1")
        found = client.find_similar(OBAMA_1, [BIDEN, OBAMA_2, OBAMA_1], top_k=5, threshold=0.5)
        targets = [r["target"] for r in service.requests]
        assert targets == ["RekognitionService.CompareFaces"] * 3
        assert {r["body"]["SimilarityThreshold"] for r in service.requests} == {50.0}
        assert "QualityFilter" not in service.requests[0]["body"]
    assert [m.candidate for m in found.matches] == [1, 2]
    assert all(m.similarity == pytest.approx(0.995) for m in found.matches)
    assert found.candidates == 3 and found.method == "compare" and len(found.raw) == 3


def test_service_errors_are_mapped(no_backoff: list[float]) -> None:
    with RekognitionStandIn(answers=[error("InvalidParameterException", "no face in the source image")]) as service:
        client = FaceClient("aws", endpoint_url=service.url, max_attempts=1)
        with pytest.raises(InvalidRequestError) as info:
            client.verify(OBAMA_1, BIDEN)
    assert info.value.provider == "aws" and info.value.code == "InvalidParameterException"
    assert "no face in the source image" in str(info.value)
