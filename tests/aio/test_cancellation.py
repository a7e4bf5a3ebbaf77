"""Cancelling an AsyncFaceClient call closes its connection and leaks no task, thread or
connection; the total deadline holds against a server that trickles its answer.

The stand-in (:class:`~tests.aio.latency_standin.LatencyService`) records when the client
hangs up each connection, so "the connection was closed" is what the server saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from facekit import AsyncFaceClient, DeadlineExceededError
from tests.aio.latency_standin import LatencyService

IMAGE = (Path(__file__).resolve().parents[1] / "data" / "grace_hopper.jpg").read_bytes()
KEY = "cancel-test-key-0123456789"
CLOUD = ("azure-rest", "azure-sdk", "aws")
#: Allowed lateness past a deadline on a loaded 2-core machine, seconds.
SLACK = 1.0 + 0.5 * max(0.0, os.getloadavg()[0] / (os.cpu_count() or 1) - 1.0)


def _client(provider: str, url: str, **extra: Any) -> AsyncFaceClient:
    if provider == "aws":
        return AsyncFaceClient(
            "aws", endpoint_url=url, region="us-east-1", aws_access_key_id="AKIDCANCEL",
            aws_secret_access_key=KEY, max_attempts=1, read_timeout=30, **extra,
        )
    return AsyncFaceClient(provider, endpoint=url, key=KEY, timeout=(5, 30), **extra)


def _flavour(provider: str) -> str:
    return "aws" if provider == "aws" else "azure"


async def _wait_for(predicate: Any, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("provider", CLOUD)
def test_a_cancelled_call_closes_its_connection(provider: str) -> None:
    threads_before = threading.active_count()
    with LatencyService(_flavour(provider), stall=True) as service:

        async def run() -> float:
            async with _client(provider, service.url) as client:
                task = asyncio.create_task(client.detect(IMAGE))
                await _wait_for(lambda: service.requests == 1)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                started = time.monotonic()
                assert await asyncio.to_thread(service.wait_closed, 1, 5.0), "the connection was left open"
                closed_after = time.monotonic() - started
                others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
                assert others == [], f"tasks left running: {others}"
            return closed_after

        closed_after = asyncio.run(run())
    assert closed_after < 1.0
    assert service.connections[0].closed_by_client is not None
    _assert_threads_back(threads_before)


def _assert_threads_back(before: int) -> None:
    end = time.monotonic() + 5
    while threading.active_count() > before + 1 and time.monotonic() < end:  # + facekit's one deadline thread
        time.sleep(0.02)
    names = sorted(t.name for t in threading.enumerate())
    assert threading.active_count() <= before + 1, f"threads left: {names}"
    assert not [name for name in names if name.startswith(("facekit-prepare", "facekit-aws", "facekit-local"))], names


@pytest.mark.parametrize("provider", CLOUD)
def test_the_deadline_holds_against_a_trickling_server(provider: str) -> None:
    with LatencyService(_flavour(provider), trickle=True) as service:

        async def run() -> tuple[float, BaseException]:
            async with _client(provider, service.url, deadline=1.0) as client:
                started = time.monotonic()
                with pytest.raises(DeadlineExceededError) as info:
                    await client.detect(IMAGE)
                return time.monotonic() - started, info.value

        elapsed, error = asyncio.run(run())
        assert service.wait_closed(1, 5.0), "the trickling connection was left open"
    assert 0.9 <= elapsed <= 1.0 + SLACK, elapsed
    assert "deadline" in str(error) and KEY not in str(error) and KEY not in repr(error)


def test_leaving_detect_many_early_cancels_the_calls_in_flight() -> None:
    first = _small_jpeg()
    with LatencyService("azure", latency=0.05, answer_when=lambda body: body == first) as service:

        async def run() -> int:
            client = _client("azure-rest", service.url)
            async with client:
                got = 0
                many = client.detect_many([first] + [IMAGE] * 11, concurrency=4)
                async with contextlib.aclosing(many):  # type: ignore[type-var]
                    async for item in many:
                        assert item.ok
                        got += 1
                        await _wait_for(lambda: service.requests >= 4)  # the others of the window, stalled
                        break
                assert await asyncio.to_thread(service.wait_closed, 3, 5.0), "calls in flight kept their connections"
                others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
                assert others == []
            return got

        assert asyncio.run(run()) == 1
        assert service.requests <= 5  # the window (4) and the one that took the first one's place


def _small_jpeg() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (200, 200), (30, 60, 90)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_cancelled_local_detections_leave_no_thread() -> None:
    threads_before = threading.active_count()
    photo = str(Path(__file__).resolve().parents[1] / "data" / "grace_hopper.jpg")

    async def run() -> None:
        async with AsyncFaceClient("local") as client:
            tasks = [asyncio.create_task(client.detect(photo)) for _ in range(8)]
            await asyncio.sleep(0.05)
            for task in tasks:
                task.cancel()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
            assert any(isinstance(outcome, asyncio.CancelledError) for outcome in outcomes)
            result = await client.detect(photo)  # the client still works
            assert len(result.faces) == 1

    asyncio.run(run())
    _assert_threads_back(threads_before)
