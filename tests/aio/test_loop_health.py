"""The event loop stays responsive while an AsyncFaceClient works: no inference, no decoding
and no blocking I/O run on it.

A heartbeat task asks to wake every 5 ms while 32 detections run at once; its worst lateness
must stay under 50 ms. Two loads: the local engine (real onnxruntime on real photos, decoded
on the client's threads, inference on its inference thread) and ``azure-rest`` against a
loopback stand-in answering after 100 ms.

The objects the test session made before (every SDK, onnxruntime, botocore's tables) are frozen
out of the garbage collector while the heartbeat runs: a full collection of that heap takes tens
of milliseconds wherever it happens to fall, and it is not the client's doing.
"""

from __future__ import annotations

import asyncio
import gc
import time
from pathlib import Path
from typing import Any

import pytest

from facekit import AsyncFaceClient, DetectionResult
from tests.aio.latency_standin import LatencyService

DATA = Path(__file__).resolve().parents[1] / "data"
PHOTOS = [DATA / "grace_hopper.jpg"]
MAX_LAG = 0.050
TICK = 0.005


async def _worst_lag_during(work: Any) -> tuple[float, list[DetectionResult]]:
    worst = 0.0
    done = asyncio.Event()

    async def heartbeat() -> None:
        nonlocal worst
        while not done.is_set():
            start = time.perf_counter()
            await asyncio.sleep(TICK)
            worst = max(worst, time.perf_counter() - start - TICK)

    gc.collect()
    gc.freeze()  # the heap made before this test is not scanned by the collections during it
    beat = asyncio.create_task(heartbeat())
    await asyncio.sleep(0.02)  # the heartbeat is running before the work starts
    try:
        results = await work
    finally:
        done.set()
        await beat
        gc.unfreeze()
    return worst, results


def test_loop_lag_with_32_local_detections() -> None:
    from facekit._image import open_image

    paths = [str(path) for path in PHOTOS] * 32

    async def run() -> tuple[float, list[DetectionResult]]:
        async with AsyncFaceClient("local") as client:
            await client.detect(paths[0])  # load the model before measuring
            work = asyncio.gather(*(client.detect(path, landmarks=True) for path in paths))
            return await _worst_lag_during(work)

    open_image(paths[0])
    worst, results = asyncio.run(run())
    assert all(len(result.faces) == 1 for result in results)
    assert worst <= MAX_LAG, f"the loop was blocked for {worst * 1000:.1f} ms"


def test_loop_lag_with_32_azure_rest_detections() -> None:
    data = (DATA / "grace_hopper.jpg").read_bytes()
    with LatencyService("azure", latency=0.1) as service:

        async def run() -> tuple[float, list[DetectionResult]]:
            async with AsyncFaceClient("azure-rest", endpoint=service.url, key="loop-key") as client:
                start = time.perf_counter()
                work = asyncio.gather(*(client.detect(data) for _ in range(32)))
                worst, results = await _worst_lag_during(work)
                elapsed = time.perf_counter() - start
                assert elapsed < 1.0, f"32 concurrent calls took {elapsed:.2f} s: they did not overlap"
                return worst, results

        worst, results = asyncio.run(run())
    assert all(len(result.faces) == 2 for result in results)
    assert service.requests == 32
    assert worst <= MAX_LAG, f"the loop was blocked for {worst * 1000:.1f} ms"


@pytest.mark.parametrize("calls", [4])
def test_heartbeat_detects_a_blocked_loop(calls: int) -> None:
    """The probe itself can fail: a detection run on the loop (the sync client) is seen."""
    from facekit import FaceClient

    client = FaceClient("local")
    path = str(PHOTOS[0])
    client.detect(path)

    async def blocking() -> list[DetectionResult]:
        return [client.detect(path) for _ in range(calls)]

    async def run() -> tuple[float, list[DetectionResult]]:
        return await _worst_lag_during(blocking())

    worst, _ = asyncio.run(run())
    assert worst > MAX_LAG
