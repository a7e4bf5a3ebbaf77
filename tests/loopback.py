"""A small threaded HTTP server on 127.0.0.1 for tests: register routes, read what was received.

Example:
    with LoopbackServer() as server:
        server.route("GET", "/img.jpg", lambda req: (200, {"Content-Type": "image/jpeg"}, data))
        requests.get(server.url("/img.jpg"))
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Response = tuple[int, dict[str, str], bytes]


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    time: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


class LoopbackServer:
    """Threaded HTTP/1.1 server bound to 127.0.0.1 on a free port."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Callable[[Received], Response]] = {}
        self.received: list[Received] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                import time

                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                req = Received(self.command, self.path, dict(self.headers.items()), body, time.monotonic())
                with server._lock:
                    server.received.append(req)
                handler = server.routes.get((self.command, path))
                if handler is None:
                    status, headers, payload = 404, {}, b"not found"
                else:
                    status, headers, payload = handler(req)
                if status == -1:  # reset the connection without answering
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_HEAD = _handle

        class QuietServer(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # clients that hang up early (bounded downloads) are expected

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def route(self, method: str, path: str, handler: Callable[[Received], Response]) -> None:
        self.routes[(method, path)] = handler

    def url(self, path: str = "") -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}{path}"

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def serve_bytes(data: bytes, content_type: str = "image/jpeg") -> Callable[[Received], Response]:
    """A GET handler serving ``data``, honouring ``Range: bytes=a-b``."""

    def handler(req: Received) -> Response:
        rng = req.headers.get("Range")
        if rng and rng.startswith("bytes="):
            start_s, _, end_s = rng[6:].partition("-")
            start, end = int(start_s), min(int(end_s or len(data) - 1), len(data) - 1)
            return (
                206,
                {"Content-Type": content_type, "Content-Range": f"bytes {start}-{end}/{len(data)}"},
                data[start : end + 1],
            )
        return 200, {"Content-Type": content_type}, data

    return handler
