"""AzureRestBackend at the unit level: real requests against ``responses``."""

from __future__ import annotations

import io
import json
import logging
import random
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from PIL import Image
from responses import matchers

from facekit import (
    ConfigurationError,
    FaceClient,
    InvalidImageError,
    InvalidRequestError,
    RateLimiter,
    RateLimitError,
    RequestTimeoutError,
    RetryPolicy,
    ServiceUnavailableError,
    UnsupportedFeatureError,
)
from facekit.backends.azure_rest import AzureRestBackend

FIXTURES = Path(__file__).parent.parent / "fixtures" / "azure"
ENDPOINT = "https://myface.cognitiveservices.azure.com"
DETECT = f"{ENDPOINT}/face/v1.2/detect"
KEY = "0123456789abcdef-SECRET-KEY"
V12 = json.loads((FIXTURES / "spec-example-v1.2-DetectFromUrl-body.json").read_text(encoding="utf-8"))


def jpeg(size: tuple[int, int] = (400, 300)) -> bytes:
    rng = random.Random(2)
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3)).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make(**options: Any) -> FaceClient:
    options.setdefault("endpoint", ENDPOINT)
    options.setdefault("key", KEY)
    return FaceClient("azure-rest", **options)


@responses.activate
def test_default_request_query_headers_and_timeout() -> None:
    responses.post(DETECT, json=V12)
    data = jpeg()
    result = make().detect(data, attributes=["head_pose", "blur"], landmarks=True)
    [call] = responses.calls
    request = call.request
    assert request.params == {
        "returnFaceId": "false",
        "returnFaceLandmarks": "true",
        "returnFaceAttributes": "headPose,blur",
        "recognitionModel": "recognition_01",
        "returnRecognitionModel": "false",
        "detectionModel": "detection_01",
    }
    assert request.headers["Ocp-Apim-Subscription-Key"] == KEY
    assert request.headers["Content-Type"] == "application/octet-stream"
    assert "Authorization" not in request.headers
    assert request.body == data
    assert request.req_kwargs["timeout"] == (5.0, 30.0)
    assert result.models == {"detection": "detection_01", "recognition": "recognition_03"}  # echoed by the service
    assert result.faces[0].box.xywh == (394.0, 54.0, 78.0, 78.0)
    assert result.faces[0].landmarks is not None and len(result.faces[0].landmarks) == 27


@responses.activate
def test_every_option_reaches_the_query() -> None:
    url = f"{ENDPOINT}/face/v1.1-preview.1/detect"
    responses.post(url, json=[])
    client = make(api_version="v1.1-preview.1", detection_model="detection_03", recognition_model="recognition_04",
                  face_id_time_to_live=300, return_recognition_model=True)
    client.detect(jpeg(), attributes=["mask", "quality_for_recognition", "head_pose", "blur"], landmarks=True,
                  face_id=True)
    assert responses.calls[0].request.params == {
        "returnFaceId": "true",
        "returnFaceLandmarks": "true",
        "returnFaceAttributes": "mask,qualityForRecognition,headPose,blur",
        "recognitionModel": "recognition_04",
        "returnRecognitionModel": "true",
        "detectionModel": "detection_03",
        "faceIdTimeToLive": "300",
    }


@responses.activate
def test_per_call_options_override_the_configured_models() -> None:
    responses.post(DETECT, json=[], match=[matchers.query_param_matcher(
        {"returnFaceId": "false", "returnFaceLandmarks": "false", "returnFaceAttributes": "mask",
         "recognitionModel": "recognition_01", "returnRecognitionModel": "false", "detectionModel": "detection_03"})])
    result = make().detect(jpeg(), attributes=["mask"], detection_model="detection_03")
    assert result.models["detection"] == "detection_03"
    with pytest.raises(InvalidRequestError, match="per-call options"):
        make().detect(jpeg(), colour="blue")
    assert len(responses.calls) == 1


@responses.activate
def test_url_input_json_body() -> None:
    responses.post(DETECT, json=V12, match=[matchers.json_params_matcher({"url": "https://example.com/1.jpg"})])
    result = make().detect("https://example.com/1.jpg")
    assert responses.calls[0].request.headers["Content-Type"] == "application/json"
    assert result.image.sent_format == "url" and result.faces[0].box.image_width is None


@responses.activate
def test_validation_happens_before_sending() -> None:
    client = make()
    with pytest.raises(UnsupportedFeatureError, match="retired"):
        client.detect(jpeg(), attributes=["emotion"])
    with pytest.raises(UnsupportedFeatureError, match="no such attribute"):
        client.detect(jpeg(), attributes=["eyes_open"])
    with pytest.raises(UnsupportedFeatureError, match="landmarks"):
        client.detect(jpeg(), landmarks=True, detection_model="detection_02")
    assert len(responses.calls) == 0


