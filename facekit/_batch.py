"""Batch detection: :meth:`FaceClient.detect_many` yields one :class:`BatchItem` per input, in order.

The call is checked once, before the first input (:func:`facekit._pipeline.check_call`); a
bad request raises there instead of failing every input. After that every input gets an
item; an error on one input is kept on its item and never stops the batch. Each input runs
the pipeline's steps (prepare -> backend -> validate -> assemble). Two strategies, chosen
from the backend:

* **Concurrent calls** (cloud backends): a thread pool of ``workers`` threads, at most
  ``2 * workers`` inputs in flight (so memory stays bounded for huge or endless iterables), and
  an optional shared :class:`~facekit.RateLimiter` acquired before each call.
* **Batched inference** (the local engine): when the backend has a method
  ``detect_batch(payloads, request) -> list[BackendResult]`` (one result per payload, same
  order), inputs are prepared and sent in chunks of ``backend.batch_size`` (default 8). If a
  chunk call raises, the chunk is redone one input at a time so the error lands on the input
  that caused it.

Progress is off by default; ``progress=True`` draws a ``tqdm`` bar (a widget in Jupyter, else on stderr), or pass a callable
``progress(done, total)`` (``total`` is None for iterables without a length).
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from facekit._errors import InvalidRequestError
from facekit._inputs import expand_images
from facekit._models import DetectionResult
from facekit._pipeline import (
    Call,
    Pipeline,
    Prepared,
    call_backend,
    call_backend_batch,
    check_call,
    check_ready,
    finish,
    limits,
    prepare_image,
)

if TYPE_CHECKING:
    from facekit._ratelimit import RateLimiter
    from facekit.backends._base import BackendResult

__all__ = ["DEFAULT_BATCH_SIZE", "DEFAULT_WORKERS", "BatchItem", "ProgressBar", "check_batch", "check_workers", "run_batch"]

#: Threads used for backends without batched inference when ``workers`` is None.
DEFAULT_WORKERS = 4
#: Inputs per ``detect_batch`` call when the backend does not set ``batch_size``.
DEFAULT_BATCH_SIZE = 8

ProgressCallback = Callable[[int, "int | None"], None]


@dataclass(frozen=True)
class BatchItem:
    """The outcome for one input of a batch.

    Attributes:
        index: Position of the input in the batch (0-based).
        input: The input as given (path, URL, bytes, PIL image ...).
        result: The detection result, or None when the input failed.
        error: The exception raised for this input, or None when it succeeded.
        seconds: Wall time spent on this input (preparation + backend call), seconds.
    """

    index: int
    input: Any
    result: DetectionResult | None = None
    error: Exception | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the input has a result."""
        return self.error is None and self.result is not None

    def unwrap(self) -> DetectionResult:
        """The result, or raise the input's error."""
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


class ProgressBar:
    """A progress bar drawn by ``tqdm`` (a notebook widget in Jupyter when ``auto`` is True).

    Args:
        total: Number of inputs, or None when unknown.
        stream: Where a text bar is drawn (default ``sys.stderr``).
        auto: Use ``tqdm.auto`` (a widget in Jupyter, text elsewhere) instead of the text bar.
    """

    def __init__(self, total: int | None, *, stream: IO[str] | None = None, auto: bool = False) -> None:
        if auto:
            from tqdm.auto import tqdm
        else:
            from tqdm import tqdm
        self.total = total
        self._done = 0
        self._failed = 0
        self._bar = tqdm(
            total=total, file=stream if stream is not None else sys.stderr, unit="image", dynamic_ncols=True
        )

    def update(self, done: int, failed: int = 0, *, force: bool = False) -> None:
        """Show ``done`` inputs finished, ``failed`` of them failed."""
        if failed != self._failed:
            self._failed = failed
            self._bar.set_postfix_str(f"{failed} failed", refresh=False)
        if done > self._done:
            self._bar.update(done - self._done)
            self._done = done
        elif force:
            self._bar.refresh()

    def close(self, done: int, failed: int = 0) -> None:
        """Draw the final state and end the bar."""
        self.update(done, failed, force=True)
        self._bar.close()



def check_batch(pipeline: Pipeline, images: Any, detect_kwargs: dict[str, Any]) -> tuple[Call, Any]:
    """The one check of a batch, before any input is read (``FaceClient.detect_many`` and
    ``AsyncFaceClient.detect_many``): the request, and whether the backend can serve it.

    Args:
        pipeline: The client's pipeline.
        images: What ``detect_many`` was given; a string or path (a directory, glob, file,
            URL or ``s3://`` URI) is expanded as ``facekit detect`` expands its arguments.
        detect_kwargs: ``detect``'s keyword arguments, for every input.

    Returns:
        The checked call and the inputs to iterate (sync or async iterable).

    Raises:
        TypeError: ``images`` is one image's bytes.
        InvalidRequestError: A bad request; an empty directory or glob.
        ModelNotAvailableError: The local engine's weights are missing and cannot be fetched.
    """
    if isinstance(images, (bytes, bytearray, memoryview)):
        raise TypeError("detect_many() takes an iterable of images; for one image use detect(), or pass [data]")
    call = check_call(pipeline, **detect_kwargs)
    check_ready(pipeline, call)
    return call, expand_images(images) if isinstance(images, (str, os.PathLike)) else images

