"""AzureSdkBackend through the real azure-ai-vision-face client over a stub transport:
configuration, credentials, the request the SDK sends, shared validation, secrets."""

from __future__ import annotations

import io
import logging
import sys
import types
from typing import Any

import pytest
from azure.core.credentials import AccessToken, AzureKeyCredential
from PIL import Image

from facekit import (
    ConfigurationError,
    FaceClient,
    FacekitWarning,
    InvalidRequestError,
    MissingDependencyError,
    UnsupportedFeatureError,
)
from facekit.backends._azure_wire import build_query
from facekit.backends.azure_rest import AZURE_INPUT_SPEC
from facekit.backends.azure_sdk import SDK_KEYWORDS, AzureSdkBackend, sdk_keywords
from tests.azure_sdk.transport import Answer, StubTransport

KEY = "sdk-k3y-s3cr3t-0123456789"
ENDPOINT = "https://myface.cognitiveservices.azure.com"
ONE_FACE = [{"faceRectangle": {"top": 20, "left": 30, "width": 50, "height": 60}}]


def jpeg(size: tuple[int, int] = (200, 150)) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def client(transport: StubTransport, **options: Any) -> FaceClient:
    options.setdefault("endpoint", ENDPOINT)
    options.setdefault("key", KEY)
    return FaceClient("azure-sdk", transport=transport, **options)


