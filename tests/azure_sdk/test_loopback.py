"""End to end: FaceClient -> AzureSdkBackend -> the real azure-ai-vision-face client and
azure-core's requests transport -> a real HTTP server on 127.0.0.1 (the azure-rest stand-in).

Requests are counted to prove who retries what: azure-core does not retry 429 (it would,
3 times, uncapped, for a 429 carrying Retry-After), facekit retries it per its policy."""

from __future__ import annotations

import io
import json
import random
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from facekit import (
    AuthenticationError,
    ConfigurationError,
    FaceClient,
    NetworkError,
    RateLimitError,
    RequestTimeoutError,
    RetryPolicy,
    ServiceUnavailableError,
)
from tests.azure_rest.fake_service import Reply, Seen, scripted, serve

FIXTURES = Path(__file__).parent.parent / "fixtures" / "azure"
SEED_000 = json.loads((FIXTURES / "seed-000-quickstart-2018-v1.0-two-faces.json").read_text(encoding="utf-8"))
KEY = "sdk-l00pback-k3y-s3cret"
THROTTLED = {"error": {"statusCode": 429, "message": "Rate limit is exceeded. Try again in 26 seconds."}}


def jpeg(size: tuple[int, int] = (640, 480)) -> bytes:
    rng = random.Random(3)
    image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


