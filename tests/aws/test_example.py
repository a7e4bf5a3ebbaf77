"""examples/aws_detect.py runs against the loopback stand-in."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

from tests.aws.standin import RekognitionStandIn

ROOT = Path(__file__).resolve().parent.parent.parent
ANSWER = (200, {"FaceDetails": [{"BoundingBox": {"Width": 0.5, "Height": 0.5, "Left": 0.25, "Top": 0.1},
                                 "Confidence": 99.0, "AgeRange": {"Low": 30, "High": 40},
                                 "Emotions": [{"Type": "CALM", "Confidence": 90.0}]}]})


def test_example_prints_faces(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with RekognitionStandIn(answers=[ANSWER]) as service:
        monkeypatch.setenv("FACEKIT_AWS_ENDPOINT_URL", service.url)
        monkeypatch.setattr(sys, "argv", ["aws_detect.py", str(ROOT / "tests" / "data" / "grace_hopper.jpg")])
        with pytest.raises(SystemExit) as info:
            runpy.run_path(str(ROOT / "examples" / "aws_detect.py"), run_name="__main__")
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "1 face(s) in a 512x600 image" in out
    assert "#0: box=(128, 60, 256, 300) confidence=0.99 age=30.0-40.0 emotion=calm" in out
    assert service.requests[0]["body"]["Attributes"] == ["DEFAULT", "AGE_RANGE", "EMOTIONS"]
