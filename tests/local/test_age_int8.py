"""The int8 age network: derived from the pinned float file, close to it on real faces, chosen by option."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
import pytest
from PIL import Image

from facekit import ConfigurationError, FaceClient
from facekit.local.age_int8 import MODEL_FILE, PREPARED_TAG, build_int8_age, fold_affine_layers, prepared_int8_age
from facekit.local.engine import LocalEngine
from facekit.local.store import ModelStore
from tests.local.conftest import isolated_store

IDENTITY = Path(__file__).resolve().parent.parent / "data" / "identity"
#: Six real faces (public domain: see tests/data/identity/README.md and tests/local/data/README.md).
PHOTOS = [
    *(IDENTITY / name for name in ("obama_1.jpg", "obama_2.jpg", "obama_3.jpg", "biden_1.jpg")),
    Path(__file__).resolve().parent / "data" / "astronaut.jpg",
    Path(__file__).resolve().parent.parent / "data" / "grace_hopper.jpg",
]


def _rgb(path: Path) -> npt.NDArray[np.uint8]:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


@pytest.fixture(scope="module")
def both(models: ModelStore) -> tuple[LocalEngine, LocalEngine]:
    return LocalEngine(store=models), LocalEngine(store=models, age_precision="float32")


def test_int8_ages_stay_close_to_the_float_network(both: tuple[LocalEngine, LocalEngine]) -> None:
    int8, float32 = both
    differences = []
    for path in PHOTOS:
        rgb = _rgb(path)
        (a,) = int8.detect(rgb, attributes=frozenset({"age", "gender"}))
        (b,) = float32.detect(rgb, attributes=frozenset({"age", "gender"}))
        assert a.age is not None and b.age is not None
        differences.append(abs(a.age - b.age))
        assert a.gender == b.gender  # the gender network is the same float one
        assert a.box == b.box
    # calibrate_age.py measures 0.3-0.8 years on average on held-out faces; the float network
    # itself moves 3.8 years on average when a face is mirrored
    assert max(differences) < 3.0, differences
    assert 0 < float(np.mean(differences)) < 1.5, differences  # 0: the float model ran twice


def test_the_int8_model_is_quantised_and_prepared_once(
    models: ModelStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = isolated_store(models, tmp_path, monkeypatch, MODEL_FILE)
    path = prepared_int8_age(store)
    assert isinstance(path, Path) and path.parent == tmp_path / "cache" and PREPARED_TAG in path.name
    graph = onnx.load(str(path)).graph
    ops = {node.op_type for node in graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv", "Softmax"} <= ops
    assert "Mul" not in ops  # the affine layers were folded into the convolutions
    int8_weights = [i for i in graph.initializer if i.data_type == onnx.TensorProto.INT8 and len(i.dims) == 4]
    assert len(int8_weights) == 11  # every convolution's weights in 8 bits
    mtime = path.stat().st_mtime_ns
    assert prepared_int8_age(store) == path and path.stat().st_mtime_ns == mtime  # reused, not rebuilt
    path.write_bytes(path.read_bytes()[:-10])  # a damaged copy is rebuilt, not loaded
    assert prepared_int8_age(store) == path and onnx.load(str(path)).graph.node


def test_folding_keeps_the_float_network_exact(models: ModelStore) -> None:
    import onnxruntime as ort

    source = models.path(MODEL_FILE)
    folded = fold_affine_layers(onnx.load(str(source)))
    assert not [n for n in folded.graph.node if n.op_type in ("Mul",)]
    x = np.random.default_rng(0).uniform(-0.48, 0.58, (3, 3, 64, 64)).astype(np.float32)
    ref = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"]).run(None, {"images": x})[0]
    got = ort.InferenceSession(folded.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"images": x})[0]
    np.testing.assert_allclose(got, ref, atol=1e-5)


def test_a_tensor_without_a_range_is_refused(models: ModelStore) -> None:
    from facekit.local._age_int8_ranges import RANGES

    ranges = dict(RANGES)
    del ranges["layer_11_relu"]
    with pytest.raises(ValueError, match="layer_11_relu"):
        build_int8_age(models.path(MODEL_FILE), ranges)


def test_age_precision_is_an_option_checked_like_the_others(models: ModelStore, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="age_precision must be one of 'int8', 'float32'"):
        FaceClient("local", age_precision="fp16")
    monkeypatch.setenv("FACEKIT_LOCAL_AGE_PRECISION", "float32")
    client = FaceClient("local", allow_fetch=False)
    assert client.backend.info()["age_precision"] == "float32"
    result = client.detect(IDENTITY / "obama_1.jpg", attributes=["age"])
    assert result.models["age_gender"].startswith("age-v1/")
    monkeypatch.delenv("FACEKIT_LOCAL_AGE_PRECISION")
    result = FaceClient("local", allow_fetch=False).detect(IDENTITY / "obama_1.jpg", attributes=["age"])
    assert result.models["age_gender"].startswith("age-v1 quantised to int8")


def test_the_prepared_model_runs_without_onnx(models: ModelStore) -> None:
    """Once prepared (``facekit models fetch``), age and the other attributes import neither onnx nor h5py."""
    import subprocess

    prepared_int8_age(models)  # as `facekit models fetch` does
    code = (
        "import sys, numpy as np\n"
        "from PIL import Image\n"
        "from facekit.local.engine import LocalEngine\n"
        "from facekit.local.store import ModelStore\n"
        "rgb = np.asarray(Image.open(sys.argv[1]).convert('RGB'))\n"
        "engine = LocalEngine(ModelStore(allow_fetch=False))\n"
        "(face,) = engine.detect(rgb, attributes=frozenset({'age', 'gender', 'emotion', 'head_pose', 'blur'}))\n"
        "assert face.age is not None and face.age > 20 and face.emotions, face\n"
        "assert 'onnx' not in sys.modules and 'onnxruntime.quantization' not in sys.modules, 'onnx imported'\n"
        "assert 'h5py' not in sys.modules, 'h5py imported'\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code, str(PHOTOS[0])], capture_output=True, text=True, cwd=root,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_the_int8_model_also_runs_from_bytes(models: ModelStore, both: tuple[LocalEngine, LocalEngine]) -> None:
    """A cache that cannot be written gets the model as bytes (``ModelStore.prepared``): it runs the same."""
    from facekit.local.age_gender import AgeGender
    from facekit.local.align import warp_chips

    int8, _ = both
    rgb = _rgb(PHOTOS[4])
    detections = int8.detector.detect(rgb)
    chips = warp_chips(rgb, detections.landmarks, 64)
    from_bytes = AgeGender(build_int8_age(models.path(MODEL_FILE)), None).age(chips)
    (face,) = int8.detect(rgb, attributes=frozenset({"age"}))
    assert from_bytes.shape == (1,) and abs(float(from_bytes[0]) - float(face.age or 0)) < 1e-3


def test_a_quantiser_that_ignored_the_ranges_is_refused(models: ModelStore) -> None:
    """Scales that are not those of the calibrated ranges (as from an all-zero calibration) are refused."""
    from facekit.local._age_int8_ranges import RANGES
    from facekit.local._int8 import check_ranges_used

    built = onnx.load_from_string(build_int8_age(models.path(MODEL_FILE)))
    check_ranges_used(built, RANGES, what="age model")  # the ranges it was built with: accepted
    with pytest.raises(ValueError, match="did not use the calibrated ranges"):
        check_ranges_used(built, {name: (low * 2, high * 2) for name, (low, high) in RANGES.items()}, what="age model")
    with pytest.raises(ValueError, match="no calibrated range for .*: the ranges do not fit this age model"):
        check_ranges_used(built, dict(list(RANGES.items())[1:]), what="age model")


def test_a_failed_build_says_how_to_use_the_float_network(
    models: ModelStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import facekit.local.age_int8 as age_int8
    from facekit import ModelNotAvailableError

    store = isolated_store(models, tmp_path, monkeypatch, MODEL_FILE, "centerface.onnx")

    def broken(source: Path) -> bytes:
        raise ValueError("the quantiser did not use the calibrated ranges")

    monkeypatch.setattr(age_int8, "build_int8_age", broken)
    with pytest.raises(ModelNotAvailableError, match="age_precision='float32'"):
        age_int8.prepared_int8_age(store)
    engine = LocalEngine(store=store)
    rgb = _rgb(PHOTOS[0])
    with pytest.raises(ModelNotAvailableError, match="FACEKIT_LOCAL_AGE_PRECISION=float32"):
        engine.detect(rgb, attributes=frozenset({"age"}))
    (face,) = LocalEngine(store=store, age_precision="float32").detect(rgb, attributes=frozenset({"age"}))
    assert face.age is not None
