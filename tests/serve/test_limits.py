"""The server's limits against a real uvicorn: a full queue gets 429 / ThrottlingException with
Retry-After, concurrent requests are batched through detect_batch, bodies are capped, slow
clients time out, errors come in each service's format, and binding beyond loopback needs a key."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from facekit import ConfigurationError
from tests.serve.conftest import AZURE_KEY

pytestmark = pytest.mark.filterwarnings("ignore::facekit.FacekitWarning")


@pytest.fixture(scope="module")
def tight(local_client: Any) -> Iterator[str]:
    """A server admitting 3 requests at once, one worker, a 0.3 s batch window, a 0.5 s body timeout."""
    from facekit.serve import create_app, running

    app = create_app(client=local_client, max_queue=3, workers=1, batch_window=0.3, body_timeout=0.5)
    with running(app) as url:
        yield url


def _concurrently(count: int, call: Any) -> list[Any]:
    results: list[Any] = [None] * count
    barrier = threading.Barrier(count)

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = call()
        except Exception as exc:  # the caller inspects it
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_full_queue_is_refused_and_admitted_requests_are_batched(
    tight: str, grace_jpeg: bytes, local_client: Any
) -> None:
    before = requests.get(f"{tight}/healthz", timeout=10).json()["stats"]

    def azure() -> requests.Response:
        return requests.post(f"{tight}/face/v1.2/detect?returnFaceAttributes=headPose", data=grace_jpeg,
                             headers={"Content-Type": "application/octet-stream"}, timeout=60)

    answers = _concurrently(8, azure)
    ok = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code == 429]
    assert len(ok) == 3 and len(refused) == 5, [a.status_code for a in answers]
    for answer in refused:
        assert int(answer.headers["Retry-After"]) >= 1
        assert answer.json()["error"]["code"] == "429"
        assert "Try again in" in answer.json()["error"]["message"]
    direct = local_client.detect(grace_jpeg, attributes=["head_pose"])
    for answer in ok:
        [face] = answer.json()
        assert face["faceRectangle"]["left"] == round(direct.faces[0].box.left)
        assert face["faceAttributes"]["headPose"]["yaw"] == pytest.approx(direct.faces[0].attributes.head_pose.yaw, abs=1e-3)
    after = requests.get(f"{tight}/healthz", timeout=10).json()["stats"]
    assert after["batches"] - before["batches"] == 1 and after["largest_batch"] == 3  # one detect_batch call
    assert after["refused"] - before["refused"] == 5


def test_full_queue_gives_boto3_a_throttling_exception(tight: str, grace_jpeg: bytes) -> None:
    boto3 = pytest.importorskip("boto3")
    from botocore.config import Config
    from botocore.exceptions import ClientError

    def aws() -> Any:
        client = boto3.client("rekognition", endpoint_url=tight, region_name="us-east-1", aws_access_key_id="AKID",
                              aws_secret_access_key="secret", config=Config(retries={"total_max_attempts": 1}))
        return client.detect_faces(Image={"Bytes": grace_jpeg})

    outcomes = _concurrently(6, aws)
    throttled = [o for o in outcomes if isinstance(o, ClientError)]
    assert len(throttled) == 3 and sum(isinstance(o, dict) for o in outcomes) == 3, outcomes
    for error in throttled:
        assert error.response["Error"]["Code"] == "ThrottlingException"
        assert int(error.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"]) >= 1


def test_bodies_are_capped(tight: str) -> None:
    big = requests.post(f"{tight}/face/v1.0/detect", data=b"\xff\xd8\xff" + bytes(6 * 1024 * 1024),
                        headers={"Content-Type": "application/octet-stream"}, timeout=60)
    assert big.status_code == 400 and big.json()["error"]["code"] == "InvalidImageSize"
    small = requests.post(f"{tight}/face/v1.0/detect", data=b"\xff\xd8\xff" + bytes(100),
                          headers={"Content-Type": "application/octet-stream"}, timeout=60)
    assert small.status_code == 400 and small.json()["error"]["code"] == "InvalidImageSize"
    payload = json.dumps({"Image": {"Bytes": base64.b64encode(b"\xff\xd8\xff" + bytes(5_242_880)).decode()}})
    aws = requests.post(tight, data=payload, timeout=60, headers={
        "X-Amz-Target": "RekognitionService.DetectFaces", "Content-Type": "application/x-amz-json-1.1"})
    assert aws.status_code == 400 and aws.json()["__type"] == "ImageTooLargeException"


def test_slow_client_times_out(tight: str) -> None:
    host, port = tight.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /face/v1.0/detect HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                     b"Content-Length: 5000\r\n\r\n" + bytes(10))
        start = time.monotonic()
        answer = sock.recv(65536).decode("latin-1")
    assert answer.startswith("HTTP/1.1 408")
    assert 0.4 <= time.monotonic() - start < 5


def test_azure_errors_in_azure_shape(server: str, grace_jpeg: bytes) -> None:
    key = {"Ocp-Apim-Subscription-Key": AZURE_KEY, "Content-Type": "application/octet-stream"}

    def post(path: str, body: bytes = grace_jpeg, headers: dict[str, str] | None = None, **params: str) -> Any:
        return requests.post(f"{server}{path}", params=params, data=body, headers=headers or key, timeout=30)

    cases = [
        (post("/face/v1.0/detect", headers={"Content-Type": "application/octet-stream"}), 401, "401"),
        (post("/face/v1.0/detect", headers={**key, "Ocp-Apim-Subscription-Key": "wrong"}), 401, "401"),
        (post("/face/v9.9/detect"), 404, "404"),
        (post("/face/v1.0/detect", returnFaceAttributes="age,wrinkles"), 400, "BadArgument"),
        (post("/face/v1.0/detect", detectionModel="detection_07"), 400, "BadArgument"),
        (post("/face/v1.0/detect", bytes(range(256)) * 8), 400, "InvalidImage"),
        (post("/face/v1.0/detect", headers={**key, "Content-Type": "text/plain"}), 415, "BadArgument"),
        (post("/face/v1.0/detect", b'{"url": "file:///etc/passwd"}', {**key, "Content-Type": "application/json"}),
         400, "InvalidURL"),
        (post("/face/v1.0/detect", b'{"url": "http://127.0.0.1:9/none.jpg"}',
              {**key, "Content-Type": "application/json"}), 400, "InvalidURL"),
    ]
    for answer, status, code in cases:
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), answer.text
        assert answer.headers["apim-request-id"]
    assert "wrinkles" in cases[3][0].json()["error"]["message"]


def test_binding_beyond_loopback_needs_a_key(local_client: Any) -> None:
    from facekit.cli import main
    from facekit.serve import create_app, is_loopback, running

    app = create_app(client=local_client)
    with pytest.raises(ConfigurationError, match="pass a key"), running(app, host="0.0.0.0"):
        pass
    assert main(["serve", "--host", "0.0.0.0", "--port", "1"]) == 2
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
