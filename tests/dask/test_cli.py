"""``facekit detect --dask``: a real LocalCluster started by the CLI, Parquet out, resumed on rerun."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from facekit.cli import main
from tests.dask.conftest import ASTRONAUT, GRACE

ROOT = Path(__file__).resolve().parents[2]


def facekit(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "facekit", "detect", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)


@pytest.mark.slow
@pytest.mark.models
def test_detect_dask_local_writes_parquet_and_resumes(tmp_path: Path, models: Any) -> None:
    out = tmp_path / "faces.parquet"
    missing = str(tmp_path / "missing.jpg")
    first = facekit(str(GRACE), str(ASTRONAUT), missing, "--dask", "local:1", "--output", str(out),
                    "--attributes", "age,emotion", "--partition-size", "1", "--progress")
    assert first.returncode == 1, first.stderr  # one input failed
    assert "3/3" in first.stderr and "1 failed" in first.stderr and "Dask dashboard" in first.stderr
    rows = pd.read_parquet(out).set_index("input")
    assert sorted(rows.index) == sorted([str(GRACE), str(ASTRONAUT), missing])
    assert rows.loc[missing, "error_type"] == "InvalidImageError"
    assert rows.loc[str(GRACE), "face_count"] == 1 and rows.loc[str(GRACE), "faces"][0]["attributes"]["age"] > 0
    again = facekit(str(GRACE), str(ASTRONAUT), missing, "--dask", "local:2", "--output", str(out))
    assert again.returncode == 0 and "0 input(s), 3 already done" in again.stderr
    assert "Dask dashboard" not in again.stderr  # nothing to do: no cluster started
    assert len(pd.read_parquet(out)) == 3  # nothing run twice


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "--dask needs --output"),
        (["--output", "o.parquet", "--draw", "d"], "--draw does not go with --dask"),
        (["--output", "o.parquet", "--resume", "--format", "jsonl"], "--resume does not go with --dask"),
        (["--output", "o.parquet", "--format", "csv"], "leave out --format"),
        (["--output", "o.parquet", "--partition-size", "0"], "--partition-size must be at least 1"),
    ],
)
def test_detect_dask_refuses_what_it_cannot_do(extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
                                                ) -> None:
    assert main(["detect", str(GRACE), "--dask", "local:2", *extra]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("target", ["local:0", "local:x", "scheduler:8786"])
def test_detect_dask_bad_targets(target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detect", str(GRACE), "--dask", target, "--output", str(tmp_path / "o.parquet")]) == 2
    assert "--dask" in capsys.readouterr().err
