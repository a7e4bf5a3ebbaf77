"""``facekit.read_results``: what ``facekit detect`` wrote comes back as the same batch items."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import facekit
from facekit import (
    ConfigurationError,
    InvalidImageError,
    RecordedError,
    ServiceUnavailableError,
    read_results,
)
from facekit._export import item_record
from facekit.cli import EXIT_PARTIAL, main
from tests.results.conftest import LOOPBACK, PHOTO


def detect(*args: str) -> int:
    return main(["detect", "--quiet", *args])


@pytest.mark.usefixtures("service")
def test_jsonl_from_the_cli_round_trips_record_for_record(images: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    code = detect("--provider", LOOPBACK, *map(str, images), "--format", "jsonl", "--output", str(out))
    assert code == EXIT_PARTIAL
    written = [json.loads(line) for line in out.read_text().splitlines()]
    items = read_results(out)
    assert [item_record(item) for item in items] == written  # written again: exactly what was read
    assert [item.ok for item in items] == [True, False, False]
    assert items[0].result is not None and items[0].result.faces[0].box.width == 50.0
    failed = items[1].error
    assert isinstance(failed, ServiceUnavailableError)
    assert failed.status == 500 and failed.provider == "loopback"
    assert isinstance(items[2].error, InvalidImageError)
    assert items[2].input == str(images[2])
    assert [item.index for item in items] == [0, 1, 2]


@pytest.mark.usefixtures("service")
def test_json_array_from_stdout_round_trips(images: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    detect("--provider", LOOPBACK, *map(str, images))  # default --format json, to stdout
    written = json.loads(capsys.readouterr().out)
    path = Path(images[0]).parent / "saved.json"
    path.write_text(json.dumps(written))
    assert [item_record(item) for item in read_results(path)] == written


def test_local_engine_results_come_back_equal(tmp_path: Path, blank: Path) -> None:
    out = tmp_path / "local.json"
    args = [str(PHOTO), str(blank), "-a", "age,gender,emotion", "-l", "-o", str(out)]
    assert detect("--provider", "local", *args) == 0
    items = read_results(out)
    direct = facekit.FaceClient("local").detect(PHOTO, attributes=["age", "gender", "emotion"], landmarks=True)
    assert items[0].result == direct  # the whole typed result, raw payload included
    assert items[1].result is not None and items[1].result.faces == []
    assert [item_record(item, name=item.input) for item in items] == json.loads(out.read_text())


def test_a_single_saved_result(tmp_path: Path) -> None:
    result = facekit.FaceClient("local").detect(PHOTO, landmarks=True)
    path = tmp_path / "one.json"
    path.write_text(result.to_json())
    (item,) = read_results(path)
    assert item.result == result and item.input is None and item.index == 0


def test_a_line_cut_short_by_a_killed_run_is_left_out(tmp_path: Path) -> None:
    record = {"input": "a.jpg", "index": 0, "status": "error", "result": None,
              "error": {"type": "OSError", "message": "disk on fire"}}
    path = tmp_path / "cut.jsonl"
    path.write_text(json.dumps(record) + "\n" + json.dumps(record)[:30])
    (item,) = read_results(path)
    assert isinstance(item.error, RecordedError)  # not a facekit error: kept as recorded
    assert item.error.type_name == "OSError" and str(item.error) == "disk on fire"
    assert item_record(item) == record


def test_files_that_are_not_results_are_refused_with_what_to_do(tmp_path: Path) -> None:
    csv = tmp_path / "out.csv"
    csv.write_text("input,status,error_type\na.jpg,ok,\nb.jpg,ok,\n")
    with pytest.raises(ConfigurationError, match="CSV"):
        read_results(csv)
    unfinished = tmp_path / "unfinished.json"
    unfinished.write_text('[\n{"input": "a.jpg", "index": 0, "status": "ok"')
    with pytest.raises(ConfigurationError, match="jsonl"):
        read_results(unfinished)
    with pytest.raises(ConfigurationError, match="cannot read"):
        read_results(tmp_path / "nothing.jsonl")
    other = tmp_path / "other.json"
    other.write_text('{"name": "not a result"}')
    with pytest.raises(ConfigurationError, match="facekit detect"):
        read_results(other)


def test_a_recorded_facekit_error_with_other_fields_is_kept_as_recorded(tmp_path: Path) -> None:
    error = {"type": "RateLimitError", "message": "slow down", "provider": "aws", "status": 429,
             "code": "ThrottlingException", "request_id": "r-1"}
    odd = {**error, "type": "InvalidImageError", "extra": "kept"}
    path = tmp_path / "errors.jsonl"
    records = [{"input": name, "index": n, "status": "error", "result": None, "error": value}
               for n, (name, value) in enumerate([("a", error), ("b", odd)])]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    first, second = read_results(path)
    assert isinstance(first.error, facekit.RateLimitError) and first.error.request_id == "r-1"
    assert first.error.retry_after is None  # not recorded: unknown
    assert isinstance(second.error, RecordedError) and second.error.type_name == "InvalidImageError"
    assert [item_record(item) for item in (first, second)] == records
