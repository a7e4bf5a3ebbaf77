"""``facekit.to_dataframe`` and Parquet: one table for a whole batch, no input lost, counts stay integers."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import facekit
from facekit import MissingDependencyError, read_results, to_dataframe, write_parquet
from facekit._arrow_schema import ROW_SCHEMA
from facekit._export import item_record
from facekit.cli import EXIT_PARTIAL, EXIT_USAGE, main
from tests.results.conftest import LOOPBACK, PHOTO


def local_batch(blank: Path, missing: Path) -> list[facekit.BatchItem]:
    """The local engine on a photo, a picture without a face and a missing file."""
    with facekit.FaceClient("local") as client:
        return list(client.detect_many([PHOTO, blank, missing], attributes=["age", "gender"], landmarks=True))


def test_one_row_per_face_and_one_for_each_input_without(tmp_path: Path, blank: Path) -> None:
    items = local_batch(blank, tmp_path / "missing.jpg")
    frame = to_dataframe(items)
    assert len(frame) == 3  # one face, one no-face row, one error row
    assert frame["input"].tolist() == [str(PHOTO), str(blank), str(tmp_path / "missing.jpg")]
    assert str(frame["face_count"].dtype) == "Int64" and str(frame["face_index"].dtype) == "Int64"
    assert frame["face_count"].tolist()[:2] == [1, 0] and frame["face_count"].isna().tolist() == [False, False, True]
    assert frame["ok"].tolist() == [True, True, False]
    assert frame.loc[2, "error_type"] == "InvalidImageError" and "missing.jpg" in frame.loc[2, "error_message"]
    face = items[0].unwrap().faces[0]
    assert frame.loc[0, "left"] == face.box.left and frame.loc[0, "age"] == face.attributes.age
    assert frame.loc[0, "gender.value"] == face.attributes.gender.value  # type: ignore[union-attr]
    assert face.landmarks is not None
    assert frame.loc[0, "landmarks.left_eye.x"] == face.landmarks["left_eye"].x
    assert frame[["face_index", "left", "age"]].iloc[1:].isna().all().all()  # nothing invented
    assert frame.loc[0, "image_width"] == 512 and pd.isna(frame.loc[2, "image_width"])


def test_the_frame_writes_to_parquet_and_reads_back(tmp_path: Path, blank: Path) -> None:
    frame = to_dataframe(local_batch(blank, tmp_path / "missing.jpg"))
    path = tmp_path / "flat.parquet"
    frame.to_parquet(path)
    back = pd.read_parquet(path)
    assert back["face_count"].tolist()[:2] == [1, 0] and back["face_count"].isna().tolist()[2]
    assert back["landmarks.left_eye.x"].tolist()[0] == frame["landmarks.left_eye.x"].tolist()[0]


def test_write_parquet_round_trips_through_read_results(tmp_path: Path, blank: Path) -> None:
    items = local_batch(blank, tmp_path / "missing.jpg")
    path = tmp_path / "batch.parquet"
    assert write_parquet(items, path) == 3
    assert pq.read_schema(path).equals(ROW_SCHEMA)  # the schema facekit.dask writes
    back = read_results(path)
    assert [item.result for item in back] == [item.result for item in items]
    assert type(back[2].error) is type(items[2].error) and str(back[2].error) == items[2].error.message  # type: ignore[union-attr]
    assert to_dataframe(back).equals(to_dataframe(items))


@pytest.mark.usefixtures("service")
def test_cli_writes_parquet(images: list[Path], tmp_path: Path) -> None:
    jsonl, parquet = tmp_path / "out.jsonl", tmp_path / "new" / "out.parquet"  # its folder is made
    base = ["detect", "--quiet", "--provider", LOOPBACK, *map(str, images)]
    assert main([*base, "--format", "jsonl", "-o", str(jsonl)]) == EXIT_PARTIAL
    assert main([*base, "--format", "parquet", "-o", str(parquet)]) == EXIT_PARTIAL
    rows = pd.read_parquet(parquet)
    assert rows["input"].tolist() == [str(path) for path in images]
    assert rows["error_type"].tolist()[1:] == ["ServiceUnavailableError", "InvalidImageError"]
    from_parquet, from_jsonl = read_results(parquet), read_results(jsonl)
    assert [item.result for item in from_parquet] == [item.result for item in from_jsonl]
    assert [item_record(item)["error"]["type"] for item in from_parquet[1:]] == [  # type: ignore[index]
        "ServiceUnavailableError", "InvalidImageError"]
    assert not list(parquet.parent.glob(".*.tmp"))  # the temporary file was renamed into place


def test_cli_parquet_needs_an_output_file(images: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detect", "--quiet", "--provider", LOOPBACK, str(images[0]), "--format", "parquet"]) == EXIT_USAGE
    assert "--output" in capsys.readouterr().err


def test_missing_pandas_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(MissingDependencyError, match=r"facekit-detect\[dataframe\]"):
        to_dataframe([])
