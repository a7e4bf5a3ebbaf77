"""The retry loop of :mod:`facekit._retry` for coroutines: the same policy, waits on the event loop.

The decisions are the sync loop's pure functions (:func:`~facekit._retry.should_retry`,
:func:`~facekit._retry.retry_delay`, :func:`~facekit._retry.fits_deadline`), so a sync and an
async client retry exactly the same errors, honour ``Retry-After`` the same way and never
start a retry whose wait would end past the call's deadline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from facekit._retry import RetryPolicy, fits_deadline, retry_delay, should_retry

__all__ = ["call_with_retries_async"]

logger = logging.getLogger("facekit.retry")

T = TypeVar("T")


async def call_with_retries_async(
    attempt: Callable[[], Awaitable[T]],
    policy: RetryPolicy | None = None,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Await ``attempt()`` and retry it per ``policy``; the last error is raised unchanged.

    Args:
        attempt: Makes one attempt (a new coroutine each call).
        policy: The retry policy (the sync client's; default :class:`RetryPolicy()`).
        sleep: Waits between attempts, seconds (``asyncio.sleep``; injectable for tests).
    """
    policy = policy or RetryPolicy()
    number = 1
    while True:
        try:
            return await attempt()
        except Exception as error:
            if not should_retry(error, number, policy) or not fits_deadline(retry_delay(error, number, policy, rng=lambda: 0.0)):
                raise
            delay = retry_delay(error, number, policy)
            logger.debug("%s: retry %d in %.2f s", type(error).__name__, number, delay)
            await sleep(delay)
            number += 1
