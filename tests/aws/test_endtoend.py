"""The whole real boto3 client against a loopback Rekognition stand-in (``endpoint_url``):
protocol, signing, botocore's retries, and that facekit adds none of its own."""

from __future__ import annotations

import base64
import copy
from pathlib import Path

import pytest

from facekit import FaceClient, RateLimitError, ServiceUnavailableError
from tests.aws.conftest import load
from tests.aws.standin import RekognitionStandIn, error

pytest.importorskip("boto3")
from botocore.config import Config

PHOTO = Path(__file__).resolve().parent.parent / "data" / "grace_hopper.jpg"  # 512x600


def _capture() -> dict[str, object]:
    body = copy.deepcopy(load("devguide-detectfaces-all-attributes-2023.json"))
    body.pop("ResponseMetadata")
    return body


def test_detect_faces_over_the_wire() -> None:
    with RekognitionStandIn(answers=[(200, _capture())]) as service:
        client = FaceClient("rekognition", endpoint_url=service.url, region="eu-west-1")
        result = client.detect(PHOTO, attributes=["emotion", "age"], landmarks=True)
    assert len(service.requests) == 1
    sent = service.requests[0]
    assert sent["target"] == "RekognitionService.DetectFaces"
    assert sent["body"]["Attributes"] == ["DEFAULT", "EMOTIONS", "AGE_RANGE"]  # in the caller's order
    assert base64.b64decode(sent["body"]["Image"]["Bytes"]) == PHOTO.read_bytes()
    assert "/eu-west-1/rekognition/aws4_request" in sent["headers"]["Authorization"]
    assert "facekit/" in sent["headers"]["User-Agent"]
    face = result.faces[0]
    assert face.box.left == pytest.approx(0.08881539851427078 * 512)
    assert face.box.height == pytest.approx(0.7510867118835449 * 600)
    assert face.attributes.returned() == ["age_range", "emotion"]
    assert face.attributes.emotion is not None and face.attributes.emotion.sadness == pytest.approx(0.6556403350830078)
    assert face.landmarks is not None and face.landmarks["left_pupil"].x == pytest.approx(0.30225440859794617 * 512)
    assert result.raw["ResponseMetadata"]["RequestId"].startswith("req-1-")
    assert result.raw["ResponseMetadata"]["RetryAttempts"] == 0
    assert result.runtime["region"] == "eu-west-1"


def test_throttling_is_retried_by_botocore_only_then_mapped(no_backoff: list[float]) -> None:
    with RekognitionStandIn(answers=[error("ThrottlingException", "Rate exceeded")]) as service:
        client = FaceClient("aws", endpoint_url=service.url)
        with pytest.raises(RateLimitError) as info:
            client.detect(PHOTO)
    assert len(service.requests) == 3  # botocore standard mode: 3 attempts in all; facekit adds none
    assert len(no_backoff) == 2
    assert info.value.code == "ThrottlingException" and info.value.status == 400
    assert info.value.request_id is not None and info.value.request_id.startswith("req-3-")
    assert "after 3 attempts" in info.value.message and "Rate exceeded" in info.value.message


def test_max_attempts_one_means_one_request(no_backoff: list[float]) -> None:
    with RekognitionStandIn(answers=[error("ProvisionedThroughputExceededException")]) as service:
        client = FaceClient("aws", endpoint_url=service.url, max_attempts=1)
        with pytest.raises(RateLimitError):
            client.detect(PHOTO)
    assert len(service.requests) == 1
    assert no_backoff == []


def test_user_config_wins(no_backoff: list[float]) -> None:
    config = Config(retries={"mode": "standard", "total_max_attempts": 5})
    with RekognitionStandIn(answers=[error("ThrottlingException")]) as service:
        client = FaceClient("aws", endpoint_url=service.url, botocore_config=config, max_attempts=2)
        with pytest.raises(RateLimitError):
            client.detect(PHOTO)
    assert len(service.requests) == 5


def test_throttled_once_then_answered(no_backoff: list[float]) -> None:
    answers = [error("ThrottlingException"), (200, {"FaceDetails": []})]
    with RekognitionStandIn(answers=answers) as service:
        result = FaceClient("aws", endpoint_url=service.url).detect(PHOTO)
    assert len(service.requests) == 2
    assert result.faces == [] and result.raw["ResponseMetadata"]["RetryAttempts"] == 1


def test_internal_server_error_is_service_unavailable(no_backoff: list[float]) -> None:
    with (
        RekognitionStandIn(answers=[error("InternalServerError", status=500)]) as service,
        pytest.raises(ServiceUnavailableError) as info,
    ):
        FaceClient("aws", endpoint_url=service.url).detect(PHOTO)
    assert len(service.requests) == 3
    assert (info.value.status, info.value.code) == (500, "InternalServerError")


def test_environment_variables_configure_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    with RekognitionStandIn() as service:
        monkeypatch.setenv("FACEKIT_AWS_ENDPOINT_URL", service.url)
        monkeypatch.setenv("AWS_REGION", "ap-south-1")
        monkeypatch.setenv("FACEKIT_AWS_REGION", "sa-east-1")  # wins over AWS_REGION
        monkeypatch.setenv("FACEKIT_PROVIDER", "aws")
        client = FaceClient.from_env()
        assert "region='sa-east-1'" in repr(client)
        client.detect(PHOTO)
    assert "/sa-east-1/rekognition/" in service.requests[0]["headers"]["Authorization"]
