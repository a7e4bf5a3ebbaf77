"""``facekit detect`` backend options: ``--option``, ``--endpoint``, ``--region``, ``--rate-limit``,
options after inputs and ``~`` in paths; against the real local engine and loopback services."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from facekit import RateLimiter
from facekit._ratelimit import parse_rate
from facekit.cli import EXIT_OK, EXIT_USAGE, build_parser, main, parse_arguments
from facekit.cli._backend_args import parse_value
from tests.azure_rest.fake_service import Reply, scripted, serve
from tests.local.conftest import models
from tests.loopback import LoopbackServer
from tests.usage.loopback_backend import ENV_ENDPOINT, face_service
from tests.usage.test_cli import write_image

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "examples" / "images" / "grace_hopper.jpg"
LOOPBACK = "tests.usage.loopback_backend:LoopbackBackend"
__all__ = ["models"]  # the real local engine's weights fixture

SEED = json.loads((ROOT / "tests/fixtures/azure/seed-000-quickstart-2018-v1.0-two-faces.json").read_text("utf-8"))


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FACEKIT_PROVIDER", "FACEKIT_CONFIG", "FACEKIT_PROFILE", "FACEKIT_AZURE_ENDPOINT", "FACE_ENDPOINT",
                 "AZURE_FACE_ENDPOINT", "FACEKIT_AZURE_API_VERSION", "FACEKIT_AZURE_DETECTION_MODEL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        server.route("POST", "/detect", face_service())
        monkeypatch.setenv(ENV_ENDPOINT, server.url("/detect"))
        yield server


def records(out: str) -> list[dict[str, object]]:
    data: list[dict[str, object]] = json.loads(out)
    return data


def test_option_values_are_read_as_bools_numbers_json_or_text() -> None:
    assert [parse_value(v) for v in ("true", "No", "ON", "3", "-2", "0.5", "1e-3", "[1, 2]", '"007"', "detection_03")] == [
        True, False, True, 3, -2, 0.5, 0.001, [1, 2], "007", "detection_03"
    ]  # fmt: skip
    assert isinstance(parse_value("3"), int) and isinstance(parse_value("3.0"), float)
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_value("[a, b]")


@pytest.mark.models
def test_option_reaches_the_local_engine_and_changes_its_answer(models: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detect", str(PHOTO), "--quiet"]) == EXIT_OK
    [plain] = records(capsys.readouterr().out)
    assert len(plain["result"]["faces"]) == 1  # type: ignore[index]
    width = plain["result"]["faces"][0]["box"]["width"]  # type: ignore[index]
    # a minimum face size above the one face's width drops it; below it keeps it
    assert main(["detect", str(PHOTO), "--quiet", "--option", f"min_face_size={int(width) + 1}"]) == EXIT_OK
    assert records(capsys.readouterr().out)[0]["result"]["faces"] == []  # type: ignore[index]
    assert main(["detect", str(PHOTO), "--quiet", "--option", f"min_face_size={int(width) - 1}",
                 "--option", "score_threshold=0.3", "--option", "tile=false"]) == EXIT_OK  # fmt: skip
    assert len(records(capsys.readouterr().out)[0]["result"]["faces"]) == 1  # type: ignore[index]


@pytest.mark.models
def test_unknown_option_is_a_usage_error_with_did_you_mean(models: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detect", str(PHOTO), "--quiet", "--option", "min_face_sise=3"]) == EXIT_USAGE
    captured = capsys.readouterr()
    assert "did you mean 'min_face_size' instead of 'min_face_sise'?" in captured.err
    assert captured.out == ""  # refused before any input
    assert main(["detect", str(PHOTO), "--option", "score_threshold=high"]) == EXIT_USAGE
    assert "score_threshold must be a number" in capsys.readouterr().err


def test_option_syntax_and_flagged_keys_are_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    for bad, said in (("tile", "expected KEY=VALUE"), ("attributes=age", "use --attributes"), ("x=[a", "not valid JSON")):
        with pytest.raises(SystemExit) as stop:
            main(["detect", "a.jpg", "--option", bad])
        assert stop.value.code == EXIT_USAGE
        assert said in capsys.readouterr().err


def test_endpoint_and_option_reach_azure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FACEKIT_AZURE_KEY", "k3y-cli-s3cret")
    image = write_image(tmp_path / "a.png", 640)
    with serve(scripted(Reply(body=SEED))) as azure:
        code = main(["detect", str(image), "--provider", "azure-rest", "--endpoint", azure.endpoint, "--quiet",
                     "--option", "detection_model=detection_03", "--option", "return_recognition_model=true"])  # fmt: skip
    assert code == EXIT_OK, capsys.readouterr().err
    [seen] = azure.seen
    assert seen.path.endswith("/detect")
    assert seen.query["detectionModel"] == "detection_03"
    assert seen.query["returnRecognitionModel"] == "true"
    assert len(records(capsys.readouterr().out)[0]["result"]["faces"]) == 2  # type: ignore[index]


def test_endpoint_or_region_the_provider_lacks_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detect", "a.jpg", "--region", "eu-west-1"]) == EXIT_USAGE
    assert "--region: the local backend has no region setting" in capsys.readouterr().err
    assert main(["detect", "a.jpg", "--provider", "azure-sdk", "--region", "eu-west-1"]) == EXIT_USAGE
    assert "the azure-sdk backend has no region setting" in capsys.readouterr().err  # its **client_options do not count
    assert main(["detect", "a.jpg", "--provider", LOOPBACK, "--region", "x"]) == EXIT_USAGE


def test_rate_limit_takes_calls_per_period(service: LoopbackServer, tmp_path: Path) -> None:
    assert parse_rate("20/min") == (20.0, 60.0) and parse_rate("5/s") == (5.0, 1.0) and parse_rate("3") == (3.0, 1.0)
    assert parse_rate("1000/hours") == (1000.0, 3600.0)
    assert RateLimiter.parse("20/min").interval == pytest.approx(3.0)
    for index in range(4):
        write_image(tmp_path / f"{index}.png", 100 + index)
    code = main(["detect", str(tmp_path), "--provider", LOOPBACK, "--quiet", "--workers", "4", "--rate-limit", "600/min"])
    assert code == EXIT_OK
    times = sorted(received.time for received in service.received)
    assert len(times) == 4
    assert times[-1] - times[0] >= 3 * 0.1 * 0.95  # 10 calls per second: 0.1 s apart, 4 workers or not


@pytest.mark.parametrize("bad", ["20/day", "0/min", "-3", "fast", "inf/s"])
def test_bad_rate_limit_is_a_usage_error(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["detect", "a.jpg", "--rate-limit", bad])
    assert stop.value.code == EXIT_USAGE
    assert "--rate-limit" in capsys.readouterr().err


def test_options_after_and_between_inputs(service: LoopbackServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = write_image(tmp_path / "a.png", 100), write_image(tmp_path / "b.png", 120)
    parser = build_parser()
    parsed = parse_arguments(parser, ["detect", "--landmarks", str(a), "--format", "csv", str(b), "-q"])
    assert (parsed.landmarks, parsed.images, parsed.format, parsed.quiet) == (True, [str(a), str(b)], "csv", True)
    assert parse_arguments(parser, ["detect", str(a), "--landmarks", "mesh", str(b)]).landmarks == "mesh"
    assert parse_arguments(parser, ["detect", str(a), "-l", "mesh"]).images == [str(a)]
    assert parse_arguments(parser, ["detect", str(a), "--landmarks=mesh"]).landmarks == "mesh"
    assert parse_arguments(parser, ["models", "list"]).action == "list"  # nested subcommands still parse
    assert main(["detect", str(a), "--provider", LOOPBACK, str(b), "--format", "jsonl", "--quiet"]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert [Path(json.loads(line)["input"]).name for line in lines] == ["a.png", "b.png"]


def test_tilde_is_expanded_in_inputs_output_and_draw(service: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    write_image(tmp_path / "shots" / "a.png", 100)
    code = main(["detect", "~/shots", "--provider", LOOPBACK, "--quiet", "-o", "~/out/run.json", "--draw", "~/drawn"])
    assert code == EXIT_OK
    [record] = records((tmp_path / "out" / "run.json").read_text("utf-8"))
    assert record["input"] == str(tmp_path / "shots" / "a.png")
    assert (tmp_path / "drawn" / "a.png").is_file()
    assert not Path("~").exists()
    shutil.rmtree(tmp_path / "out")
