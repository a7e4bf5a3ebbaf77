"""Retry policy: a table for should_retry, delays honouring Retry-After, the tenacity runner."""

from __future__ import annotations

import pytest

from facekit import (
    AuthenticationError,
    InvalidImageError,
    NetworkError,
    QuotaExceededError,
    RateLimitError,
    RequestTimeoutError,
    RetryPolicy,
    ServiceUnavailableError,
    should_retry,
)
from facekit._retry import DEFAULT_MAX_RETRY_AFTER, call_with_retries, retry_delay

POLICY = RetryPolicy(max_retries=2, initial_backoff=0.5, max_backoff=4.0, max_retry_after=30.0, jitter=0.0)


@pytest.mark.parametrize(
    ("error", "attempt", "expected"),
    [
        (RateLimitError("429"), 1, True),
        (RateLimitError("429", retry_after=26), 1, True),
        (RateLimitError("429", retry_after=3600), 1, False),  # longer than the cap: raise at once
        (ServiceUnavailableError("503"), 2, True),
        (ServiceUnavailableError("503"), 3, False),  # attempts exhausted
        (RequestTimeoutError("408"), 1, True),
        (NetworkError("reset"), 1, True),
        (AuthenticationError("401"), 1, False),
        (QuotaExceededError("403"), 1, False),
        (InvalidImageError("400"), 1, False),
        (ValueError("bug"), 1, False),
    ],
)
def test_should_retry_table(error: BaseException, attempt: int, expected: bool) -> None:
    assert should_retry(error, attempt, POLICY) is expected


def test_retry_delay_honours_retry_after_and_backs_off() -> None:
    assert retry_delay(RateLimitError("x", retry_after=7), 1, POLICY) == 7
    assert retry_delay(RateLimitError("x", retry_after=99), 1, POLICY) == 30.0
    assert [retry_delay(ServiceUnavailableError("x"), n, POLICY) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    jittered = retry_delay(ServiceUnavailableError("x"), 1, RetryPolicy(jitter=0.5), rng=lambda: 1.0)
    assert jittered == pytest.approx(0.75)
    assert DEFAULT_MAX_RETRY_AFTER == 60.0


def test_call_with_retries_retries_then_succeeds() -> None:
    calls: list[int] = []
    sleeps: list[float] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RateLimitError("slow down", retry_after=2)
        return "ok"

    assert call_with_retries(flaky, POLICY, sleep=sleeps.append) == "ok"
    assert len(calls) == 3
    assert sleeps == [2, 2]


def test_call_with_retries_reraises_the_last_error_unchanged() -> None:
    calls: list[int] = []

    def down() -> None:
        calls.append(1)
        raise ServiceUnavailableError("down", status=503)

    with pytest.raises(ServiceUnavailableError) as info:
        call_with_retries(down, POLICY, sleep=lambda s: None)
    assert info.value.status == 503
    assert len(calls) == 3


def test_non_retryable_error_is_not_retried() -> None:
    calls: list[int] = []

    def bad() -> None:
        calls.append(1)
        raise AuthenticationError("401")

    with pytest.raises(AuthenticationError):
        call_with_retries(bad, POLICY, sleep=lambda s: None)
    assert len(calls) == 1


def test_work_whose_async_caller_cancelled_it_starts_no_retry() -> None:
    from facekit._http import CancelHandle
    from facekit._retry import call_with_retries

    handle = CancelHandle()
    attempts: list[int] = []

    def call() -> None:
        attempts.append(1)
        if len(attempts) == 1:
            handle.cancel()  # the awaiting task was cancelled while this attempt ran
        raise NetworkError("connection reset", provider="azure-rest")

    with handle.scope(), pytest.raises(NetworkError):
        call_with_retries(call, RetryPolicy(max_retries=3, initial_backoff=0.0, jitter=0.0))
    assert attempts == [1]
    attempts.clear()
    with pytest.raises(NetworkError):  # outside a cancelled scope the same error is retried
        call_with_retries(call, RetryPolicy(max_retries=3, initial_backoff=0.0, jitter=0.0))
    assert len(attempts) == 4
