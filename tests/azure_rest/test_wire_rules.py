"""The shared Azure rules: model capabilities, retired attributes, query parameters, error mapping."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from facekit import (
    AuthenticationError,
    ConfigurationError,
    DetectRequest,
    InvalidImageError,
    InvalidRequestError,
    ProviderError,
    QuotaExceededError,
    RateLimitError,
    RequestTimeoutError,
    ServiceUnavailableError,
    UnsupportedFeatureError,
)
from facekit.backends._azure_wire import (
    AzureOptions,
    build_query,
    capabilities_for,
    check_azure_request,
    map_azure_error,
    parse_retry_after,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "azure"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_capabilities_per_detection_model() -> None:
    d1 = capabilities_for("detection_01", "recognition_01")
    assert d1.attributes == {"accessories", "blur", "exposure", "glasses", "head_pose", "noise", "occlusion"}
    assert len(d1.landmarks) == 27 and d1.face_id and d1.inputs == {"bytes", "url"} and d1.max_faces == 100
    d2 = capabilities_for("detection_02", "recognition_04")
    assert d2.attributes == frozenset() and d2.landmarks == frozenset()
    d3 = capabilities_for("detection_03", "recognition_01")
    assert d3.attributes == {"blur", "head_pose", "mask"} and len(d3.landmarks) == 27
    assert capabilities_for("detection_03", "recognition_04").attributes == {"blur", "head_pose", "mask", "quality_for_recognition"}
    assert "quality_for_recognition" in capabilities_for("detection_01", "recognition_03").attributes
    assert capabilities_for("detection_01", "recognition_01", allow_retired=True).attributes >= {
        "age", "gender", "emotion", "smile", "facial_hair", "hair", "makeup",
    }
    assert "age" not in capabilities_for("detection_03", "recognition_01", allow_retired=True).attributes


def _request(**kwargs: Any) -> DetectRequest:
    return DetectRequest(**kwargs)


@pytest.mark.parametrize("name", ["age", "gender", "emotion", "smile", "facial_hair", "hair", "makeup"])
def test_retired_attributes_raise_and_explain(name: str) -> None:
    with pytest.raises(UnsupportedFeatureError) as info:
        check_azure_request(_request(attributes=(name,)), AzureOptions(), backend="azure-rest")
    assert info.value.feature == name
    assert "retired" in str(info.value) and "allow_retired_attributes=True" in str(info.value)
    checked, warnings = check_azure_request(
        _request(attributes=(name,)), AzureOptions(allow_retired_attributes=True), backend="azure-rest"
    )
    assert checked.attributes == (name,) and warnings == []


def test_model_rules_are_checked_before_sending() -> None:
    d3 = AzureOptions(detection_model="detection_03")
    with pytest.raises(UnsupportedFeatureError, match="detection_01") as info:
        check_azure_request(_request(attributes=("glasses",)), d3, backend="azure-rest")
    assert info.value.feature == "glasses"
    d2 = AzureOptions(detection_model="detection_02")
    with pytest.raises(UnsupportedFeatureError) as info:
        check_azure_request(_request(landmarks=True), d2, backend="azure-rest")
    assert info.value.feature == "landmarks"
    with pytest.raises(UnsupportedFeatureError, match="recognition_03"):
        check_azure_request(_request(attributes=("quality_for_recognition",)), d3, backend="azure-rest")
    with pytest.raises(UnsupportedFeatureError, match="no such attribute"):
        check_azure_request(_request(attributes=("eyes_open",)), AzureOptions(), backend="azure-rest")
    checked, warnings = check_azure_request(
        _request(attributes=("blur", "glasses"), landmarks=True, strict=False), d2, backend="azure-rest"
    )
    assert checked.attributes == () and checked.landmarks is False and len(warnings) == 3


def test_per_call_options_override_and_unknown_options_fail() -> None:
    request = _request(attributes=("mask",), options={"detection_model": "detection_03"})
    checked, _ = check_azure_request(request, AzureOptions(), backend="azure-rest")
    assert checked.attributes == ("mask",)
    with pytest.raises(InvalidRequestError, match="detection_model"):
        check_azure_request(_request(options={"detection_modle": "x"}), AzureOptions(), backend="azure-rest")
    with pytest.raises(InvalidRequestError, match="detection_04"):
        check_azure_request(_request(options={"detection_model": "detection_04"}), AzureOptions(), backend="azure-rest")
    checked, _ = check_azure_request(_request(attributes=("all",)), AzureOptions(detection_model="detection_03"), backend="a")
    assert set(checked.attributes) == {"blur", "head_pose", "mask"}


def test_query_defaults_never_ask_for_face_ids() -> None:
    query = build_query(_request(), AzureOptions())
    assert query == {
        "returnFaceId": "false",
        "returnFaceLandmarks": "false",
        "recognitionModel": "recognition_01",
        "returnRecognitionModel": "false",
        "detectionModel": "detection_01",
    }


def test_query_every_parameter() -> None:
    options = AzureOptions(
        api_version="v1.2", detection_model="detection_01", recognition_model="recognition_04",
        face_id_time_to_live=120, return_recognition_model=True, allow_retired_attributes=True,
    )
    request = _request(
        attributes=("age", "gender", "head_pose", "smile", "facial_hair", "glasses", "emotion", "hair", "makeup",
                    "occlusion", "accessories", "blur", "exposure", "noise", "quality_for_recognition"),
        landmarks=True, face_id=True,
    )
    assert build_query(request, options) == {
        "returnFaceId": "true",
        "returnFaceLandmarks": "true",
        "returnFaceAttributes": "age,gender,headPose,smile,facialHair,glasses,emotion,hair,makeup,occlusion,"
        "accessories,blur,exposure,noise,qualityForRecognition",
        "recognitionModel": "recognition_04",
        "returnRecognitionModel": "true",
        "detectionModel": "detection_01",
        "faceIdTimeToLive": "120",
    }
    assert build_query(_request(attributes=("mask",)), AzureOptions(detection_model="detection_03"))[
        "returnFaceAttributes"] == "mask"


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ({"api_version": "1.0"}, "api_version"),
        ({"detection_model": "detection_9"}, "detection_model"),
        ({"recognition_model": "rec"}, "recognition_model"),
        ({"face_id_time_to_live": 59}, "60..86400"),
        ({"face_id_time_to_live": 86401}, "60..86400"),
        ({"face_id_time_to_live": "soon"}, "integer"),
        ({"face_id_time_to_live": 600, "api_version": "v1.0"}, "v1.1"),
        ({"allow_retired_attributes": "maybe"}, "true or false"),
    ],
)
def test_bad_options_are_configuration_errors(values: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        AzureOptions.build(**values)


def test_options_from_strings() -> None:
    options = AzureOptions.build(face_id_time_to_live="600", return_recognition_model="true",
                                 allow_retired_attributes="1", api_version="v1.1-preview.1")
    assert (options.face_id_time_to_live, options.return_recognition_model, options.allow_retired_attributes) == (600, True, True)


# -- errors ---------------------------------------------------------------------------------------

HEADERS = {"apim-request-id": "req-123"}


def test_400_invalid_image_size_fixture() -> None:
    body = load("error-400-InvalidImageSize-v1.0-westcentralus.json")
    error = map_azure_error(400, body, HEADERS)
    assert type(error) is InvalidImageError
    assert (error.status, error.code, error.request_id, error.provider) == (400, "InvalidImageSize", "req-123", "azure-rest")
    assert error.body == body and "Image size is too small." in str(error)


def test_401_gateway_fixture_string_code() -> None:
    error = map_azure_error(401, load("error-401-cognitiveservices-gateway-nock-2021.json"), {"x-ms-request-id": "r2"})
    assert type(error) is AuthenticationError
    assert (error.status, error.code, error.request_id) == (401, "401", "r2")


def test_403_quota_status_code_shape_fixture() -> None:
    error = map_azure_error(403, load("error-403-quota-statusCode-variant-from-code-comment.json"), {})
    assert type(error) is QuotaExceededError
    assert (error.status, error.code, error.request_id) == (403, None, None)
    assert "2.12 days" in str(error)


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "BadArgument", InvalidRequestError),
        (400, "InvalidURL", InvalidRequestError),
        (400, "InvalidImage", InvalidImageError),
        (400, "InvalidImageSize", InvalidImageError),
        (401, "Unspecified", AuthenticationError),
        (401, "PermissionDenied", AuthenticationError),
        (403, "UnsupportedFeature", UnsupportedFeatureError),
        (403, "QuotaExceeded", QuotaExceededError),
        (403, "Forbidden", AuthenticationError),
        (404, "ResourceNotFound", ProviderError),
        (408, "OperationTimeOut", RequestTimeoutError),
        (415, "BadArgument", InvalidRequestError),
        (429, "429", RateLimitError),
        (500, "InternalServerError", ServiceUnavailableError),
        (503, None, ServiceUnavailableError),
        (418, "Teapot", ProviderError),
    ],
)
def test_status_and_code_table(status: int, code: str | None, expected: type[Exception]) -> None:
    body = {"error": {"code": code, "message": "whatever text"}} if code else {"error": {"statusCode": status, "message": "x"}}
    error = map_azure_error(status, body, HEADERS)
    assert type(error) is expected
    assert error.status == status and error.code == code and error.request_id == "req-123"


def test_unsupported_feature_explains_limited_access() -> None:
    body = {"error": {"code": "UnsupportedFeature", "message": "Feature is not supported, missing approval for one or more of the following features: Identification,Verification."}}
    error = map_azure_error(403, body, {})
    assert isinstance(error, UnsupportedFeatureError) and error.feature == "face_id"
    assert "https://aka.ms/facerecognition" in str(error)


def test_classification_ignores_message_text() -> None:
    # a 400 whose message talks about rate limits is still a bad request
    error = map_azure_error(400, {"error": {"code": "BadArgument", "message": "Try again in 5 seconds. quota"}}, {})
    assert type(error) is InvalidRequestError


def test_429_retry_after_header_wins_over_message() -> None:
    body = {"error": {"statusCode": 429, "message": "Rate limit is exceeded. Try again in 26 seconds."}}
    error = map_azure_error(429, body, {"Retry-After": "3"})
    assert isinstance(error, RateLimitError) and error.retry_after == 3.0 and error.code is None
    error = map_azure_error(429, body, {})
    assert isinstance(error, RateLimitError) and error.retry_after == 26.0
    error = map_azure_error(429, {"error": {"code": "429", "message": "slow down"}}, {})
    assert isinstance(error, RateLimitError) and error.retry_after is None


def test_retry_after_http_date_and_text_bodies() -> None:
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480.0) == 10.0
    assert parse_retry_after({"Retry-After": "garbage"}) is None
    error = map_azure_error(502, "<html>Bad Gateway</html>", {})
    assert type(error) is ServiceUnavailableError and error.body == "<html>Bad Gateway</html>" and error.code is None
