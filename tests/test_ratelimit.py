"""The shared client-side rate limiter."""

from __future__ import annotations

import threading
import time

import pytest

from facekit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_calls_are_spaced_at_the_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    start = clock.now
    waits = [limiter.acquire() for _ in range(21)]
    assert waits[0] == 0.0
    assert clock.now - start == pytest.approx(2.0)


def test_burst_lets_the_first_calls_through_after_idle() -> None:
    clock = FakeClock()
    limiter = RateLimiter(20, 60.0, burst=5, clock=clock, sleep=clock.sleep)
    assert [limiter.reserve() for _ in range(5)] == [0.0] * 5
    assert limiter.reserve() == pytest.approx(3.0)
    assert limiter.rate == pytest.approx(1 / 3)
    assert RateLimiter.per_minute(20).interval == pytest.approx(3.0)


def test_invalid_settings() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)
    with pytest.raises(ValueError):
        RateLimiter(1, burst=0)


def test_shared_across_threads_without_exceeding_the_rate() -> None:
    limiter = RateLimiter(50)  # 20 ms apart
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            limiter.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    stamps.sort()
    assert len(stamps) == 20
    # 20 calls at 50/s span at least 19 intervals (minus scheduling slack)
    assert stamps[-1] - stamps[0] >= 19 * 0.02 * 0.9
