"""AsyncFaceClient's surface: construction and configuration like FaceClient, the one request
check, ``detect_many`` (order, errors, async inputs, directories), the async-safe rate limiter,
the retry policy on the loop, and a missing extra named."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from facekit import (
    AsyncFaceClient,
    BatchItem,
    BoundingBox,
    ConfigurationError,
    Face,
    FaceClient,
    InvalidImageError,
    InvalidRequestError,
    MissingDependencyError,
    RateLimiter,
    RetryPolicy,
)
from facekit.backends.fake import FakeBackend
from tests.azure_rest.fake_service import Reply, scripted, serve

PHOTO = Path(__file__).resolve().parents[1] / "data" / "grace_hopper.jpg"


def _jpeg(size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (90, 120, 150)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


def _slow_fake(delays: dict[int, float]) -> FakeBackend:
    """A fake backend whose answer for an image of width ``w`` comes after ``delays[w]`` seconds."""

    def handler(payload: Any, request: Any) -> list[Face]:
        time.sleep(delays.get(payload.width, 0.0))
        return [Face(box=BoundingBox(left=1, top=1, width=payload.width / 2, height=10))]

    return FakeBackend(handler)


def test_import_facekit_stays_free_of_asyncio_and_aiohttp() -> None:
    code = "import json, sys, facekit; print(json.dumps([m for m in ('aiohttp', 'httpx', 'asyncio') if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
    code = "import sys, facekit; facekit.AsyncFaceClient; print('aiohttp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # the client itself; aiohttp only with a backend that needs it


def test_configuration_precedence_is_face_clients(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "facekit.toml"
    config.write_text('[profiles.work]\nprovider = "azure-rest"\nendpoint = "https://file.example"\nkey = "file-key"\n')
    monkeypatch.setenv("FACEKIT_AZURE_ENDPOINT", "https://env.example")
    client = AsyncFaceClient(config=config, profile="work")
    assert client.provider == "azure-rest"
    assert client.backend.info()["endpoint"] == "https://env.example"  # environment beats the file
    client = AsyncFaceClient(config=config, profile="work", endpoint="https://arg.example")
    assert client.backend.info()["endpoint"] == "https://arg.example"  # arguments beat both
    assert "file-key" not in repr(client)
    assert repr(client).startswith("AsyncFaceClient(provider='azure-rest'")
    with pytest.raises(ConfigurationError):
        AsyncFaceClient("azure-rest", endpoint="not a url", key="k")


def test_the_request_is_checked_before_any_input() -> None:
    backend = FakeBackend()
    client = AsyncFaceClient(backend=backend)
    with pytest.raises(InvalidRequestError, match="did you mean 'landmarks'"):
        client.detect_many([PHOTO], landmark=True)  # raises here, not on iteration
    with pytest.raises(InvalidRequestError, match="concurrency"):
        client.detect_many([PHOTO], concurrency=0)
    with pytest.raises(TypeError):
        client.detect_many(b"one image")  # type: ignore[arg-type]

    async def run() -> None:
        with pytest.raises(InvalidRequestError, match="emotoin"):
            await client.detect(PHOTO, attributes=["emotoin"])
        await client.aclose()
        with pytest.raises(InvalidRequestError, match="closed"):
            await client.detect(PHOTO)

    asyncio.run(run())
    assert backend.calls == []


def test_detect_many_yields_in_input_order_with_errors_kept() -> None:
    widths = [40, 10, 30, 20, 50]
    delays = {40: 0.30, 10: 0.0, 30: 0.20, 20: 0.05, 50: 0.0}  # later inputs finish first
    images: list[Any] = [_jpeg((w, 20)) for w in widths]
    images.insert(2, b"not an image")

    async def run() -> tuple[list[BatchItem], float]:
        async with AsyncFaceClient(backend=_slow_fake(delays)) as client:
            started = time.monotonic()
            items = [item async for item in client.detect_many(images, concurrency=8)]
            return items, time.monotonic() - started

    items, elapsed = asyncio.run(run())
    assert [item.index for item in items] == list(range(len(images)))
    assert isinstance(items[2].error, InvalidImageError)
    oks = [item for item in items if item.ok]
    assert [item.result.image.width for item in oks if item.result] == widths
    assert elapsed < 0.55  # ran at once (0.30 s the longest), not one after the other (0.55 s)


def test_detect_many_takes_an_async_iterable_and_a_directory(tmp_path: Path) -> None:
    for name in ("b.jpg", "a.jpg"):
        (tmp_path / name).write_bytes(_jpeg((32, 32)))

    async def images() -> Any:
        for width in (16, 24):
            await asyncio.sleep(0)
            yield _jpeg((width, 16))

    async def run() -> tuple[list[int | None], list[str]]:
        async with AsyncFaceClient(backend=_slow_fake({})) as client:
            widths = [item.unwrap().image.width async for item in client.detect_many(images(), concurrency=2)]
            names = [Path(item.input).name async for item in client.detect_many(str(tmp_path))]
            return widths, names

    widths, names = asyncio.run(run())
    assert widths == [16, 24]
    assert names == ["a.jpg", "b.jpg"]


def test_concurrency_bounds_the_calls_in_flight() -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def handler(payload: Any, request: Any) -> list[Face]:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.02)
        with lock:
            in_flight -= 1
        return []

    async def run() -> int:
        async with AsyncFaceClient(backend=FakeBackend(handler)) as client:
            return len([item async for item in client.detect_many([_jpeg()] * 24, concurrency=3)])

    assert asyncio.run(run()) == 24
    assert peak == 3


def test_a_shared_rate_limiter_spaces_calls_across_the_loop_and_a_thread() -> None:
    limiter = RateLimiter(20)  # one call every 50 ms
    stamps: list[float] = []
    lock = threading.Lock()

    def handler(payload: Any, request: Any) -> list[Face]:
        with lock:
            stamps.append(time.monotonic())
        return []

    backend = FakeBackend(handler)

    def sync_side() -> None:
        for _ in range(3):
            limiter.acquire()
            FaceClient(backend=backend).detect(_jpeg())

    async def run() -> None:
        async with AsyncFaceClient(backend=backend) as client:
            worker = threading.Thread(target=sync_side)
            worker.start()
            items = [item async for item in client.detect_many([_jpeg()] * 5, concurrency=5, rate_limiter=limiter)]
            await asyncio.to_thread(worker.join)
            assert all(item.ok for item in items)

    asyncio.run(run())
    stamps.sort()
    gaps = [later - earlier for earlier, later in itertools.pairwise(stamps)]
    assert len(stamps) == 8
    assert min(gaps) >= 0.04, gaps  # never two calls closer than the limiter allows (some slack)


def test_retry_after_is_honoured_on_the_loop() -> None:
    replies = scripted(
        Reply(status=429, body={"error": {"code": "429", "message": "slow down"}}, headers={"Retry-After": "1"}),
        Reply(body=[{"faceRectangle": {"left": 1, "top": 2, "width": 30, "height": 30}}]),
    )
    with serve(replies) as service:

        async def run() -> tuple[int, float]:
            async with AsyncFaceClient(
                "azure-rest", endpoint=service.endpoint, key="k", retry=RetryPolicy(max_retries=2)
            ) as client:
                beats = 0

                async def heartbeat() -> None:
                    nonlocal beats
                    while True:
                        await asyncio.sleep(0.05)
                        beats += 1

                beat = asyncio.create_task(heartbeat())
                result = await client.detect(PHOTO.read_bytes())
                beat.cancel()
                assert len(result.faces) == 1
                return beats, service.seen[1].at - service.seen[0].at

        beats, gap = asyncio.run(run())
    assert gap >= 0.95  # Retry-After: 1 waited out
    assert beats >= 10  # ... without blocking the loop


def test_a_missing_extra_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aiohttp", None)
    with pytest.raises(MissingDependencyError, match=r"facekit-detect\[async\]"):
        AsyncFaceClient("azure-rest", endpoint="https://x.example", key="k")

