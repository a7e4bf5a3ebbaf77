"""End to end: FaceClient -> AzureRestBackend -> real requests -> a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import io
import json
import random
import time
from pathlib import Path

import pytest
from PIL import Image

from facekit import (
    AuthenticationError,
    FaceClient,
    ImageSizeUnknownError,
    NetworkError,
    QuotaExceededError,
    RateLimitError,
    RetryPolicy,
    ServiceUnavailableError,
)
from tests.azure_rest.fake_service import Reply, Seen, scripted, serve

FIXTURES = Path(__file__).parent.parent / "fixtures" / "azure"
SEED_000 = json.loads((FIXTURES / "seed-000-quickstart-2018-v1.0-two-faces.json").read_text(encoding="utf-8"))
KEY = "k3y-l00pback-s3cret"
FAST = RetryPolicy(max_retries=2, initial_backoff=0.01, max_backoff=0.02, jitter=0.0)


def jpeg(size: tuple[int, int] = (640, 480)) -> bytes:
    rng = random.Random(1)
    image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def client_for(endpoint: str, **options: object) -> FaceClient:
    options.setdefault("retry", FAST)
    return FaceClient("azure-rest", endpoint=endpoint, key=KEY, **options)


def test_seed_000_scenario_end_to_end() -> None:
    with serve(scripted(Reply(body=SEED_000))) as service, client_for(
        service.endpoint, api_version="v1.0", allow_retired_attributes=True
    ) as client:
        data = jpeg()
        result = client.detect(data, attributes=["age", "gender", "head_pose", "smile"], face_id=True)
    [seen] = service.seen
    assert seen.path == "/face/v1.0/detect"
    assert seen.query["returnFaceAttributes"] == "age,gender,headPose,smile"
    assert seen.query["returnFaceId"] == "true"
    assert seen.headers["Content-Type"] == "application/octet-stream"
    assert seen.headers["Ocp-Apim-Subscription-Key"] == KEY
    assert seen.body == data  # sent unchanged
    assert result.provider == "azure-rest"
    assert result.models == {"detection": "detection_01", "recognition": "recognition_01"}
    assert result.runtime == {"api_version": "v1.0", "request_id": "req-1"}
    assert result.raw == SEED_000
    big, small = result.faces
    assert (big.index, big.box.xywh) == (0, (228.0, 208.0, 91.0, 91.0))
    assert (small.index, small.box.xywh) == (1, (125.0, 109.0, 79.0, 79.0))
    assert (big.box.image_width, big.box.image_height) == (640, 480)
    assert big.attributes.gender is not None and big.attributes.gender.value == "female" and big.attributes.age == 27.0
    assert small.attributes.gender is not None and small.attributes.gender.value == "male" and small.attributes.age == 32.0
    assert big.face_id == "35102aa8-4263-4139-bfd6-185bb0f52d88"


def test_url_input_is_sent_as_json_and_size_is_unknown() -> None:
    with serve(scripted(Reply(body=SEED_000[:1]))) as service, client_for(service.endpoint) as client:
        result = client.detect("https://example.invalid/people.jpg")
    [seen] = service.seen
    assert seen.headers["Content-Type"] == "application/json"
    assert json.loads(seen.body) == {"url": "https://example.invalid/people.jpg"}
    assert result.image.width is None and result.image.source == "url"
    assert any("image size is unknown" in warning for warning in result.warnings)
    face = result.faces[0]
    assert face.box.xywh == (228.0, 208.0, 91.0, 91.0)
    with pytest.raises(ImageSizeUnknownError):
        face.box.to_ratio()


def test_url_input_with_probe_size_knows_the_size() -> None:
    image = jpeg((320, 240))

    with serve(scripted(Reply(body=SEED_000[:1]))) as service, client_for(service.endpoint) as client:
        service.images["/people.jpg"] = image
        url = service.endpoint + "/people.jpg"
        result = client.detect(url, probe_size=True)
    [seen] = service.seen  # the POST only: the GET for the header is not recorded
    assert json.loads(seen.body) == {"url": url}
    assert (result.image.width, result.image.height) == (320, 240)
    assert result.faces[0].box.to_ratio().left == pytest.approx(228 / 320)


@pytest.mark.parametrize(
    ("status", "body", "expected", "attempts"),
    [
        (401, {"error": {"code": "401", "message": "Access denied due to invalid subscription key."}}, AuthenticationError, 1),
        (403, {"error": {"statusCode": 403, "message": "Out of call volume quota."}}, QuotaExceededError, 1),
        (503, {"error": {"code": "ServiceUnavailable", "message": "busy"}}, ServiceUnavailableError, 3),
    ],
)
def test_status_codes_over_the_wire(status: int, body: object, expected: type[Exception], attempts: int) -> None:
    with serve(scripted(Reply(status=status, body=body))) as service, client_for(
        service.endpoint
    ) as client, pytest.raises(expected) as info:
        client.detect(jpeg())
    assert len(service.seen) == attempts
    assert info.value.status == status  # type: ignore[attr-defined]
    assert info.value.request_id == f"req-{attempts}"  # type: ignore[attr-defined]
    assert KEY not in str(info.value) and KEY not in repr(info.value)


def test_retry_after_is_honoured_in_real_time() -> None:
    limited = Reply(status=429, body={"error": {"statusCode": 429, "message": "Rate limit is exceeded. Try again in 1 seconds."}},
                    headers={"Retry-After": "1"})
    with serve(scripted(limited, Reply(body=SEED_000))) as service, client_for(service.endpoint) as client:
        result = client.detect(jpeg())
    assert len(result.faces) == 2
    first, second = service.seen
    assert 0.95 <= second.at - first.at < 2.5


def test_retry_after_above_the_cap_is_raised_at_once() -> None:
    limited = Reply(status=429, body={"error": {"statusCode": 429, "message": "Try again in 26 seconds."}})
    policy = RetryPolicy(max_retries=2, max_retry_after=5.0)
    with serve(scripted(limited)) as service, client_for(service.endpoint, retry=policy) as client:
        started = time.monotonic()
        with pytest.raises(RateLimitError) as info:
            client.detect(jpeg())
    assert info.value.retry_after == 26.0
    assert len(service.seen) == 1 and time.monotonic() - started < 2


def test_connection_reset_is_a_network_error_and_retried() -> None:
    with serve(scripted(Reply(action="reset"), Reply(body=SEED_000))) as service, client_for(service.endpoint) as client:
        result = client.detect(jpeg())
    assert len(service.seen) == 2 and len(result.faces) == 2
    with serve(scripted(Reply(action="reset"))) as service, client_for(
        service.endpoint, retry=RetryPolicy(max_retries=0)
    ) as client, pytest.raises(NetworkError) as info:
        client.detect(jpeg())
    assert info.value.provider == "azure-rest" and KEY not in str(info.value)


def test_truncated_body_is_a_network_error() -> None:
    with serve(scripted(Reply(body=SEED_000, action="truncate"))) as service, client_for(
        service.endpoint, retry=RetryPolicy(max_retries=1, initial_backoff=0.01, jitter=0.0)
    ) as client, pytest.raises(NetworkError):
        client.detect(jpeg())
    assert len(service.seen) == 2


def test_timeout_is_a_request_timeout_error() -> None:
    from facekit import RequestTimeoutError

    def slow(seen: Seen) -> Reply:
        time.sleep(0.5)
        return Reply(body=[])

    with serve(slow) as service, client_for(
        service.endpoint, timeout=(1, 0.2), retry=RetryPolicy(max_retries=0)
    ) as client, pytest.raises(RequestTimeoutError):
        client.detect(jpeg())