def _length(images: Iterable[Any]) -> int | None:
    try:
        return len(images)  # type: ignore[arg-type]
    except TypeError:
        return None


def check_workers(workers: int | None) -> None:
    """Refuse a worker count below 1 (before any input).

    Raises:
        InvalidRequestError: ``workers < 1``.
    """
    if workers is not None and workers < 1:
        raise InvalidRequestError(f"workers must be at least 1, got {workers}")


def run_batch(
    pipeline: Pipeline,
    call: Call,
    images: Iterable[Any],
    *,
    workers: int | None = None,
    rate_limiter: RateLimiter | None = None,
    progress: bool | ProgressCallback = False,
) -> Iterator[BatchItem]:
    """Run a checked call on many images; yields one :class:`BatchItem` per input, in input order.

    The call is checked once by the caller (:func:`facekit._pipeline.check_call`); see
    :meth:`facekit.FaceClient.detect_many` for the arguments.
    """
    check_workers(workers)
    total = _length(images)
    bar: ProgressBar | None = None
    report: ProgressCallback | None = None
    if progress is True:
        bar = ProgressBar(total, auto=True)
    elif callable(progress):
        report = progress
    stream: Generator[BatchItem, None, None]
    if callable(getattr(pipeline.backend, "detect_batch", None)) and workers is None:
        stream = _batched(pipeline, call, images, rate_limiter)
    else:
        stream = _concurrent(pipeline, call, images, workers or DEFAULT_WORKERS, rate_limiter)
    done = failed = 0
    try:
        for item in stream:
            done += 1
            failed += 0 if item.ok else 1
            if bar is not None:
                bar.update(done, failed)
            if report is not None:
                report(done, total)
            yield item
    finally:
        stream.close()
        if bar is not None:
            bar.close(done, failed)


def _called(pipeline: Pipeline, call: Call, prepared: Prepared, rate_limiter: RateLimiter | None) -> DetectionResult:
    if rate_limiter is not None:
        rate_limiter.acquire()
    with limits(pipeline, call):
        output = call_backend(pipeline, call, prepared)
    return finish(pipeline, call, prepared, output)


def _one(pipeline: Pipeline, call: Call, index: int, image: Any, rate_limiter: RateLimiter | None) -> BatchItem:
    start = time.monotonic()
    try:
        if rate_limiter is not None:
            rate_limiter.acquire()
        with limits(pipeline, call):  # one deadline for this input: preparation and backend call
            prepared = prepare_image(pipeline, call, image)
            output = call_backend(pipeline, call, prepared)
        result = finish(pipeline, call, prepared, output)
    except Exception as exc:  # per-input errors are the caller's data, not the batch's end
        return BatchItem(index, image, error=exc, seconds=time.monotonic() - start)
    return BatchItem(index, image, result=result, seconds=time.monotonic() - start)


