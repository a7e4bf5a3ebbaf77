"""The async backend seam, and the backend that runs a blocking backend on bounded threads.

An :class:`AsyncBackend` is what :class:`~facekit.AsyncFaceClient` awaits: it takes the same
prepared payload and checked request as :meth:`Backend.detect` and returns the same
:class:`~facekit.backends._base.BackendResult`, so the pipeline around it (option check,
image preparation, validation, assembly) is the sync client's. Each sync backend makes its
async twin through :func:`facekit.backends._async_registry.async_backend_for`:

* ``azure-rest``: native, aiohttp (``facekit.backends.azure_rest_async``);
* ``azure-sdk``: native, ``azure.ai.vision.face.aio`` (``facekit.backends.azure_sdk_async``);
* ``aws`` and ``local``: :class:`ThreadOffloadBackend`, the sync backend on a bounded pool of
  threads (boto3 clients are thread-safe; onnxruntime releases the GIL). The event loop never
  runs a boto3 call or an inference.
"""

from __future__ import annotations

import abc
import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from facekit._http import CancelHandle

if TYPE_CHECKING:
    from facekit._image import Payload
    from facekit._models import DetectRequest
    from facekit.backends._base import Backend, BackendResult

__all__ = ["AsyncBackend", "ThreadOffloadBackend", "run_in_thread"]

T = TypeVar("T")


class AsyncBackend(abc.ABC):
    """A backend the event loop awaits. ``sync`` is the backend it was made from (its
    configuration, capabilities and option list are the pipeline's)."""

    sync: Backend

    @abc.abstractmethod
    async def detect(self, payload: Payload, request: DetectRequest) -> BackendResult:
        """The provider's answer for one prepared payload (faces in payload pixels)."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections and threads."""


async def run_in_thread(executor: ThreadPoolExecutor | None, function: Callable[..., T], *args: Any) -> T:
    """Run ``function(*args)`` on ``executor`` with the caller's context (the call's limits).

    If the awaiting task is cancelled, the connections ``function`` opened are shut
    (:class:`~facekit._http.CancelHandle`), so a blocked read returns and the thread ends at
    once; work not yet started is dropped from the pool's queue.
    """
    handle = CancelHandle()
    context = contextvars.copy_context()

    def job() -> T:
        with handle.scope():
            return function(*args)

    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(executor, functools.partial(context.run, job))
    try:
        return await future
    except asyncio.CancelledError:
        handle.cancel()
        raise


class ThreadOffloadBackend(AsyncBackend):
    """A blocking backend run on at most ``threads`` threads at once.

    Args:
        backend: The sync backend (its client, session and guards are used unchanged).
        threads: Most calls running at once; more wait in the pool's queue (no thread each).
    """

    def __init__(self, backend: Backend, *, threads: int) -> None:
        if threads < 1:
            raise ValueError("threads must be at least 1")
        self.sync = backend
        self._threads = threads
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"facekit-{backend.name}")

    async def detect(self, payload: Payload, request: DetectRequest) -> BackendResult:
        return await run_in_thread(self._executor, self.sync.detect, payload, request)

    async def aclose(self) -> None:
        """Wait for running calls to end (cancelled ones end at once), then stop the threads."""
        await asyncio.get_running_loop().run_in_executor(None, functools.partial(self._executor.shutdown, wait=True))

    def __repr__(self) -> str:
        return f"ThreadOffloadBackend({self.sync!r}, threads={self._threads})"
