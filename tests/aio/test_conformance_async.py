"""Every backend, sync and async: the same faces for the same input and the same stand-in answer.

For each conformance harness (``tests/conformance/harness_*.py``) the sync client the harness
builds and an :class:`~facekit.AsyncFaceClient` made from the same backend (so the same
settings and the same stand-in service) detect the same inputs; their results must be equal
field by field (``runtime`` aside). The ``azure-sdk`` harness plays Azure under the SDK's sync
transport, which the SDK's ``aio`` client cannot use; for it, both clients talk to one
loopback HTTP server that answers with the harness's own function, through the real requests
and aiohttp transports.
"""

from __future__ import annotations

import asyncio
import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from PIL import Image

from facekit import AsyncFaceClient, DetectionResult, FaceClient, RatioBox
from tests.conformance.harness import Harness, Scenario

TWO_FACES = Scenario(
    faces=(
        RatioBox(left=0.10, top=0.20, width=0.20, height=0.30),
        RatioBox(left=0.55, top=0.25, width=0.30, height=0.45),
    )
)


def _jpeg(image: Image.Image, **kwargs: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90, **kwargs)
    return buffer.getvalue()


def _cases(harness: Harness) -> list[tuple[str, Scenario, bytes, dict[str, Any]]]:
    info = harness.info
    upright = harness.image(TWO_FACES, (640, 480))
    exif = Image.Exif()
    exif[0x0112] = 6
    rotated = _jpeg(upright.transpose(Image.Transpose.ROTATE_90), exif=exif.tobytes())
    cases = [
        ("two faces", TWO_FACES, _jpeg(harness.image(TWO_FACES, (640, 480))), {}),
        ("exif rotated", TWO_FACES, rotated, {}),
        ("no face", Scenario(faces=()), _jpeg(harness.image(Scenario(faces=()), (320, 240))), {}),
    ]
    if info.supported_attribute:
        scenario = Scenario(faces=TWO_FACES.faces, attributes=(info.supported_attribute,), landmarks=info.landmarks)
        cases.append(
            ("attributes and landmarks", scenario, _jpeg(harness.image(scenario, (640, 480))),
             {"attributes": [info.supported_attribute], "landmarks": info.landmarks})
        )
    return cases


def _comparable(result: DetectionResult) -> dict[str, Any]:
    """The result as JSON, without what differs per request (runtime; Rekognition's dated metadata)."""
    dumped = result.model_dump(mode="json", exclude={"runtime"})
    if isinstance(dumped["raw"], dict):
        dumped["raw"].pop("ResponseMetadata", None)
    return dumped


@contextmanager
def _clients(harness: Harness, scenario: Scenario) -> Iterator[tuple[FaceClient, AsyncFaceClient]]:
    if harness.info.name == "azure-sdk":
        with _azure_sdk_over_loopback(scenario) as pair:
            yield pair
        return
    with harness.client(scenario) as client:
        yield client, AsyncFaceClient(backend=client.backend)


@contextmanager
def _azure_sdk_over_loopback(scenario: Scenario) -> Iterator[tuple[FaceClient, AsyncFaceClient]]:
    from facekit import RetryPolicy
    from tests.azure_rest.fake_service import Reply, Seen, serve
    from tests.azure_sdk.transport import Sent
    from tests.conformance.harness_azure_sdk import azure_answer

    def handler(seen: Seen) -> Reply:
        headers = {name.lower(): value for name, value in seen.headers.items()}
        answer = azure_answer(scenario, Sent(seen.method, seen.path, seen.query, headers, seen.body, {}))
        return Reply(status=answer.status, body=answer.body, headers=answer.headers)

    settings: dict[str, Any] = {"endpoint": "", "key": "conformance-key", "retry": RetryPolicy(max_retries=0)}
    with serve(handler) as service:
        settings["endpoint"] = service.endpoint
        with FaceClient("azure-sdk", **settings) as client:
            yield client, AsyncFaceClient("azure-sdk", **settings)
        assert service.seen, "the stand-in service was never called"


async def _detect_and_close(client: AsyncFaceClient, data: bytes, kwargs: dict[str, Any]) -> DetectionResult:
    async with client:
        return await client.detect(data, **kwargs)


def test_async_client_gives_the_sync_clients_results(harness: Harness) -> None:
    for name, scenario, data, kwargs in _cases(harness):
        with _clients(harness, scenario) as (client, async_client), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = client.detect(data, **kwargs)

            got = asyncio.run(_detect_and_close(async_client, data, kwargs))
        assert got.provider == harness.info.name, name
        assert len(got.faces) == len(scenario.faces), name
        assert _comparable(got) == _comparable(expected), name


def test_async_client_refuses_an_unknown_option_before_sending(harness: Harness) -> None:
    from facekit import InvalidRequestError

    with _clients(harness, TWO_FACES) as (client, async_client):
        data = _jpeg(harness.image(TWO_FACES, (640, 480)))
        client.detect(data)  # the stand-in was called once, as the harness checks

        async def run() -> None:
            async with async_client:
                with pytest.raises(InvalidRequestError, match="landmark"):
                    await async_client.detect(data, landmark=True)

        asyncio.run(run())
