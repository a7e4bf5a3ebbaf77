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
