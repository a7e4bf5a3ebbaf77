"""The bounds of one call: a total deadline and the largest answer facekit accepts.

Per-socket timeouts bound each read, not a call: a server that trickles one byte per read
keeps a connection alive as long as it likes, and retries multiply that. So every call runs
inside a :func:`call_limits` scope that holds a :class:`Deadline` (monotonic clock) and the
answer bounds; every network path reads them from there (:func:`current_limits`):

* :mod:`facekit._http` shuts a connection that outlives the deadline and caps socket timeouts
  to the time left (requests, the Azure SDK's requests transport, botocore);
* :mod:`facekit._retry` never sleeps past the deadline;
* the wire normalisers refuse answers with more faces than :attr:`CallLimits.max_response_faces`.

The scope is a :class:`contextvars.ContextVar`, so it follows the call into threads started with
``contextvars.copy_context()`` (and ``asyncio.to_thread``) and never leaks between calls.
"""

from __future__ import annotations

import contextvars
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

from facekit._errors import ConfigurationError, DeadlineExceededError, InvalidRequestError, ProviderError

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_RESPONSE_FACES",
    "CallLimits",
    "Deadline",
    "call_cancelled",
    "call_limits",
    "cancellable",
    "check_face_count",
    "current_limits",
    "parse_deadline",
    "parse_positive_int",
]

#: Total seconds one ``detect`` may take, downloads and retries included.
DEFAULT_DEADLINE: Final = 120.0
#: Largest provider answer read, bytes (Azure and Rekognition answers are at most a few hundred KB).
DEFAULT_MAX_RESPONSE_BYTES: Final = 8 * 1024 * 1024
#: Most faces accepted in one answer (both services return at most 100).
DEFAULT_MAX_RESPONSE_FACES: Final = 1000


@dataclass(frozen=True)
class Deadline:
    """A point on the monotonic clock by which a call must end.

    Attributes:
        seconds: The budget it was made with, seconds.
        expires_at: ``time.monotonic()`` value at which it expires.
    """

    seconds: float
    expires_at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        """A deadline ``seconds`` from now."""
        return cls(seconds=seconds, expires_at=time.monotonic() + seconds)

    def remaining(self) -> float:
        """Seconds left (0 when expired)."""
        return max(0.0, self.expires_at - time.monotonic())

    def expired(self) -> bool:
        """True once the deadline has passed."""
        return time.monotonic() >= self.expires_at

    def error(self, what: str, *, provider: str | None = None) -> DeadlineExceededError:
        """The error to raise when ``what`` did not finish in time."""
        return DeadlineExceededError(
            f"{what} did not finish within the call's deadline of {self.seconds:g} s (retries included); "
            "raise deadline= (FaceClient or detect), or check the service and the network",
            provider=provider,
        )

    def check(self, what: str, *, provider: str | None = None) -> None:
        """Raise :class:`DeadlineExceededError` if the deadline has passed.

        Args:
            what: What was about to start, for the message (e.g. ``"the request to Azure"``).
            provider: Backend name to record on the error.
        """
        if self.expired():
            raise self.error(what, provider=provider)


@dataclass(frozen=True)
class CallLimits:
    """Bounds that apply to one call.

    Attributes:
        deadline: The total deadline, or None for none.
        max_response_bytes: Largest answer body read, bytes.
        max_response_faces: Most faces accepted in one answer.
    """

    deadline: Deadline | None = None
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    max_response_faces: int = DEFAULT_MAX_RESPONSE_FACES


_CURRENT: contextvars.ContextVar[CallLimits | None] = contextvars.ContextVar("facekit_call_limits", default=None)


def current_limits() -> CallLimits:
    """The limits of the call in progress (defaults, without a deadline, outside any call)."""
    return _CURRENT.get() or CallLimits()


def parse_deadline(value: object, *, name: str = "deadline") -> float | None:
    """Check a deadline setting: seconds > 0, or None for no total deadline.

    Raises:
        InvalidRequestError: Not a positive finite number (also ``bool``).
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InvalidRequestError(f"{name} must be seconds > 0 or None, got {value!r}")
    try:
        seconds = float(value)
    except ValueError:
        raise InvalidRequestError(f"{name} must be seconds > 0 or None, got {value!r}") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise InvalidRequestError(f"{name} must be seconds > 0 or None, got {value!r}")
    return seconds


def parse_positive_int(value: object, *, name: str) -> int:
    """Check a count setting: an integer >= 1 (or its text).

    Raises:
        ConfigurationError: Anything else.
    """
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ConfigurationError(f"{name} must be an integer >= 1, got {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer >= 1, got {value!r}") from None
    if number < 1:
        raise ConfigurationError(f"{name} must be an integer >= 1, got {value!r}")
    return number


@contextmanager
def call_limits(
    deadline: float | None = DEFAULT_DEADLINE,
    *,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    max_response_faces: int = DEFAULT_MAX_RESPONSE_FACES,
) -> Iterator[CallLimits]:
    """Run the body as one call with these limits.

    A scope inside another keeps the earlier deadline when it is sooner (a batch's deadline
    is never extended by the calls in it).

    Args:
        deadline: Total seconds, or None for no total deadline.
        max_response_bytes: Largest answer body read, bytes.
        max_response_faces: Most faces accepted in one answer.
    """
    outer = _CURRENT.get()
    ours = Deadline.after(deadline) if deadline is not None else None
    if outer is not None and outer.deadline is not None and (ours is None or outer.deadline.expires_at < ours.expires_at):
        ours = outer.deadline
    limits = CallLimits(deadline=ours, max_response_bytes=max_response_bytes, max_response_faces=max_response_faces)
    token = _CURRENT.set(limits)
    try:
        yield limits
    finally:
        _CURRENT.reset(token)


def check_face_count(count: int, *, provider: str | None = None) -> None:
    """Refuse an answer listing more faces than the call accepts (before normalising any).

    Raises:
        ProviderError: ``count`` exceeds :attr:`CallLimits.max_response_faces`.
    """
    limit = current_limits().max_response_faces
    if count > limit:
        raise ProviderError(
            f"the answer lists {count:,} faces, more than the {limit:,} accepted (the services return at most 100); "
            "this is not a real answer: check the endpoint, or raise max_response_faces",
            provider=provider,
        )


#: How work running for an async caller learns that the caller cancelled it (see ``cancellable``).
_CANCELLED: contextvars.ContextVar[Callable[[], bool] | None] = contextvars.ContextVar(
    "facekit_call_cancelled", default=None
)


@contextmanager
def cancellable(cancelled: Callable[[], bool]) -> Iterator[None]:
    """Mark the body as work its caller may cancel: ``cancelled()`` tells whether it did.

    The async client runs blocking calls on threads inside this scope (through
    ``facekit._http.CancelHandle``); retry loops ask :func:`call_cancelled` and stop.
    """
    token = _CANCELLED.set(cancelled)
    try:
        yield
    finally:
        _CANCELLED.reset(token)


def call_cancelled() -> bool:
    """True inside :func:`cancellable` work whose caller cancelled it: start no new attempt."""
    cancelled = _CANCELLED.get()
    return cancelled is not None and cancelled()
