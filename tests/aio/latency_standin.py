"""A loopback stand-in for Azure Face and Rekognition that answers after a fixed latency.

Raw sockets, one thread per connection (like a real server, it never makes one client wait
for another), HTTP/1.1 keep-alive. It records every connection: when it opened, how many
requests it carried and when **the client** closed it, so a test can see that a cancelled
call closed its connection. With ``stall=True`` it never answers, and waits for the client
to hang up.

Run it on its own (for benchmarks, so that the server does not share the client's GIL)::

    python -m tests.aio.latency_standin azure 0.1     # prints its URL, serves until killed
"""

from __future__ import annotations

import json
import select
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from tests.socket_service import SocketService

#: The faces every answer holds, pixels (left, top, width, height) of a 512x600 image.
BOXES: Final = ((40, 60, 120, 150), (260, 90, 80, 100))
IMAGE_SIZE: Final = (512, 600)


@dataclass
class Connection:
    """One client connection."""

    opened: float
    requests: int = 0
    closed_by_client: float | None = None


class LatencyService(SocketService):
    """``with LatencyService("azure", latency=0.1) as service: ... service.url``.

    Args:
        flavour: ``"azure"`` (a JSON list of faces) or ``"aws"`` (awsJson1_1 ``FaceDetails``).
        latency: Seconds between reading a request and answering it.
        stall: Never answer; wait for the client to close the connection.
        trickle: Announce a long body, then send one byte every 20 ms.
        stall_after: Answer this many requests, then stall every later one.
        answer_when: Answer only requests whose body this returns True for; stall the others.
    """

    def __init__(
        self,
        flavour: str,
        *,
        latency: float = 0.1,
        stall: bool = False,
        trickle: bool = False,
        stall_after: int | None = None,
        answer_when: Callable[[bytes], bool] | None = None,
    ) -> None:
        self.answer_when = answer_when
        self.flavour = flavour
        self.latency = latency
        self.stall = stall
        self.stall_after = stall_after
        self.trickle = trickle
        self.connections: list[Connection] = []
        self.requests = 0
        super().__init__(backlog=256)
        self.body = self._body()

    def wait_closed(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until ``count`` connections were closed by the client; True if they were."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if sum(c.closed_by_client is not None for c in self.connections) >= count:
                    return True
            time.sleep(0.01)
        return False

    def _body(self) -> bytes:
        width, height = IMAGE_SIZE
        if self.flavour == "azure":
            faces = [{"faceRectangle": {"left": x, "top": t, "width": w, "height": h}} for x, t, w, h in BOXES]
            return json.dumps(faces).encode()
        details = [
            {"BoundingBox": {"Left": x / width, "Top": t / height, "Width": w / width, "Height": h / height},
             "Confidence": 99.9}
            for x, t, w, h in BOXES
        ]
        return json.dumps({"FaceDetails": details}).encode()

    def _connected(self, conn: socket.socket) -> None:
        record = Connection(opened=time.monotonic())
        with self._lock:
            self.connections.append(record)
        threading.Thread(target=self._serve, args=(conn, record), daemon=True).start()

    def _hung_up(self, conn: socket.socket, seconds: float) -> bool:
        """Wait up to ``seconds``; True when the client closed the connection meanwhile."""
        readable, _, _ = select.select([conn], [], [], seconds)
        if not readable:
            return False
        try:
            return conn.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _serve(self, conn: socket.socket, record: Connection) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = conn.makefile("rb")
        json_type = "application/json" if self.flavour == "azure" else "application/x-amz-json-1.1"
        try:
            while not self._stop.is_set():
                line = reader.readline()
                if not line:
                    record.closed_by_client = time.monotonic()
                    return
                length = 0
                while True:
                    header = reader.readline()
                    if header in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = header.decode("latin-1").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                body = reader.read(length) if length else b""
                record.requests += 1
                with self._lock:
                    self.requests += 1
                    number = self.requests
                stall = self.stall or (self.stall_after is not None and number > self.stall_after)
                if stall or (self.answer_when is not None and not self.answer_when(body)):
                    while not self._stop.is_set():
                        if self._hung_up(conn, 0.05):
                            record.closed_by_client = time.monotonic()
                            return
                    return
                if self.trickle:
                    conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: {json_type}\r\nContent-Length: 100000\r\n\r\n".encode())
                    while not self._stop.is_set():
                        try:
                            conn.sendall(b" ")
                        except OSError:
                            record.closed_by_client = time.monotonic()
                            return
                        if self._hung_up(conn, 0.02):
                            record.closed_by_client = time.monotonic()
                            return
                    return
                if self._hung_up(conn, self.latency):
                    record.closed_by_client = time.monotonic()
                    return
                head = (
                    f"HTTP/1.1 200 OK\r\nContent-Type: {json_type}\r\nContent-Length: {len(self.body)}\r\n"
                    "x-amzn-RequestId: standin\r\napim-request-id: standin\r\n\r\n"
                )
                conn.sendall(head.encode() + self.body)
        except OSError:
            record.closed_by_client = record.closed_by_client or time.monotonic()
        finally:
            try:
                reader.close()
                conn.close()
            except OSError:
                pass


def main(argv: list[str]) -> None:
    """``python -m tests.aio.latency_standin FLAVOUR LATENCY``: serve until killed."""
    flavour, latency = argv[0], float(argv[1])
    with LatencyService(flavour, latency=latency) as service:
        print(service.url, flush=True)
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    main(sys.argv[1:])
