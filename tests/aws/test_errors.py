"""Every Rekognition error code and transport failure maps to one facekit error (Stubber + loopback)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from facekit import (
    AuthenticationError,
    FaceClient,
    FacekitError,
    InvalidImageError,
    InvalidRequestError,
    NetworkError,
    ProviderError,
    RateLimitError,
    RequestTimeoutError,
    ServiceUnavailableError,
)
from facekit.backends.aws import RekognitionBackend
from tests.aws.conftest import REGION, SECRET_KEY
from tests.aws.standin import RekognitionStandIn

boto3 = pytest.importorskip("boto3")
from botocore.exceptions import ClientError  # noqa: E402
from botocore.stub import Stubber  # noqa: E402

PHOTO = Path(__file__).resolve().parent.parent / "data" / "grace_hopper.jpg"


@pytest.mark.parametrize(
    ("code", "status", "error_class", "hint"),
    [
        ("InvalidS3ObjectException", 400, InvalidRequestError, "same region"),
        ("InvalidParameterException", 400, InvalidRequestError, "80 pixels"),
        ("ImageTooLargeException", 400, InvalidImageError, "5,242,880"),
        ("InvalidImageFormatException", 400, InvalidImageError, "JPEG or PNG"),
        ("AccessDeniedException", 400, AuthenticationError, "rekognition:DetectFaces"),
        ("ThrottlingException", 400, RateLimitError, "throttled"),
        ("ProvisionedThroughputExceededException", 400, RateLimitError, "throttled"),
        ("InternalServerError", 500, ServiceUnavailableError, "try again"),
        ("UnrecognizedClientException", 400, AuthenticationError, "AWS_ACCESS_KEY_ID"),
        ("ExpiredTokenException", 400, AuthenticationError, "AWS_PROFILE"),
        ("SomethingNew", 400, ProviderError, "SomethingNew"),
    ],
)
def test_client_error_codes(code: str, status: int, error_class: type[FacekitError], hint: str) -> None:
    rekognition = boto3.client("rekognition", region_name=REGION)
    client = FaceClient(backend=RekognitionBackend(client=rekognition))
    with Stubber(rekognition) as stub:
        stub.add_client_error("detect_faces", service_error_code=code, service_message=f"msg for {code}",
                              http_status_code=status, response_meta={"RequestId": "rid-123"})
        with pytest.raises(error_class) as info:
            client.detect(PHOTO)
    error = info.value
    assert type(error) is error_class
    assert (error.provider, error.status, error.code, error.request_id) == ("aws", status, code, "rid-123")
    assert error.body == {"Error": {"Code": code, "Message": f"msg for {code}"}}
    assert hint in error.message
    assert f"msg for {code}" in error.message
    assert "request_id=rid-123" in str(error)
    assert isinstance(error.__cause__, ClientError)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_connection_refused_is_a_network_error() -> None:
    client = FaceClient("aws", endpoint_url=f"http://127.0.0.1:{_free_port()}", max_attempts=1)
    with pytest.raises(NetworkError) as info:
        client.detect(PHOTO)
    assert type(info.value.__cause__).__name__ == "EndpointConnectionError"
    assert info.value.provider == "aws"


def test_read_timeout_is_a_request_timeout() -> None:
    with RekognitionStandIn() as service:
        service.delay = 1.0
        client = FaceClient("aws", endpoint_url=service.url, read_timeout=0.2, max_attempts=1)
        with pytest.raises(RequestTimeoutError) as info:
            client.detect(PHOTO)
    assert isinstance(info.value, TimeoutError)
    assert type(info.value.__cause__).__name__ == "ReadTimeoutError"
    assert len(service.requests) == 1


def test_missing_credentials_say_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with RekognitionStandIn() as service:
        client = FaceClient("aws", endpoint_url=service.url)
        with pytest.raises(AuthenticationError) as info:
            client.detect(PHOTO)
    assert "AWS_ACCESS_KEY_ID" in str(info.value) and "AWS_PROFILE" in str(info.value)
    assert type(info.value.__cause__).__name__ == "NoCredentialsError"
    assert service.requests == []  # nothing sent unsigned


def test_secret_key_never_in_errors_or_repr(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with RekognitionStandIn(answers=[(403, {"__type": "UnrecognizedClientException",
                                            "Message": "The security token included in the request is invalid."})]) as service:
        client = FaceClient("aws", endpoint_url=service.url, aws_access_key_id="AKIAEXPLICIT0000",
                            aws_secret_access_key=SECRET_KEY, aws_session_token="TOKEN-SECRET-xyz")
        with pytest.raises(AuthenticationError) as info:
            client.detect(PHOTO)
    texts = [str(info.value), repr(info.value), repr(client), repr(client.backend), str(client.backend.info()),
             str(info.value.body), capsys.readouterr().out]
    for text in texts:
        assert SECRET_KEY not in text
        assert "TOKEN-SECRET-xyz" not in text
    assert info.value.status == 403 and info.value.code == "UnrecognizedClientException"
    assert info.value.request_id and info.value.request_id.startswith("req-1-")
    assert "Authorization" in service.requests[0]["headers"]  # signed with the explicit key
    assert "AKIAEXPLICIT0000" in service.requests[0]["headers"]["Authorization"]
