"""Conformance harness for ``azure-rest``: a real loopback HTTP server plays Azure Face.

It decodes the image it receives with PIL, and answers with the scenario's faces as Azure
integer pixel rectangles of that image, 27 landmarks when ``returnFaceLandmarks=true``,
and a head pose when ``returnFaceAttributes`` asks for ``headPose``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from PIL import Image

from facekit import FaceClient, RetryPolicy
from facekit._vocabulary import AZURE_LANDMARKS
from tests.azure_rest.fake_service import Reply, Seen, serve
from tests.conformance.harness import HarnessInfo, Scenario, iter_faces, noise_image


def _landmarks(left: int, top: int, width: int, height: int) -> dict[str, dict[str, float]]:
    count = len(AZURE_LANDMARKS)
    return {
        name: {"x": left + width * (0.2 + 0.6 * i / count), "y": top + height * (0.3 + 0.5 * i / count)}
        for i, name in enumerate(AZURE_LANDMARKS)
    }


class AzureRestHarness:
    info = HarnessInfo(
        name="azure-rest",
        supported_attribute="head_pose",
        unsupported_attribute="emotion",  # retired in 2023: refused unless allow_retired_attributes=True
        max_upload_bytes=6 * 1024 * 1024,
        landmarks=True,
    )

    @contextmanager
    def client(self, scenario: Scenario) -> Iterator[FaceClient]:
        def handler(seen: Seen) -> Reply:
            if seen.headers.get("Content-Type") != "application/octet-stream":
                return Reply(status=415, body={"error": {"code": "BadArgument", "message": "Invalid Media Type."}})
            if not 1024 <= len(seen.body) <= 6 * 1024 * 1024:
                return Reply(status=400, body={"error": {"code": "InvalidImageSize", "message": "Image size."}})
            with Image.open(io.BytesIO(seen.body)) as received:
                width, height = received.size
            asked = seen.query.get("returnFaceAttributes", "").split(",")
            faces: list[dict[str, Any]] = []
            for left, top, w, h in iter_faces(scenario, width, height):
                rect = {"top": round(top), "left": round(left), "width": round(w), "height": round(h)}
                face: dict[str, Any] = {"faceRectangle": rect}
                if seen.query.get("returnFaceLandmarks") == "true":
                    face["faceLandmarks"] = _landmarks(rect["left"], rect["top"], rect["width"], rect["height"])
                if "headPose" in asked:
                    face["faceAttributes"] = {"headPose": {"pitch": 0.0, "roll": 4.3, "yaw": -0.3}}
                faces.append(face)
            faces.sort(key=lambda f: -f["faceRectangle"]["width"] * f["faceRectangle"]["height"])
            return Reply(body=faces)

        with serve(handler) as service, FaceClient(
            "azure-rest", endpoint=service.endpoint, key="conformance-key", retry=RetryPolicy(max_retries=0)
        ) as client:
            yield client

    def image(self, scenario: Scenario, size: tuple[int, int]) -> Image.Image:
        return noise_image(size)


HARNESS = AzureRestHarness()
