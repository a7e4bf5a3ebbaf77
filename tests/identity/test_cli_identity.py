"""``facekit verify`` and ``facekit similar``: JSON out, exit codes (local engine, real photos)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from facekit.cli import main

pytest.importorskip("onnxruntime")
from facekit.local.store import ModelStore

if not os.environ.get("FACEKIT_REQUIRE_MODELS") and any(ModelStore().find(s.name) is None for s in ModelStore().list()):
    pytest.skip("local weights not fetched (run `facekit models fetch`)", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ROOT / "tests" / "data" / "identity"


def test_verify_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(PHOTOS / "obama_1.jpg"), str(PHOTOS / "obama_3.jpg")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["same"] is True and data["method"] == "embedding" and data["distance"] < 0.6
    assert data["inputs"] == [str(PHOTOS / "obama_1.jpg"), str(PHOTOS / "obama_3.jpg")]
    assert "embedding" not in data["face_a"]
    assert main(["verify", str(PHOTOS / "obama_1.jpg"), str(PHOTOS / "obama_3.jpg"), "--threshold", "0.2"]) == 0
    assert json.loads(capsys.readouterr().out)["same"] is False


def test_similar_ranks_candidates(tmp_path: Path) -> None:
    out = tmp_path / "similar.json"
    args = ["similar", str(PHOTOS / "obama_2.jpg"), str(PHOTOS / "biden_1.jpg"), str(PHOTOS / "obama_1.jpg"),
            str(PHOTOS / "obama_3.jpg"), "-k", "1", "-o", str(out)]  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "facekit", *args], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    assert len(data["matches"]) == 1 and data["candidates"] == 3
    assert data["matches"][0]["input"] in (str(PHOTOS / "obama_1.jpg"), str(PHOTOS / "obama_3.jpg"))


def test_errors_have_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.new("RGB", (200, 200), (128, 128, 128)).save(blank)
    assert main(["verify", str(blank), str(PHOTOS / "obama_1.jpg")]) == 2
    assert "no face" in capsys.readouterr().err
    assert main(["verify", str(PHOTOS / "obama_1.jpg"), str(PHOTOS / "obama_2.jpg"), "--quality-filter", "HIGH"]) == 2
    assert "quality_filter" in capsys.readouterr().err
    assert main(["similar", str(PHOTOS / "obama_1.jpg"), str(PHOTOS / "obama_2.jpg"), "-p", "fake"]) == 2
    assert "cannot find similar" in capsys.readouterr().err
