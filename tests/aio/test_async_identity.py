"""``AsyncFaceClient.verify`` / ``find_similar``: the sync client's answers, off the event loop.

Real photos of real people (tests/data/identity, provenance in its README) on the local
engine and through the Azure loopback Face service of tests/identity; a stalled verify is
cancelled and the stand-in sees its connection closed.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from facekit import AsyncFaceClient, FaceClient, InvalidRequestError, UnsupportedFeatureError
from tests.aio.latency_standin import LatencyService
from tests.azure_rest.fake_service import serve
from tests.identity.test_azure_identity import FACE_ID, KEY, service_handler

DATA = Path(__file__).resolve().parents[1] / "data"
OBAMA_1, OBAMA_2, BIDEN = (DATA / "identity" / name for name in ("obama_1.jpg", "obama_2.jpg", "biden_1.jpg"))
HOPPER = DATA / "grace_hopper.jpg"


def _local_ready() -> bool:
    pytest.importorskip("onnxruntime")
    from facekit.local.store import ModelStore

    store = ModelStore()
    return bool(os.environ.get("FACEKIT_REQUIRE_MODELS")) or all(store.find(s.name) for s in store.list())


def test_local_verify_and_find_similar_match_the_sync_client() -> None:
    if not _local_ready():
        pytest.skip("local weights not fetched (run `facekit models fetch`)")
    sync = FaceClient("local")
    same, other = sync.verify(OBAMA_1, OBAMA_2), sync.verify(OBAMA_1, BIDEN)
    ranked = sync.find_similar(OBAMA_1, [BIDEN, OBAMA_2, HOPPER], top_k=3)

    async def run() -> tuple[Any, Any, Any]:
        async with AsyncFaceClient("local") as client:
            return await asyncio.gather(
                client.verify(OBAMA_1, OBAMA_2),
                client.verify(OBAMA_1, BIDEN),
                client.find_similar(OBAMA_1, [BIDEN, OBAMA_2, HOPPER], top_k=3),
            )

    async_same, async_other, async_ranked = asyncio.run(run())
    assert async_same.same and not async_other.same
    assert async_same.distance == pytest.approx(same.distance, abs=1e-6)
    assert async_other.distance == pytest.approx(other.distance, abs=1e-6)
    assert [match.candidate for match in async_ranked.matches] == [match.candidate for match in ranked.matches]
    assert async_ranked.matches[0].candidate == 1  # the other photo of Obama comes first


def test_azure_identity_through_the_loopback_service() -> None:
    with serve(service_handler) as service:

        async def run() -> tuple[Any, Any]:
            async with AsyncFaceClient("azure-rest", endpoint=service.endpoint, key=KEY, api_version="v1.0") as client:
                verified = await client.verify(OBAMA_1, OBAMA_2)
                found = await client.find_similar(FACE_ID["obama_1"], [FACE_ID["biden_1"], FACE_ID["obama_3"]])
                return verified, found

        verified, found = asyncio.run(run())
    assert verified.same
    assert [match.candidate for match in found.matches] == [1]
    assert any(seen.path.endswith("/verify") for seen in service.seen)


def test_refusals_are_the_sync_clients_and_a_closed_client_refuses() -> None:
    async def run() -> None:
        client = AsyncFaceClient("fake")
        with pytest.raises(UnsupportedFeatureError):
            await client.verify(OBAMA_1, OBAMA_2)
        await client.aclose()
        with pytest.raises(InvalidRequestError, match="closed"):
            await client.find_similar(OBAMA_1, [OBAMA_2])

    asyncio.run(run())


def test_a_cancelled_verify_closes_its_connection_and_leaves_no_thread() -> None:
    async def run(service: LatencyService) -> None:
        async with AsyncFaceClient("azure-rest", endpoint=service.url, key=KEY, api_version="v1.0") as client:
            task = asyncio.create_task(client.verify(FACE_ID["obama_1"], FACE_ID["obama_2"]))
            deadline = time.monotonic() + 5
            while service.requests == 0 and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            assert service.requests == 1
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    with LatencyService("azure", stall=True) as service:
        started = time.monotonic()
        asyncio.run(run(service))
        assert time.monotonic() - started < 5
        assert service.wait_closed(1, timeout=2.0)
    time.sleep(0.1)
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("facekit-identity")]


def _verify_against(url: str, *, use_async: bool) -> None:
    options: dict[str, Any] = {"endpoint": url, "key": KEY, "api_version": "v1.0", "deadline": 1.0}
    if use_async:

        async def run() -> None:
            async with AsyncFaceClient("azure-rest", **options) as client:
                await client.verify(FACE_ID["obama_1"], FACE_ID["obama_2"])

        asyncio.run(run())
        return
    with FaceClient("azure-rest", **options) as client:
        client.verify(FACE_ID["obama_1"], FACE_ID["obama_2"])


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_a_stalled_verify_ends_at_the_clients_deadline(use_async: bool) -> None:
    from facekit import DeadlineExceededError

    with LatencyService("azure", stall=True) as service:
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError):
            _verify_against(service.url, use_async=use_async)
        assert time.monotonic() - started < 2.5  # not the 30 s read timeout
