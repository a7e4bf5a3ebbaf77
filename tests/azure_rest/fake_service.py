"""A stand-in Azure Face service: a real threaded HTTP server on 127.0.0.1 (port 0).

Each request is recorded; the answer comes from ``handler(request) -> Reply``. A reply can
also reset the connection or cut its body short, to exercise transport errors.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Seen:
    """One request the service received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Reply:
    """What to answer: status, JSON (or raw bytes) body, headers; or a transport failure.

    Attributes:
        action: ``"answer"``, ``"reset"`` (close without answering) or ``"truncate"`` (announce
            the full Content-Length, send half the body, close).
    """

    status: int = 200
    body: Any = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    action: str = "answer"


Handler = Callable[[Seen], Reply]


class FakeAzureFace:
    """The service; use :func:`serve`."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.seen: list[Seen] = []
        #: Images served to GET requests by path (for URL inputs probed by facekit).
        self.images: dict[str, bytes] = {}
        self._lock = threading.Lock()
        service = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                data = service.images.get(urlsplit(self.path).path)
                self.send_response(200 if data is not None else 404)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(data or b"")))
                self.end_headers()
                self.wfile.write(data or b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                seen = Seen("POST", parts.path, dict(parse_qsl(parts.query)), dict(self.headers.items()), body,
                            time.monotonic())
                with service._lock:
                    service.seen.append(seen)
                reply = service.handler(seen)
                if reply.action == "reset":
                    self.close_connection = True
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.connection.close()
                    return
                payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json; charset=utf-8", "apim-request-id": f"req-{len(service.seen)}",
                           **reply.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if reply.action == "truncate":
                    self.wfile.write(payload[: len(payload) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(payload)

        class _Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that gave up (timeout tests) is expected

        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"


@contextmanager
def serve(handler: Handler) -> Iterator[FakeAzureFace]:
    """Run a :class:`FakeAzureFace` for the duration of the block."""
    service = FakeAzureFace(handler)
    service._thread.start()
    try:
        yield service
    finally:
        service.httpd.shutdown()
        service.httpd.server_close()
        service._thread.join(timeout=5)


def scripted(*replies: Reply) -> Handler:
    """A handler answering ``replies`` in order (the last one repeats)."""
    queue = list(replies)

    def handler(seen: Seen) -> Reply:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return handler
