"""The raw-socket part the loopback stand-ins share: a listening socket on 127.0.0.1, an accept
loop on a daemon thread, ``url`` and the ``with`` block. Subclasses serve each connection
(``_connected``), byte by byte, so they can misbehave in ways an HTTP server library would not.
"""

from __future__ import annotations

import socket
import threading
from typing import Self


class SocketService:
    """Accepts connections on a free port of 127.0.0.1 while its ``with`` block lasts.

    Args:
        backlog: The listening socket's backlog.
    """

    def __init__(self, *, backlog: int) -> None:
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(backlog)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._sock.getsockname()[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def _accept(self) -> None:
        self._sock.settimeout(0.05)  # so that __exit__ never waits on a blocked accept()
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            self._connected(conn)

    def _connected(self, conn: socket.socket) -> None:
        """Serve one accepted connection (start its thread)."""
        raise NotImplementedError
