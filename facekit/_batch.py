"""Batch detection: :meth:`FaceClient.detect_many` yields one :class:`BatchItem` per input, in order.

Every input gets an item; an error on one input is kept on its item and never stops the batch.
Two strategies, chosen from the backend:

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
import sys
import time
import warnings
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from facekit._models import DetectionResult

if TYPE_CHECKING:
    from facekit._client import FaceClient
    from facekit._ratelimit import RateLimiter

__all__ = ["DEFAULT_BATCH_SIZE", "DEFAULT_WORKERS", "BatchItem", "ProgressBar", "detect_many"]

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


def _length(images: Iterable[Any]) -> int | None:
    try:
        return len(images)  # type: ignore[arg-type]
    except TypeError:
        return None


def detect_many(
    client: FaceClient,
    images: Iterable[Any],
    *,
    workers: int | None = None,
    rate_limiter: RateLimiter | None = None,
    progress: bool | ProgressCallback = False,
    **detect_kwargs: Any,
) -> Iterator[BatchItem]:
    """Detect faces in many images; yields one :class:`BatchItem` per input, in input order.

    See :meth:`facekit.FaceClient.detect_many` for the arguments.
    """
    if workers is not None and workers < 1:
        from facekit._errors import InvalidRequestError

        raise InvalidRequestError(f"workers must be at least 1, got {workers}")
    total = _length(images)
    bar: ProgressBar | None = None
    report: ProgressCallback | None = None
    if progress is True:
        bar = ProgressBar(total, auto=True)
    elif callable(progress):
        report = progress
    backend = client.backend
    batch_method = getattr(backend, "detect_batch", None)
    stream: Generator[BatchItem, None, None]
    if callable(batch_method) and workers is None:
        stream = _batched(client, images, batch_method, rate_limiter, detect_kwargs)
    else:
        stream = _concurrent(client, images, workers or DEFAULT_WORKERS, rate_limiter, detect_kwargs)
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


def _one(
    client: FaceClient, index: int, image: Any, rate_limiter: RateLimiter | None, kwargs: dict[str, Any]
) -> BatchItem:
    start = time.monotonic()
    try:
        if rate_limiter is not None:
            rate_limiter.acquire()
        result = client.detect(image, **kwargs)
    except Exception as exc:  # per-input errors are the caller's data, not the batch's end
        return BatchItem(index, image, error=exc, seconds=time.monotonic() - start)
    return BatchItem(index, image, result=result, seconds=time.monotonic() - start)


def _concurrent(
    client: FaceClient,
    images: Iterable[Any],
    workers: int,
    rate_limiter: RateLimiter | None,
    kwargs: dict[str, Any],
) -> Generator[BatchItem, None, None]:
    if workers == 1:
        for index, image in enumerate(images):
            yield _one(client, index, image, rate_limiter, kwargs)
        return
    source = enumerate(images)
    pending: deque[Future[BatchItem]] = deque()
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="facekit-batch")
    try:
        for index, image in itertools.islice(source, 2 * workers):
            pending.append(executor.submit(_one, client, index, image, rate_limiter, kwargs))
        while pending:
            item = pending.popleft().result()
            for index, image in itertools.islice(source, 1):
                pending.append(executor.submit(_one, client, index, image, rate_limiter, kwargs))
            yield item
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _batched(
    client: FaceClient,
    images: Iterable[Any],
    batch_method: Callable[..., Sequence[Any]],
    rate_limiter: RateLimiter | None,
    kwargs: dict[str, Any],
) -> Generator[BatchItem, None, None]:
    """Chunks of ``batch_size`` inputs; the next chunk is read and decoded in a helper thread
    while the backend runs the current one (decoders and onnxruntime release the GIL)."""
    size = int(getattr(client.backend, "batch_size", DEFAULT_BATCH_SIZE) or DEFAULT_BATCH_SIZE)
    source = enumerate(images)
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="facekit-prefetch")
    try:
        chunk = list(itertools.islice(source, size))
        ahead = executor.submit(_prepare_chunk, client, chunk, kwargs) if chunk else None
        while ahead is not None:
            ready = ahead.result()
            following = list(itertools.islice(source, size))
            ahead = executor.submit(_prepare_chunk, client, following, kwargs) if following else None
            yield from _finish_chunk(client, ready, batch_method, rate_limiter, kwargs)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


@dataclass
class _PreparedChunk:
    """One chunk of inputs read, decoded and prepared for the backend."""

    chunk: list[tuple[int, Any]]
    start: float
    request: Any
    checked: Any
    notes: list[str]
    prepared: list[tuple[int, Any, Any, Any]]
    failures: dict[int, Exception]
    deadline: Any


def _prepare_chunk(client: FaceClient, chunk: list[tuple[int, Any]], kwargs: dict[str, Any]) -> _PreparedChunk:
    from facekit._image import open_image

    start = time.monotonic()
    options = dict(kwargs)
    probe_size = bool(options.pop("probe_size", False))
    fit = options.pop("fit", None)
    color_order = options.pop("color_order", "rgb")
    deadline = options.pop("deadline", ...)
    prepared: list[tuple[int, Any, Any, Any]] = []
    failures: dict[int, Exception] = {}
    request = checked = None
    notes: list[str] = []
    try:
        request = client.build_request(**options)
        checked, notes = client.backend.check_request(request)
    except Exception as exc:
        failures = {index: exc for index, _ in chunk}
    if request is not None and checked is not None:
        for index, image in chunk:
            try:
                with client.call_limits(deadline):
                    source = open_image(image, color_order=color_order, max_pixels=client.max_pixels)
                    payload = client._prepare(
                        source, probe_size=probe_size, fit=client.fit if fit is None else fit, request=checked
                    )
            except Exception as exc:
                failures[index] = exc
                continue
            prepared.append((index, image, source, payload))
    return _PreparedChunk(chunk, start, request, checked, notes, prepared, failures, deadline)


def _finish_chunk(
    client: FaceClient,
    ready: _PreparedChunk,
    batch_method: Callable[..., Sequence[Any]],
    rate_limiter: RateLimiter | None,
    kwargs: dict[str, Any],
) -> Iterator[BatchItem]:
    from facekit._client import FacekitWarning, assemble_result

    chunk, start, request, checked, notes = ready.chunk, ready.start, ready.request, ready.checked, ready.notes
    prepared, failures, deadline = ready.prepared, ready.failures, ready.deadline
    outputs: Sequence[Any] | None = None
    if prepared:
        try:
            if rate_limiter is not None:
                rate_limiter.acquire()
            with client.call_limits(deadline):
                outputs = batch_method([payload for _, _, _, payload in prepared], checked)
            if len(outputs) != len(prepared):
                outputs = None
        except Exception:
            outputs = None  # redo one by one below, so each error lands on its own input
    seconds = (time.monotonic() - start) / max(len(chunk), 1)
    results: dict[int, BatchItem] = {}
    if outputs is None:
        for index, image, _, _ in prepared:
            results[index] = _one(client, index, image, rate_limiter, kwargs)
    else:
        for note in notes:
            warnings.warn(note, FacekitWarning, stacklevel=2)
        for (index, image, source, payload), output in zip(prepared, outputs, strict=True):
            assert request is not None
            try:
                result = assemble_result(
                    provider=client.provider,
                    source=source,
                    payload=payload,
                    request=request,
                    output=output,
                    notes=notes,
                )
            except Exception as exc:
                results[index] = BatchItem(index, image, error=exc, seconds=seconds)
                continue
            results[index] = BatchItem(index, image, result=result, seconds=seconds)
    for index, image in chunk:
        if index in failures:
            yield BatchItem(index, image, error=failures[index], seconds=seconds)
        else:
            yield results[index]
