"""``AsyncFaceClient``: :class:`~facekit.FaceClient` for asyncio code, on the same pipeline.

Everything but the waiting is the sync client's: the constructor and its configuration
precedence (a :class:`FaceClient` is built and its backend kept), the one option check
(:func:`facekit._pipeline.check_call`), image preparation (encoded bytes sent as they are
are opened on the loop, :func:`~facekit._pipeline.prepare_in_memory`, a header read; anything
to decode, read from disk or download goes to :func:`~facekit._pipeline.prepare_image` on a
small thread pool, so decoding never blocks the loop), validation and assembly
(:func:`~facekit._pipeline.finish`), the retry policy, the rate limiter and the error tree.
The backend call is awaited on the backend's async twin
(:func:`facekit.backends._async_registry.async_backend_for`): aiohttp for ``azure-rest`` and
``aws`` (bytes), ``azure.ai.vision.face.aio`` for ``azure-sdk``, threads for ``local`` (one
inference thread) and ``s3://`` inputs. Concurrent detections take turns
(:class:`~facekit._async_turns.Turns`) so that each request leaves as soon as it is built.
The call's total deadline is the sync client's :func:`~facekit._limits.call_limits` scope,
enforced on the loop by :func:`~facekit._async_limits.within_deadline`.

Example:
    >>> async with AsyncFaceClient("azure-rest") as client:
    ...     result = await client.detect("photo.jpg", attributes=["head_pose"])
    ...     async for item in client.detect_many(paths, concurrency=16):
    ...         print(item.index, len(item.result.faces) if item.ok else item.error)
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
import warnings
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Final, TypeVar

from facekit._async_limits import within_deadline
from facekit._async_turns import Turns
from facekit._batch import BatchItem, check_batch
from facekit._client import FaceClient
from facekit._errors import InvalidRequestError
from facekit._image import ImageInput, SourceImage
from facekit._models import DetectionResult
from facekit._pipeline import (
    Call,
    Pipeline,
    Prepared,
    check_call,
    finish,
    limits,
    prepare_image,
    prepare_in_memory,
)
from facekit._warnings import FacekitWarning
from facekit.backends._async_base import run_in_thread
from facekit.backends._async_registry import async_backend_for

if TYPE_CHECKING:
    from facekit._identity import SimilarFaces, Verification
    from facekit._ratelimit import RateLimiter
    from facekit.backends._async_base import AsyncBackend
    from facekit.backends._base import Backend, Capabilities

__all__ = ["DEFAULT_CONCURRENCY", "DEFAULT_PREPARE_THREADS", "AsyncFaceClient"]

T = TypeVar("T")

#: Detections ``detect_many`` runs at once when ``concurrency`` is not given.
DEFAULT_CONCURRENCY: Final = 8
#: Threads that open, decode and fit images for the backend.
DEFAULT_PREPARE_THREADS: Final = 4
#: Checked calls a client remembers (by their arguments) before it forgets them all.
_REMEMBERED_CALLS: Final = 64
#: Threads that run identity calls (``verify``, ``find_similar``) at once.
IDENTITY_THREADS: Final = 8


class AsyncFaceClient:
    """Detect faces from asyncio code with any backend; the same results as :class:`FaceClient`.

    Args:
        provider: As :class:`FaceClient` (``"local"``, ``"azure-rest"``, ``"azure-sdk"``, ``"aws"`` ...).
        config: Path of a TOML config file.
        profile: Profile name in the config file.
        backend: A ready sync backend instance (its async twin is made from it).
        threads: Most blocking backend calls at once for backends run on threads (``aws``: 64,
            ``local``: 1 inference thread); native async backends use none.
        prepare_threads: Threads that open and decode images (default 4).
        **options: As :class:`FaceClient` (backend options, ``deadline``, ``strict`` ...).

    Example:
        >>> async with AsyncFaceClient("local") as client:
        ...     result = await client.detect("photo.jpg", attributes=["age"])
    """

    def __init__(
        self,
        provider: str | None = None,
        *,
        config: str | os.PathLike[str] | None = None,
        profile: str | None = None,
        backend: Backend | None = None,
        threads: int | None = None,
        prepare_threads: int = DEFAULT_PREPARE_THREADS,
        **options: Any,
    ) -> None:
        if threads is not None and threads < 1:
            raise InvalidRequestError(f"threads must be at least 1, got {threads}")
        if prepare_threads < 1:
            raise InvalidRequestError(f"prepare_threads must be at least 1, got {prepare_threads}")
        self._client = FaceClient(provider, config=config, profile=profile, backend=backend, **options)
        self.provider: str = self._client.provider
        self._async: AsyncBackend = async_backend_for(self._client.backend, threads=threads)
        self._prepare = ThreadPoolExecutor(max_workers=prepare_threads, thread_name_prefix="facekit-prepare")
        self._turns = Turns()
        self._identity: ThreadPoolExecutor | None = None
        self._calls: dict[tuple[tuple[str, type, Any], ...], Call] = {}
        self._closed = False

    @classmethod
    def from_env(cls, **overrides: Any) -> AsyncFaceClient:
        """Build a client from environment variables only; keyword arguments win."""
        return cls(None, **overrides)

    @classmethod
    def from_config(cls, path: str | os.PathLike[str], profile: str | None = None, **overrides: Any) -> AsyncFaceClient:
        """Build a client from a TOML config file profile; environment and ``overrides`` win."""
        return cls(overrides.pop("provider", None), config=path, profile=profile, **overrides)

    # -- introspection ---------------------------------------------------------------------
    @property
    def backend(self) -> Backend:
        """The sync backend (configuration, capabilities, options)."""
        return self._client.backend

    @property
    def async_backend(self) -> AsyncBackend:
        """The async twin the calls are awaited on."""
        return self._async

    @property
    def capabilities(self) -> Capabilities:
        """What the configured backend can return."""
        return self._client.capabilities

    @property
    def pipeline(self) -> Pipeline:
        """The pipeline every call runs (the sync client's)."""
        return self._client.pipeline

    def __repr__(self) -> str:
        return "Async" + repr(self._client)

    # -- lifetime --------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise InvalidRequestError("this AsyncFaceClient is closed: make a new one")

    async def aclose(self) -> None:
        """Close connections and stop this client's threads (waits for calls still running)."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._async.aclose()
        finally:
            await asyncio.to_thread(self._prepare.shutdown, wait=True)
            if self._identity is not None:
                await asyncio.to_thread(self._identity.shutdown, wait=True)
            self._client.close()

    async def __aenter__(self) -> AsyncFaceClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- detection -------------------------------------------------------------------------
    async def detect(self, image: ImageInput | SourceImage, **detect_kwargs: Any) -> DetectionResult:
        """Detect faces in one image; the arguments and the result are :meth:`FaceClient.detect`'s.

        Raises:
            FacekitError: As :meth:`FaceClient.detect` (``DeadlineExceededError`` past ``deadline``).
        """
        pipeline = self.pipeline
        call = self._checked_call(pipeline, detect_kwargs)
        for note in call.notes:
            warnings.warn(note, FacekitWarning, stacklevel=2)
        return await self._detect_checked(pipeline, call, image)

    def _checked_call(self, pipeline: Pipeline, detect_kwargs: dict[str, Any]) -> Call:
        """:func:`check_call`, remembered for arguments seen before (a check is pure and the
        calls of one client usually repeat theirs; unhashable arguments are checked each time)."""
        try:
            key = tuple((name, type(value), value) for name, value in sorted(detect_kwargs.items()))
            call = self._calls.get(key)
        except TypeError:  # a list of attributes, a dict of options: not remembered
            return check_call(pipeline, **detect_kwargs)
        if call is None:
            call = check_call(pipeline, **detect_kwargs)
            if len(self._calls) >= _REMEMBERED_CALLS:
                self._calls.clear()
            self._calls[key] = call
        return call

    async def _detect_checked(
        self, pipeline: Pipeline, call: Call, image: Any, rate_limiter: RateLimiter | None = None
    ) -> DetectionResult:
        self._check_open()
        with limits(pipeline, call):
            async with within_deadline(f"the detection on {self.provider}", provider=self.provider):
                await self._turns.take()  # this request leaves before the next one is built
                prepared = prepare_in_memory(pipeline, call, image)  # bytes sent as they are: no thread
                if not isinstance(prepared, Prepared):
                    opened = image if prepared is None else prepared
                    prepared = await run_in_thread(self._prepare, prepare_image, pipeline, call, opened)
                if rate_limiter is not None:
                    await rate_limiter.acquire_async()
                output = await self._async.detect(prepared.payload, call.checked)
        return finish(pipeline, call, prepared, output)

    # -- identity ---------------------------------------------------------------------------
    async def verify(
        self, a: Any, b: Any, *, threshold: float | None = None, quality_filter: str | None = None
    ) -> Verification:
        """Whether two faces are the same person: :meth:`FaceClient.verify`'s arguments, checks,
        errors and result, run on this client's identity threads (the loop never decodes, embeds
        or waits on a socket; cancelling the call shuts its connections).

        Raises:
            UnsupportedFeatureError: The backend cannot verify (raised before any request).
            InvalidRequestError: No face in an image, a face without embedding / face id, or
                the client is closed.
        """
        return await self._identity_call(
            functools.partial(self._client.verify, a, b, threshold=threshold, quality_filter=quality_filter)
        )

    async def find_similar(
        self,
        query: Any,
        candidates: Any,
        *,
        top_k: int = 10,
        threshold: float | None = None,
        quality_filter: str | None = None,
    ) -> SimilarFaces:
        """Candidate faces ranked by likeness to the query face: :meth:`FaceClient.find_similar`'s
        arguments, checks, errors and result, run on this client's identity threads.

        Raises:
            UnsupportedFeatureError: The backend cannot compare faces.
            InvalidRequestError: As :meth:`FaceClient.find_similar`, or the client is closed.
        """
        return await self._identity_call(
            functools.partial(
                self._client.find_similar,
                query,
                candidates,
                top_k=top_k,
                threshold=threshold,
                quality_filter=quality_filter,
            )
        )

    async def _identity_call(self, job: Callable[[], T]) -> T:
        self._check_open()
        if self._identity is None:
            self._identity = ThreadPoolExecutor(max_workers=IDENTITY_THREADS, thread_name_prefix="facekit-identity")
        return await run_in_thread(self._identity, job)

    def detect_many(
        self,
        images: Iterable[Any] | AsyncIterable[Any] | str | os.PathLike[str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        rate_limiter: RateLimiter | None = None,
        **detect_kwargs: Any,
    ) -> AsyncIterator[BatchItem]:
        """Detect faces in many images; an async iterator of one ``BatchItem`` per input, in input order.

        The request is checked now, before any input (like :meth:`FaceClient.detect_many`);
        afterwards an input that fails gets an item with ``error`` set and the batch goes on.
        At most ``concurrency`` detections run at once and ``2 * concurrency`` inputs are
        read ahead, so an endless async generator of inputs is fine. Leaving the ``async for``
        early cancels the detections in flight.

        Args:
            images: An iterable or async iterable of inputs :meth:`detect` takes, or one path,
                directory or glob expanded as ``facekit detect`` does.
            concurrency: Detections at once (>= 1).
            rate_limiter: A :class:`~facekit.RateLimiter` (shareable with sync clients and
                threads) waited on, without blocking the loop, before each backend call.
            **detect_kwargs: As :meth:`detect`, for every input; ``deadline`` applies to each.

        Raises:
            InvalidRequestError: A bad request or ``concurrency``; an empty directory or glob.
            ModelNotAvailableError: The local engine's weights are missing and cannot be fetched.
            TypeError: ``images`` is ``bytes`` (one image: use :meth:`detect`).
        """
        if not isinstance(images, (bytes, bytearray, memoryview)) and (
            isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1
        ):
            raise InvalidRequestError(f"concurrency must be an integer >= 1, got {concurrency!r}")
        pipeline = self.pipeline
        call, inputs = check_batch(pipeline, images, detect_kwargs)
        for note in call.notes:
            warnings.warn(note, FacekitWarning, stacklevel=2)
        return self._run_many(pipeline, call, inputs, concurrency, rate_limiter)

    async def _run_many(
        self,
        pipeline: Pipeline,
        call: Call,
        images: Iterable[Any] | AsyncIterable[Any],
        concurrency: int,
        rate_limiter: RateLimiter | None,
    ) -> AsyncIterator[BatchItem]:
        gate = asyncio.Semaphore(concurrency)

        async def one(index: int, image: Any) -> BatchItem:
            async with gate:
                start = time.monotonic()
                try:
                    result = await self._detect_checked(pipeline, call, image, rate_limiter)
                except Exception as exc:  # per-input errors are the caller's data, not the batch's end
                    return BatchItem(index, image, error=exc, seconds=time.monotonic() - start)
                return BatchItem(index, image, result=result, seconds=time.monotonic() - start)

        source = _numbered(images)
        pending: deque[asyncio.Task[BatchItem]] = deque()
        exhausted = False

        async def refill() -> None:
            nonlocal exhausted
            while not exhausted and len(pending) < 2 * concurrency:
                try:
                    index, image = await anext(source)
                except StopAsyncIteration:
                    exhausted = True
                    return
                pending.append(asyncio.create_task(one(index, image)))

        try:
            await refill()
            while pending:
                item = await pending.popleft()
                await refill()
                yield item
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            await source.aclose()


async def _numbered(images: Iterable[Any] | AsyncIterable[Any]) -> AsyncGenerator[tuple[int, Any], None]:
    """``(index, input)`` pairs from a sync or async iterable."""
    if isinstance(images, AsyncIterable):
        index = 0
        async for image in images:
            yield index, image
            index += 1
        return
    iterator: Iterator[Any] = iter(images)
    for index, image in enumerate(iterator):
        yield index, image
