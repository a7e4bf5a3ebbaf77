"""The server's one backend: a bounded queue, a bounded thread pool and micro-batching.

Every request goes through :meth:`Dispatcher.detect`. At most ``max_queue`` requests are in
the server at once (waiting or running); one more is refused with :class:`Overloaded` (the
routes answer 429 / ``ThrottlingException`` with ``Retry-After``) instead of queuing without
bound. Image decoding and detection run in a pool of ``workers`` threads, never on the event loop.

When the backend has ``detect_batch`` (the local engine), requests that arrive within
``batch_window`` seconds of each other and ask for the same things are run together through
:meth:`FaceClient.detect_many` (one ``detect_batch`` call for up to ``max_batch`` images);
each request still gets its own result or its own error.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from facekit._client import FaceClient
from facekit._errors import RateLimitError
from facekit._models import DetectionResult

__all__ = ["Dispatcher", "DispatcherStats", "Overloaded"]


class Overloaded(RateLimitError):
    """The server's queue is full; try again after ``retry_after`` seconds."""


@dataclass
class DispatcherStats:
    """Counters for ``/healthz`` and the benchmark (since start)."""

    accepted: int = 0
    refused: int = 0
    batches: int = 0
    batched_images: int = 0
    largest_batch: int = 0
    seconds_busy: float = 0.0
    images_done: int = 0


@dataclass
class _Job:
    image: Any
    future: asyncio.Future[DetectionResult]


class Dispatcher:
    """Runs detections for the server (see the module docstring).

    Args:
        client: The one client (its backend is built once, here).
        workers: Threads in the pool (default 2).
        max_queue: Requests admitted at once, waiting or running (default 32).
        batch_window: Seconds a request waits for others to batch with (default 0.005).
        max_batch: Most images per ``detect_batch`` call (default: the backend's ``batch_size``).
        owns_client: Close ``client`` in :meth:`close` (True when the server built it).
    """

    def __init__(
        self,
        client: FaceClient,
        *,
        workers: int = 2,
        max_queue: int = 32,
        batch_window: float = 0.005,
        max_batch: int | None = None,
        owns_client: bool = True,
    ) -> None:
        if workers < 1 or max_queue < 1 or batch_window < 0:
            raise ValueError("workers and max_queue must be at least 1 and batch_window at least 0")
        self.client = client
        self._owns_client = owns_client
        self.workers = workers
        self.max_queue = max_queue
        self.batch_window = batch_window
        self.batching = callable(getattr(client.backend, "detect_batch", None))
        size = max_batch or int(getattr(client.backend, "batch_size", 8) or 8)
        self.max_batch = max(1, size) if self.batching else 1
        self.stats = DispatcherStats()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="facekit-serve")
        self._admitted = 0
        self._running = 0
        self._groups: dict[str, list[_Job]] = {}
        self._lock = threading.Lock()

    @property
    def pending(self) -> int:
        """Requests in the server now (waiting or running)."""
        return self._admitted

    def retry_after(self) -> int:
        """Seconds a refused client should wait: the time the pool needs to work through the
        requests already admitted (measured busy seconds per image x admitted / workers), at least 1."""
        stats = self.stats
        per_image = stats.seconds_busy / stats.images_done if stats.images_done else 0.5
        drain = per_image * self._admitted / self.workers
        return max(1, math.ceil(drain))

    async def detect(self, image: Any, **kwargs: Any) -> DetectionResult:
        """Detect faces in ``image`` (anything ``FaceClient.detect`` takes) with ``kwargs``.

        Raises:
            Overloaded: ``max_queue`` requests are already in the server.
            FacekitError: Whatever the client raised for this image.
        """
        if self._admitted >= self.max_queue:
            self.stats.refused += 1
            raise Overloaded(
                f"Rate limit is exceeded: {self._admitted} requests are queued (limit {self.max_queue}). "
                f"Try again in {self.retry_after()} seconds.",
                retry_after=float(self.retry_after()),
                provider="serve",
                status=429,
            )
        self._admitted += 1
        self.stats.accepted += 1
        try:
            loop = asyncio.get_running_loop()
            if not self.batching:
                return await loop.run_in_executor(self._pool, self._run_one, image, kwargs)
            future: asyncio.Future[DetectionResult] = loop.create_future()
            key = json.dumps(kwargs, sort_keys=True, default=repr)
            group = self._groups.get(key)
            if group is None:
                group = self._groups[key] = []
                loop.call_later(self.batch_window, self._flush, key, kwargs)
            group.append(_Job(image, future))
            if len(group) >= self.max_batch:
                self._flush(key, kwargs)
            return await future
        finally:
            self._admitted -= 1

    def _flush(self, key: str, kwargs: dict[str, Any]) -> None:
        group = self._groups.pop(key, None)
        if not group:
            return
        # Split across the pool so that batching never leaves a worker idle: 4 requests on
        # 2 workers run as 2 batches of 2, not 1 batch of 4 on one thread.
        size = math.ceil(len(group) / min(self.workers, len(group)))
        for start in range(0, len(group), size):
            self._submit(group[start : start + size], kwargs)

    def _submit(self, group: list[_Job], kwargs: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        self.stats.batches += 1
        self.stats.batched_images += len(group)
        self.stats.largest_batch = max(self.stats.largest_batch, len(group))
        images = [job.image for job in group]
        done = loop.run_in_executor(self._pool, self._run_batch, images, kwargs)

        def deliver(task: asyncio.Future[list[tuple[DetectionResult | None, BaseException | None]]]) -> None:
            error = task.exception()
            outcomes = [(None, error)] * len(group) if error is not None else task.result()
            for job, (result, failure) in zip(group, outcomes, strict=True):
                if job.future.done():
                    continue
                if failure is not None:
                    job.future.set_exception(failure)
                else:
                    assert result is not None
                    job.future.set_result(result)

        done.add_done_callback(deliver)

    def _run_one(self, image: Any, kwargs: dict[str, Any]) -> DetectionResult:
        start = time.monotonic()
        try:
            return self.client.detect(image, **kwargs)
        finally:
            with self._lock:
                self.stats.seconds_busy += time.monotonic() - start
                self.stats.images_done += 1

    def _run_batch(self, images: list[Any], kwargs: dict[str, Any]) -> list[tuple[DetectionResult | None, BaseException | None]]:
        start = time.monotonic()
        try:
            items = list(self.client.detect_many(images, **kwargs))
        finally:
            with self._lock:
                self.stats.seconds_busy += time.monotonic() - start
                self.stats.images_done += len(images)
        return [(item.result, item.error) for item in items]

    def close(self) -> None:
        """Stop the pool (waiting for running work) and close the client if the server built it."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._owns_client:
            self.client.close()
