"""examples/azure_sdk_detect.py runs end to end (real SDK, stub transport, a real Azure response)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image

from tests.azure_sdk.transport import Answer, StubTransport

ROOT = Path(__file__).parent.parent.parent
BODY = (ROOT / "tests" / "fixtures" / "azure" / "seed-002-rest-quickstart-2020-detection01-attributes.json").read_bytes()


def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("azure_sdk_detect", ROOT / "examples" / "azure_sdk_detect.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_detects_and_describes(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    Image.effect_noise((640, 480), 50).convert("RGB").save(path, format="JPEG", quality=90)
    transport = StubTransport(Answer(body=BODY))
    module = example()
    result = module.detect(str(path), endpoint="https://x.cognitiveservices.azure.com", key="k", transport=transport)
    [sent] = transport.sent
    assert sent.query["detectionModel"] == "detection_01"
    assert sent.query["returnFaceAttributes"] == "headPose,occlusion,accessories"
    assert sent.query["returnFaceId"] == "false"
    assert module.describe(result) == [
        "1 face(s) in a 640x480 image",
        "#0: box (left, top, width, height) = (177.0, 131.0, 162.0, 162.0) px; roll 0.1 yaw -32.9 pitch 0.0; "
        "occluded: none; accessories: none; face id 49d55c17-e018-4a42-ba7b-8cbbdfae7c6f",
    ]


def test_example_reports_configuration_errors(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("FACEKIT_AZURE_ENDPOINT", "FACE_ENDPOINT", "AZURE_FACE_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    assert example().main(["photo.jpg", "--key", "k"]) == 1
    assert "needs an endpoint" in capsys.readouterr().err
