"""Each provider-side finding of the trust review, reproduced against real clients on loopback.

Findings 1-8 of the review (deep JSON, overflowing numbers, wrong shapes, non-answers, impossible
values, unbounded answers, no total deadline, error classes) and the secret left on chained
exceptions; every test here failed before its fix.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from facekit import (
    DeadlineExceededError,
    DetectionResult,
    FaceClient,
    FacekitWarning,
    NetworkError,
    ProviderError,
    RequestTimeoutError,
    RetryPolicy,
)
from tests.trust.standin import TRUE_BOXES, FaultPlan, FaultyService

IMAGE = (Path(__file__).resolve().parents[1] / "data" / "grace_hopper.jpg").read_bytes()
IMAGE_SIZE = (512, 600)
KEY = "s3cret-subscription-key-0123456789abcdef"
BACKENDS = ("azure-rest", "azure-sdk", "aws")
NO_RETRY = RetryPolicy(max_retries=0)


def make_client(backend: str, url: str, *, deadline: float = 5.0, read: float = 2.0) -> FaceClient:
    if backend == "aws":
        return FaceClient(
            "aws", endpoint_url=url, region="us-east-1", aws_access_key_id="AKIDTRUST",
            aws_secret_access_key=KEY, read_timeout=read, max_attempts=1, deadline=deadline,
        )
    return FaceClient(backend, endpoint=url, key=KEY, timeout=(2.0, read), retry=NO_RETRY, deadline=deadline)


@pytest.fixture
def serve() -> Iterator[Any]:
    """``serve(backend, fault, **plan)`` -> (service, client); every request gets ``fault``."""
    opened: list[Any] = []

    def start(backend: str, fault: str, *, deadline: float = 5.0, read: float = 2.0, **plan: Any) -> Any:
        flavour = "aws" if backend == "aws" else "azure"
        service = FaultyService(flavour, FaultPlan(rate=1.0, faults=(fault,), **plan), image_size=IMAGE_SIZE)
        service.__enter__()
        client = make_client(backend, service.url, deadline=deadline, read=read)
        opened.append((service, client))
        return service, client

    yield start
    for service, client in opened:
        client.close()
        service.__exit__(None, None, None)


# -- 1, 2: bodies that break the JSON reader or the float conversion --------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fault", ["deep_nesting", "huge_number"])
def test_deep_json_and_overflowing_numbers_are_provider_errors(serve: Any, backend: str, fault: str) -> None:
    _, client = serve(backend, fault)
    with pytest.raises(ProviderError):
        client.detect(IMAGE)


# -- 3, 4: Rekognition answers of the wrong shape, and non-answers -----------------------------------
@pytest.mark.parametrize(
    "body",
    ["[]", "[1,2]", '{"FaceDetails":[1,2]}', '{"FaceDetails":{"a":1}}', '{"foo": 1}', '{"FaceDetails": null}',
     '{"FaceDetails": [', ""],
)
def test_aws_answers_that_are_not_detect_faces_answers_are_provider_errors(serve: Any, body: str) -> None:
    _, client = serve("aws", f"raw:{body}")
    with pytest.raises(ProviderError) as info:
        client.detect(IMAGE)
    assert info.value.provider == "aws"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fault", ["html_200", "empty_200", "truncated_json", "wrong_shape"])
def test_non_answers_are_provider_errors_on_every_backend(serve: Any, backend: str, fault: str) -> None:
    if fault == "truncated_json":
        fault = "raw:[{\"faceRectangle\": {\"left\": 1," if backend != "aws" else "raw:{\"FaceDetails\": [{"
    _, client = serve(backend, fault)
    with pytest.raises(ProviderError):
        client.detect(IMAGE)


# -- 5: impossible values -----------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fault", ["nan", "infinity", "negative_size", "zero_size"])
def test_impossible_boxes_drop_the_face_with_a_warning_and_the_result_round_trips(
    serve: Any, backend: str, fault: str
) -> None:
    if fault == "zero_size":
        zero = '{"left": 40, "top": 60, "width": 0, "height": 150}' if backend != "aws" else (
            '{"Left": 0.1, "Top": 0.1, "Width": 0, "Height": 0.2}'
        )
        second = TRUE_BOXES[1]
        if backend == "aws":
            left, t, w, h = (second[0] / 512, second[1] / 600, second[2] / 512, second[3] / 600)
            fault = (f'raw:{{"FaceDetails": [{{"BoundingBox": {zero}, "Confidence": 99}}, {{"BoundingBox": '
                     f'{{"Left": {left}, "Top": {t}, "Width": {w}, "Height": {h}}}, "Confidence": 99}}]}}')
        else:
            fault = (f'raw:[{{"faceRectangle": {zero}}}, {{"faceRectangle": {{"left": {second[0]}, "top": '
                     f'{second[1]}, "width": {second[2]}, "height": {second[3]}}}}}]')
    _, client = serve(backend, fault)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FacekitWarning)
        result = client.detect(IMAGE)
    assert [tuple(round(v) for v in face.box.xywh) for face in result.faces] == [TRUE_BOXES[1]]
    assert any("dropped" in warning for warning in result.warnings)
    again = DetectionResult.model_validate_json(result.to_json())
    assert again.faces[0].box == result.faces[0].box


@pytest.mark.parametrize("backend", ["azure-rest", "aws"])
def test_impossible_attribute_values_become_none_with_a_warning(serve: Any, backend: str) -> None:
    if backend == "aws":
        body = ('{"FaceDetails": [{"BoundingBox": {"Left": 0.1, "Top": 0.1, "Width": 0.2, "Height": 0.2}, '
                '"Confidence": 99, "AgeRange": {"Low": -4, "High": 1e308}, "Pose": {"Roll": NaN, "Yaw": 1, "Pitch": 2}}]}')
        attributes = ["age", "head_pose"]
    else:
        body = ('[{"faceRectangle": {"left": 10, "top": 10, "width": 50, "height": 60}, '
                '"faceAttributes": {"headPose": {"roll": 720, "yaw": 1, "pitch": 2}, "blur": {"blurLevel": "low", '
                '"value": Infinity}}}]')
        attributes = ["head_pose", "blur"]
    _, client = serve(backend, f"raw:{body}")
    result = client.detect(IMAGE, attributes=attributes)
    face = result.faces[0]
    assert face.attributes.head_pose is None
    if backend == "aws":
        assert face.attributes.age_range is None
    else:
        assert face.attributes.blur is None
    assert sum("set to None" in warning for warning in result.warnings) == 2
    DetectionResult.model_validate_json(result.to_json())


# -- 6: unbounded answers -----------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fault", ["huge_body", "huge_face_list"])
def test_huge_answers_fail_fast(serve: Any, backend: str, fault: str) -> None:
    _, client = serve(backend, fault)
    started = time.monotonic()
    with pytest.raises(ProviderError, match="max_response_(bytes|faces)"):
        client.detect(IMAGE)
    assert time.monotonic() - started < 3.0


def test_answer_bounds_are_configurable(serve: Any) -> None:
    service, _ = serve("azure-rest", "ok")
    client = FaceClient("azure-rest", endpoint=service.url, key=KEY, max_response_faces=1, retry=NO_RETRY)
    with pytest.raises(ProviderError, match="2 faces"):
        client.detect(IMAGE)
    small = FaceClient("azure-rest", endpoint=service.url, key=KEY, max_response_bytes=20, retry=NO_RETRY)
    with pytest.raises(ProviderError, match="20 bytes"):
        small.detect(IMAGE)


# -- 7: a total deadline ------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_trickling_server_is_cut_at_the_deadline(serve: Any, backend: str) -> None:
    service, client = serve(backend, "trickle", deadline=1.0, read=0.5, trickle_interval=0.05)
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError):
        client.detect(IMAGE)
    elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 1.5
    time.sleep(0.2)
    assert service.served[0].closed_early  # the connection was shut, not left trickling


def test_retries_stop_before_the_deadline(serve: Any) -> None:
    service, _ = serve("azure-rest", "503")
    retrying = RetryPolicy(max_retries=5, initial_backoff=0.4, jitter=0.0)
    client = FaceClient("azure-rest", endpoint=service.url, key=KEY, retry=retrying, deadline=1.0)
    started = time.monotonic()
    with pytest.raises(ProviderError):
        client.detect(IMAGE)
    assert time.monotonic() - started < 1.1
    assert len(service.served) == 2  # 0 s, then 0.4 s; the next wait (0.8 s) would end past 1 s


def test_per_call_deadline_overrides_the_clients(serve: Any) -> None:
    _, client = serve("azure-rest", "trickle", deadline=30.0, read=0.5, trickle_interval=0.05)
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError):
        client.detect(IMAGE, deadline=0.5)
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("probe_size", [False, True])
def test_url_downloads_and_probes_have_the_deadline(probe_size: bool) -> None:
    """The fake backend takes bytes only, so a URL input is downloaded; azure-rest sends URLs as URLs
    and, with ``probe_size=True``, reads the header first."""
    plan = FaultPlan(rate=1.0, faults=("trickle",), trickle_interval=0.05)
    with FaultyService("azure", plan, image_size=IMAGE_SIZE) as service:
        if probe_size:
            client = FaceClient("azure-rest", endpoint="http://127.0.0.1:9", key=KEY, deadline=0.8)
        else:
            client = FaceClient("fake", handler=lambda payload, request: [], deadline=0.8)
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError, match="probe" if probe_size else "download"):
            client.detect(f"{service.url}/photo.jpg", probe_size=probe_size)
        assert time.monotonic() - started < 1.3


# -- 8: error classes as docs/errors.md says -----------------------------------------------------------
@pytest.mark.parametrize("backend", ["azure-rest", "azure-sdk"])
def test_reset_mid_body_is_a_network_error(serve: Any, backend: str) -> None:
    _, client = serve(backend, "reset_mid_body")
    with pytest.raises(NetworkError):
        client.detect(IMAGE)


@pytest.mark.parametrize("backend", BACKENDS)
def test_read_timeout_after_part_of_the_body_is_a_request_timeout(serve: Any, backend: str) -> None:
    _, client = serve(backend, "partial_stall", read=0.3, stall_seconds=1.0)
    with pytest.raises(RequestTimeoutError) as info:
        client.detect(IMAGE)
    assert "not sent" not in info.value.message


# -- secrets on chained exceptions ----------------------------------------------------------------------
def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]


@pytest.mark.parametrize("backend", ["azure-rest", "azure-sdk"])
@pytest.mark.parametrize("fault", ["reset_mid_body", "partial_stall"])
def test_the_key_is_not_reachable_through_chained_exceptions(serve: Any, backend: str, fault: str) -> None:
    _, client = serve(backend, fault, read=0.3, stall_seconds=1.0)
    with pytest.raises((NetworkError, RequestTimeoutError)) as info:
        client.detect(IMAGE)
    for exc in _chain(info.value):
        for holder in (getattr(exc, "request", None), getattr(getattr(exc, "response", None), "request", None)):
            headers = getattr(holder, "headers", None) or {}
            assert KEY not in " ".join(str(value) for value in dict(headers).values())
        assert KEY not in str(exc) and KEY not in repr(exc)


# -- 13: the boto3 reflex ---------------------------------------------------------------------------------
def test_aws_profile_reflex_points_at_aws_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    from facekit import ConfigurationError

    monkeypatch.delenv("FACEKIT_CONFIG", raising=False)
    with pytest.raises(ConfigurationError, match=r"aws_profile='dev'"):
        FaceClient("aws", profile="dev")