class Sleeps(list[float]):
    """A ``sleep`` that records instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(endpoint: str, **options: Any) -> FaceClient:
    return FaceClient("azure-sdk", endpoint=endpoint, key=KEY, **options)


def test_seed_000_end_to_end_through_the_real_transport() -> None:
    data = jpeg()
    with serve(scripted(Reply(body=SEED_000))) as service, client_for(
        service.endpoint, api_version="v1.0", allow_retired_attributes=True
    ) as client:
        result = client.detect(data, attributes=["age", "gender", "head_pose", "smile"], face_id=True)
    [seen] = service.seen
    assert seen.path == "/face/v1.0/detect"
    assert seen.query == {
        "detectionModel": "detection_01", "recognitionModel": "recognition_01", "returnFaceId": "true",
        "returnFaceLandmarks": "false", "returnFaceAttributes": "age,gender,headPose,smile",
        "returnRecognitionModel": "false",
    }
    assert {k.lower(): v for k, v in seen.headers.items()}["content-type"] == "application/octet-stream"
    assert seen.headers["Ocp-Apim-Subscription-Key"] == KEY
    assert seen.body == data
    assert result.provider == "azure-sdk"
    assert result.runtime == {"api_version": "v1.0", "request_id": "req-1"}
    assert result.raw == SEED_000
    assert [face.face_id for face in result.faces] == [entry["faceId"] for entry in SEED_000]
    first = result.faces[0]
    rect = SEED_000[0]["faceRectangle"]
    assert first.box.xywh == (float(rect["left"]), float(rect["top"]), float(rect["width"]), float(rect["height"]))
    assert first.attributes.age == float(SEED_000[0]["faceAttributes"]["age"])


def test_429_with_retry_after_is_retried_once_by_facekit_not_by_azure_core() -> None:
    sleeps = Sleeps()
    replies = scripted(Reply(429, THROTTLED, {"Retry-After": "2"}), Reply(body=SEED_000))
    with serve(replies) as service, client_for(service.endpoint, sleep=sleeps) as client:
        result = client.detect(jpeg())
    assert len(service.seen) == 2
    assert sleeps == [2.0]
    assert len(result.faces) == len(SEED_000)


def test_persistent_429_is_tried_one_plus_max_retries_times() -> None:
    sleeps = Sleeps()
    with serve(scripted(Reply(429, THROTTLED, {"Retry-After": "1"}))) as service, client_for(
        service.endpoint, sleep=sleeps, retry=RetryPolicy(max_retries=2)
    ) as client, pytest.raises(RateLimitError) as info:
        client.detect(jpeg())
    assert len(service.seen) == 3
    assert sleeps == [1.0, 1.0]
    assert info.value.retry_after == 1.0
    assert info.value.status == 429 and info.value.request_id == "req-3"


def test_429_asking_to_wait_beyond_the_cap_is_raised_at_once() -> None:
    sleeps = Sleeps()
    with serve(scripted(Reply(429, THROTTLED, {"Retry-After": "3600"}))) as service, client_for(
        service.endpoint, sleep=sleeps
    ) as client, pytest.raises(RateLimitError) as info:
        client.detect(jpeg())
    assert len(service.seen) == 1
    assert sleeps == []
    assert info.value.retry_after == 3600.0


def test_429_really_waits_the_retry_after() -> None:
    with serve(scripted(Reply(429, THROTTLED, {"Retry-After": "1"}), Reply(body=[]))) as service, client_for(
        service.endpoint
    ) as client:
        client.detect(jpeg())
    first, second = service.seen
    assert 0.95 <= second.at - first.at < 3.0


def test_a_retry_policy_passed_to_the_sdk_turns_facekits_429_retries_off() -> None:
    from azure.core.pipeline.policies import RetryPolicy as AzureRetryPolicy

    sleeps = Sleeps()
    with serve(scripted(Reply(429, THROTTLED))) as service, client_for(
        service.endpoint, sleep=sleeps, retry_policy=AzureRetryPolicy(retry_total=0)
    ) as client, pytest.raises(RateLimitError):
        client.detect(jpeg())
    assert len(service.seen) == 1 and sleeps == []


def test_503_is_retried_by_azure_core() -> None:
    failing = Reply(503, {"error": {"code": "ServiceUnavailable", "message": "busy"}})
    with serve(scripted(failing, Reply(body=[]))) as service, client_for(service.endpoint) as client:
        result = client.detect(jpeg())
    assert len(service.seen) == 2
    assert result.faces == []
    with serve(scripted(failing)) as service, client_for(
        service.endpoint, retry=RetryPolicy(max_retries=1, initial_backoff=0.01)
    ) as client, pytest.raises(ServiceUnavailableError):
        client.detect(jpeg())
    assert len(service.seen) == 2


def test_401_is_an_authentication_error_without_the_key() -> None:
    body = json.loads((FIXTURES / "error-401-cognitiveservices-gateway-nock-2021.json").read_text(encoding="utf-8"))
    with serve(scripted(Reply(401, body))) as service, client_for(service.endpoint) as client, pytest.raises(
        AuthenticationError
    ) as info:
        client.detect(jpeg())
    assert len(service.seen) == 1
    assert info.value.code == "401" and info.value.request_id == "req-1"
    assert KEY not in str(info.value) and KEY not in repr(info.value.body)


def test_reset_connection_is_a_network_error() -> None:
    with serve(scripted(Reply(action="reset"))) as service, client_for(service.endpoint) as client, pytest.raises(
        NetworkError
    ):
        client.detect(jpeg())
    assert len(service.seen) == 1


def test_truncated_body_is_a_network_error() -> None:
    with serve(scripted(Reply(body=SEED_000, action="truncate"))) as service, client_for(
        service.endpoint
    ) as client, pytest.raises(NetworkError, match="cut short"):
        client.detect(jpeg())
    assert len(service.seen) == 1


def test_read_timeout_is_a_request_timeout_error() -> None:
    def slow(seen: Seen) -> Reply:
        time.sleep(1.0)
        return Reply(body=[])

    with serve(slow) as service, client_for(service.endpoint, timeout=(1.0, 0.2)) as client:
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError) as info:
            client.detect(jpeg())
        assert time.monotonic() - started < 0.9
    assert isinstance(info.value, TimeoutError)


def test_connection_refused_is_a_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with client_for(f"http://127.0.0.1:{port}") as client, pytest.raises(NetworkError, match="request not sent"):
        client.detect(jpeg())


def test_token_credential_needs_https_unless_told() -> None:
    class Token:
        def get_token(self, *scopes: str, **kwargs: Any) -> Any:
            from azure.core.credentials import AccessToken

            return AccessToken("t0k3n", 4_102_444_800)

    with pytest.raises(ConfigurationError, match="https"):
        FaceClient("azure-sdk", endpoint="http://127.0.0.1:9", credential=Token())
    with serve(scripted(Reply(body=[]))) as service, FaceClient(
        "azure-sdk", endpoint=service.endpoint, credential=Token(), enforce_https=False
    ) as client:
        client.detect(jpeg())
    assert service.seen[0].headers["Authorization"] == "Bearer t0k3n"


def test_azure_cores_default_policy_would_retry_429_three_times() -> None:
    # Why facekit installs its own azure-core policy: the stock one retries a 429 carrying Retry-After
    # (backoff zeroed only to keep the test fast).
    from azure.core.pipeline.policies import RetryPolicy as AzureRetryPolicy

    sleeps = Sleeps()
    with serve(scripted(Reply(429, THROTTLED, {"Retry-After": "0"}))) as service, client_for(
        service.endpoint, sleep=sleeps, retry_policy=AzureRetryPolicy(retry_backoff_factor=0.0)
    ) as client, pytest.raises(RateLimitError):
        client.detect(jpeg())
    assert len(service.seen) == 4  # 1 + azure-core's 3 status retries; facekit adds none on top
    assert sleeps == []


def test_rate_limiter_is_acquired_before_every_attempt() -> None:
    class Counting:
        calls = 0

        def acquire(self) -> float:
            Counting.calls += 1
            return 0.0

    replies = scripted(Reply(429, THROTTLED, {"Retry-After": "0"}), Reply(body=[]))
    with serve(replies) as service, client_for(service.endpoint, rate_limiter=Counting(), sleep=Sleeps()) as client:
        client.detect(jpeg())
    assert len(service.seen) == 2
    assert Counting.calls == 2
