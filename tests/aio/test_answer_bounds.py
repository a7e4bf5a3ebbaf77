"""Async answers are refused past ``max_response_bytes`` before they are read whole, on every backend.

The stand-in announces a 100,000-byte answer and then sends one byte every 20 ms: a client that
reads the answer before measuring it waits until its deadline (5 s here); a bounded one refuses
it at once by its ``Content-Length``. For ``azure-sdk`` this is facekit's azure-core transport
(``bounded_transport``): azure-core reads answers whole by itself.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from facekit import AsyncFaceClient, ProviderError
from tests.aio.latency_standin import LatencyService

PHOTO = Path(__file__).resolve().parents[1] / "data" / "grace_hopper.jpg"
KEY = "test-key-answer-bounds"


def _client(provider: str, url: str) -> AsyncFaceClient:
    bounds: dict[str, Any] = {"max_response_bytes": 1000, "deadline": 5.0}
    if provider == "aws":
        return AsyncFaceClient(
            "aws", endpoint_url=url, region="us-east-1", aws_access_key_id="AKIDTEST", aws_secret_access_key=KEY,
            max_attempts=1, **bounds,
        )
    return AsyncFaceClient(provider, endpoint=url, key=KEY, timeout=(5, 30), **bounds)


@pytest.mark.parametrize("provider", ["azure-rest", "azure-sdk", "aws"])
def test_an_announced_huge_answer_is_refused_before_it_is_read(provider: str) -> None:
    flavour = "aws" if provider == "aws" else "azure"

    async def run() -> float:
        with LatencyService(flavour, latency=0.0, trickle=True) as service:
            async with _client(provider, service.url) as client:
                started = time.monotonic()
                with pytest.raises(ProviderError, match="max_response_bytes"):
                    await client.detect(PHOTO.read_bytes())
                return time.monotonic() - started

    assert asyncio.run(run()) < 2.0  # the trickle would have lasted until the 5 s deadline


def test_an_async_transport_given_by_the_caller_is_used_as_is() -> None:
    from azure.core.pipeline.transport import AioHttpTransport

    from facekit.backends.azure_sdk import AzureSdkBackend
    from facekit.backends.azure_sdk_async import AsyncAzureSdkBackend

    given = AioHttpTransport()
    backend = AsyncAzureSdkBackend(AzureSdkBackend(endpoint="http://127.0.0.1:9", key=KEY, async_transport=given))

    async def transport_in_use() -> object:
        try:
            return backend._clients.get().client._client._pipeline._transport
        finally:
            await backend.aclose()

    assert asyncio.run(transport_in_use()) is given
