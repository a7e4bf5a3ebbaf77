"""A fault-injecting loopback stand-in for Azure Face and Rekognition, written on raw sockets.

It answers ``POST`` requests the way the real service does (Azure: a JSON list of faces in
pixels; Rekognition: awsJson1_1 ``{"FaceDetails": [...]}`` with ratio boxes and 0-100
confidences), except when a fault is drawn: every misbehaviour real networks and gateways show,
down to the byte (trickles, resets mid-body, cut bodies), which ``http.server`` cannot do.

Each request is recorded with the fault served and, for answers that facekit may accept, the
faces it must then return (``Served.expected``: sorted pixel boxes), so a test can tell a right
success from a wrong one.
"""

from __future__ import annotations

import json
import random
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from tests.socket_service import SocketService

#: Every fault the stand-in can inject (besides ``"ok"``).
FAULTS: Final[tuple[str, ...]] = (
    "429_retry_after",
    "429_bare",
    "500",
    "503",
    "stall",
    "trickle",
    "reset_mid_body",
    "truncated",
    "html_200",
    "empty_200",
    "wrong_content_type",
    "wrong_shape",
    "nan",
    "infinity",
    "huge_number",
    "negative_size",
    "deep_nesting",
    "huge_body",
    "huge_face_list",
)
#: Faults after which a success is still right (the answer, or what validation keeps of it).
ACCEPTABLE: Final = frozenset({"ok", "wrong_content_type", "nan", "infinity", "negative_size"})

#: The true faces of the image, pixels (left, top, width, height); ``image_size`` is set per run.
TRUE_BOXES: Final = ((40, 60, 120, 150), (260, 90, 80, 100))

Box = tuple[int, int, int, int]


@dataclass
class Served:
    """One request the stand-in answered."""

    fault: str
    started: float
    ended: float = 0.0
    expected: list[Box] | None = None
    closed_early: bool = False


@dataclass
class FaultPlan:
    """Which fault each request gets: ``rate`` of them a fault drawn uniformly from ``faults``."""

    rate: float = 0.5
    faults: tuple[str, ...] = FAULTS
    seed: int = 1
    retry_after: int = 1
    stall_seconds: float = 1.0
    trickle_interval: float = 0.05
    trickle_seconds: float = 30.0
    _rng: random.Random = field(init=False)
    _deck: list[str] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def draw(self) -> str:
        """``"ok"``, or the next fault of a shuffled deck (so every kind comes up equally often)."""
        if self._rng.random() >= self.rate:
            return "ok"
        if not self._deck:
            self._deck = list(self.faults)
            self._rng.shuffle(self._deck)
        return self._deck.pop()


