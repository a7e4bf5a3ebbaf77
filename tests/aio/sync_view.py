"""Drive an :class:`~facekit.AsyncFaceClient` from sync test code: its own event loop in a thread.

The sync fault suite (``tests/trust/test_fault_suite.py``) calls ``client.detect(image)`` in
a loop; :class:`OnLoop` runs each call as a coroutine on one long-lived loop, so the async
client keeps its connections between calls exactly as an application's would.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from facekit import AsyncFaceClient, DetectionResult


class OnLoop:
    """``with OnLoop(AsyncFaceClient(...)) as client: client.detect(image)``."""

    def __init__(self, make: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="test-loop", daemon=True)
        self._thread.start()
        self.client: AsyncFaceClient = self._run(self._build(make))

    @staticmethod
    async def _build(make: Any) -> AsyncFaceClient:
        client: AsyncFaceClient = make()
        return client

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def detect(self, image: Any, **kwargs: Any) -> DetectionResult:
        result: DetectionResult = self._run(self.client.detect(image, **kwargs))
        return result

    def __enter__(self) -> OnLoop:
        return self

    def __exit__(self, *exc: object) -> None:
        self._run(self.client.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()
