"""examples/azure_quickstart.py against a loopback server serving the seed 000 response."""

from __future__ import annotations

import importlib.util
import json
import random
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image

from tests.azure_rest.fake_service import Reply, scripted, serve

ROOT = Path(__file__).parent.parent.parent
SEED_000 = json.loads((ROOT / "tests/fixtures/azure/seed-000-quickstart-2018-v1.0-two-faces.json").read_text("utf-8"))


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("azure_quickstart", ROOT / "examples" / "azure_quickstart.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quickstart_reproduces_seed_000(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    photo = tmp_path / "main007.jpg"
    rng = random.Random(3)
    Image.frombytes("RGB", (500, 400), rng.randbytes(500 * 400 * 3)).save(photo, format="JPEG", quality=80)
    out = tmp_path / "faces.png"
    example = load_example()
    with serve(scripted(Reply(body=SEED_000))) as service:
        code = example.main([str(photo), "--out", str(out), "--endpoint", service.endpoint, "--key", "demo-key"])
    assert code == 0
    [seen] = service.seen
    assert seen.path == "/face/v1.0/detect"
    assert seen.query["returnFaceAttributes"] == "age,gender,headPose,smile,facialHair,glasses"
    assert seen.query["returnFaceId"] == "false"
    printed = capsys.readouterr().out
    assert "face 0: box (228.0, 208.0, 91.0, 91.0) gender female age 27.0" in printed
    assert "face 1: box (125.0, 109.0, 79.0, 79.0) gender male age 32.0" in printed
    assert "demo-key" not in printed
    with Image.open(out) as drawn:
        assert drawn.format == "PNG" and drawn.size == (800, 800)
