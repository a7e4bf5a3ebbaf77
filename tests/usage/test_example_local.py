"""examples/local_detect.py runs on the shipped photo and writes the annotated copy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.models
def test_local_example_prints_faces_and_draws(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    out = tmp_path / "annotated.png"
    run = subprocess.run(
        [sys.executable, "examples/local_detect.py", "examples/images/grace_hopper.jpg", "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=True,
    )  # fmt: skip
    assert run.stdout.startswith("1 face(s) in a 512x600 image")
    assert "#0: box (" in run.stdout
    with Image.open(out) as drawn, Image.open(ROOT / "examples/images/grace_hopper.jpg") as original:
        assert drawn.size == original.size
        assert drawn.convert("RGB").tobytes() != original.convert("RGB").tobytes()  # boxes were drawn
