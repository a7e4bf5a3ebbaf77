"""``facekit detect --provider aws --region R --endpoint URL`` reaches a loopback Rekognition with the real boto3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from facekit.cli import EXIT_OK, main
from tests.aws.standin import RekognitionStandIn


def test_region_and_endpoint_flags_configure_the_real_client(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = tmp_path / "a.jpg"
    Image.new("RGB", (320, 240), (90, 120, 90)).save(image)
    with RekognitionStandIn() as service:
        code = main(["detect", str(image), "--provider", "aws", "--region", "eu-west-1", "--endpoint", service.url, "-q"])
    assert code == EXIT_OK, capsys.readouterr().err
    [request] = service.requests
    assert request["target"] == "RekognitionService.DetectFaces"
    assert "/eu-west-1/rekognition/aws4_request" in request["headers"]["Authorization"]  # signed for the region asked
    [record] = json.loads(capsys.readouterr().out)
    assert record["status"] == "ok" and record["result"]["faces"] == []


def test_verify_takes_region_and_endpoint_too(capsys: pytest.CaptureFixture[str]) -> None:
    identity = Path(__file__).resolve().parent.parent / "data" / "identity"
    face = {"BoundingBox": {"Left": 0.3, "Top": 0.1, "Width": 0.3, "Height": 0.2}, "Confidence": 99.0}
    answer = {"SourceImageFace": face, "FaceMatches": [{"Similarity": 99.5, "Face": face}], "UnmatchedFaces": []}
    with RekognitionStandIn(answers=[(200, answer)]) as service:
        code = main(["verify", str(identity / "obama_1.jpg"), str(identity / "obama_2.jpg"), "-p", "aws",
                     "--region", "ap-southeast-2", "--endpoint", service.url])  # fmt: skip
    assert code == EXIT_OK, capsys.readouterr().err
    [request] = service.requests
    assert request["target"] == "RekognitionService.CompareFaces"
    assert "/ap-southeast-2/rekognition/aws4_request" in request["headers"]["Authorization"]
    assert json.loads(capsys.readouterr().out)["same"] is True
