"""A loopback Rekognition stand-in speaking the awsJson1_1 protocol, for the real boto3 client.

Every request is recorded (target, decoded JSON body, headers); the answer comes from a
handler ``(body) -> (status, json_body)`` or a queue of canned answers.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image, ImageOps

Answer = tuple[int, dict[str, Any]]
Handler = Callable[[dict[str, Any]], Answer]


def error(code: str, message: str = "", status: int = 400) -> Answer:
    """An awsJson1_1 error answer."""
    return status, {"__type": code, "Message": message or code}


def received_size(body: dict[str, Any]) -> tuple[int, int, str]:
    """Size (as the service sees it: JPEG EXIF applied) and format of ``Image.Bytes`` in a request body."""
    data = base64.b64decode(body["Image"]["Bytes"])
    with Image.open(io.BytesIO(data)) as opened:
        fmt = opened.format or "?"
        upright = ImageOps.exif_transpose(opened) if fmt == "JPEG" else opened
        return upright.width, upright.height, fmt


class RekognitionStandIn:
    """``with RekognitionStandIn(handler) as service: boto3.client(..., endpoint_url=service.url)``."""

    def __init__(self, handler: Handler | None = None, answers: list[Answer] | None = None) -> None:
        self.handler = handler
        self.answers = list(answers or [])
        self.requests: list[dict[str, Any]] = []
        self.delay = 0.0
        stand_in = self

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                body = json.loads(raw or b"{}")
                stand_in.requests.append({"target": self.headers.get("X-Amz-Target"), "body": body,
                                          "headers": dict(self.headers)})
                if stand_in.delay:
                    threading.Event().wait(stand_in.delay)
                status, answer = stand_in._answer(body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-amzn-RequestId", f"req-{len(stand_in.requests)}-{uuid.uuid4().hex[:8]}")
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def _answer(self, body: dict[str, Any]) -> Answer:
        if self.answers:
            return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if self.handler is not None:
            return self.handler(body)
        return 200, {"FaceDetails": []}

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> RekognitionStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
