"""One AsyncFaceClient across event loops: ``asyncio.run`` twice works, each loop's connections
are closed inside it when it shuts down, and two loops at once (two threads) are refused.

The stand-in (:class:`~tests.aio.latency_standin.LatencyService`) records when the client hangs
up each connection, so "closed at the end of its loop" is what the server saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from facekit import AsyncFaceClient, ConfigurationError
from facekit._per_loop import PerLoop
from tests.aio.latency_standin import LatencyService
from tests.aio.test_cancellation import CLOUD, IMAGE, KEY, _client, _flavour

PHOTO = str(Path(__file__).resolve().parents[1] / "data" / "grace_hopper.jpg")


@pytest.fixture
def unraisable() -> Iterator[list[str]]:
    """What Python reported as 'Exception ignored' (finalizers, ``__del__``) during the test."""
    seen: list[str] = []
    previous = sys.unraisablehook
    sys.unraisablehook = lambda info: seen.append(f"{info.exc_type.__name__}: {info.exc_value} in {info.object!r}")
    try:
        yield seen
    finally:
        gc.collect()
        sys.unraisablehook = previous


@contextlib.contextmanager
def _in_use_on_another_thread(client: AsyncFaceClient) -> Iterator[None]:
    """While inside: ``client`` has made a detection on a loop that keeps running in another thread
    (that loop shuts down on leaving)."""
    used, release = threading.Event(), threading.Event()

    async def hold() -> None:
        await client.detect(IMAGE)
        used.set()
        await asyncio.to_thread(release.wait, 10)

    holder = threading.Thread(target=asyncio.run, args=(hold(),))
    holder.start()
    try:
        assert used.wait(10)
        yield
    finally:
        release.set()
        holder.join(10)


def _faces(result: Any) -> list[tuple[int, int, int, int]]:
    return [(face.box.left, face.box.top, face.box.width, face.box.height) for face in result.faces]


@pytest.mark.parametrize("provider", CLOUD)
def test_one_client_serves_two_asyncio_runs_and_closes_each_loops_connection(
    provider: str, unraisable: list[str]
) -> None:
    with LatencyService(_flavour(provider), latency=0.0) as service:
        client = _client(provider, service.url)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            first = asyncio.run(client.detect(IMAGE))
            assert service.wait_closed(1, 5.0), "the first loop's connection outlived its loop"
            second = asyncio.run(client.detect(IMAGE))
            assert service.wait_closed(2, 5.0), "the second loop's connection outlived its loop"
            asyncio.run(client.aclose())  # nothing left to close: no error
            gc.collect()
        assert len(service.connections) == 2  # a connection per loop, none reused across loops
        assert all(connection.closed_by_client is not None for connection in service.connections)
    assert first.faces and _faces(first) == _faces(second)
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == [], leaks
    assert unraisable == [], unraisable


def test_the_local_engine_serves_two_asyncio_runs() -> None:
    client = AsyncFaceClient("local")
    first = asyncio.run(client.detect(PHOTO))
    second = asyncio.run(client.detect(PHOTO))
    asyncio.run(client.aclose())
    assert first.faces and _faces(first) == _faces(second)


@pytest.mark.parametrize("provider", CLOUD)
def test_a_client_in_use_on_a_loop_in_another_thread_is_refused(provider: str) -> None:
    with LatencyService(_flavour(provider), latency=0.0) as service:
        client = _client(provider, service.url)
        with _in_use_on_another_thread(client), pytest.raises(ConfigurationError) as info:
            asyncio.run(client.detect(IMAGE))
        assert "another thread" in str(info.value) and "one AsyncFaceClient per thread" in str(info.value)
        assert KEY not in str(info.value)
        # the holder's loop has shut down: this thread's loop may have the client now
        assert asyncio.run(client.detect(IMAGE)).faces
        asyncio.run(client.aclose())


@pytest.mark.parametrize("provider", ["azure-rest", "aws"])
def test_a_loop_that_was_never_shut_down_does_not_block_the_next(provider: str, unraisable: list[str]) -> None:
    with LatencyService(_flavour(provider), latency=0.0) as service:
        client = _client(provider, service.url)
        loop = asyncio.new_event_loop()
        try:
            assert loop.run_until_complete(client.detect(IMAGE)).faces  # loop stopped, not shut down
            assert asyncio.run(client.detect(IMAGE)).faces  # a new session for the new loop
        finally:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ResourceWarning)  # the first loop's session, never closed
                loop.close()
                gc.collect()
    assert len(service.connections) == 2
    assert unraisable == [], unraisable  # the abandoned closer was finished, not left to a closed loop


def test_an_async_transport_given_to_azure_sdk_serves_one_loop_and_says_so() -> None:
    from azure.core.pipeline.transport import AioHttpTransport

    with LatencyService("azure", latency=0.0) as service:
        client = AsyncFaceClient("azure-sdk", endpoint=service.url, key=KEY, async_transport=AioHttpTransport())
        assert asyncio.run(client.detect(IMAGE)).faces
        with pytest.raises(ConfigurationError) as info:
            asyncio.run(client.detect(IMAGE))
    assert "async_transport" in str(info.value) and "leave async_transport out" in str(info.value)


def test_per_loop_closes_each_resource_inside_its_own_loop_at_shutdown() -> None:
    made: list[asyncio.AbstractEventLoop] = []
    closed: list[tuple[int, asyncio.AbstractEventLoop]] = []

    def make() -> int:
        made.append(asyncio.get_running_loop())
        return len(made)

    async def close(resource: int) -> None:
        await asyncio.sleep(0)  # a real await: the close runs in the loop
        closed.append((resource, asyncio.get_running_loop()))

    per_loop: PerLoop[int] = PerLoop(make, close, what="test resource")

    async def use() -> int:
        return per_loop.get() + per_loop.get() - per_loop.get()  # one resource per loop, however often asked

    assert asyncio.run(use()) == 1
    assert closed == [(1, made[0])]  # closed by asyncio.run's shutdown, in the loop that made it
    assert asyncio.run(use()) == 2
    assert closed == [(1, made[0]), (2, made[1])]

    async def use_and_close() -> int:
        resource = per_loop.get()
        await per_loop.close()
        return resource

    assert asyncio.run(use_and_close()) == 3
    assert closed[-1] == (3, made[2]) and len(closed) == 3  # closed once, not again at shutdown


def test_the_async_default_credential_facekit_makes_is_per_loop_and_closed_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    from azure.core.credentials import AccessToken

    class DefaultAzureCredential:  # the sync one a user passes (as azure.identity names it)
        __module__ = "azure.identity"

        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            raise AssertionError("the async client must not use the sync credential")

    made: list[Any] = []

    class AsyncDefaultAzureCredential:  # what facekit makes of it, once per loop
        def __init__(self) -> None:
            self.loop: asyncio.AbstractEventLoop | None = None
            self.closed_in: asyncio.AbstractEventLoop | None = None
            made.append(self)

        async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            self.loop = asyncio.get_running_loop()
            return AccessToken("async-t0ken", 2**31)

        async def close(self) -> None:
            self.closed_in = asyncio.get_running_loop()

    identity_aio = types.ModuleType("azure.identity.aio")
    identity_aio.DefaultAzureCredential = AsyncDefaultAzureCredential  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "azure.identity.aio", identity_aio)
    with LatencyService("azure", latency=0.0) as service:
        client = AsyncFaceClient(
            "azure-sdk", endpoint=service.url, credential=DefaultAzureCredential(), enforce_https=False
        )
        assert made == []  # checked at construction, made per loop on first use
        assert asyncio.run(client.detect(IMAGE)).faces
        assert asyncio.run(client.detect(IMAGE)).faces
    assert len(made) == 2 and made[0].loop is not made[1].loop
    assert all(credential.closed_in is credential.loop for credential in made)  # closed inside its own loop


def test_a_sync_token_credential_is_refused_at_construction() -> None:
    from azure.core.credentials import AccessToken

    class SyncCredential:
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            return AccessToken("t", 2**31)

    with pytest.raises(ConfigurationError, match="async token credential"):
        AsyncFaceClient("azure-sdk", endpoint="http://127.0.0.1:9", credential=SyncCredential(), enforce_https=False)


@pytest.mark.parametrize("provider", CLOUD)
def test_aclose_from_another_thread_closes_the_connections_inside_their_own_loop(provider: str) -> None:
    with LatencyService(_flavour(provider), latency=0.0) as service:
        client = _client(provider, service.url)
        with _in_use_on_another_thread(client):
            asyncio.run(client.aclose())  # this thread's loop; the session lives in the holder's
            assert service.wait_closed(1, 5.0), "aclose from another thread left the connection open"
    assert service.connections[0].closed_by_client is not None


def test_per_loop_close_does_not_wait_for_a_loop_in_another_thread_that_stops_before_running_it() -> None:
    closed: list[int] = []

    async def close(resource: int) -> None:
        closed.append(resource)

    per_loop: PerLoop[int] = PerLoop(lambda: 1, close, what="test resource")
    owner = asyncio.new_event_loop()
    busy, release = threading.Event(), threading.Event()

    def stop_when_released() -> None:  # the owner is busy (running) while the close is handed to it
        busy.set()
        release.wait(10)
        owner.stop()  # and stops before the handed close's turn comes

    async def take() -> None:
        per_loop.get()

    owner.run_until_complete(take())  # the resource belongs to ``owner``
    owner.call_soon(stop_when_released)
    thread = threading.Thread(target=owner.run_forever)
    thread.start()
    try:
        assert busy.wait(10)

        async def close_from_here() -> None:
            closing = asyncio.ensure_future(per_loop.close())
            await asyncio.sleep(0.2)  # the close has been handed to the busy owner
            release.set()
            await asyncio.wait_for(closing, 5.0)

        asyncio.run(close_from_here())  # returns: the owner stopped, the resource is forgotten
    finally:
        release.set()
        thread.join(10)
        owner.close()
    assert closed == []  # its loop never ran the close

    async def again() -> int:
        return per_loop.get()

    assert asyncio.run(again()) == 1 and closed == [1]  # a fresh resource, closed with this loop
