"""Concurrent detections take turns, and bytes sent as they are are prepared on the loop.

``Turns`` (facekit._async_turns) makes each task's step run after the previous taker's step
*and the callbacks that step scheduled*: with aiohttp on Python 3.11 the callback that
matters is the task writing the request body, so each request leaves before the next one is
built. ``prepare_in_memory`` (facekit._pipeline) is the step that makes the loop path cheap:
it must give exactly what ``prepare_image`` gives, or hand the input to a thread.
"""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from facekit import AsyncFaceClient, FaceClient, InvalidImageError
from facekit._async_turns import Turns
from facekit._image import SourceImage
from facekit._pipeline import IN_MEMORY_OPEN_MAX_BYTES, Prepared, check_call, prepare_image, prepare_in_memory
from tests.aio.latency_standin import LatencyService

PHOTO = Path(__file__).resolve().parents[1] / "data" / "grace_hopper.jpg"


async def _steps(take_turns: bool, count: int = 5) -> list[str]:
    turns = Turns()
    order: list[str] = []

    async def task(number: int) -> None:
        if take_turns:
            await turns.take()
        order.append(f"step{number}")
        asyncio.get_running_loop().call_soon(order.append, f"callback{number}")
        await asyncio.sleep(0)

    await asyncio.gather(*(task(number) for number in range(count)))
    return order


def test_each_step_follows_the_previous_step_and_its_callbacks() -> None:
    interleaved = [name for number in range(5) for name in (f"step{number}", f"callback{number}")]
    assert asyncio.run(_steps(take_turns=True)) == interleaved
    control = asyncio.run(_steps(take_turns=False))  # without turns every step runs first
    assert control[:5] == [f"step{number}" for number in range(5)]


def test_a_turn_never_outlives_its_step_and_cancelled_waiters_pass() -> None:
    async def run() -> list[str]:
        turns = Turns()
        order: list[str] = []
        gate = asyncio.Event()

        async def holder() -> None:
            await turns.take()
            order.append("holder")
            await gate.wait()  # a long await after the turn: the turn has ended already
            order.append("holder done")

        async def failing() -> None:
            await turns.take()
            raise RuntimeError("a step that fails still ends its turn")

        async def other(name: str) -> None:
            await turns.take()
            order.append(name)

        first = asyncio.create_task(holder())
        broken = asyncio.create_task(failing())
        cancelled = asyncio.create_task(other("never"))
        last = asyncio.create_task(other("last"))
        await asyncio.sleep(0)
        cancelled.cancel()
        await asyncio.wait_for(last, 1.0)
        gate.set()
        await first
        with pytest.raises(RuntimeError):
            await broken
        return order

    assert asyncio.run(run()) == ["holder", "last", "holder done"]


def test_one_turns_object_serves_a_second_event_loop() -> None:
    turns = Turns()

    async def use() -> None:
        await asyncio.gather(*(turns.take() for _ in range(3)))

    asyncio.run(use())
    asyncio.run(use())


def _body_writes_and_prepares(monkeypatch: pytest.MonkeyPatch, *, take_turns: bool) -> list[str]:
    """The order of request-body writes and of preparations, as the socket transport saw them."""
    import asyncio.selector_events as selector_events

    import facekit._async_client as async_client

    events: list[str] = []
    write = selector_events._SelectorSocketTransport.write
    writelines = selector_events._SelectorSocketTransport.writelines

    def recording_write(self: Any, data: Any) -> None:
        if len(data) > 10_000:
            events.append("body")
        write(self, data)

    def recording_writelines(self: Any, chunks: Any) -> None:
        chunks = list(chunks)
        if sum(len(chunk) for chunk in chunks) > 10_000:
            events.append("body")
        writelines(self, chunks)

    prepare = async_client.prepare_in_memory

    def recording_prepare(*args: Any) -> Any:
        events.append("prepare")
        return prepare(*args)

    monkeypatch.setattr(selector_events._SelectorSocketTransport, "write", recording_write)
    monkeypatch.setattr(selector_events._SelectorSocketTransport, "writelines", recording_writelines)
    monkeypatch.setattr(async_client, "prepare_in_memory", recording_prepare)
    if not take_turns:

        async def no_turn(self: Turns) -> None:
            return None

        monkeypatch.setattr(Turns, "take", no_turn)
    data = PHOTO.read_bytes()

    async def run() -> None:
        with LatencyService("azure", latency=0.05) as service:
            async with AsyncFaceClient("azure-rest", endpoint=service.url, key="test-key") as client:
                await asyncio.gather(*(client.detect(data) for _ in range(8)))  # 8 connections opened
                events.clear()
                await asyncio.gather(*(client.detect(data) for _ in range(8)))

    asyncio.run(run())
    return events


