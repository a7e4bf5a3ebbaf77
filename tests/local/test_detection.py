"""CenterFace through LocalEngine on real and generated photos."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from facekit.local.centerface import nms
from facekit.local.engine import LocalEngine, as_rgb


def iou(a: Any, b: Any) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / area)


def paste(
    canvas: npt.NDArray[np.uint8], face: npt.NDArray[np.uint8], x: int, y: int, scale: float
) -> tuple[float, float, float]:
    """Paste ``face`` scaled by ``scale`` at (x, y); return (x, y, scale) for mapping boxes."""
    h, w = face.shape[:2]
    small = np.asarray(Image.fromarray(face).resize((round(w * scale), round(h * scale)), Image.Resampling.LANCZOS))
    canvas[y : y + small.shape[0], x : x + small.shape[1]] = small
    return x, y, small.shape[1] / w


def test_grace_hopper_one_face(engine: LocalEngine, grace: npt.NDArray[np.uint8]) -> None:
    faces = engine.detect(grace)
    assert len(faces) == 1
    f = faces[0]
    assert 0.5 <= f.score <= 1.0
    x1, y1, x2, y2 = f.box
    assert 150 < x1 < 200 and 110 < y1 < 160 and 330 < x2 < 380 and 310 < y2 < 360
    assert f.age is None and f.gender is None and f.emotions is None and f.blur is None


def test_landmark_order(engine: LocalEngine, grace: npt.NDArray[np.uint8]) -> None:
    (f,) = engine.detect(grace)
    eye_l, eye_r, nose, mouth_l, mouth_r = f.landmarks
    assert eye_l[0] < nose[0] < eye_r[0]
    assert mouth_l[0] < mouth_r[0]
    assert max(eye_l[1], eye_r[1]) < nose[1] < min(mouth_l[1], mouth_r[1])
    x1, y1, x2, y2 = f.box
    assert all(x1 <= x <= x2 and y1 <= y <= y2 for x, y in f.landmarks)
    # Mirrored image: the same physical eye is now on the other side, order stays by x.
    (m,) = engine.detect(np.ascontiguousarray(grace[:, ::-1]))
    assert m.landmarks[0][0] < m.landmarks[1][0]
    assert abs((grace.shape[1] - m.landmarks[0][0]) - eye_r[0]) < 6


def test_boxes_map_back_to_original_pixels(engine: LocalEngine, grace: npt.NDArray[np.uint8]) -> None:
    (ref,) = engine.detect(grace)
    # A canvas larger than max_side so that detection runs on a resized copy.
    canvas = np.full((1500, 2000, 3), 120, np.uint8)
    x0, y0, s = paste(canvas, grace, 1234, 567, 1.3)
    (f,) = engine.detect(canvas)
    expect = [ref.box[0] * s + x0, ref.box[1] * s + y0, ref.box[2] * s + x0, ref.box[3] * s + y0]
    assert iou(f.box, expect) > 0.8
    for (ax, ay), (bx, by) in zip(f.landmarks, ref.landmarks, strict=True):
        assert abs(ax - (bx * s + x0)) < 12 and abs(ay - (by * s + y0)) < 12


def test_group_photo_largest_first(engine: LocalEngine, grace: npt.NDArray[np.uint8]) -> None:
    canvas = np.full((900, 1400, 3), 200, np.uint8)
    spots = [(20, 20, 0.7), (420, 40, 0.5), (750, 60, 0.6), (1100, 80, 0.45), (60, 480, 0.55),
             (500, 500, 0.65)]  # fmt: skip
    (ref,) = engine.detect(grace)
    expected = []
    for x, y, sc in spots:
        x0, y0, s = paste(canvas, grace, x, y, sc)
        expected.append([ref.box[0] * s + x0, ref.box[1] * s + y0, ref.box[2] * s + x0,
                         ref.box[3] * s + y0])  # fmt: skip
    faces = engine.detect(canvas)
    assert len(faces) == 6
    areas = [(f.box[2] - f.box[0]) * (f.box[3] - f.box[1]) for f in faces]
    assert areas == sorted(areas, reverse=True)
    for e in expected:
        assert max(iou(f.box, e) for f in faces) > 0.7


@pytest.mark.parametrize("kind", ["blank", "noise", "tiny"])
def test_no_faces(engine: LocalEngine, kind: str) -> None:
    rng = np.random.default_rng(1)
    img = {
        "blank": np.zeros((480, 640, 3), np.uint8),
        "noise": rng.integers(0, 256, (480, 640, 3), dtype=np.uint8),
        "tiny": np.full((8, 8, 3), 128, np.uint8),
    }[kind]
    assert engine.detect(img) == []


def test_grey_and_rgba_inputs(engine: LocalEngine, grace: npt.NDArray[np.uint8]) -> None:
    (ref,) = engine.detect(grace)
    grey = np.asarray(Image.fromarray(grace).convert("L"))
    rgba = np.asarray(Image.fromarray(grace).convert("RGBA"))
    for img in (grey, grey[:, :, None], rgba):
        (f,) = engine.detect(img)
        assert iou(f.box, ref.box) > 0.9
    with pytest.raises(ValueError, match="image"):
        as_rgb(np.zeros((4, 4, 5), np.uint8))


def test_very_large_image_is_bounded(engine: LocalEngine, grace: npt.NDArray[np.uint8]) -> None:
    canvas = np.full((4000, 6000, 3), 90, np.uint8)
    paste(canvas, grace, 2500, 1500, 3.0)
    engine.detect(canvas)  # warm-up for this input size
    t = time.perf_counter()
    faces = engine.detect(canvas, attributes=frozenset({"age", "gender", "blur"}))
    elapsed = time.perf_counter() - t
    assert len(faces) == 1
    assert elapsed < 1.5, f"{elapsed:.2f} s for a 6000 x 4000 image"


def test_max_side_and_threshold_are_honoured(models: Any, grace: npt.NDArray[np.uint8]) -> None:
    strict = LocalEngine(store=models, score_threshold=0.99)
    assert strict.detect(grace) == []
    small = LocalEngine(store=models, max_side=128)
    (f,) = small.detect(grace)
    assert f.box[2] - f.box[0] > 100  # still in original pixels


def test_nms() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 9]], np.float32)
    scores = np.array([0.9, 0.8, 0.7, 0.95], np.float32)
    assert nms(boxes, scores, 0.3).tolist() == [3, 2]
    assert nms(boxes[:0], scores[:0], 0.3).tolist() == []


def test_providers_and_info(engine: LocalEngine, grace: npt.NDArray[np.uint8]) -> None:
    engine.detect(grace)
    assert engine.providers_used["centerface"] == ["CPUExecutionProvider"]
    info = engine.info()
    assert info["max_side"] == 640 and "centerface.onnx" in info["models"]
    with pytest.raises(ValueError, match="unknown attributes"):
        engine.detect(grace, attributes=frozenset({"age", "hair"}))
