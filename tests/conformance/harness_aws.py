"""Conformance harness for the ``aws`` backend: the real boto3 client talks to a loopback
Rekognition stand-in (``endpoint_url``) that decodes the image it receives, refuses what the
real service refuses (not JPEG/PNG, over 5,242,880 bytes, under 80 px a side) and answers the
scenario's faces as ratios of that image."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import boto3  # noqa: F401  (an ImportError here makes the suite skip this harness)
from PIL import Image

from facekit import FaceClient
from tests.aws.standin import Answer, RekognitionStandIn, error, received_size
from tests.conformance.harness import HarnessInfo, Scenario, noise_image

MAX_BYTES = 5_242_880


def _answer(scenario: Scenario, body: dict[str, Any]) -> Answer:
    if "Bytes" not in body["Image"]:
        return error("InvalidS3ObjectException")
    if len(base64.b64decode(body["Image"]["Bytes"])) > MAX_BYTES:
        return error("ImageTooLargeException", "Image size is too large.")
    try:
        width, height, fmt = received_size(body)
    except Exception:
        return error("InvalidImageFormatException", "Request has invalid image format")
    if fmt not in ("JPEG", "PNG"):
        return error("InvalidImageFormatException", "Request has invalid image format")
    if min(width, height) < 80:
        return error("InvalidParameterException", "Minimum image dimension is 80 pixels")
    attributes = set(body.get("Attributes") or ["DEFAULT"])
    details = []
    for box in scenario.faces:
        cx, cy = box.left + box.width / 2, box.top + box.height / 2
        detail: dict[str, Any] = {
            "BoundingBox": {"Width": box.width, "Height": box.height, "Left": box.left, "Top": box.top},
            "Confidence": 99.9,
            "Landmarks": [
                {"Type": "eyeLeft", "X": cx - box.width / 5, "Y": cy - box.height / 6},
                {"Type": "eyeRight", "X": cx + box.width / 5, "Y": cy - box.height / 6},
                {"Type": "nose", "X": cx, "Y": cy},
                {"Type": "mouthLeft", "X": cx - box.width / 6, "Y": cy + box.height / 5},
                {"Type": "mouthRight", "X": cx + box.width / 6, "Y": cy + box.height / 5},
            ],
            "Pose": {"Roll": 1.0, "Yaw": 2.0, "Pitch": 3.0},
            "Quality": {"Brightness": 50.0, "Sharpness": 60.0},
        }
        if attributes & {"ALL", "AGE_RANGE"}:
            detail["AgeRange"] = {"Low": 20, "High": 30}
        details.append(detail)
    return 200, {"FaceDetails": details}


_ENV = {"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}


class AwsHarness:
    info = HarnessInfo(name="aws", unsupported_attribute="hair", max_upload_bytes=MAX_BYTES)

    @contextmanager
    def client(self, scenario: Scenario) -> Iterator[FaceClient]:
        with (
            mock.patch.dict(os.environ, _ENV),
            RekognitionStandIn(handler=lambda body: _answer(scenario, body)) as service,
        ):
            os.environ.pop("AWS_PROFILE", None)
            client = FaceClient(
                "aws", endpoint_url=service.url, region="us-east-1", max_attempts=1,
                aws_access_key_id="AKIACONFORMANCE0000", aws_secret_access_key="conformance-secret",
            )
            yield client  # a refused image raises (max_attempts=1), so fitting is checked by every test
            client.close()

    def image(self, scenario: Scenario, size: tuple[int, int]) -> Image.Image:
        return noise_image(size)


HARNESS = AwsHarness()