def _concurrent(
    pipeline: Pipeline, call: Call, images: Iterable[Any], workers: int, rate_limiter: RateLimiter | None
) -> Generator[BatchItem, None, None]:
    if workers == 1:
        for index, image in enumerate(images):
            yield _one(pipeline, call, index, image, rate_limiter)
        return
    source = enumerate(images)
    pending: deque[Future[BatchItem]] = deque()
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="facekit-batch")
    try:
        for index, image in itertools.islice(source, 2 * workers):
            pending.append(executor.submit(_one, pipeline, call, index, image, rate_limiter))
        while pending:
            item = pending.popleft().result()
            for index, image in itertools.islice(source, 1):
                pending.append(executor.submit(_one, pipeline, call, index, image, rate_limiter))
            yield item
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _batched(
    pipeline: Pipeline, call: Call, images: Iterable[Any], rate_limiter: RateLimiter | None
) -> Generator[BatchItem, None, None]:
    """Chunks of ``batch_size`` inputs.

    With ``backend.batch_workers`` of 1, the next chunk is read and decoded in a helper thread
    while the backend runs the current one (decoders and onnxruntime release the GIL). With
    more (the local engine on a CPU with several cores), that many chunks run at once, each
    read, decoded, detected and assembled in its own thread, and the backend is told so
    (``detect_batch(..., concurrent=True)``: the local engine then runs each on a one-thread
    session, which beats one session on every core; see docs/local-engine.md).
    """
    size = int(getattr(pipeline.backend, "batch_size", DEFAULT_BATCH_SIZE) or DEFAULT_BATCH_SIZE)
    workers = int(getattr(pipeline.backend, "batch_workers", 1) or 1)
    if workers > 1:
        yield from _parallel_chunks(pipeline, call, images, rate_limiter, size, workers)
        return
    source = enumerate(images)
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="facekit-prefetch")
    try:
        chunk = list(itertools.islice(source, size))
        ahead = executor.submit(_prepare_chunk, pipeline, call, chunk) if chunk else None
        while ahead is not None:
            ready = ahead.result()
            following = list(itertools.islice(source, size))
            ahead = executor.submit(_prepare_chunk, pipeline, call, following) if following else None
            yield from _finish_chunk(pipeline, call, ready, rate_limiter)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _parallel_chunks(
    pipeline: Pipeline,
    call: Call,
    images: Iterable[Any],
    rate_limiter: RateLimiter | None,
    size: int,
    workers: int,
) -> Generator[BatchItem, None, None]:
    """``workers`` chunks in flight, each prepared, detected and finished in its own thread;
    at most ``workers + 1`` chunks are submitted at once (memory stays bounded), yielded in order.
    A batch of one chunk (``facekit detect photo.jpg``) runs in the calling thread on the
    backend's all-core session: there is nothing to run beside it."""

    def whole(chunk: list[tuple[int, Any]]) -> list[BatchItem]:
        ready = _prepare_chunk(pipeline, call, chunk)
        return list(_finish_chunk(pipeline, call, ready, rate_limiter, concurrent=True))

    numbered = enumerate(images)
    first = list(itertools.islice(numbered, size))
    second = list(itertools.islice(numbered, size)) if len(first) == size else []
    if not second:
        if first:
            yield from _finish_chunk(pipeline, call, _prepare_chunk(pipeline, call, first), rate_limiter)
        return
    source: Iterator[tuple[int, Any]] = itertools.chain(first, second, numbered)
    pending: deque[Future[list[BatchItem]]] = deque()
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="facekit-chunk")
    try:
        while True:
            while len(pending) <= workers:
                chunk = list(itertools.islice(source, size))
                if not chunk:
                    break
                pending.append(executor.submit(whole, chunk))
            if not pending:
                return
            yield from pending.popleft().result()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


@dataclass
class _PreparedChunk:
    """One chunk of inputs read, decoded and prepared for the backend."""

    chunk: list[tuple[int, Any]]
    start: float
    prepared: list[tuple[int, Any, Prepared]]
    failures: dict[int, Exception]


def _prepare_chunk(pipeline: Pipeline, call: Call, chunk: list[tuple[int, Any]]) -> _PreparedChunk:
    start = time.monotonic()
    prepared: list[tuple[int, Any, Prepared]] = []
    failures: dict[int, Exception] = {}
    for index, image in chunk:
        try:
            with limits(pipeline, call):
                prepared.append((index, image, prepare_image(pipeline, call, image)))
        except Exception as exc:
            failures[index] = exc
    return _PreparedChunk(chunk, start, prepared, failures)


def _finish_chunk(
    pipeline: Pipeline,
    call: Call,
    ready: _PreparedChunk,
    rate_limiter: RateLimiter | None,
    *,
    concurrent: bool = False,
) -> Iterator[BatchItem]:
    chunk, start, prepared, failures = ready.chunk, ready.start, ready.prepared, ready.failures
    outputs: list[BackendResult] | None = None
    if prepared:
        try:
            if rate_limiter is not None:
                rate_limiter.acquire()
            with limits(pipeline, call):
                outputs = call_backend_batch(
                    pipeline, call, [ready for _, _, ready in prepared], concurrent=concurrent
                )
        except Exception:
            outputs = None  # redo one by one below, so each error lands on its own input
    seconds = (time.monotonic() - start) / max(len(chunk), 1)
    results: dict[int, BatchItem] = {}
    for position, (index, image, item) in enumerate(prepared):
        began = time.monotonic()
        try:
            if outputs is None:
                result = _called(pipeline, call, item, rate_limiter)
            else:
                result = finish(pipeline, call, item, outputs[position])
        except Exception as exc:
            results[index] = BatchItem(index, image, error=exc, seconds=seconds + time.monotonic() - began)
            continue
        results[index] = BatchItem(index, image, result=result, seconds=seconds + time.monotonic() - began)
    for index, image in chunk:
        if index in failures:
            yield BatchItem(index, image, error=failures[index], seconds=seconds)
        else:
            yield results[index]
