"""A test backend that sends each image to a loopback HTTP service (for CLI and batch tests).

The service (:func:`face_service`) decodes the image it receives and answers one face box
covering the middle half of it, after ``latency`` seconds; images whose top-left pixel is pure
red are answered with HTTP 500. So results follow from the real pixels sent.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import ClassVar

import requests
from PIL import Image

from facekit import BoundingBox, Face, InputSpec, Payload, ServiceUnavailableError
from facekit.backends import Backend, BackendResult, Capabilities
from tests.loopback import Received, Response

ENV_ENDPOINT = "FACEKIT_TEST_LOOPBACK_ENDPOINT"


def face_service(latency: float = 0.0, log: list[str] | None = None) -> Callable[[Received], Response]:
    """A POST handler: a centred face box for the image in the body, 500 for red-cornered images."""
    lock = threading.Lock()

    def handler(req: Received) -> Response:
        if latency:
            time.sleep(latency)
        image = Image.open(io.BytesIO(req.body)).convert("RGB")
        if log is not None:
            with lock:
                log.append(f"{image.width}x{image.height}")
        if image.getpixel((0, 0)) == (255, 0, 0):
            return 500, {"Content-Type": "application/json"}, b'{"error": "boom"}'
        width, height = image.size
        body = {"faces": [{"box": [width / 4, height / 4, width / 2, height / 2]}], "size": [width, height]}
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    return handler


class LoopbackBackend(Backend):
    """POSTs the image bytes to ``endpoint`` and reads ``{"faces": [{"box": [l, t, w, h]}]}``."""

    name: ClassVar[str] = "loopback"
    env_vars: ClassVar[Mapping[str, tuple[str, ...]]] = {"endpoint": (ENV_ENDPOINT,)}

    def __init__(self, *, endpoint: str | None = None) -> None:
        self.endpoint = endpoint or ""
        self.session = requests.Session()

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(attributes=frozenset(), inputs=frozenset({"bytes"}))

    @property
    def input_spec(self) -> InputSpec:
        return InputSpec(kinds=frozenset({"bytes"}), formats=frozenset({"JPEG", "PNG"}))

    def detect(self, payload: Payload, request: object) -> BackendResult:
        assert payload.data is not None
        response = self.session.post(self.endpoint, data=payload.data, timeout=10)
        if response.status_code >= 500:
            raise ServiceUnavailableError("service failed", provider=self.name, status=response.status_code)
        body = response.json()
        faces = [
            Face(box=BoundingBox(left=x, top=y, width=w, height=h)) for x, y, w, h in (f["box"] for f in body["faces"])
        ]
        return BackendResult(faces=faces, raw=body, models={"detector": "loopback"})

    def close(self) -> None:
        self.session.close()
