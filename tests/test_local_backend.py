"""The ``local`` backend end to end: real onnxruntime on the real weights, through FaceClient."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facekit import FaceClient, ModelNotAvailableError
from tests.conftest import DATA, encode, exif_rotated_jpeg

ROOT = Path(__file__).parent.parent

pytest.importorskip("onnxruntime")
from facekit.local.store import ModelStore  # noqa: E402

if not os.environ.get("FACEKIT_REQUIRE_MODELS") and any(ModelStore().find(s.name) is None for s in ModelStore().list()):
    pytest.skip("local weights not fetched (run `facekit models fetch`)", allow_module_level=True)


@pytest.fixture(scope="module")
def client() -> FaceClient:
    return FaceClient("local")


@pytest.fixture(scope="module")
def portrait() -> Image.Image:
    return Image.open(DATA / "grace_hopper.jpg").convert("RGB")


@pytest.fixture(scope="module")
def reference_box(client: FaceClient, portrait: Image.Image) -> tuple[float, float, float, float]:
    result = client.detect(portrait)
    assert len(result.faces) == 1
    return result.faces[0].box.xyxy


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_portrait_face_landmarks_and_only_requested_attributes(client: FaceClient, portrait: Image.Image) -> None:
    result = client.detect(portrait, attributes=["age", "head_pose"], landmarks=True)
    face = result.faces[0]
    assert 0.5 <= (face.confidence or 0) <= 1
    assert face.landmarks is not None
    assert set(face.landmarks) == {"left_eye", "right_eye", "nose_tip", "mouth_left", "mouth_right"}
    assert face.landmarks["left_eye"].x < face.landmarks["right_eye"].x  # viewer's left
    assert face.landmarks["mouth_left"].x < face.landmarks["mouth_right"].x
    for point in face.landmarks.values():
        assert face.box.left <= point.x <= face.box.right
        assert face.box.top <= point.y <= face.box.bottom
    attributes = face.attributes
    assert attributes.age is not None and 40 <= attributes.age <= 90  # photographed at 77
    assert attributes.head_pose is not None and attributes.head_pose.derived_from == "landmarks:5"
    assert attributes.emotion is None and attributes.gender is None and attributes.blur is None
    assert result.runtime["providers_used"]["centerface"] == ["CPUExecutionProvider"]
    assert result.raw[0]["score"] == pytest.approx(face.confidence)


def test_emotion_smile_and_quality_are_typed(client: FaceClient, portrait: Image.Image) -> None:
    face = client.detect(portrait, attributes=["emotion", "smile", "blur", "exposure", "noise", "gender"]).faces[0]
    emotion = face.attributes.emotion
    assert emotion is not None
    assert emotion.contempt is None  # not predicted by the model: unknown, not 0
    assert emotion.calm is None
    assert sum(emotion.scores().values()) == pytest.approx(1.0, abs=1e-4)
    smile = face.attributes.smile
    assert smile is not None
    assert smile.derived_from == "emotion.happiness"
    assert smile.intensity == pytest.approx(emotion.happiness)
    for name, levels in (
        ("blur", {"low", "medium", "high"}),
        ("exposure", {"under", "good", "over"}),
        ("noise", {"low", "medium", "high"}),
    ):
        value = getattr(face.attributes, name)
        assert value.level in levels
        assert 0.0 <= value.value <= 1.0
    assert face.attributes.gender is not None
    assert face.attributes.gender.value in ("male", "female")


@pytest.mark.parametrize("orientation", [6, 8, 3])
def test_exif_rotated_photo_gives_upright_boxes(
    client: FaceClient, portrait: Image.Image, reference_box: tuple[float, float, float, float], orientation: int
) -> None:
    result = client.detect(exif_rotated_jpeg(portrait, orientation))
    assert result.image.orientation_applied
    assert (result.image.width, result.image.height) == portrait.size
    assert len(result.faces) == 1
    assert _iou(result.faces[0].box.xyxy, reference_box) > 0.8


def test_grayscale_rgba_and_bgr_inputs(
    client: FaceClient, portrait: Image.Image, reference_box: tuple[float, float, float, float]
) -> None:
    gray = client.detect(encode(portrait.convert("L"), "JPEG"))
    assert len(gray.faces) == 1
    assert _iou(gray.faces[0].box.xyxy, reference_box) > 0.8
    rgba = portrait.convert("RGBA")
    rgba.putalpha(255)
    assert len(client.detect(encode(rgba, "PNG")).faces) == 1
    bgr = np.asarray(portrait)[:, :, ::-1].copy()
    faces = client.detect(bgr, color_order="bgr").faces
    assert _iou(faces[0].box.xyxy, reference_box) > 0.95


def test_no_face_gives_an_empty_result(client: FaceClient) -> None:
    gradient = Image.linear_gradient("L").resize((640, 480)).convert("RGB")
    result = client.detect(gradient, attributes=["age", "emotion"], landmarks=True)
    assert result.faces == []
    assert (result.image.width, result.image.height) == (640, 480)


def test_very_large_image_is_bounded_and_mapped_back(
    client: FaceClient, portrait: Image.Image, reference_box: tuple[float, float, float, float], tmp_path: Path
) -> None:
    canvas = Image.new("RGB", (6000, 4000), (180, 180, 180))
    big_face = portrait.resize((portrait.width * 4, portrait.height * 4))
    canvas.paste(big_face, (3000, 1000))
    path = tmp_path / "huge.jpg"
    canvas.save(path, quality=85)
    expected = tuple(v * 4 + off for v, off in zip(reference_box, (3000, 1000, 3000, 1000), strict=True))
    code = (
        "import json, re, resource, sys, time\n"
        "from facekit import FaceClient\n"
        # the child's own peak: ru_maxrss survives exec and would report the parent pytest's peak
        "def peak_mb():\n"
        "    try:\n"
        "        return int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)) / 1024\n"
        "    except (OSError, AttributeError):\n"
        "        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "c = FaceClient('local'); c.detect(sys.argv[2])\n"
        "t = time.perf_counter(); r = c.detect(sys.argv[1]); dt = time.perf_counter() - t\n"
        "print(json.dumps({'seconds': dt, 'rss_mb': peak_mb(),"
        " 'box': r.faces[0].box.xyxy if r.faces else None, 'scale': r.image.scale, 'size': [r.image.width, r.image.height],"
        " 'attr_scale': c.detect(sys.argv[1], attributes=['age']).image.scale}))\n"
    )
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), str(DATA / "grace_hopper.jpg")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    assert figures["size"] == [6000, 4000]
    # detection alone: decoded at JPEG's 1/8 DCT scale (750x500 covers the detector's 640x427);
    # with attributes: at 3/8 (2250x1500 covers the 2048-pixel bound on the crops' source;
    # libjpeg-turbo scales by any M/8, Pillow only by 1/2: 3000x2000)
    assert figures["scale"] == pytest.approx(1 / 8)
    assert figures["attr_scale"] == pytest.approx(3 / 8)
    assert figures["box"] is not None
    assert _iou(tuple(figures["box"]), expected) > 0.8
    # documented bounds (docs/local-engine.md): a 24-megapixel photo in under 3 s and 1 GiB
    assert figures["seconds"] < 3.0, figures
    assert figures["rss_mb"] < 1024, figures
    assert time.perf_counter() - started < 120


def test_gpu_request_falling_back_to_cpu_is_visible(portrait: Image.Image) -> None:
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this machine has CUDA: nothing falls back")
    client = FaceClient("local", providers="CUDAExecutionProvider,CPUExecutionProvider")
    result = client.detect(portrait)
    assert result.runtime["providers_requested"] == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert result.runtime["providers_used"]["centerface"] == ["CPUExecutionProvider"]
    assert any("fell back" in warning for warning in result.warnings)


def test_offline_with_an_empty_cache_names_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, portrait: Image.Image
) -> None:
    monkeypatch.delenv("FACEKIT_MODEL_DIR", raising=False)
    client = FaceClient("local", cache_dir=str(tmp_path), allow_fetch=False)
    with pytest.raises(ModelNotAvailableError, match="facekit models fetch") as info:
        client.detect(portrait)
    assert str(tmp_path) in str(info.value)


def test_readme_main_command_prints_the_json_result() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "facekit",
            "detect",
            "examples/images/grace_hopper.jpg",
            "--attributes",
            "age,gender,emotion,head_pose",
            "--landmarks",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    items = json.loads(out.stdout)
    assert len(items) == 1
    assert items[0]["status"] == "ok"
    result = items[0]["result"]
    assert result["provider"] == "local"
    assert len(result["faces"]) == 1
    assert result["faces"][0]["attributes"]["age"] is not None


def test_detect_many_batches_attribute_models_across_images(portrait: Image.Image) -> None:
    from facekit.local.age_gender import AgeGender

    client = FaceClient("local")
    small = portrait.resize((portrait.width // 2, portrait.height // 2))
    canvas = Image.new("RGB", (900, 700), (190, 190, 190))
    canvas.paste(portrait, (20, 40))
    canvas.paste(small, (600, 300))
    images = [portrait, Image.linear_gradient("L").convert("RGB"), canvas]
    singles = [client.detect(image, attributes=["age", "emotion"]) for image in images]
    calls: list[int] = []
    original = AgeGender.age

    def counting_age(self: AgeGender, chips: np.ndarray) -> np.ndarray:
        calls.append(len(chips))
        return original(self, chips)

    AgeGender.age = counting_age  # type: ignore[method-assign]
    try:
        items = list(client.detect_many(images, attributes=["age", "emotion"]))
    finally:
        AgeGender.age = original  # type: ignore[method-assign]
    assert calls == [3]  # one age run for the 3 faces of the 3 images
    assert [item.index for item in items] == [0, 1, 2]
    for item, single in zip(items, singles, strict=True):
        assert item.result is not None
        assert len(item.result.faces) == len(single.faces)
        for batched, alone in zip(item.result.faces, single.faces, strict=True):
            assert batched.box == alone.box
            assert batched.attributes.age == pytest.approx(alone.attributes.age, abs=1e-3)
            assert batched.attributes.emotion.happiness == pytest.approx(alone.attributes.emotion.happiness, abs=1e-4)
