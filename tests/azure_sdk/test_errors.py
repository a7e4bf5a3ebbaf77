"""The azure-sdk error seam: every azure-core failure mapped into facekit's tree, by status and
code, raised from the SDK's exception, with status, code, request id and raw body."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import (
    ClientAuthenticationError,
    DecodeError,
    HttpResponseError,
    IncompleteReadError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)
from PIL import Image

from facekit import (
    AuthenticationError,
    FaceClient,
    FacekitError,
    InvalidImageError,
    InvalidRequestError,
    NetworkError,
    ProviderError,
    QuotaExceededError,
    RateLimitError,
    RequestTimeoutError,
    RetryPolicy,
    ServiceUnavailableError,
    UnsupportedFeatureError,
)
from facekit.backends._azure_sdk_glue import map_sdk_error
from tests.azure_sdk.transport import Answer, Sent, StubTransport

FIXTURES = Path(__file__).parent.parent / "fixtures" / "azure"
NO_RETRY = RetryPolicy(max_retries=0)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((200, 150), 60).convert("RGB").save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def detect_with(transport: StubTransport, **options: Any) -> Any:
    options.setdefault("retry", NO_RETRY)
    with FaceClient("azure-sdk", endpoint="https://x.cognitiveservices.azure.com", key="k", transport=transport,
                    **options) as client:
        return client.detect(jpeg())


@pytest.mark.parametrize(
    ("status", "body", "headers", "expected", "code", "cause"),
    [
        (400, fixture("error-400-InvalidImageSize-v1.0-westcentralus.json"), {}, InvalidImageError,
         "InvalidImageSize", HttpResponseError),
        (400, {"error": {"code": "InvalidURL", "message": "Failed to download image."}}, {}, InvalidRequestError,
         "InvalidURL", HttpResponseError),
        (400, {"error": {"code": "BadArgument", "message": "Invalid argument returnFaceAttributes."}}, {},
         InvalidRequestError, "BadArgument", HttpResponseError),
        (401, fixture("error-401-cognitiveservices-gateway-nock-2021.json"), {}, AuthenticationError, "401",
         ClientAuthenticationError),
        (403, fixture("error-403-quota-statusCode-variant-from-code-comment.json"), {}, QuotaExceededError, None,
         HttpResponseError),
        (403, {"error": {"code": "UnsupportedFeature", "message": "Feature is not supported."}}, {},
         UnsupportedFeatureError, "UnsupportedFeature", HttpResponseError),
        (404, {"error": {"code": "404", "message": "Resource not found"}}, {}, ProviderError, "404",
         ResourceNotFoundError),
        (408, {"error": {"code": "OperationTimeOut", "message": "Request Timeout."}}, {}, RequestTimeoutError,
         "OperationTimeOut", HttpResponseError),
        (415, {"error": {"code": "BadArgument", "message": "Invalid Media Type."}}, {}, InvalidRequestError,
         "BadArgument", HttpResponseError),
        (429, {"error": {"statusCode": 429, "message": "Rate limit is exceeded. Try again in 26 seconds."}},
         {"Retry-After": "26"}, RateLimitError, None, HttpResponseError),
        (502, b"<html><body>Bad Gateway</body></html>", {"Content-Type": "text/html"}, ServiceUnavailableError,
         None, ValueError),
    ],
)
def test_http_errors_are_mapped_by_status_and_code(
    status: int, body: Any, headers: dict[str, str], expected: type[FacekitError], code: str | None, cause: type
) -> None:
    transport = StubTransport(Answer(status=status, body=body, headers={"apim-request-id": "req-42", **headers}))
    with pytest.raises(expected) as info:
        detect_with(transport)
    error = info.value
    assert type(error) is expected
    assert error.provider == "azure-sdk"
    assert error.status == status
    assert error.code == code
    assert error.request_id == "req-42"
    assert error.body == (body.decode() if isinstance(body, bytes) else body)
    assert isinstance(error.__cause__, cause)
    assert len(transport.sent) == 1  # 4xx never retried by azure-core; 502 is not a POST retry status


def test_rate_limit_carries_retry_after_seconds() -> None:
    body = {"error": {"statusCode": 429, "message": "Rate limit is exceeded. Try again in 26 seconds."}}
    transport = StubTransport(Answer(status=429, body=body, headers={"Retry-After": "26"}))
    with pytest.raises(RateLimitError) as info:
        detect_with(transport)
    assert info.value.retry_after == 26.0


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"", "not a Face - Detect response"),
        (b"<html>oops</html>", "not a Face - Detect response"),
        (b'[{"faceRect', "not a Face - Detect response"),
        ({"faces": []}, "not a Face - Detect response"),
        ([{"faceAttributes": {}}], "without a usable faceRectangle"),
    ],
)
def test_a_200_that_is_not_a_detect_response_is_a_provider_error(body: Any, match: str) -> None:
    transport = StubTransport(Answer(status=200, body=body))
    with pytest.raises(ProviderError, match=match) as info:
        detect_with(transport)
    assert type(info.value) is ProviderError
    assert info.value.status in (200, None)


def test_5xx_is_retried_by_azure_core_only_up_to_the_policy() -> None:
    body = {"error": {"code": "InternalServerError", "message": "boom"}}
    transport = StubTransport(Answer(status=503, body=body))
    with pytest.raises(ServiceUnavailableError) as info:
        detect_with(transport, retry=RetryPolicy(max_retries=2, initial_backoff=0.0))
    assert len(transport.sent) == 3  # 1 + retry_total=2, not azure-core's default 1 + 3
    assert info.value.status == 503 and info.value.code == "InternalServerError"


def test_503_asking_to_wait_longer_than_the_cap_is_not_retried() -> None:
    transport = StubTransport(Answer(status=503, body={"error": {"code": "x"}}, headers={"Retry-After": "3600"}))
    with pytest.raises(ServiceUnavailableError):
        detect_with(transport, retry=RetryPolicy(max_retries=2, max_retry_after=60))
    assert len(transport.sent) == 1


def _raising(error: Exception) -> StubTransport:
    def handler(sent: Sent) -> Answer:
        raise error

    return StubTransport(handler)


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (ServiceRequestError("Failed to establish a new connection: [Errno 111] Connection refused"), NetworkError),
        (ServiceRequestTimeoutError("connect timed out"), RequestTimeoutError),
        (ServiceResponseTimeoutError("Read timed out. (read timeout=30)"), RequestTimeoutError),
        (ServiceResponseError("Connection aborted: RemoteDisconnected"), NetworkError),
        (IncompleteReadError("IncompleteRead(10 bytes read, 90 more expected)"), NetworkError),
    ],
)
def test_transport_failures_are_mapped(raised: Exception, expected: type[FacekitError]) -> None:
    transport = _raising(raised)
    with pytest.raises(expected) as info:
        detect_with(transport, retry=RetryPolicy(max_retries=0))
    assert type(info.value) is expected
    assert info.value.__cause__ is raised
    assert info.value.provider == "azure-sdk" and info.value.status is None


def test_connection_failures_of_a_post_are_not_retried() -> None:
    # azure-core retries failed connections only for idempotent methods; facekit retries 429 only.
    transport = _raising(ServiceRequestError("Connection refused"))
    with pytest.raises(NetworkError):
        detect_with(transport, retry=RetryPolicy(max_retries=2, initial_backoff=0.0))
    assert len(transport.sent) == 1


def test_token_failure_without_an_answer_is_an_authentication_error() -> None:
    error = map_sdk_error(ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token"))
    assert type(error) is AuthenticationError
    assert "failed to retrieve a token" in error.message


def test_decode_error_of_an_error_answer_uses_the_answers_status() -> None:
    class Response:
        def __init__(self) -> None:
            self.status_code = 500
            self.headers = {"x-ms-request-id": "r-9"}

        def text(self) -> str:
            return "Internal error"

    error = map_sdk_error(DecodeError("JSON is invalid"), Response())
    assert type(error) is ServiceUnavailableError
    assert (error.status, error.request_id, error.body) == (500, "r-9", "Internal error")