class FaultyService(SocketService):
    """``with FaultyService("azure", plan, image_size=(w, h)) as service: ... service.url``.

    Args:
        flavour: ``"azure"`` or ``"aws"``.
        plan: How faults are drawn; or a callable ``(request_number) -> fault``.
        image_size: Size of the image the client sends, pixels (Rekognition answers in ratios of it).
    """

    def __init__(
        self, flavour: str, plan: FaultPlan | Callable[[int], str], *, image_size: tuple[int, int]
    ) -> None:
        self.flavour = flavour
        self.plan = plan
        self.width, self.height = image_size
        self.served: list[Served] = []
        super().__init__(backlog=64)

    # -- serving -------------------------------------------------------------------------------
    def _connected(self, conn: socket.socket) -> None:
        threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _next_fault(self) -> str:
        with self._lock:
            number = len(self.served)
            fault = self.plan(number) if callable(self.plan) else self.plan.draw()
            return fault

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        reader = conn.makefile("rb")
        try:
            while not self._stop.is_set():
                request_line = reader.readline()
                if not request_line:
                    return
                headers: dict[str, str] = {}
                while True:
                    line = reader.readline()
                    if line in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                if length:
                    reader.read(length)
                fault = self._next_fault()
                record = Served(fault=fault, started=time.monotonic())
                with self._lock:
                    self.served.append(record)
                keep = self._answer(conn, fault, record)
                record.ended = time.monotonic()
                if not keep:
                    return
        except OSError:
            return
        finally:
            try:
                reader.close()
                conn.close()
            except OSError:
                pass

    def _write(self, conn: socket.socket, status: int, reason: str, headers: dict[str, str], body: bytes) -> None:
        head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        if "Content-Length" not in headers:
            head += f"Content-Length: {len(body)}\r\n"
        conn.sendall(head.encode("latin-1") + b"\r\n" + body)

    def _answer(self, conn: socket.socket, fault: str, record: Served) -> bool:
        plan = self.plan if isinstance(self.plan, FaultPlan) else FaultPlan()
        json_type = "application/json" if self.flavour == "azure" else "application/x-amz-json-1.1"
        good = self._good_body()
        if fault in ACCEPTABLE:
            record.expected = self._expected(fault)
        if fault == "ok":
            self._write(conn, 200, "OK", {"Content-Type": json_type}, good)
        elif fault == "wrong_content_type":
            self._write(conn, 200, "OK", {"Content-Type": "text/plain; charset=utf-8"}, good)
        elif fault in ("nan", "infinity", "negative_size"):
            self._write(conn, 200, "OK", {"Content-Type": json_type}, self._bad_value_body(fault))
        elif fault in ("429_retry_after", "429_bare"):
            extra = {"Retry-After": str(plan.retry_after)} if fault == "429_retry_after" else {}
            self._write(conn, 429, "Too Many Requests", {"Content-Type": json_type, **extra}, self._error(429))
        elif fault in ("500", "503"):
            status = int(fault)
            self._write(conn, status, "Error", {"Content-Type": json_type}, self._error(status))
        elif fault.startswith("raw:"):  # a given body, 200
            self._write(conn, 200, "OK", {"Content-Type": json_type}, fault[4:].encode())
        elif fault == "partial_stall":  # half the body, then silence past any read timeout
            head = f"HTTP/1.1 200 OK\r\nContent-Type: {json_type}\r\nContent-Length: {len(good)}\r\n\r\n"
            conn.sendall(head.encode() + good[: len(good) // 2])
            time.sleep(plan.stall_seconds)
            return False
        elif fault == "stall":
            time.sleep(plan.stall_seconds)
            self._write(conn, 200, "OK", {"Content-Type": json_type}, good)
            return False
        elif fault == "trickle":
            head = f"HTTP/1.1 200 OK\r\nContent-Type: {json_type}\r\nContent-Length: {len(good) * 1000}\r\n\r\n"
            conn.sendall(head.encode())
            end = time.monotonic() + plan.trickle_seconds
            try:
                while time.monotonic() < end and not self._stop.is_set():
                    conn.sendall(b" ")
                    time.sleep(plan.trickle_interval)
            except OSError:
                record.closed_early = True
            return False
        elif fault == "reset_mid_body":
            head = f"HTTP/1.1 200 OK\r\nContent-Type: {json_type}\r\nContent-Length: {len(good)}\r\n\r\n"
            conn.sendall(head.encode() + good[: len(good) // 2])
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST on close
            return False
        elif fault == "truncated":
            head = f"HTTP/1.1 200 OK\r\nContent-Type: {json_type}\r\nContent-Length: {len(good)}\r\n\r\n"
            conn.sendall(head.encode() + good[: len(good) // 2])
            conn.shutdown(socket.SHUT_WR)
            return False
        elif fault == "html_200":
            page = b"<html><head><title>Gateway</title></head><body><h1>Welcome</h1></body></html>"
            self._write(conn, 200, "OK", {"Content-Type": "text/html"}, page)
        elif fault == "empty_200":
            self._write(conn, 200, "OK", {"Content-Type": json_type}, b"")
        elif fault == "wrong_shape":
            shape = {"faces": []} if self.flavour == "azure" else {"FaceDetails": {"a": 1}}
            self._write(conn, 200, "OK", {"Content-Type": json_type}, json.dumps(shape).encode())
        elif fault == "huge_number":
            self._write(conn, 200, "OK", {"Content-Type": json_type}, self._bad_value_body(fault))
        elif fault == "deep_nesting":
            self._write(conn, 200, "OK", {"Content-Type": json_type}, b"[" * 100_000 + b"]" * 100_000)
        elif fault == "huge_body":
            body = good[:-1] + b" " * (12 * 1024 * 1024) + good[-1:]
            self._write(conn, 200, "OK", {"Content-Type": json_type}, body)
        elif fault == "huge_face_list":
            self._write(conn, 200, "OK", {"Content-Type": json_type}, self._faces_body([TRUE_BOXES[0]] * 5000))
        else:  # pragma: no cover - a typo in a plan
            raise ValueError(fault)
        return True

    # -- bodies --------------------------------------------------------------------------------
    def _expected(self, fault: str) -> list[Box]:
        kept = list(TRUE_BOXES) if fault in ("ok", "wrong_content_type") else list(TRUE_BOXES[1:])
        return sorted(kept)

    def _face(self, box: tuple[Any, Any, Any, Any]) -> dict[str, Any]:
        left, top, width, height = box
        if self.flavour == "azure":
            return {"faceRectangle": {"left": left, "top": top, "width": width, "height": height}}
        ratio = {
            "Left": _ratio(left, self.width),
            "Top": _ratio(top, self.height),
            "Width": _ratio(width, self.width),
            "Height": _ratio(height, self.height),
        }
        return {"BoundingBox": ratio, "Confidence": 99.9}

    def _faces_body(self, boxes: Any) -> bytes:
        faces = [self._face(box) for box in boxes]
        return json.dumps(faces if self.flavour == "azure" else {"FaceDetails": faces}).encode()

    def _good_body(self) -> bytes:
        return self._faces_body(TRUE_BOXES)

    def _bad_value_body(self, fault: str) -> bytes:
        """The true faces, the first one with an impossible number (written as raw JSON text)."""
        left, top, width, height = TRUE_BOXES[0]
        if fault == "huge_number":
            first = self._face(("__X__", top, width, height))
            raw = "1" + "0" * 400
        else:
            first = self._face((left, top, "__X__", height))
            raw = {"nan": "NaN", "infinity": "Infinity", "negative_size": "-5"}[fault]
        faces = [first, self._face(TRUE_BOXES[1])]
        text = json.dumps(faces if self.flavour == "azure" else {"FaceDetails": faces})
        return text.replace('"__X__"', raw).encode()

    def _error(self, status: int) -> bytes:
        if self.flavour == "azure":
            code = {429: "429", 500: "InternalServerError", 503: "ServiceUnavailable"}[status]
            return json.dumps({"error": {"code": code, "message": f"injected {status}"}}).encode()
        kind = {429: "ThrottlingException", 500: "InternalServerError", 503: "ServiceUnavailableException"}[status]
        return json.dumps({"__type": kind, "message": f"injected {status}"}).encode()


def _ratio(value: Any, side: int) -> Any:
    return value / side if isinstance(value, (int, float)) else value
