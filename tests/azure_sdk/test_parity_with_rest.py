"""azure-sdk and azure-rest give identical results for identical bodies, on every Azure fixture.

Both backends run end to end against the same loopback stand-in answering the same bytes:
faces (retired fields included), raw, models, runtime, warnings; and for error bodies the
same error class, status, code, message and body.
"""

from __future__ import annotations

import ast
import io
import json
import random
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from facekit import DetectionResult, FaceClient, FacekitError, RetryPolicy
from tests.azure_rest.fake_service import Reply, scripted, serve

FIXTURES = Path(__file__).parent.parent / "fixtures" / "azure"
ALL_FIXTURES = sorted(path.name for path in FIXTURES.iterdir() if path.suffix in (".json", ".pyliteral"))
ERROR_STATUS = {"error-400": 400, "error-401": 401, "error-403": 403}
SETTINGS: dict[str, Any] = {
    "api_version": "v1.0",
    "allow_retired_attributes": True,
    "retry": RetryPolicy(max_retries=0),
}


def body_of(name: str) -> Any:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return ast.literal_eval(text) if name.endswith(".pyliteral") else json.loads(text)


def jpeg() -> bytes:
    rng = random.Random(7)
    image = Image.frombytes("RGB", (640, 480), rng.randbytes(640 * 480 * 3))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def run(provider: str, status: int, body: bytes) -> DetectionResult | FacekitError:
    with serve(scripted(Reply(status=status, body=body))) as service, FaceClient(
        provider, endpoint=service.endpoint, key="parity-key", **SETTINGS
    ) as client:
        try:
            return client.detect(jpeg(), attributes=["age", "gender", "head_pose", "emotion"], landmarks=True,
                                 face_id=True, strict=False)
        except FacekitError as error:
            return error


def test_every_fixture_is_covered() -> None:
    assert len(ALL_FIXTURES) >= 11
    assert any(name.endswith(".pyliteral") for name in ALL_FIXTURES)


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_identical_bodies_give_identical_results(name: str) -> None:
    status = ERROR_STATUS.get(name[:9], 200)
    wire = json.dumps(body_of(name)).encode()
    rest = run("azure-rest", status, wire)
    sdk = run("azure-sdk", status, wire)
    if isinstance(rest, FacekitError):
        assert isinstance(sdk, FacekitError), f"azure-sdk returned {sdk!r} where azure-rest raised {rest!r}"
        assert type(sdk) is type(rest)
        assert (sdk.status, sdk.code, sdk.request_id, sdk.body) == (rest.status, rest.code, rest.request_id, rest.body)
        assert sdk.message == rest.message
        assert (sdk.provider, rest.provider) == ("azure-sdk", "azure-rest")
        return
    assert isinstance(sdk, DetectionResult), f"azure-sdk raised {sdk!r}"
    assert sdk.faces == rest.faces
    assert sdk.raw == rest.raw == body_of(name)
    assert sdk.models == rest.models
    assert sdk.runtime == rest.runtime
    assert sdk.image == rest.image
    assert sdk.warnings == rest.warnings
    assert (sdk.provider, rest.provider) == ("azure-sdk", "azure-rest")


def test_retired_fields_present_in_a_body_come_through_both() -> None:
    wire = (FIXTURES / "v1.0-westus2-2021-recording-queryface-detect01-all-attributes.json").read_bytes()
    sdk = run("azure-sdk", 200, wire)
    assert isinstance(sdk, DetectionResult)
    [face] = sdk.faces
    assert face.attributes.age == 53.0
    assert face.attributes.gender is not None and face.attributes.gender.value == "female"
    assert face.attributes.emotion is not None and face.attributes.emotion.happiness == 1.0
    assert face.attributes.makeup is not None and (face.attributes.makeup.eye, face.attributes.makeup.lip) == (True, True)