class FakeTokenCredential:
    """A TokenCredential: azure-core asks it for a token per request."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken("t0ken-s3cr3t", 4_102_444_800)


# -- what is sent ---------------------------------------------------------------------------


def test_bytes_go_through_detect_with_the_shared_query() -> None:
    transport = StubTransport(Answer(body=ONE_FACE))
    data = jpeg()
    with client(transport, detection_model="detection_03", recognition_model="recognition_04") as c:
        result = c.detect(data, attributes=["head_pose", "mask"], landmarks=True)
    [sent] = transport.sent
    assert sent.method == "POST"
    assert sent.path == "/face/v1.2/detect"
    assert sent.query == {
        "detectionModel": "detection_03",
        "recognitionModel": "recognition_04",
        "returnFaceId": "false",
        "returnFaceLandmarks": "true",
        "returnFaceAttributes": "headPose,mask",
        "returnRecognitionModel": "false",
    }
    assert sent.headers["content-type"] == "application/octet-stream"
    assert sent.headers["Ocp-Apim-Subscription-Key"] == KEY
    assert sent.body == data
    assert result.provider == "azure-sdk"
    assert result.models == {"detection": "detection_03", "recognition": "recognition_04"}
    assert result.runtime == {"api_version": "v1.2", "request_id": "stub-req-1"}
    assert result.raw == ONE_FACE
    [face] = result.faces
    assert face.box.xywh == (30.0, 20.0, 50.0, 60.0)
    assert (face.box.image_width, face.box.image_height) == (200, 150)
    assert face.confidence is None and face.face_id is None


def test_url_goes_through_detect_from_url_without_download() -> None:
    transport = StubTransport(Answer(body=ONE_FACE))
    with client(transport) as c:
        result = c.detect("https://images.example/people.jpg", face_id=True)
    [sent] = transport.sent
    assert sent.headers["content-type"] == "application/json"
    assert sent.body == b'{"url": "https://images.example/people.jpg"}'
    assert sent.query["returnFaceId"] == "true"
    assert result.image.width is None and result.image.sent_format == "url"
    assert result.faces[0].box.xywh == (30.0, 20.0, 50.0, 60.0)


@pytest.mark.parametrize(
    ("options", "request_kwargs"),
    [
        ({}, {}),
        ({"detection_model": "detection_01"}, {"attributes": ["glasses", "occlusion", "blur"], "landmarks": True}),
        ({"face_id_time_to_live": 120, "return_recognition_model": True}, {"face_id": True}),
        ({"api_version": "v1.0", "allow_retired_attributes": True}, {"attributes": ["age", "emotion"]}),
        ({"recognition_model": "recognition_03"}, {"attributes": ["quality_for_recognition"]}),
    ],
)
def test_sdk_sends_exactly_the_rest_backends_query(options: dict[str, Any], request_kwargs: dict[str, Any]) -> None:
    transport = StubTransport(Answer(body=[]))
    with client(transport, **options) as c:
        c.detect(jpeg(), **request_kwargs)
        backend = c.backend
        assert isinstance(backend, AzureSdkBackend)
        checked, _ = backend.check_request(c.build_request(**request_kwargs))
        expected = build_query(checked, backend.options)
    assert transport.sent[0].query == expected
    assert transport.sent[0].path == f"/face/{backend.options.api_version}/detect"


def test_sdk_keywords_cover_every_query_parameter() -> None:
    query = {
        "detectionModel": "detection_01", "recognitionModel": "recognition_02", "returnFaceId": "true",
        "returnFaceLandmarks": "false", "returnFaceAttributes": "headPose,blur", "returnRecognitionModel": "true",
        "faceIdTimeToLive": "600",
    }
    assert set(query) == set(SDK_KEYWORDS)
    assert sdk_keywords(query) == {
        "detection_model": "detection_01", "recognition_model": "recognition_02", "return_face_id": True,
        "return_face_landmarks": False, "return_face_attributes": ["headPose", "blur"],
        "return_recognition_model": True, "face_id_time_to_live": 600,
    }
    with pytest.raises(InvalidRequestError, match="'newParam'"):
        sdk_keywords({"newParam": "1"})


def test_per_call_options_override_the_configured_models() -> None:
    transport = StubTransport(Answer(body=ONE_FACE))
    with client(transport) as c:
        result = c.detect(jpeg(), attributes=["mask"], detection_model="detection_03")
    assert transport.sent[0].query["detectionModel"] == "detection_03"
    assert result.models["detection"] == "detection_03"
    with client(StubTransport(Answer())) as c, pytest.raises(InvalidRequestError, match="unknown option"):
        c.detect(jpeg(), detectionmodel="detection_03")


def test_recognition_model_echoed_by_azure_is_reported() -> None:
    body = [{**ONE_FACE[0], "faceId": "abc", "recognitionModel": "recognition_04"}]
    with client(StubTransport(Answer(body=body)), return_recognition_model=True) as c:
        result = c.detect(jpeg(), face_id=True)
    assert result.models["recognition"] == "recognition_04"
    assert result.faces[0].face_id == "abc"


# -- shared validation, before anything is sent ---------------------------------------------


def test_retired_attribute_is_refused_before_sending() -> None:
    transport = StubTransport(Answer())
    with client(transport) as c:
        with pytest.raises(UnsupportedFeatureError, match="retired") as info:
            c.detect(jpeg(), attributes=["emotion"])
        assert info.value.feature == "emotion"
        with pytest.warns(FacekitWarning, match="retired"):
            result = c.detect(jpeg(), attributes=["emotion", "head_pose"], strict=False)
    assert len(transport.sent) == 1
    assert transport.sent[0].query["returnFaceAttributes"] == "headPose"
    assert any("emotion" in warning for warning in result.warnings)


def test_detection_02_has_no_landmarks_or_attributes() -> None:
    transport = StubTransport(Answer())
    with client(transport, detection_model="detection_02") as c:
        with pytest.raises(UnsupportedFeatureError) as info:
            c.detect(jpeg(), landmarks=True)
        assert info.value.feature == "landmarks"
        with pytest.raises(UnsupportedFeatureError):
            c.detect(jpeg(), attributes=["head_pose"])
        assert c.capabilities.attributes == frozenset()
    assert transport.sent == []


def test_retired_fields_still_in_a_body_are_normalised_when_allowed() -> None:
    body = [{**ONE_FACE[0], "faceAttributes": {"age": 27, "gender": "female", "headPose": {"roll": 1, "yaw": 2, "pitch": 3}}}]
    with client(StubTransport(Answer(body=body)), api_version="v1.0", allow_retired_attributes=True) as c:
        result = c.detect(jpeg(), attributes=["age", "gender", "head_pose"])
    attributes = result.faces[0].attributes
    assert attributes.age == 27.0
    assert attributes.gender is not None and attributes.gender.value == "female"
    assert attributes.head_pose is not None
    assert (attributes.head_pose.roll, attributes.head_pose.yaw, attributes.head_pose.pitch) == (1.0, 2.0, 3.0)


def test_input_spec_and_capabilities_are_the_rest_backends() -> None:
    backend = AzureSdkBackend(endpoint=ENDPOINT, key=KEY, transport=StubTransport(Answer()))
    assert backend.input_spec is AZURE_INPUT_SPEC
    assert backend.capabilities.inputs == frozenset({"bytes", "url"})
    assert backend.capabilities.attributes == frozenset(
        {"accessories", "blur", "exposure", "glasses", "head_pose", "noise", "occlusion"}
    )


# -- configuration ----------------------------------------------------------------------------


def test_endpoint_and_key_from_the_rest_backends_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FACEKIT_AZURE_ENDPOINT", "FACEKIT_AZURE_KEY", "AZURE_FACE_ENDPOINT", "AZURE_FACE_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FACE_ENDPOINT", "https://fromenv.cognitiveservices.azure.com/")
    monkeypatch.setenv("FACE_APIKEY", KEY)
    monkeypatch.setenv("FACEKIT_AZURE_DETECTION_MODEL", "detection_03")
    transport = StubTransport(Answer())
    with FaceClient("azure-sdk", transport=transport) as c:
        c.detect(jpeg())
    [sent] = transport.sent
    assert sent.headers["Ocp-Apim-Subscription-Key"] == KEY
    assert sent.query["detectionModel"] == "detection_03"
    assert c.backend.info()["endpoint"] == "https://fromenv.cognitiveservices.azure.com"
    assert AzureSdkBackend.env_vars["endpoint"] == ("FACEKIT_AZURE_ENDPOINT", "FACE_ENDPOINT", "AZURE_FACE_ENDPOINT")
    assert AzureSdkBackend.env_vars["key"] == ("FACEKIT_AZURE_KEY", "FACE_APIKEY", "AZURE_FACE_KEY")


def test_version_in_a_full_endpoint_url_is_used() -> None:
    transport = StubTransport(Answer())
    with client(transport, endpoint=f"{ENDPOINT}/face/v1.0/detect") as c:
        c.detect(jpeg())
    assert transport.sent[0].path == "/face/v1.0/detect"
    assert c.backend.info()["endpoint"] == ENDPOINT
    with pytest.raises(ConfigurationError, match="api_version"):
        AzureSdkBackend(endpoint=f"{ENDPOINT}/face/v1.0", api_version="v1.2", key=KEY)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"key": KEY}, "needs an endpoint"),
        ({"endpoint": "ftp://x", "key": KEY}, "not an http"),
        ({"endpoint": ENDPOINT, "key": KEY, "detection_model": "detection_9"}, "detection_model"),
        ({"endpoint": ENDPOINT, "key": KEY, "face_id_time_to_live": 5}, "60..86400"),
        ({"endpoint": ENDPOINT, "key": KEY, "timeout": -1}, "timeout"),
        ({"endpoint": ENDPOINT, "credential": object()}, "TokenCredential"),
    ],
)
def test_bad_configuration_fails_at_construction(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        AzureSdkBackend(**options)


def test_no_credential_without_azure_identity_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "azure.identity", None)  # import fails
    with pytest.raises(ConfigurationError, match="FACEKIT_AZURE_KEY") as info:
        AzureSdkBackend(endpoint=ENDPOINT)
    assert "azure-identity" in info.value.message


def test_no_key_uses_default_azure_credential_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    identity = types.ModuleType("azure.identity")
    made: list[FakeTokenCredential] = []

    def default_credential() -> FakeTokenCredential:
        made.append(FakeTokenCredential())
        return made[-1]

    identity.DefaultAzureCredential = default_credential  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "azure.identity", identity)
    transport = StubTransport(Answer())
    with client(transport, key=None) as c:
        c.detect(jpeg())
    assert len(made) == 1 and made[0].scopes == [("https://cognitiveservices.azure.com/.default",)]
    assert transport.sent[0].headers["Authorization"] == "Bearer t0ken-s3cr3t"
    assert "Ocp-Apim-Subscription-Key" not in transport.sent[0].headers
    assert c.backend.info()["auth"] == "token (DefaultAzureCredential)"


def test_token_credential_wins_over_a_key() -> None:
    credential = FakeTokenCredential()
    transport = StubTransport(Answer())
    with client(transport, credential=credential) as c:
        c.detect(jpeg())
    assert transport.sent[0].headers["Authorization"] == "Bearer t0ken-s3cr3t"
    assert "Ocp-Apim-Subscription-Key" not in transport.sent[0].headers
    assert c.backend.info()["auth"] == "token (FakeTokenCredential)"


def test_azure_key_credential_is_accepted_as_credential() -> None:
    transport = StubTransport(Answer())
    with client(transport, key=None, credential=AzureKeyCredential(KEY)) as c:
        c.detect(jpeg())
    assert transport.sent[0].headers["Ocp-Apim-Subscription-Key"] == KEY
    assert c.backend.info()["auth"] == "key"


def test_missing_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "azure.ai.vision.face", None)
    with pytest.raises(MissingDependencyError) as info:
        AzureSdkBackend(endpoint=ENDPOINT, key=KEY)
    assert info.value.command == "pip install 'facekit-detect[azure-sdk]'"


def test_client_options_reach_the_sdk_client() -> None:
    transport = StubTransport(Answer())
    backend = AzureSdkBackend(endpoint=ENDPOINT, key=KEY, transport=transport, user_agent="facekit-test/1")
    backend.detect(*_bytes_payload_and_request())
    assert transport.sent[0].headers["User-Agent"].startswith("facekit-test/1 ")
    backend.close()
    assert transport.closed is True


def _bytes_payload_and_request() -> tuple[Any, Any]:
    from facekit import DetectRequest
    from facekit._image import Payload

    return Payload(kind="bytes", data=jpeg(), format="JPEG", width=200, height=150), DetectRequest()


# -- secrets ------------------------------------------------------------------------------------


def test_key_never_in_repr_info_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = {"error": {"code": "401", "message": "Access denied due to invalid subscription key."}}
    transport = StubTransport(Answer(status=401, body=body))
    with client(transport) as c:
        shown = [repr(c), repr(c.backend), str(c.backend.info())]
        with pytest.raises(Exception) as info:
            c.detect(jpeg())
    error = info.value
    shown += [str(error), repr(error), repr(error.body), str(error.__cause__), str(vars(error))]
    shown += [record.getMessage() for record in caplog.records]
    assert transport.sent[0].headers["Ocp-Apim-Subscription-Key"] == KEY  # it was sent ...
    assert caplog.records, "expected azure-core debug logs to check"
    for text in shown:
        assert KEY not in text  # ... and shown nowhere
