"""Conformance harness for ``azure-sdk``: the real azure-ai-vision-face client over a stub
azure-core transport that plays Azure Face.

The stand-in checks the media type and Azure's 1 KB..6 MB limit, decodes the image it receives
with PIL, and answers with the scenario's faces as Azure integer pixel rectangles of that
image (largest first), the 27 Azure landmarks when ``returnFaceLandmarks=true``, and a head
pose when ``returnFaceAttributes`` asks for ``headPose``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from PIL import Image

from facekit import FaceClient, RetryPolicy
from facekit._vocabulary import AZURE_LANDMARKS
from tests.azure_sdk.transport import Answer, Sent, StubTransport
from tests.conformance.harness import HarnessInfo, Scenario, iter_faces, noise_image

MAX_BYTES = 6 * 1024 * 1024


def _landmarks(left: int, top: int, width: int, height: int) -> dict[str, dict[str, float]]:
    """Every Azure landmark, spread inside the face rectangle (float pixels, as Azure sends)."""
    count = len(AZURE_LANDMARKS)
    return {
        name: {"x": round(left + width * (0.15 + 0.7 * i / count), 1), "y": round(top + height * (0.25 + 0.6 * i / count), 1)}
        for i, name in enumerate(AZURE_LANDMARKS)
    }


def azure_answer(scenario: Scenario, sent: Sent) -> Answer:
    """What Azure Face would answer ``sent`` for ``scenario``."""
    if sent.headers.get("content-type") != "application/octet-stream":
        return Answer(415, {"error": {"code": "BadArgument", "message": "Invalid Media Type."}})
    if not 1024 <= len(sent.body) <= MAX_BYTES:
        return Answer(400, {"error": {"code": "InvalidImageSize", "message": "Image size is too small or too big."}})
    with Image.open(io.BytesIO(sent.body)) as received:
        width, height = received.size
    asked = sent.query.get("returnFaceAttributes", "").split(",")
    faces: list[dict[str, Any]] = []
    for left, top, w, h in iter_faces(scenario, width, height):
        rect = {"top": round(top), "left": round(left), "width": round(w), "height": round(h)}
        face: dict[str, Any] = {"faceRectangle": rect}
        if sent.query.get("returnFaceLandmarks") == "true":
            face["faceLandmarks"] = _landmarks(rect["left"], rect["top"], rect["width"], rect["height"])
        if "headPose" in asked:
            face["faceAttributes"] = {"headPose": {"pitch": -1.2, "roll": 3.4, "yaw": 5.6}}
        faces.append(face)
    faces.sort(key=lambda f: -f["faceRectangle"]["width"] * f["faceRectangle"]["height"])
    return Answer(body=faces)


class AzureSdkHarness:
    info = HarnessInfo(
        name="azure-sdk",
        supported_attribute="head_pose",
        unsupported_attribute="emotion",  # retired in 2023: refused unless allow_retired_attributes=True
        max_upload_bytes=MAX_BYTES,
        landmarks=True,
    )

    @contextmanager
    def client(self, scenario: Scenario) -> Iterator[FaceClient]:
        transport = StubTransport(lambda sent: azure_answer(scenario, sent))
        with FaceClient(
            "azure-sdk",
            endpoint="https://conformance.cognitiveservices.azure.com",
            key="conformance-key",
            transport=transport,
            retry=RetryPolicy(max_retries=0),
        ) as client:
            yield client
        assert transport.sent, "the stand-in service was never called"

    def image(self, scenario: Scenario, size: tuple[int, int]) -> Image.Image:
        return noise_image(size)


HARNESS = AzureSdkHarness()
