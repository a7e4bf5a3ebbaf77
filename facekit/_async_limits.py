"""The call's total deadline (:mod:`facekit._limits`) enforced on an event loop.

The sync stacks shut sockets when the deadline passes (:mod:`facekit._http`); a coroutine is
simply cancelled: :func:`within_deadline` bounds its body with :func:`asyncio.timeout` set to
the time the current :func:`~facekit._limits.call_limits` scope has left, and turns the
timeout into :class:`~facekit.DeadlineExceededError`. Cancelling the awaited request closes
its connection (aiohttp drops a connection whose answer was not read to the end).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from facekit._limits import Deadline, current_limits

#: The deadline an enclosing :func:`within_deadline` already enforces in this task.
_ENFORCED: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("facekit_async_deadline", default=None)

__all__ = ["within_deadline"]


@asynccontextmanager
async def within_deadline(what: str, *, provider: str | None = None) -> AsyncIterator[None]:
    """Bound the body by the current call's deadline (no bound outside a call or without one).

    Args:
        what: What the body does, for the message (``"the request to Azure"``).
        provider: Backend name recorded on the error.

    Raises:
        DeadlineExceededError: The deadline passed before or during the body.
    """
    deadline = current_limits().deadline
    if deadline is None:
        yield
        return
    deadline.check(what, provider=provider)
    if _ENFORCED.get() is deadline:  # an enclosing scope already times this deadline: one timer is enough
        yield
        return
    token = _ENFORCED.set(deadline)
    try:
        async with asyncio.timeout(deadline.remaining()):
            yield
    except TimeoutError as exc:
        if deadline.expired():
            raise deadline.error(what, provider=provider) from exc
        raise
    finally:
        _ENFORCED.reset(token)