def test_each_request_leaves_before_the_next_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    events = _body_writes_and_prepares(monkeypatch, take_turns=True)
    assert events == ["prepare", "body"] * 8, " ".join(events)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="aiohttp writes bodies eagerly on Python 3.12+")
def test_without_turns_no_request_leaves_until_all_are_built(monkeypatch: pytest.MonkeyPatch) -> None:
    events = _body_writes_and_prepares(monkeypatch, take_turns=False)
    assert events == ["prepare"] * 8 + ["body"] * 8


# -- prepare_in_memory -----------------------------------------------------------------------


def _jpeg(size: tuple[int, int] = (80, 60), exif_orientation: int | None = None) -> bytes:
    image = Image.new("RGB", size, (90, 120, 150))
    buffer = io.BytesIO()
    exif = Image.Exif()
    if exif_orientation is not None:
        exif[0x0112] = exif_orientation
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


@pytest.fixture
def azure() -> Any:
    with FaceClient("azure-rest", endpoint="http://127.0.0.1:9", key="test-key") as client:
        yield client.pipeline


def test_bytes_sent_as_they_are_are_prepared_like_prepare_image(azure: Any) -> None:
    call = check_call(azure)
    for data in (PHOTO.read_bytes(), bytearray(PHOTO.read_bytes()), memoryview(PHOTO.read_bytes())):
        quick = prepare_in_memory(azure, call, data)
        assert isinstance(quick, Prepared)
        slow = prepare_image(azure, call, bytes(data))
        assert quick.payload == slow.payload
        assert quick.payload.data == bytes(data) and not quick.payload.reencoded
        assert (quick.source.width, quick.source.height, quick.source.format) == (
            slow.source.width,
            slow.source.height,
            slow.source.format,
        )


def test_inputs_that_need_decoding_or_io_are_left_to_a_thread(azure: Any) -> None:
    call = check_call(azure)
    rotated = prepare_in_memory(azure, call, _jpeg(exif_orientation=6))  # must be rotated: decoded
    assert isinstance(rotated, SourceImage) and rotated.exif_orientation == 6
    assert isinstance(prepare_image(azure, call, rotated), Prepared)
    tiny = prepare_in_memory(azure, call, _jpeg(size=(20, 20)))  # under Azure's 36 px minimum: rescaled
    assert isinstance(tiny, SourceImage)
    assert prepare_in_memory(azure, call, str(PHOTO)) is None  # a path: read on a thread
    assert prepare_in_memory(azure, call, b"\xff\xd8" + b"\x00" * (IN_MEMORY_OPEN_MAX_BYTES + 1)) is None
    with pytest.raises(InvalidImageError):
        prepare_in_memory(azure, call, b"not an image at all")


def test_the_async_client_gives_the_same_result_for_rotated_and_plain_bytes() -> None:
    from tests.aio.latency_standin import IMAGE_SIZE

    async def run() -> tuple[Any, Any]:
        with LatencyService("azure", latency=0.0) as service:
            async with AsyncFaceClient("azure-rest", endpoint=service.url, key="test-key") as client:
                plain = await client.detect(_jpeg(size=IMAGE_SIZE))
                rotated = await client.detect(_jpeg(size=IMAGE_SIZE[::-1], exif_orientation=6))
                return plain, rotated

    plain, rotated = asyncio.run(run())
    assert plain.image.reencoded is False and rotated.image.reencoded is True
    assert plain.image.width == rotated.image.width == IMAGE_SIZE[0]


def test_a_checked_call_is_remembered_only_for_equal_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    import facekit._async_client as async_client
    from facekit import InvalidRequestError

    checks: list[dict[str, Any]] = []
    check = async_client.check_call

    def counting_check(pipeline: Any, **kwargs: Any) -> Any:
        checks.append(kwargs)
        return check(pipeline, **kwargs)

    monkeypatch.setattr(async_client, "check_call", counting_check)

    async def run() -> None:
        with LatencyService("azure", latency=0.0) as service:
            async with AsyncFaceClient("azure-rest", endpoint=service.url, key="test-key") as client:
                data = PHOTO.read_bytes()
                for _ in range(3):
                    await client.detect(data)
                    await client.detect(data, attributes=("head_pose",))
                await client.detect(data, attributes=["head_pose"])  # a list: checked every time
                await client.detect(data, attributes=["head_pose"])
                with pytest.raises(InvalidRequestError):
                    await client.detect(data, attributes=("no_such_attribute",))
                with pytest.raises(InvalidRequestError):  # a failed check is never remembered
                    await client.detect(data, attributes=("no_such_attribute",))

    asyncio.run(run())
    assert len(checks) == 6  # (), head_pose tuple, 2 lists, 2 failures
