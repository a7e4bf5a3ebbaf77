"""A rate limit shared by every worker of a Dask cluster: :class:`ClusterRateLimiter`.

The limiter's state (the next free slot of a generic cell rate algorithm) lives on the
Dask scheduler, installed there as a handler the way ``distributed``'s own ``Semaphore`` and
``Variable`` are; each call reserves its slot with one round trip and sleeps on the worker
until the slot comes. All slots are computed on the scheduler's clock, so the workers' clocks
never matter, and a worker that dies only leaves unused slots (the limit is never exceeded).

Outside a ``distributed`` cluster (the threaded or synchronous scheduler) the limiter falls back
to a :class:`~facekit.RateLimiter` in the process, which is then the whole "cluster".
"""

from __future__ import annotations

import threading
import time
from typing import Any

from facekit._ratelimit import RateLimiter

__all__ = ["ClusterRateLimiter"]

_HANDLER = "facekit_rate_reserve"
_installed: set[str] = set()
_local: dict[str, RateLimiter] = {}
_lock = threading.Lock()


def _install(dask_scheduler: Any) -> bool:
    """Add the reserve handler to the scheduler (idempotent; state survives re-installs)."""
    if _HANDLER in dask_scheduler.handlers:
        return False
    state: dict[str, float] = getattr(dask_scheduler, "_facekit_rate_next_free", None) or {}
    dask_scheduler._facekit_rate_next_free = state

    def reserve(name: str, interval: float, burst: int) -> float:
        now = time.monotonic()
        slot = max(state.get(name, float("-inf")), now - (burst - 1) * interval)
        state[name] = slot + interval
        return max(0.0, slot - now)

    dask_scheduler.handlers[_HANDLER] = reserve
    return True


class ClusterRateLimiter(RateLimiter):
    """At most ``calls`` per ``period`` seconds across every worker of the cluster.

    Pass it as ``rate_limiter=`` to :func:`facekit.dask.detect` (or give ``rate_limit=`` calls
    per second). Limiters with the same ``name`` share one budget, whatever their rate; use
    one name per provider account.

    Args:
        calls: Calls allowed per period.
        period: Period, seconds (default 1: ``calls`` is a rate per second).
        burst: Calls that may go at once after an idle spell (default 1: evenly spaced).
        name: The budget's name on the scheduler.

    Example:
        >>> limiter = ClusterRateLimiter(10)          # 10 calls/s for the whole cluster
        >>> frame = facekit.dask.detect(urls, provider="aws", rate_limiter=limiter)
    """

    def __init__(self, calls: float, period: float = 1.0, *, burst: int = 1, name: str = "facekit") -> None:
        super().__init__(calls, period, burst=burst)
        self.calls = calls
        self.period = period
        self.name = name
        self._client: Any = None

    def bind(self) -> ClusterRateLimiter:
        """A copy tied to this task's ``distributed`` client, usable from any thread of the process.

        Call it in the task's own thread (where Dask makes its client known); the partition
        runner does, before handing the limiter to the threads that call the provider.
        """
        bound = _rebuild(self.calls, self.period, self.burst, self.name)
        bound._client = _worker_client()
        if bound._client is not None:
            address = str(bound._client.scheduler.address)
            with _lock:
                if address not in _installed:
                    bound._client.run_on_scheduler(_install)
                    _installed.add(address)
        return bound

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.calls, self.period, self.burst, self.name))

    def reserve(self) -> float:
        """Reserve the next slot of the cluster's budget; returns seconds to wait before using it."""
        client = self._client
        if client is None:
            with _lock:
                local = _local.setdefault(self.name, RateLimiter(self.calls, self.period, burst=self.burst))
            return local.reserve()
        wait: float = client.sync(
            client.scheduler.facekit_rate_reserve, name=self.name, interval=self.interval, burst=self.burst
        )
        return wait

    def __repr__(self) -> str:
        return f"ClusterRateLimiter({self.rate:g}/s, burst={self.burst}, name={self.name!r})"


def _rebuild(calls: float, period: float, burst: int, name: str) -> ClusterRateLimiter:
    return ClusterRateLimiter(calls, period, burst=burst, name=name)


def _worker_client() -> Any:
    """The ``distributed`` client of this worker or driver, or None outside a cluster."""
    try:
        from distributed import get_client

        return get_client()
    except (ImportError, ValueError):
        return None
