"""``facekit.compare`` and ``facekit compare --providers`` across real backends (azure-rest, aws via boto3,
local) answering through ``facekit serve`` on loopback: the Azure and Rekognition normalisers run on
real wire answers (integer Azure boxes, its 27-point landmark set, Rekognition's age ranges)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from facekit import FaceClient, compare
from facekit.cli import EXIT_OK, EXIT_PARTIAL, main
from tests.serve.conftest import AWS_KEY_ID, AWS_SECRET, AZURE_KEY

ATTRIBUTES = ["age", "gender", "emotion"]


def _clients(server: str) -> dict[str, dict[str, Any]]:
    return {
        "azure-rest": {"endpoint": server, "key": AZURE_KEY, "api_version": "v1.0", "allow_retired_attributes": True},
        "aws": {"endpoint_url": server, "region": "us-east-1", "aws_access_key_id": AWS_KEY_ID,
                "aws_secret_access_key": AWS_SECRET},
    }


def test_three_providers_on_two_faces(server: str, pair_jpeg: bytes, local_client: Any) -> None:
    pytest.importorskip("boto3")
    results = {"local": local_client.detect(pair_jpeg, attributes=ATTRIBUTES, landmarks=True)}
    for provider, settings in _clients(server).items():
        with FaceClient(provider, **settings) as client:
            results[provider] = client.detect(pair_jpeg, attributes=ATTRIBUTES, landmarks=True, strict=False)
    comparison = compare(results)
    assert [group.faces for group in comparison.groups] == [{"local": 0, "azure-rest": 0, "aws": 0},
                                                            {"local": 1, "azure-rest": 1, "aws": 1}]
    for group in comparison.groups:
        by_pair = {(p.first, p.second): p for p in group.pairs}
        assert set(by_pair) == {("local", "azure-rest"), ("local", "aws"), ("azure-rest", "aws")}
        assert all(p.box_iou > 0.97 for p in group.pairs)  # Azure rounds its boxes to whole pixels
        # Azure's 27 points share three names with the local engine's five; Rekognition all five
        assert set(by_pair["local", "azure-rest"].landmarks_compared) == {"nose_tip", "mouth_left", "mouth_right"}
        assert len(by_pair["local", "aws"].landmarks_compared) == 5
        assert by_pair["local", "aws"].landmark_distance < 1.0
        local_age = comparison.face(group, "local").attributes.age
        aws_range = comparison.face(group, "aws").attributes.age_range
        assert aws_range is not None and local_age is not None
        assert by_pair["local", "aws"].age_difference == max(0.0, aws_range.low - local_age, local_age - aws_range.high)
        assert by_pair["local", "azure-rest"].gender_agrees is True
    assert comparison.only() == []


def test_cli_calls_each_provider_live(server: str, pair_jpeg: bytes, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    image = tmp_path / "pair.jpg"
    image.write_bytes(pair_jpeg)
    for name, value in {"FACEKIT_AZURE_ENDPOINT": server, "FACEKIT_AZURE_KEY": AZURE_KEY,
                        "FACEKIT_AZURE_API_VERSION": "v1.0", "FACEKIT_AZURE_ALLOW_RETIRED_ATTRIBUTES": "true"}.items():
        monkeypatch.setenv(name, value)
    drawing = tmp_path / "compare.png"
    assert main(["compare", str(image), "--providers", "local,azure-rest", "--draw", str(drawing)]) == EXIT_OK
    table = capsys.readouterr().out
    assert table.count("local ~ azure-rest") == 3  # two faces and the summary line
    assert "local ~ azure-rest: 2 matched" in table and drawing.stat().st_size > 0
    monkeypatch.setenv("FACEKIT_AZURE_KEY", "wrong-key")  # one provider fails: the others are still compared?
    code = main(["compare", str(image), "--providers", "local,azure-rest,local", "--json"])
    captured = capsys.readouterr()
    assert code == EXIT_PARTIAL and "azure-rest failed" in captured.err
    assert json.loads(captured.out)["providers"] == ["local", "local#2"]
