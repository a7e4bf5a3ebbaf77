"""One resource per event loop, made on first use and closed when that loop shuts down: :class:`PerLoop`.

aiohttp sessions (and the Azure SDK's async client on them) belong to the event loop they were
made in. An ``AsyncFaceClient`` may outlive a loop: a script that calls ``asyncio.run(...)``
twice, a notebook cell per ``asyncio.run``, a test suite with a loop per test. :class:`PerLoop`
keeps the resource of the loop in use and

* makes a fresh one when a later loop asks, the earlier loop having stopped (its resource is
  closed by then, see below, or forgotten when that loop was never shut down);
* refuses (:class:`~facekit.ConfigurationError`) a second loop while the first still runs (in
  another thread): one client serves one thread's loop at a time;
* closes the resource inside its own loop when the loop shuts down its async generators, as
  ``asyncio.run`` and pytest-asyncio do at the end of every loop. It does so through an async
  generator started on first use that waits at its ``yield`` (``loop.shutdown_asyncgens()``
  closes every such generator of the loop), so no connection outlives the loop that opened it
  and no "Unclosed client session" warning is left for the garbage collector.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Generic, TypeVar

from facekit._errors import ConfigurationError

__all__ = ["PerLoop"]

T = TypeVar("T")

#: Seconds between checks that the loop a close was handed to still runs.
_OWNER_POLL = 0.05


class PerLoop(Generic[T]):
    """The resource of the running event loop (see the module docstring).

    Args:
        make: Makes the resource; called inside the loop that will use it.
        close: Closes a resource; awaited inside the resource's own loop.
        what: What is kept, for messages (``"aiohttp session"``).
    """

    def __init__(self, make: Callable[[], T], close: Callable[[T], Awaitable[None]], *, what: str) -> None:
        self._make, self._close, self._what = make, close, what
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._resource: T | None = None
        self._closer: _Closer | None = None

    def get(self) -> T:
        """The resource of the running loop, made now if this loop has none.

        Raises:
            ConfigurationError: The resource of another loop is in use, that loop still running
                (in another thread).
        """
        loop = asyncio.get_running_loop()
        resource = self._resource
        if self._loop is loop and resource is not None:
            return resource
        with self._lock:
            if self._loop is not None and self._loop is not loop:
                if self._loop.is_running():
                    raise ConfigurationError(
                        f"this AsyncFaceClient's {self._what} is in use on an event loop running in another "
                        "thread; make one AsyncFaceClient per thread"
                    )
                self._abandon()  # that loop stopped without shutting down: its connections went with it
            if self._resource is None:
                made = self._make()
                self._loop, self._resource = loop, made
                self._closer = _Closer()
                self._closer.start(self._close_at_shutdown(made, self._closer))
            return self._resource

    async def close(self) -> None:
        """Close the resource inside its own loop: this one, or a loop running in another thread
        (the close is handed to it and awaited); forget it when its loop stopped without shutting
        down (that loop cannot run the close)."""
        closer, owner = self._closer, self._loop
        if closer is None or owner is None:
            return
        if owner is asyncio.get_running_loop():
            await closer.generator.aclose()  # its finally closes the resource and forgets it
            return
        if owner.is_running():
            handed = asyncio.run_coroutine_threadsafe(closer.generator.aclose(), owner)
            waiting = asyncio.wrap_future(handed)
            while owner.is_running():  # until the owner has run the close, or stopped without running it
                done, _ = await asyncio.wait([waiting], timeout=_OWNER_POLL)
                if done:
                    return await waiting
            if not handed.cancel():  # it ran after all, as the owner stopped
                return await waiting
        with self._lock:
            if self._closer is closer:  # not already forgotten, nor replaced by another loop's
                self._abandon()

    def _abandon(self) -> None:
        """Forget the resource without closing it, finishing its closer (so that the garbage
        collector does not hand the closer to a loop that is gone)."""
        closer = self._closer
        self._forget()
        if closer is not None:
            closer.abandon()

    def _forget(self) -> None:
        self._loop, self._resource, self._closer = None, None, None

    async def _close_at_shutdown(self, resource: T, closer: _Closer) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            if self._resource is resource:
                self._forget()
            if not closer.abandoned:
                await self._close(resource)


class _Closer:
    """The async generator that closes one resource at its loop's shutdown, and whether it was abandoned."""

    def __init__(self) -> None:
        self.abandoned = False
        self.generator: AsyncGenerator[None, None]

    def start(self, generator: AsyncGenerator[None, None]) -> None:
        """Run ``generator`` to its ``yield`` now (registering it with the running loop)."""
        self.generator = generator
        _step(generator.asend(None))

    def abandon(self) -> None:
        """Finish the generator without closing its resource (unless its close is under way, in
        a loop that stopped in the middle of it: there is nothing left to finish from here)."""
        self.abandoned = True
        if not getattr(self.generator, "ag_running", False):  # a native async generator has it
            _step(self.generator.aclose())


def _step(awaitable: Awaitable[None]) -> None:
    """Run a coroutine that does not suspend to its end, outside any ``await``."""
    try:
        awaitable.__await__().send(None)
    except StopIteration:
        return
    raise RuntimeError("a PerLoop closer suspended while it was started or abandoned")  # pragma: no cover
