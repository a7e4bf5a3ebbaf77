"""facekit.dask on a real ``distributed.LocalCluster`` (2 worker processes, 1 thread each).

* over a loopback Rekognition stand-in (real boto3 on the workers): the same faces as
  ``FaceClient.detect_many``, and one rate limit for the whole cluster, measured at the stand-in;
* over real photos with the local engine (real onnxruntime on the real weights): the same faces
  as ``detect_many``, each model loaded once per worker process (counted), a worker killed in the
  middle of a Parquet run loses and duplicates nothing, a rerun over the finished output does no work.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from PIL import Image, ImageOps

import facekit.dask as fd
from facekit import DetectionResult, FaceClient
from tests.aws.standin import RekognitionStandIn, received_size
from tests.dask.conftest import ASTRONAUT, GRACE

pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")
KEYS = {"aws_access_key_id": "AKIAFACEKITTESTKEY01", "aws_secret_access_key": "fAcEkIt/SeCrEt+KeY/DoNoTlEaK0123456789ab"}


# -- run on the workers (imported there by reference) ----------------------------------------------
def count_sessions() -> None:
    """Count every onnxruntime session this process creates, by model."""
    import onnxruntime

    if hasattr(onnxruntime.InferenceSession, "created"):
        return
    created: list[str] = []

    class Counting(onnxruntime.InferenceSession):  # type: ignore[misc]
        def __init__(self, model: Any, *args: Any, **kwargs: Any) -> None:
            created.append(os.path.basename(model) if isinstance(model, str) else f"<{len(model)} bytes>")
            super().__init__(model, *args, **kwargs)

    Counting.created = created  # type: ignore[attr-defined]
    onnxruntime.InferenceSession = Counting


def sessions_created() -> list[str]:
    import onnxruntime

    return list(getattr(onnxruntime.InferenceSession, "created", []))


# -- helpers ------------------------------------------------------------------------------------------
def rounded(value: Any) -> Any:
    """Floats to 3 decimals (onnxruntime's sums differ in the last bits between batch sizes)."""
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {key: rounded(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [rounded(inner) for inner in value]
    return value


def faces_of(result: DetectionResult) -> list[Any]:
    return [rounded(face.model_dump(mode="json", exclude_none=True)) for face in result.faces]


def rows_faces(rows: pd.DataFrame) -> dict[str, list[Any] | str]:
    return {row.input: faces_of(DetectionResult.model_validate_json(row.result_json)) if row.ok else row.error_type
            for row in rows.itertuples()}


def expected_faces(client: FaceClient, inputs: list[str], **kwargs: Any) -> dict[str, list[Any] | str]:
    return {item.input: faces_of(item.result) if item.result is not None else type(item.error).__name__
            for item in client.detect_many(inputs, **kwargs)}


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Real photos and variants of them: mirrored, a pair side by side, a blank image, a broken file."""
    folder = tmp_path_factory.mktemp("photos")
    grace, astronaut = Image.open(GRACE).convert("RGB"), Image.open(ASTRONAUT).convert("RGB")
    pair = Image.new("RGB", (grace.width + astronaut.width, 600), (90, 90, 90))
    pair.paste(grace, (0, 0))
    pair.paste(astronaut, (grace.width, 44))
    made = {
        "grace_mirrored.jpg": ImageOps.mirror(grace),
        "astronaut_mirrored.png": ImageOps.mirror(astronaut),
        "pair.jpg": pair,
        "astronaut_small.jpg": astronaut.resize((256, 256)),
        "blank.png": Image.new("RGB", (320, 240), (128, 128, 128)),
    }
    for name, image in made.items():
        image.save(folder / name)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    return [str(GRACE), str(ASTRONAUT)] + [str(folder / name) for name in made] + [str(folder / "broken.jpg")]


# -- cloud: the loopback Rekognition stand-in ----------------------------------------------------
def standin_answer(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """One face whose place and confidence depend on the image received (so images differ)."""
    width, height, _ = received_size(body)
    box = {"Width": 0.25, "Height": 0.3, "Left": (width % 7) / 20, "Top": (height % 5) / 20}
    return 200, {"FaceDetails": [{"BoundingBox": box, "Confidence": 90.0 + (width % 9)}]}


def test_cloud_same_faces_and_one_rate_limit_for_the_cluster(cluster_client: Any, photos: list[str],
                                                               tmp_path: Path) -> None:
    inputs = photos[:-1] * 3  # 21 calls, duplicates included (one row per input given)
    arrivals: list[float] = []

    def handler(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        arrivals.append(time.monotonic())
        return standin_answer(body)

    rate = 8.0
    with RekognitionStandIn(handler) as service:
        options = {"endpoint_url": service.url, "region": "eu-west-1", "max_attempts": 1, **KEYS}
        frame = fd.detect(inputs, "aws", rate_limit=rate, partition_size=3, workers=4, **options)
        rows = frame.compute()
        calls = list(arrivals)
        arrivals.clear()
        with FaceClient("aws", **options) as local:
            expected = expected_faces(local, list(dict.fromkeys(inputs)))
    assert len(rows) == len(inputs) and rows["ok"].all()
    assert rows_faces(rows) == expected
    assert all(isinstance(faces, list) and len(faces) == 1 for faces in expected.values())
    # both workers called the provider, each with its own client, built once
    builds = cluster_client.run(fd.cache_stats)
    assert len(builds) == 2 and all(list(stats.values()) == [1] for stats in builds.values())
    # the limit held at the stand-in (per-worker limits would give twice the rate)
    assert len(calls) == len(inputs)
    span = calls[-1] - calls[0]
    assert (len(calls) - 1) / span <= rate * 1.1
    # arrivals jitter on a loaded machine (a late call bunches with the next); per-worker limits would give 2x
    assert max(sum(1 for t in calls if start <= t < start + 1.0) for start in calls) <= rate * 1.5
    gaps = sorted(b - a for a, b in itertools.pairwise(calls))
    assert gaps[len(gaps) // 2] == pytest.approx(1 / rate, abs=0.03)  # evenly spaced, not bursts


# -- local engine: real photos ----------------------------------------------------------------------
@pytest.mark.models
def test_local_engine_same_faces_models_loaded_once_per_worker(cluster_client: Any, photos: list[str],
                                                                models: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    cluster_client.run(count_sessions)
    kwargs = {"attributes": ["age", "gender", "emotion"], "landmarks": True}
    rows = fd.detect(photos, partition_size=2, intra_op_threads=1, **kwargs).compute()
    import onnxruntime

    monkeypatch.setattr(onnxruntime, "InferenceSession", onnxruntime.InferenceSession)  # restored afterwards
    count_sessions()
    with FaceClient("local", intra_op_threads=1) as local:  # what one client loads, in this process
        expected = expected_faces(local, photos, **kwargs)
    one_client = Counter(sessions_created())
    got = rows_faces(rows)
    assert got == expected
    assert got[photos[-1]] == "InvalidImageError" and got[photos[-2]] == []  # broken file, blank image
    assert len(got[photos[4]]) == 2  # the pair
    first = cluster_client.run(sessions_created)
    again = fd.detect(photos[::-1], partition_size=1, intra_op_threads=1, **kwargs).compute()
    assert rows_faces(again) == expected
    after = cluster_client.run(sessions_created)
    assert after == first  # the second graph reused every worker's models
    loaded = [sessions for sessions in after.values() if sessions]  # a busy machine may leave a worker idle
    assert loaded and all(Counter(sessions) <= one_client for sessions in loaded)  # no model twice per worker
    faces = fd.explode_faces(fd.detect(photos, partition_size=3, intra_op_threads=1, **kwargs)).compute()
    assert len(faces) == sum(len(v) for v in expected.values() if isinstance(v, list))
    assert faces["age"].notna().all() and faces["emotion.happiness"].notna().all()


@pytest.mark.models
def test_cli_on_a_running_scheduler(cluster_client: Any, photos: list[str], models: Any, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    from facekit.cli import main

    out = tmp_path / "cli.parquet"
    address = cluster_client.scheduler.address
    args = ["detect", *photos, "--dask", address, "--output", str(out), "--partition-size", "2", "--progress"]
    assert main(args) == 1  # the broken file failed
    err = capsys.readouterr().err
    assert f"{len(photos)}/{len(photos)}" in err and "1 failed" in err
    rows = pd.read_parquet(out)
    assert sorted(rows["input"]) == sorted(photos) and rows["ok"].sum() == len(photos) - 1
    assert main(args) == 0 and "already done" in capsys.readouterr().err


@pytest.mark.models
def test_worker_killed_mid_run_loses_and_duplicates_nothing(cluster_client: Any, photos: list[str],
                                                            models: Any, tmp_path: Path) -> None:
    copies = []
    for number in range(4):
        for path in photos[:5]:
            target = tmp_path / "in" / f"{number}-{Path(path).name}"
            target.parent.mkdir(exist_ok=True)
            target.write_bytes(Path(path).read_bytes())
            copies.append(str(target))
    out = tmp_path / "faces.parquet"
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["summary"] = fd.detect_to_parquet(copies, out, partition_size=1, intra_op_threads=1)
        except BaseException as exc:
            outcome["error"] = exc

    pids = cluster_client.run(os.getpid)
    thread = threading.Thread(target=run)
    thread.start()
    victim = None
    deadline = time.monotonic() + 60
    while victim is None and time.monotonic() < deadline and thread.is_alive():
        busy = [address for address, keys in cluster_client.processing().items() if keys]
        if len(list(out.glob("part-*.parquet"))) >= 2 and busy:
            victim = busy[0]
        else:
            time.sleep(0.05)
    assert victim is not None, "the run ended before a worker could be killed"
    os.kill(pids[victim], signal.SIGKILL)  # as the OOM killer or a lost node would
    thread.join(120)
    assert "error" not in outcome, outcome.get("error")
    summary = outcome["summary"]
    assert victim not in cluster_client.scheduler_info()["workers"]  # it really died
    rows = pd.read_parquet(out)
    assert len(rows) == len(copies) and sorted(rows["input"]) == sorted(copies)  # nothing lost, nothing twice
    assert rows["ok"].all() and len(list(out.glob("part-*.parquet"))) == len(copies)
    assert summary.processed == len(copies) and not list(out.glob(".*"))
    by_photo: dict[str, set[str]] = {}
    for path, faces in rows_faces(rows).items():
        by_photo.setdefault(Path(path).name.split("-", 1)[1], set()).add(repr(faces))
    assert len(by_photo) == 5 and all(len(found) == 1 for found in by_photo.values())  # copies agree
    # a rerun over the finished output does no work
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    rerun = fd.detect_to_parquet(copies, out, partition_size=1, intra_op_threads=1)
    assert (rerun.processed, rerun.skipped, rerun.files) == (0, len(copies), 0)
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamps
