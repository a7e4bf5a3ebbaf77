"""Retry policy: named constants, a pure :func:`should_retry`, and a tenacity runner.

Cloud backends that make their own HTTP calls (``azure-rest``; the Azure SDK for 429 only)
run each call through :func:`call_with_retries`. Rekognition does not: botocore already
retries throttling, and a second loop on top would multiply the attempts.

Retried: :class:`RateLimitError` (429), :class:`ServiceUnavailableError` (5xx),
:class:`RequestTimeoutError` (timeouts and 408) and :class:`NetworkError` (reset, refused,
truncated body). Never retried: authentication, quota, invalid requests or images.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, TypeVar

from facekit._errors import (
    DeadlineExceededError,
    NetworkError,
    RateLimitError,
    RequestTimeoutError,
    ServiceUnavailableError,
)
from facekit._limits import call_cancelled, current_limits

if TYPE_CHECKING:  # imported on first use: it pulls in asyncio and tornado (about 90 ms)
    import tenacity

__all__ = [
    "DEFAULT_INITIAL_BACKOFF",
    "DEFAULT_MAX_BACKOFF",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_RETRY_AFTER",
    "DEFAULT_TIMEOUT",
    "RETRYABLE_STATUS_CODES",
    "RetryPolicy",
    "call_with_retries",
    "fits_deadline",
    "retry_delay",
    "should_retry",
]

T = TypeVar("T")

#: Retries after the first attempt (so at most 1 + 2 calls).
DEFAULT_MAX_RETRIES: Final = 2
#: First backoff when the service gives no Retry-After, seconds; doubles each retry.
DEFAULT_INITIAL_BACKOFF: Final = 0.5
#: Longest computed backoff, seconds.
DEFAULT_MAX_BACKOFF: Final = 8.0
#: Longest Retry-After facekit waits, seconds; a longer one is raised to the caller at once.
DEFAULT_MAX_RETRY_AFTER: Final = 60.0
#: Default (connect, read) timeout of every HTTP request, seconds.
DEFAULT_TIMEOUT: Final = (5.0, 30.0)
#: HTTP statuses worth retrying.
RETRYABLE_STATUS_CODES: Final = frozenset({408, 429, 500, 502, 503, 504})

_RETRYABLE: Final = (RateLimitError, ServiceUnavailableError, RequestTimeoutError, NetworkError)


@dataclass(frozen=True)
class RetryPolicy:
    """How many times and how long to retry.

    Attributes:
        max_retries: Retries after the first attempt (0 disables retrying).
        initial_backoff: First wait without Retry-After, seconds (doubles each retry).
        max_backoff: Cap of the computed wait, seconds.
        max_retry_after: Longest Retry-After honoured, seconds; longer waits are not retried.
        jitter: Fraction of random jitter added to computed waits (0..1).
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    initial_backoff: float = DEFAULT_INITIAL_BACKOFF
    max_backoff: float = DEFAULT_MAX_BACKOFF
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER
    jitter: float = 0.1


def should_retry(error: BaseException, attempt: int, policy: RetryPolicy = RetryPolicy()) -> bool:
    """Decide whether a failed attempt is retried (pure).

    Args:
        error: The facekit error the attempt raised.
        attempt: 1 for the first attempt, 2 for the first retry, ...
        policy: The policy.

    Returns:
        True when ``error`` is transient, attempts remain, and any Retry-After is within
        ``policy.max_retry_after``.
    """
    if attempt > policy.max_retries:
        return False
    if not isinstance(error, _RETRYABLE) or isinstance(error, DeadlineExceededError):
        return False
    if isinstance(error, RateLimitError) and error.retry_after is not None:
        return error.retry_after <= policy.max_retry_after
    return True


def retry_delay(
    error: BaseException, attempt: int, policy: RetryPolicy = RetryPolicy(), *, rng: Callable[[], float] = random.random
) -> float:
    """Seconds to wait before the next attempt (honours Retry-After, else exponential backoff).

    Args:
        error: The error of the attempt that failed.
        attempt: 1 for the first attempt, 2 for the first retry, ...
        policy: The policy.
        rng: Source of randomness in 0..1 for jitter.
    """
    if isinstance(error, RateLimitError) and error.retry_after is not None:
        return max(0.0, min(error.retry_after, policy.max_retry_after))
    base: float = min(policy.initial_backoff * (2.0 ** (attempt - 1)), policy.max_backoff)
    return base * (1.0 + policy.jitter * rng())


def fits_deadline(delay: float) -> bool:
    """True when waiting ``delay`` seconds still leaves time before the current call's deadline."""
    deadline = current_limits().deadline
    return deadline is None or delay < deadline.remaining()


def call_with_retries(
    call: Callable[[], T],
    policy: RetryPolicy = RetryPolicy(),
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``call`` and retry it per ``policy``; the last error is raised unchanged.

    Inside a call with a total deadline (:func:`facekit._limits.call_limits`), no retry starts
    whose wait would end past the deadline: the last error is raised instead.
    """
    import tenacity

    def _retry(state: tenacity.RetryCallState) -> bool:
        outcome = state.outcome
        if outcome is None or not outcome.failed:
            return False
        error = outcome.exception()
        if error is None or not should_retry(error, state.attempt_number, policy) or call_cancelled():
            return False
        return fits_deadline(retry_delay(error, state.attempt_number, policy, rng=lambda: 0.0))

    def _wait(state: tenacity.RetryCallState) -> float:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        return float(retry_delay(error, state.attempt_number, policy)) if error is not None else 0.0

    retrying = tenacity.Retrying(retry=_retry, wait=_wait, sleep=sleep, reraise=True)
    return retrying(call)
