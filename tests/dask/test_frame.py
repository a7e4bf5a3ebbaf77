"""facekit.dask without a cluster (Dask's synchronous scheduler, the fake backend): the explicit
schema, the one-row-per-face view, option checks, resumable and retry-safe Parquet output."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import dask
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import facekit
import facekit.dask as fd
from facekit import BoundingBox, ConfigurationError, Face, FaceAttributes, InvalidRequestError, Point, RateLimiter
from facekit._attributes import EmotionScores, Gender
from facekit._image import Payload
from facekit._models import DetectRequest
from facekit.dask._parquet import part_name, write_partition
from facekit.dask._run import DetectTask
from facekit.dask._worker import ClientSpec
from tests.dask.conftest import ASTRONAUT, GRACE

CALLS: list[int] = []


def two_faces(payload: Payload, request: DetectRequest) -> list[Face]:
    """Two faces whose boxes depend on the image size (so different images differ)."""
    CALLS.append(1)
    width, height = payload.width or 100, payload.height or 100
    attributes = FaceAttributes(
        age=31.5, gender=Gender(value="female", confidence=0.9),
        emotion=EmotionScores(happiness=0.75, neutral=0.25, other={"awe": 0.5}),
    )
    return [
        Face(box=BoundingBox(left=10, top=20, width=width / 4, height=height / 4), confidence=0.99,
             landmarks={"nose_tip": Point(x=30, y=40)}, attributes=attributes),
        Face(box=BoundingBox(left=width / 2, top=5, width=20, height=20), confidence=0.5),
    ]


@pytest.fixture(autouse=True)
def synchronous() -> Any:
    CALLS.clear()
    with dask.config.set(scheduler="sync"):
        yield


def test_rows_faces_and_errors_have_the_explicit_schema(tmp_path: Path) -> None:
    frame = fd.detect([str(GRACE), str(tmp_path / "missing.jpg"), str(ASTRONAUT)], "fake", handler=two_faces,
                      attributes=["age", "gender", "emotion"], landmarks=True, partition_size=2)
    assert frame.npartitions == 2
    rows = frame.compute()
    assert list(rows["input"]) == [str(GRACE), str(tmp_path / "missing.jpg"), str(ASTRONAUT)]
    assert list(rows["ok"]) == [True, False, True]
    assert rows["error_type"][1] == "InvalidImageError" and "missing.jpg" in rows["error_message"][1]
    assert pd.isna(rows["face_count"][1]) and pd.isna(rows["image_width"][1])  # nothing invented
    assert list(rows["image_width"][[0, 2]]) == [512, 512] and list(rows["image_height"][[0, 2]]) == [600, 512]
    assert list(rows["face_count"][[0, 2]]) == [2, 2]
    table = pa.Table.from_pandas(rows, preserve_index=False)
    assert table.schema.remove_metadata().equals(fd.ROW_SCHEMA)
    face = rows["faces"][0][0]
    assert face["width"] == pytest.approx(128) and face["width_ratio"] == pytest.approx(0.25)
    assert face["attributes"]["emotion"]["happiness"] == pytest.approx(0.75)
    loaded = __import__("facekit").DetectionResult.model_validate_json(rows["result_json"][0])
    assert loaded.faces[0].box.height == pytest.approx(150)


def test_empty_and_all_error_partitions_concatenate_and_write_parquet(tmp_path: Path) -> None:
    errors = fd.detect([str(tmp_path / "a.jpg"), str(tmp_path / "b.jpg")], "fake", handler=two_faces)
    empty = fd.detect([], "fake", handler=two_faces)
    good = fd.detect([str(GRACE)], "fake", handler=two_faces)
    both = dask.dataframe.concat([errors, empty, good])
    assert len(both.compute()) == 3
    both.to_parquet(tmp_path / "out.parquet")
    read = pq.read_table(tmp_path / "out.parquet", columns=[field.name for field in fd.ROW_SCHEMA])
    assert read.schema.remove_metadata().equals(fd.ROW_SCHEMA)
    assert read.column("ok").to_pylist() == [False, False, True]


def test_explode_gives_one_flat_row_per_face() -> None:
    frame = fd.detect([str(GRACE), "/nope.jpg", str(ASTRONAUT)], "fake", handler=two_faces,
                      attributes=["age", "gender", "emotion"], landmarks=True)
    faces = fd.explode_faces(frame).compute()
    assert list(faces.index) == [0, 0, 2, 2]  # the input's position; the failed input has no face row
    assert list(faces["face_index"]) == [0, 1, 0, 1]
    assert list(faces["input"]) == [str(GRACE)] * 2 + [str(ASTRONAUT)] * 2
    first = faces.iloc[0]
    assert (first["left"], first["top"], first["width"], first["height"]) == (10, 20, 128, 150)
    assert first["left_ratio"] == pytest.approx(10 / 512) and first["height_ratio"] == pytest.approx(0.25)
    assert first["age"] == pytest.approx(31.5) and first["gender.value"] == "female"
    assert first["emotion.happiness"] == pytest.approx(0.75) and dict(first["emotion.other"]) == {"awe": 0.5}
    assert dict(first["landmarks"])["nose_tip"] == {"x": 30.0, "y": 40.0}
    second = faces.iloc[1]
    assert pd.isna(second["age"]) and pd.isna(second["gender.value"])  # not returned: null
    assert faces["head_pose.yaw"].isna().all()


def test_bag_and_series_inputs() -> None:
    import dask.bag as db
    import dask.dataframe as dd

    names = [str(GRACE), str(ASTRONAUT), str(GRACE)]
    from_bag = fd.detect(db.from_sequence(names, npartitions=2), "fake", handler=two_faces).compute()
    from_series = fd.detect(dd.from_pandas(pd.Series(names), npartitions=2), "fake", handler=two_faces).compute()
    from_pandas = fd.detect(pd.Series(names, index=[7, 8, 9]), "fake", handler=two_faces, partition_size=2)
    assert list(from_bag["input"]) == names and list(from_series["input"]) == names
    assert list(from_pandas.compute().index) == [7, 8, 9]


def test_bad_arguments_fail_on_the_driver() -> None:
    with pytest.raises(ConfigurationError, match="unknown option"):
        fd.detect([str(GRACE)], "fake", colour="blue")
    with pytest.raises(ConfigurationError, match="ClusterRateLimiter"):
        fd.detect([str(GRACE)], "fake", rate_limiter=RateLimiter(5))
    with pytest.raises(ConfigurationError, match="not both"):
        fd.detect([str(GRACE)], "fake", rate_limit=5, rate_limiter=fd.ClusterRateLimiter(5))
    with pytest.raises(ConfigurationError, match="positive"):
        fd.detect([str(GRACE)], "fake", rate_limit=0)
    with pytest.raises(InvalidRequestError, match="strings"):
        fd.detect([b"bytes"], "fake")
    with pytest.raises(InvalidRequestError):
        fd.detect([str(GRACE)], "fake", partition_size=0)
    with pytest.raises(InvalidRequestError, match="sparkle"):
        fd.detect([str(GRACE)], "fake", attributes=["sparkle"])


def test_a_retried_partition_rewrites_nothing(tmp_path: Path) -> None:
    task = DetectTask(ClientSpec("fake", options={"handler": two_faces}))
    inputs = [str(GRACE), str(ASTRONAUT)]
    first = write_partition(inputs, str(tmp_path), task)
    assert first["reused"] is False and first["rows"] == 2 and len(CALLS) == 2
    again = write_partition(inputs, str(tmp_path), task)  # Dask re-runs a task whose worker died after writing
    assert again["reused"] is True and again["rows"] == 2 and again["faces"] == 4
    assert len(CALLS) == 2  # no detection the second time
    assert sorted(p.name for p in tmp_path.iterdir()) == [part_name(inputs)]


def test_parquet_resume_runs_only_what_is_missing(tmp_path: Path) -> None:
    out = tmp_path / "faces.parquet"
    names = [str(GRACE), str(ASTRONAUT), str(tmp_path / "gone.jpg")]
    first = fd.detect_to_parquet(names[:2], out, "fake", handler=two_faces, partition_size=1)
    assert (first.processed, first.skipped, first.files, first.faces) == (2, 0, 2, 4)
    (out / ".part-stale.parquet.0.tmp").write_bytes(b"half a file")  # left by a killed run
    seen: list[tuple[int, int, int]] = []
    second = fd.detect_to_parquet(names + names, out, "fake", handler=two_faces, progress=lambda *a: seen.append(a))
    assert (second.inputs, second.skipped, second.processed, second.failed) == (3, 2, 1, 1)
    assert second.error_types == {"InvalidImageError": 1} and seen == [(0, 0, 1), (1, 1, 1)]
    rows = pd.read_parquet(out)
    assert sorted(rows["input"]) == sorted(names) and len(rows) == 3
    calls = len(CALLS)
    third = fd.detect_to_parquet(names, out, "fake", handler=two_faces)
    assert (third.processed, third.skipped, third.files) == (0, 3, 0) and len(CALLS) == calls
    assert not list(out.glob(".*"))


def test_a_writer_that_died_during_the_run_leaves_no_temporary(tmp_path: Path) -> None:
    """A worker killed while writing leaves its temporary file; the finished run removes it."""
    out = tmp_path / "faces.parquet"

    def dead_writer(done: int, failed: int, total: int) -> None:
        if done == 1:  # after the first partition: as if another task's worker died mid-write
            (out / ".part-0123456789abcdef.parquet.deadbeef.tmp").write_bytes(b"half a file")

    summary = fd.detect_to_parquet([str(GRACE), str(ASTRONAUT)], out, "fake", handler=two_faces, partition_size=1,
                                   progress=dead_writer)  # fmt: skip
    assert summary.processed == 2 and not list(out.glob(".*"))


def test_cluster_rate_limiter_pickles_and_falls_back_to_the_process() -> None:
    limiter = fd.ClusterRateLimiter(50, burst=2, name="account-a")
    copy = pickle.loads(pickle.dumps(limiter))
    assert (copy.rate, copy.burst, copy.name) == (50, 2, "account-a")
    bound = copy.bind()  # no distributed client: the process is the cluster
    waits = [bound.reserve() for _ in range(4)]
    assert waits[0] == 0 and waits[1] == 0 and waits[3] == pytest.approx(0.04, abs=0.01)


def test_a_parquet_data_set_reads_back_as_batch_items(tmp_path: Path) -> None:
    out = tmp_path / "faces.parquet"
    names = [str(GRACE), str(ASTRONAUT), str(tmp_path / "gone.jpg")]
    fd.detect_to_parquet(names, out, "fake", handler=two_faces, attributes=["age", "gender", "emotion"],
                         landmarks=True, partition_size=2)
    items = facekit.read_results(out)  # a directory of part files, in file-name order
    by_input = {item.input: item for item in items}
    assert sorted(by_input) == sorted(names)
    with facekit.FaceClient("fake", handler=two_faces) as client:
        direct = client.detect(GRACE, attributes=["age", "gender", "emotion"], landmarks=True)
    assert by_input[str(GRACE)].unwrap().faces == direct.faces
    assert isinstance(by_input[names[2]].error, facekit.InvalidImageError)
    frame = facekit.to_dataframe(items)
    assert len(frame) == 5  # two faces in each photo, one row for the missing file
    faces = frame[frame["ok"]]
    assert faces["emotion.other.awe"].dropna().tolist() == [0.5, 0.5]  # the map spread to one column per key
    assert faces["landmarks.nose_tip.x"].dropna().tolist() == [30.0, 30.0]