@responses.activate
def test_retired_attributes_when_allowed_are_sent_and_mapped() -> None:
    seed = json.loads((FIXTURES / "seed-000-quickstart-2018-v1.0-two-faces.json").read_text(encoding="utf-8"))
    responses.post(f"{ENDPOINT}/face/v1.0/detect", json=seed)
    client = make(endpoint=f"{ENDPOINT}/face/v1.0/detect", allow_retired_attributes=True)  # version from the URL
    result = client.detect(jpeg((640, 480)), attributes=["age", "gender", "emotion"])
    assert responses.calls[0].request.params["returnFaceAttributes"] == "age,gender,emotion"
    assert [f.attributes.age for f in result.faces] == [27.0, 32.0]


@responses.activate
def test_retries_honour_retry_after_with_the_injected_sleep() -> None:
    body = {"error": {"statusCode": 429, "message": "Rate limit is exceeded. Try again in 26 seconds."}}
    responses.post(DETECT, json=body, status=429, headers={"Retry-After": "7"})
    responses.post(DETECT, json=body, status=429)  # no header: the message's 26 s
    responses.post(DETECT, json=V12)
    sleeps = Sleeps()
    result = make(sleep=sleeps).detect(jpeg())
    assert len(responses.calls) == 3 and sleeps == [7.0, 26.0]
    assert len(result.faces) == 1


@responses.activate
def test_retries_stop_after_max_retries_with_exponential_backoff() -> None:
    responses.post(DETECT, json={"error": {"code": "InternalServerError", "message": "oops"}}, status=500)
    sleeps = Sleeps()
    policy = RetryPolicy(max_retries=3, initial_backoff=0.5, jitter=0.0)
    with pytest.raises(ServiceUnavailableError) as info:
        make(sleep=sleeps, retry=policy).detect(jpeg())
    assert len(responses.calls) == 4 and sleeps == [0.5, 1.0, 2.0]
    assert info.value.status == 500 and info.value.code == "InternalServerError"


@responses.activate
def test_retry_after_above_cap_is_not_retried() -> None:
    responses.post(DETECT, json={"error": {"code": "429", "message": "slow"}}, status=429, headers={"Retry-After": "120"})
    sleeps = Sleeps()
    with pytest.raises(RateLimitError) as info:
        make(sleep=sleeps).detect(jpeg())
    assert info.value.retry_after == 120.0 and sleeps == [] and len(responses.calls) == 1


@pytest.mark.parametrize(
    ("status", "code", "expected", "calls"),
    [
        (400, "InvalidImageSize", InvalidImageError, 1),
        (400, "BadArgument", InvalidRequestError, 1),
        (403, "UnsupportedFeature", UnsupportedFeatureError, 1),
        (408, "OperationTimeOut", RequestTimeoutError, 3),
        (415, "BadArgument", InvalidRequestError, 1),
    ],
)
@responses.activate
def test_error_statuses_and_retry_counts(status: int, code: str, expected: type[Exception], calls: int) -> None:
    responses.post(DETECT, json={"error": {"code": code, "message": "m"}}, status=status,
                   headers={"apim-request-id": "abc"})
    with pytest.raises(expected) as info:
        make(sleep=Sleeps()).detect(jpeg())
    assert len(responses.calls) == calls
    assert info.value.code == code and info.value.request_id == "abc"  # type: ignore[attr-defined]


@responses.activate
def test_non_json_success_is_a_provider_error() -> None:
    from facekit import ProviderError

    responses.post(DETECT, body="<html>proxy</html>", status=200)
    with pytest.raises(ProviderError, match="not JSON"):
        make().detect(jpeg())


