"""A thread-safe client-side rate limiter that backends and batches can share.

It spaces calls evenly (a generic cell rate algorithm with a burst allowance), so that a
free-tier Azure key (20 calls per minute) or any quota is never exceeded by facekit itself.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable

__all__ = ["RateLimiter", "parse_rate"]

#: Period names accepted by :func:`parse_rate`, seconds.
_PERIODS: dict[str, float] = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "min": 60.0,
    "minute": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
}
_RATE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*(?:/\s*([A-Za-z]+?)s?)?\s*$")


def parse_rate(text: str) -> tuple[float, float]:
    """Read a rate such as ``"20/min"``, ``"5/s"``, ``"1000/h"`` or ``"2.5"`` (calls per second).

    Args:
        text: A positive number of calls, optionally ``/s``, ``/sec``, ``/second``, ``/min``,
            ``/minute``, ``/h`` or ``/hour`` (plural ``s`` allowed); a bare number is per second.

    Returns:
        ``(calls, period)``: calls allowed per ``period`` seconds, as :class:`RateLimiter` takes them.

    Raises:
        ValueError: Not a rate, an unknown period, or a rate that is not positive and finite;
            the message shows the accepted forms.
    """
    match = _RATE.match(text)
    unit = (match.group(2) or "s").lower() if match else ""
    if match is None or unit not in _PERIODS:
        raise ValueError(f"not a rate: {text!r}; write CALLS/PERIOD such as 20/min, 5/s or 1000/h (or calls per second)")
    calls = float(match.group(1))
    if not math.isfinite(calls) or calls <= 0:
        raise ValueError(f"the rate must be positive, got {text!r}")
    return calls, _PERIODS[unit]


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

    @classmethod
    def parse(cls, text: str, *, burst: int = 1) -> RateLimiter:
        """A limiter from a rate such as ``"20/min"``, ``"5/s"`` or ``"1000/h"`` (see :func:`parse_rate`).

        Raises:
            ValueError: ``text`` is not a positive rate.
        """
        calls, period = parse_rate(text)
        return cls(calls, period, burst=burst)

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

    async def acquire_async(self) -> float:
        """Wait without blocking the event loop until a call may go; returns the seconds waited.

        The same limiter can be shared by threads and event loops: slots are reserved under
        one lock, and only the wait differs (``asyncio.sleep`` here).
        """
        import asyncio

        wait = self.reserve()
        if wait > 0:
            await asyncio.sleep(wait)
        return wait

    def __repr__(self) -> str:
        return f"RateLimiter({self.rate:g}/s, burst={self.burst})"
