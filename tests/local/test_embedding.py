"""dlib's face recogniser: the reader, the ONNX conversion against dlib itself, real photos.

``data/dlib_reference.npz`` holds five 150 x 150 chips (four real faces aligned by facekit,
one noise chip) and the descriptors dlib 20.0.1 computed for them with its own
deserialiser and forward pass (``benchmarks/identity/make_dlib_reference.py``, in a
separate virtualenv with ``dlib-bin``); nothing of facekit ran in that step.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from facekit.local.dlib_to_onnx import CONVERTER_VERSION, UnsupportedDlibModel, convert_dlib_resnet, read_dlib_resnet
from facekit.local.embedding import PREPARED_TAG, TEMPLATE_150, FaceEmbedder, prepared_embedding_model
from facekit.local.store import ModelStore

DATA = Path(__file__).resolve().parent / "data"
PHOTOS = Path(__file__).resolve().parents[1] / "data" / "identity"


@pytest.fixture(scope="module")
def dat(models: ModelStore) -> Path:
    return models.path("dlib_face_recognition_resnet_model_v1.dat")


@pytest.fixture(scope="module")
def onnx_bytes(dat: Path) -> bytes:
    return convert_dlib_resnet(dat).SerializeToString()


def test_reader_follows_the_network_type(dat: Path) -> None:
    net = read_dlib_resnet(dat)
    kinds = [layer.kind for layer in net.layers]
    assert kinds.count("con") == 29 and kinds.count("affine") == 29
    assert kinds.count("add_prev") == 14 and kinds[0] == "fc"
    first = net.layers[-1]
    assert first.kind == "con" and first.params["W"].shape == (32, 3, 7, 7) and "b" in first.params
    assert net.layers[0].params["W"].shape == (256, 128)
    assert net.mean_rgb == pytest.approx((122.782, 117.001, 104.298), abs=1e-3)


def test_truncated_or_foreign_files_are_refused(dat: Path, tmp_path: Path) -> None:
    data = dat.read_bytes()
    cut = tmp_path / "cut.dat"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnsupportedDlibModel, match="ends early"):
        read_dlib_resnet(cut)
    longer = tmp_path / "longer.dat"
    longer.write_bytes(data + b"\x00")
    with pytest.raises(UnsupportedDlibModel, match="bytes left"):
        read_dlib_resnet(longer)
    other = tmp_path / "other.dat"
    other.write_bytes(data.replace(b"loss_metric_2", b"loss_metric_9", 1))
    with pytest.raises(UnsupportedDlibModel, match="loss_metric_9"):
        read_dlib_resnet(other)


def test_onnx_matches_dlib_forward_pass(onnx_bytes: bytes) -> None:
    model = onnx.load_from_string(onnx_bytes)
    onnx.checker.check_model(model, full_check=True)
    ref = np.load(DATA / "dlib_reference.npz")
    chips, want = ref["chips"], ref["descriptors"]
    sess = ort.InferenceSession(onnx_bytes)
    got = sess.run(None, {"input": chips.transpose(0, 3, 1, 2).astype(np.float32)})[0]
    assert got.shape == (5, 128)
    np.testing.assert_allclose(got, want, atol=2e-5)
    # the test has teeth: the descriptors of different faces differ by far more than the tolerance
    assert min(np.abs(a - b).max() for a, b in combinations(want, 2)) > 0.05


def test_conversion_is_prepared_once_in_the_cache(dat: Path, tmp_path: Path) -> None:
    import shutil

    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(dat, src / dat.name)
    store = ModelStore(src, cache_dir=tmp_path / "cache", allow_fetch=False)
    first = prepared_embedding_model(store)
    assert isinstance(first, Path) and first.parent == tmp_path / "cache"
    assert PREPARED_TAG in first.name and first.with_name(first.name + ".sha256").is_file()
    assert PREPARED_TAG.endswith(str(CONVERTER_VERSION))
    stamp = first.stat().st_mtime_ns
    assert prepared_embedding_model(ModelStore(src, cache_dir=tmp_path / "cache", allow_fetch=False)) == first
    assert first.stat().st_mtime_ns == stamp  # reused, not converted again
    assert first.read_bytes() == convert_dlib_resnet(dat).SerializeToString()


def test_template_is_dlibs_chip_layout() -> None:
    # eyes level and symmetric about the chip's centre line, nose below the eyes
    assert TEMPLATE_150[0, 1] == pytest.approx(TEMPLATE_150[1, 1])
    assert (TEMPLATE_150[0, 0] + TEMPLATE_150[1, 0]) / 2 == pytest.approx(74.0, abs=0.5)  # dlib centres at 0.49
    assert TEMPLATE_150[1, 0] - TEMPLATE_150[0, 0] == pytest.approx(52.9, abs=0.5)  # 0.247 of the chip


def test_aligned_chips_of_real_faces(engine: object, astronaut: np.ndarray) -> None:
    from facekit.local.engine import LocalEngine

    assert isinstance(engine, LocalEngine)
    (face,) = engine.detect(astronaut)
    chip = FaceEmbedder.chips(astronaut, np.array([face.landmarks]))[0]
    ref = np.load(DATA / "dlib_reference.npz")
    names = [str(n) for n in ref["names"]]
    stored = ref["chips"][names.index("tests/local/data/astronaut.jpg")]
    # the same alignment today as when the reference was made
    assert np.abs(chip.astype(int) - stored.astype(int)).mean() < 2.0
    (vec,) = engine.embeddings([astronaut], [[face]])
    want = ref["descriptors"][names.index("tests/local/data/astronaut.jpg")]
    assert np.linalg.norm(vec[0] - want) < 0.05


def test_embedding_at_run_time_needs_no_onnx(models: ModelStore) -> None:
    import subprocess
    import sys

    prepared_embedding_model(models)  # as `facekit models fetch` does
    code = (
        "import sys, numpy as np\n"
        "from facekit.local.engine import LocalEngine\n"
        "from facekit.local.store import ModelStore\n"
        "chips = np.load(sys.argv[1])['chips']\n"
        "vec = LocalEngine(ModelStore(allow_fetch=False)).embedder.embed(chips)\n"
        "assert vec.shape == (5, 128)\n"
        "assert 'onnx' not in sys.modules and 'facekit.local.dlib_to_onnx' not in sys.modules, 'onnx imported'\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code, str(DATA / "dlib_reference.npz")], capture_output=True,
                          text=True, cwd=root, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
