"""``facekit detect`` and ``facekit providers`` against a loopback face service."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from facekit.cli import EXIT_MISSING, EXIT_OK, EXIT_PARTIAL, EXIT_PROVIDER, EXIT_USAGE, main
from tests.loopback import LoopbackServer
from tests.usage.loopback_backend import ENV_ENDPOINT, face_service

PROVIDER = "tests.usage.loopback_backend:LoopbackBackend"
ROOT = Path(__file__).resolve().parents[2]


def write_image(path: Path, width: int, *, red_corner: bool = False) -> Path:
    image = Image.new("RGB", (width, 90), (70, 120, 70))
    if red_corner:
        image.putpixel((0, 0), (255, 0, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG")
    return path


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LoopbackServer, list[str]]]:
    log: list[str] = []
    with LoopbackServer() as server:
        server.route("POST", "/detect", face_service(log=log))
        monkeypatch.setenv(ENV_ENDPOINT, server.url("/detect"))
        yield server, log


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    write_image(tmp_path / "imgs" / "a.png", 100)
    write_image(tmp_path / "imgs" / "b.png", 110, red_corner=True)  # the service answers 500
    write_image(tmp_path / "imgs" / "sub" / "c.png", 120)
    (tmp_path / "imgs" / "notes.txt").write_text("not an image")
    return tmp_path


def detect(*args: str) -> int:
    return main(["detect", "--provider", PROVIDER, "--quiet", *args])


def test_jsonl_has_a_record_for_every_input_including_failures(service, tree, capsys) -> None:  # type: ignore[no-untyped-def]
    code = detect(str(tree / "imgs"), str(tree / "missing.jpg"), "--recursive", "--format", "jsonl", "--workers", "2")
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == EXIT_PARTIAL
    names = [Path(r["input"]).name for r in records]
    assert names == ["a.png", "b.png", "c.png", "missing.jpg"]  # sorted tree walk, then the next argument
    by_name = dict(zip(names, records, strict=True))
    assert by_name["a.png"]["status"] == "ok"
    assert by_name["a.png"]["result"]["faces"][0]["box"]["width"] == 50.0  # half of the 100 px sent
    assert by_name["b.png"]["error"]["type"] == "ServiceUnavailableError"
    assert by_name["b.png"]["error"]["status"] == 500
    assert by_name["missing.jpg"]["error"]["type"] == "InvalidImageError"
    assert [r["index"] for r in records] == [0, 1, 2, 3]


def test_csv_rows_and_globs(service, tree, capsys) -> None:  # type: ignore[no-untyped-def]
    code = detect(str(tree / "imgs" / "*"), str(tree / "nothing*.png"), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert code == EXIT_PARTIAL
    assert [(Path(r["input"]).name, r["status"], r["error_type"]) for r in rows] == [
        ("a.png", "ok", ""),
        ("b.png", "error", "ServiceUnavailableError"),
        ("notes.txt", "error", "InvalidImageError"),
        ("nothing*.png", "error", "InvalidRequestError"),
    ]
    assert rows[0]["face_count"] == "1" and float(rows[0]["left"]) == 25.0


def test_json_output_file_and_draw(service, tree) -> None:  # type: ignore[no-untyped-def]
    out, drawn = tree / "out" / "r.json", tree / "drawn"
    code = detect(str(tree / "imgs" / "a.png"), str(tree / "imgs" / "sub"), "-o", str(out), "--draw", str(drawn))
    assert code == EXIT_OK
    records = json.loads(out.read_text())
    assert [r["status"] for r in records] == ["ok", "ok"]
    annotated = Image.open(drawn / "a.png")
    assert annotated.size == (100, 90)
    assert annotated.getpixel((25, 45)) != (70, 120, 70)  # the box's left edge is drawn
    assert (drawn / "c.png").exists()


def test_exit_codes(service, tree, capsys) -> None:  # type: ignore[no-untyped-def]
    assert detect(str(tree / "imgs" / "b.png")) == EXIT_PROVIDER  # every input failed at the provider
    assert detect(str(tree / "imgs" / "a.png"), "--resume") == EXIT_USAGE  # --resume needs jsonl + --output
    assert main(["detect", "--provider", "no-such-backend", str(tree / "imgs" / "a.png")]) == EXIT_USAGE
    assert "unknown provider" in capsys.readouterr().err


def test_progress_bar_only_when_asked_off_a_terminal(service, tree, capsys) -> None:  # type: ignore[no-untyped-def]
    main(["detect", "--provider", PROVIDER, str(tree / "imgs"), "-r"])
    assert "[" not in capsys.readouterr().err
    main(["detect", "--provider", PROVIDER, str(tree / "imgs"), "-r", "--progress"])
    err = capsys.readouterr().err
    assert "3/3" in err and "1 failed" in err


def test_resume_skips_finished_inputs_and_drops_a_cut_line(service, tree, capsys) -> None:  # type: ignore[no-untyped-def]
    _, log = service
    out = tree / "r.jsonl"
    a, c = str(tree / "imgs" / "a.png"), str(tree / "imgs" / "sub" / "c.png")
    done = {"input": a, "index": 0, "status": "ok", "result": None, "error": None}
    out.write_text(json.dumps(done) + "\n" + '{"input": "' + c[:5])  # killed while writing c's record
    code = detect(a, c, "--format", "jsonl", "-o", str(out), "--resume")
    assert code == EXIT_OK
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["input"] for r in records] == [a, c]
    assert log == ["120x90"]  # only c was sent


def test_resume_retry_failed_redoes_errors_without_duplicates(service, tree) -> None:  # type: ignore[no-untyped-def]
    _, log = service
    out = tree / "r.jsonl"
    a, b = str(tree / "imgs" / "a.png"), str(tree / "imgs" / "b.png")
    assert detect(a, b, "--format", "jsonl", "-o", str(out)) == EXIT_PARTIAL
    write_image(tree / "imgs" / "b.png", 110)  # fixed
    assert detect(a, b, "--format", "jsonl", "-o", str(out), "--resume") == EXIT_OK  # nothing left to do
    assert detect(a, b, "--format", "jsonl", "-o", str(out), "--resume", "--retry-failed") == EXIT_OK
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted((r["input"], r["status"]) for r in records) == [(a, "ok"), (b, "ok")]
    assert sorted(log) == ["100x90", "110x90", "110x90"]  # a once, b twice (failed, then retried)


def test_killed_run_loses_nothing_finished_and_resume_completes_it(tree: Path) -> None:
    log: list[str] = []
    paths = [str(write_image(tree / "many" / f"{i:02d}.png", 100 + i)) for i in range(12)]
    out = tree / "killed.jsonl"
    with LoopbackServer() as server:
        server.route("POST", "/detect", face_service(latency=0.15, log=log))
        env = {**os.environ, ENV_ENDPOINT: server.url("/detect"), "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "facekit", "detect", "--provider", PROVIDER, "--format", "jsonl",
                   "-o", str(out), "--workers", "1", "--quiet", *paths]
        process = subprocess.Popen(command, env=env, cwd=ROOT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (not out.exists() or out.read_text().count("\n") < 3):
            time.sleep(0.02)
        process.kill()
        process.wait()
        first = [json.loads(line) for line in out.read_text().splitlines()]
        assert 3 <= len(first) < 12
        sent_before = len(log)
        result = subprocess.run([*command, "--resume"], env=env, cwd=ROOT, timeout=60)
        assert result.returncode == EXIT_OK
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["input"] for r in records) == paths  # each input once
    finished_first = {f"{100 + paths.index(r['input'])}x90" for r in first}
    assert not finished_first & set(log[sent_before:])  # nothing finished was redone


def test_providers_json_lists_backends_with_capabilities(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["providers", "--json"]) == EXIT_OK
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert {"local", "azure-rest", "aws", "fake"} <= set(rows)
    assert rows["fake"]["installed"] is True and rows["fake"]["extra"] is None
    assert rows["aws"]["install"] == "pip install 'facekit-detect[aws]'"
    assert "s3" in rows["aws"]["capabilities"]["default"]["inputs"]


def test_a_bad_attribute_exits_2_before_any_input(service, tree, capsys) -> None:  # type: ignore[no-untyped-def]
    _, log = service
    out = tree / "r.jsonl"
    code = detect(str(tree / "imgs"), "-r", "-a", "agee", "--format", "jsonl", "-o", str(out))
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert err.count("unknown attribute 'agee'") == 1 and "did you mean 'age'" in err
    assert log == []  # nothing was sent
    assert not out.exists()  # and no output file was started


def test_missing_local_weights_exit_3_before_any_input(tree, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("onnxruntime")
    monkeypatch.delenv("FACEKIT_MODEL_DIR", raising=False)
    monkeypatch.setenv("FACEKIT_CACHE_DIR", str(tree / "empty-cache"))
    monkeypatch.setenv("FACEKIT_ALLOW_FETCH", "0")
    code = main(["detect", "--provider", "local", "--quiet", str(tree / "imgs"), "-r", "--format", "jsonl"])
    captured = capsys.readouterr()
    assert code == EXIT_MISSING
    assert captured.out == ""  # no per-input rows
    assert captured.err.count("facekit models fetch") == 1