@responses.activate
def test_transport_errors_are_mapped() -> None:
    from facekit import NetworkError

    responses.post(DETECT, body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(RequestTimeoutError):
        make(sleep=Sleeps(), retry=RetryPolicy(max_retries=0)).detect(jpeg())
    responses.replace(responses.POST, DETECT, body=requests.exceptions.ConnectionError("refused"))
    with pytest.raises(NetworkError):
        make(sleep=Sleeps(), retry=RetryPolicy(max_retries=0)).detect(jpeg())


@responses.activate
def test_token_and_token_provider_auth() -> None:
    responses.post(DETECT, json=[])
    make(key=None, token="static-token").detect(jpeg())
    assert responses.calls[0].request.headers["Authorization"] == "Bearer static-token"
    assert "Ocp-Apim-Subscription-Key" not in responses.calls[0].request.headers

    class Credential:
        def __init__(self) -> None:
            self.scopes: list[str] = []

        def get_token(self, scope: str) -> Any:
            self.scopes.append(scope)
            return type("Token", (), {"token": "entra-token"})()

    credential = Credential()
    make(key=None, token_provider=credential).detect(jpeg())
    assert responses.calls[1].request.headers["Authorization"] == "Bearer entra-token"
    assert credential.scopes == ["https://cognitiveservices.azure.com/.default"]
    make(key=None, token_provider=lambda: "fresh").detect(jpeg())
    assert responses.calls[2].request.headers["Authorization"] == "Bearer fresh"


@responses.activate
def test_rate_limiter_is_acquired_per_attempt() -> None:
    responses.post(DETECT, json={"error": {"code": "x"}}, status=503)
    responses.post(DETECT, json=[])
    waits: list[float] = []
    limiter = RateLimiter(1000, sleep=waits.append)
    acquired: list[float] = []
    original = limiter.acquire

    def counting() -> float:
        acquired.append(original())
        return acquired[-1]

    limiter.acquire = counting  # type: ignore[method-assign]
    make(rate_limiter=limiter, sleep=Sleeps()).detect(jpeg())
    assert len(acquired) == 2


@responses.activate
def test_key_never_in_repr_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    responses.post(DETECT, json={"error": {"code": "401", "message": "Access denied"}}, status=401)
    caplog.set_level(logging.DEBUG)
    client = make()
    with pytest.raises(Exception) as info:
        client.detect(jpeg())
    texts = [repr(client), repr(client.backend), str(info.value), repr(info.value), caplog.text,
             json.dumps(client.backend.info())]
    assert "POST" in caplog.text  # the backend does log
    for text in texts:
        assert KEY not in text
    assert "myface.cognitiveservices.azure.com" in repr(client)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"endpoint": None}, "FACEKIT_AZURE_ENDPOINT"),
        ({"key": None}, "FACEKIT_AZURE_KEY"),
        ({"endpoint": "myface.cognitiveservices.azure.com"}, "http"),
        ({"endpoint": f"{ENDPOINT}/face/v1.0", "api_version": "v1.2"}, "v1.0"),
        ({"timeout": "soon"}, "timeout"),
        ({"detection_model": "detection_04"}, "detection_model"),
        ({"token_provider": 42}, "token_provider"),
    ],
)
def test_configuration_errors(options: dict[str, Any], match: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for names in AzureRestBackend.env_vars.values():
        for name in names:
            monkeypatch.delenv(name, raising=False)
    settings = {"endpoint": ENDPOINT, "key": KEY, **options}
    with pytest.raises(ConfigurationError, match=match) as info:
        AzureRestBackend(**settings)
    assert KEY not in str(info.value)


@responses.activate
def test_environment_variables_microsoft_names(monkeypatch: pytest.MonkeyPatch) -> None:
    for names in AzureRestBackend.env_vars.values():
        for name in names:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FACE_ENDPOINT", ENDPOINT + "/")
    monkeypatch.setenv("FACE_APIKEY", KEY)
    monkeypatch.setenv("FACEKIT_AZURE_API_VERSION", "v1.2-preview.1")
    monkeypatch.setenv("FACEKIT_AZURE_DETECTION_MODEL", "detection_03")
    monkeypatch.setenv("FACEKIT_AZURE_TIMEOUT", "2,9")
    responses.post(f"{ENDPOINT}/face/v1.2-preview.1/detect", json=[])
    client = FaceClient("azure-rest")
    client.detect(jpeg())
    call = responses.calls[0].request
    assert call.headers["Ocp-Apim-Subscription-Key"] == KEY
    assert call.params["detectionModel"] == "detection_03" and call.req_kwargs["timeout"] == (2.0, 9.0)
    monkeypatch.setenv("FACEKIT_AZURE_KEY", "preferred")
    assert FaceClient("azure-rest").backend._auth_headers() == {"Ocp-Apim-Subscription-Key": "preferred"}  # type: ignore[attr-defined]


def test_config_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for names in AzureRestBackend.env_vars.values():
        for name in names:
            monkeypatch.delenv(name, raising=False)
    config = tmp_path / "facekit.toml"
    config.write_text(
        '[profiles.azure]\nprovider = "azure-rest"\nendpoint = "https://x.cognitiveservices.azure.com"\n'
        'key = "k"\napi_version = "v1.0"\ntimeout = [3, 10]\nallow_retired_attributes = true\n',
        encoding="utf-8",
    )
    client = FaceClient.from_config(config, "azure")
    backend = client.backend
    assert isinstance(backend, AzureRestBackend)
    assert backend.options.api_version == "v1.0" and backend.options.allow_retired_attributes is True
    assert "age" in client.capabilities.attributes
    assert backend.input_spec.max_bytes == 6 * 1024 * 1024 and backend.input_spec.min_bytes == 1024
