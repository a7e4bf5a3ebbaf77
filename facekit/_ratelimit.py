"""A thread-safe client-side rate limiter that backends and batches can share.

It spaces calls evenly (a generic cell rate algorithm with a burst allowance), so that a
free-tier Azure key (20 calls per minute) or any quota is never exceeded by facekit itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """Allow at most ``calls`` per ``period`` seconds, shared across threads.

    Args:
        calls: Calls allowed per period.
        period: Period, seconds (default 1: ``calls`` is a rate per second).
        burst: Calls that may go at once after an idle spell (default 1: evenly spaced).
        clock: Monotonic clock, seconds (injectable for tests).
        sleep: Sleep function (injectable for tests).

    Example:
        >>> limiter = RateLimiter.per_minute(20)   # Azure free tier
        >>> limiter.acquire()                      # blocks until a call may go
        0.0
    """

    def __init__(
        self,
        calls: float,
        period: float = 1.0,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if calls <= 0 or period <= 0:
            raise ValueError("calls and period must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.interval = period / calls
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_free = float("-inf")

    @classmethod
    def per_minute(cls, calls: float, *, burst: int = 1) -> RateLimiter:
        """A limiter of ``calls`` per minute."""
        return cls(calls, 60.0, burst=burst)

    @property
    def rate(self) -> float:
        """Calls per second allowed."""
        return 1.0 / self.interval

    def reserve(self) -> float:
        """Reserve the next slot without sleeping; returns seconds to wait before using it."""
        with self._lock:
            now = self._clock()
            earliest = now - (self.burst - 1) * self.interval
            slot = max(self._next_free, earliest)
            self._next_free = slot + self.interval
            return max(0.0, slot - now)

    def acquire(self) -> float:
        """Block until a call may go; returns the seconds waited."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait

    def __repr__(self) -> str:
        return f"RateLimiter({self.rate:g}/s, burst={self.burst})"
