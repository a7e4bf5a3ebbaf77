"""The fast paths of the local engine: the prepared graph, scaled decoding, per-call options,
small-face enlargement and tiling. Real onnxruntime on the real weights; photos built from the
licensed test photos (Grace Hopper, Eileen Collins: public domain)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageFilter

from facekit import ConfigurationError, FaceClient, InvalidRequestError
from facekit.backends.local import check_local_options
from facekit.local.centerface import PREPARED_TAG, CenterFace, prepared_centerface
from facekit.local.engine import LocalEngine
from facekit.local.store import ModelStore
from tests.local.conftest import DATA, SHARED_DATA

ROOT = Path(__file__).resolve().parent.parent.parent


def four_people_128() -> Image.Image:
    """A 128x128 photo of four people whose faces are about 12 px wide.

    Built from the two public-domain portraits (Grace Hopper, Eileen Collins), head and
    shoulders scaled so that each face is 12 px, on a blurred background of the first.
    """
    grace = Image.open(SHARED_DATA / "grace_hopper.jpg").convert("RGB")
    astro = Image.open(DATA / "astronaut.jpg").convert("RGB")
    gc, ac = grace.crop((60, 30, 470, 600)), astro.crop((110, 10, 340, 330))
    canvas = grace.resize((128, 128)).filter(ImageFilter.GaussianBlur(12))
    gs = gc.resize((round(gc.width * 12 / 182), round(gc.height * 12 / 182)), Image.Resampling.LANCZOS)
    as_ = ac.resize((round(ac.width * 12 / 91), round(ac.height * 12 / 91)), Image.Resampling.LANCZOS)
    x = 4
    for i, person in enumerate([gs, as_, as_.transpose(Image.Transpose.FLIP_LEFT_RIGHT), gs.transpose(0)]):
        canvas.paste(person, (x, 20 + (i % 2) * 40))
        x += person.width + 4
    return canvas


def crowd(width: int = 2560, height: int = 1440, face_px: int = 16) -> tuple[Image.Image, int]:
    """A wide photo with a grid of small faces (``face_px`` wide); returns it and the face count."""
    grace = Image.open(SHARED_DATA / "grace_hopper.jpg").convert("RGB").crop((60, 30, 470, 600))
    person = grace.resize((round(grace.width * face_px / 182), round(grace.height * face_px / 182)))
    canvas = Image.new("RGB", (width, height), (120, 130, 140))
    n = 0
    for y in range(40, height - person.height, person.height * 3):
        for x in range(40, width - person.width, person.width * 4):
            canvas.paste(person, (x, y))
            n += 1
    return canvas, n


def _jpeg(image: Image.Image, **kw: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90, **kw)
    return buf.getvalue()


# -- the prepared graph ------------------------------------------------------------------


@pytest.fixture
def private_store(models: ModelStore, tmp_path: Path) -> ModelStore:
    """A store whose only copy of centerface.onnx is in a fresh directory (so nothing is prepared yet)."""
    src = models.path("centerface.onnx")
    weights = tmp_path / "weights"
    weights.mkdir()
    shutil.copy(src, weights / "centerface.onnx")
    return ModelStore(weights, cache_dir=tmp_path / "cache", allow_fetch=False)


def test_prepared_graph_is_built_once_and_checked(private_store: ModelStore) -> None:
    calls: list[Path] = []

    def build(path: Path) -> bytes:
        calls.append(path)
        return b"prepared:" + path.read_bytes()[:16]

    first = private_store.prepared("centerface.onnx", "t1", build)
    assert isinstance(first, Path) and first.parent == private_store.cache_dir
    assert first.name == f"centerface.t1.{private_store.list()[0].sha256[:16]}.onnx"
    side = first.with_name(first.name + ".sha256").read_text().split()[0]
    import hashlib

    assert side == hashlib.sha256(first.read_bytes()).hexdigest()
    again = ModelStore(private_store.model_dir, cache_dir=private_store.cache_dir, allow_fetch=False)
    assert again.prepared("centerface.onnx", "t1", build) == first
    assert len(calls) == 1  # a second store (another process) loads the stored file
    first.write_bytes(b"corrupted")  # a damaged file fails its sha256 and is rebuilt
    fresh = ModelStore(private_store.model_dir, cache_dir=private_store.cache_dir, allow_fetch=False)
    assert fresh.prepared("centerface.onnx", "t1", build) == first
    assert len(calls) == 2 and first.read_bytes().startswith(b"prepared:")


def test_prepared_graph_in_memory_when_the_cache_is_read_only(private_store: ModelStore, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    store = ModelStore(private_store.model_dir, cache_dir=blocker / "cache", allow_fetch=False)
    out = store.prepared("centerface.onnx", "t2", lambda p: b"graph")
    assert out == b"graph"


def test_prepared_centerface_detects_like_the_in_memory_edit(
    private_store: ModelStore, grace: npt.NDArray[np.uint8]
) -> None:
    path = prepared_centerface(private_store)
    assert isinstance(path, Path) and PREPARED_TAG in path.name
    fast = CenterFace(path, prepared=True).detect(grace)
    slow = CenterFace(private_store.path("centerface.onnx")).detect(grace)
    np.testing.assert_allclose(fast.boxes, slow.boxes, atol=1e-3)
    with pytest.raises(TypeError):
        CenterFace(path.read_bytes())


def test_detection_never_imports_onnx(models: ModelStore) -> None:
    prepared_centerface(models)  # what `facekit models fetch` leaves in the cache
    code = (
        "import sys; from facekit import FaceClient\n"
        "r = FaceClient('local').detect(sys.argv[1])\n"
        "print(len(r.faces), 'onnx' in sys.modules, 'h5py' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(SHARED_DATA / "grace_hopper.jpg")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=ROOT,
    )
    assert out.stdout.split() == ["1", "False", "False"], out.stderr


# -- decoding at the scale detection needs --------------------------------------------------


def test_landscape_jpeg_is_decoded_at_the_dct_scale_both_sides_allow(grace: npt.NDArray[np.uint8]) -> None:
    client = FaceClient("local")
    photo = Image.new("RGB", (4352, 2903), (150, 150, 150))
    photo.paste(Image.fromarray(grace), (1800, 1000))
    reference = client.detect(Image.fromarray(grace)).faces[0].box.xyxy
    for progressive in (False, True):
        result = client.detect(_jpeg(photo, progressive=progressive))
        # 640x427 needs 1/4 (1088x726); (640, 640) would have forced a full decode
        assert result.image.sent_width == 1088 and result.image.sent_height == 726
        assert len(result.faces) == 1
        box = result.faces[0].box.xyxy
        expected = (reference[0] + 1800, reference[1] + 1000, reference[2] + 1800, reference[3] + 1000)
        assert max(abs(a - b) for a, b in zip(box, expected, strict=True)) < 12
    png = io.BytesIO()
    photo.save(png, "PNG", compress_level=1)
    result = client.detect(png.getvalue())  # PNG: one decode, one integer box reduction
    assert (result.image.sent_width, result.image.sent_height) == (726, 484)  # reduce(6)
    assert len(result.faces) == 1
    with_attributes = client.detect(_jpeg(photo), attributes=["age"])
    assert with_attributes.image.sent_width == 2176  # crops come from a 1/2-scale decode


def test_rotated_jpeg_draft_uses_the_stored_orientation(grace: npt.NDArray[np.uint8]) -> None:
    from tests.conftest import exif_rotated_jpeg

    client = FaceClient("local")
    upright = Image.new("RGB", (1800, 2700), (140, 140, 140))
    upright.paste(Image.fromarray(grace), (600, 1200))
    data = exif_rotated_jpeg(upright, 6)
    result = client.detect(data)
    assert (result.image.width, result.image.height) == (1800, 2700)
    assert result.image.sent_height >= 640 and result.image.sent_height < 1280
    assert len(result.faces) == 1
    assert 600 < result.faces[0].box.xyxy[0] < 1000 and 1200 < result.faces[0].box.xyxy[1] < 1600


# -- per-call options -------------------------------------------------------------------------


def test_options_are_checked() -> None:
    assert check_local_options({}) == {"score_threshold": None, "min_face_size": None, "max_faces": None, "tile": False}
    assert check_local_options({"score_threshold": 0.3, "min_face_size": 20, "max_faces": 2, "tile": True}) == {
        "score_threshold": 0.3,
        "min_face_size": 20.0,
        "max_faces": 2,
        "tile": True,
    }
    bad: list[tuple[dict[str, Any], str]] = [
        ({"score_treshold": 0.3}, "did you mean 'score_threshold'"),
        ({"max_face": 1}, "did you mean 'max_faces'"),
        ({"score_threshold": 1.5}, "between 0 and 1"),
        ({"score_threshold": "0.3"}, "must be a number"),
        ({"score_threshold": float("nan")}, "finite"),
        ({"min_face_size": -1}, ">= 0"),
        ({"min_face_size": True}, "must be a number"),
        ({"max_faces": 0}, ">= 1"),
        ({"max_faces": 2.0}, "integer"),
        ({"tile": "yes"}, "True or False"),
    ]
    for options, message in bad:
        with pytest.raises(InvalidRequestError, match=message):
            check_local_options(options)


def test_unknown_option_fails_before_decoding(models: ModelStore) -> None:
    client = FaceClient("local")
    with pytest.raises(InvalidRequestError, match="colour_order"):
        client.detect(b"not even an image", colour_order="bgr")


def test_score_threshold_min_face_size_and_max_faces(models: ModelStore) -> None:
    client = FaceClient("local")
    photo, n = crowd(1280, 720, face_px=40)
    everyone = client.detect(photo)
    assert len(everyone.faces) == n
    assert len(client.detect(photo, max_faces=3).faces) == 3
    assert client.detect(photo, score_threshold=0.999).faces == []
    low = client.detect(photo, score_threshold=0.2)
    assert len(low.faces) >= n
    # min_face_size is in the caller's pixels, whatever scale the image was decoded at
    widths = sorted(min(f.box.width, f.box.height) for f in everyone.faces)
    cut = widths[len(widths) // 2] + 0.01
    kept = client.detect(_jpeg(photo.resize((2560, 1440))), min_face_size=2 * cut)
    assert 0 < len(kept.faces) < n
    assert all(min(f.box.width, f.box.height) >= 2 * cut for f in kept.faces)


# -- small faces and tiling ---------------------------------------------------------------------


def test_small_photo_is_enlarged_so_12px_faces_are_found(models: ModelStore) -> None:
    photo = np.asarray(four_people_128())
    assert len(LocalEngine(store=models, max_upscale=1.0).detect(photo)) < 4  # what it was
    faces = LocalEngine(store=models).detect(photo)
    assert len(faces) == 4
    assert all(8 <= f.box[2] - f.box[0] <= 16 for f in faces)
    assert len(FaceClient("local").detect(four_people_128()).faces) == 4


def test_tiling_finds_the_small_faces_of_a_crowd(models: ModelStore) -> None:
    client = FaceClient("local")
    photo, n = crowd()
    plain = client.detect(photo)
    tiled = client.detect(photo, tile=True)
    assert len(plain.faces) < n // 4  # 16 px faces become 4 px at max_side 640
    assert len(tiled.faces) >= 0.9 * n
    assert len(tiled.faces) <= n  # no duplicates across tile overlaps
    assert json.dumps(tiled.request.options) == '{"tile": true}'


def test_models_fetch_prepares_the_detector_graph(private_store: ModelStore) -> None:
    dirs = ["--model-dir", str(private_store.model_dir), "--cache-dir", str(private_store.cache_dir)]
    out = subprocess.run(
        [sys.executable, "-m", "facekit", "models", *dirs, "fetch", "centerface.onnx"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split()
    prepared = Path(lines[-1])
    assert prepared.parent == private_store.cache_dir and PREPARED_TAG in prepared.name
    assert prepared.with_name(prepared.name + ".sha256").is_file()


# -- batches: two images at once, the next chunk decoded meanwhile -------------------------------


def test_parallel_batch_detection_matches_one_by_one(models: ModelStore, grace: npt.NDArray[np.uint8]) -> None:
    photo, n = crowd(1280, 720, face_px=40)
    images = [grace, np.asarray(photo), np.asarray(four_people_128()), grace[:, ::-1]]
    serial = LocalEngine(store=models, batch_threads=1).detect_batch(images, min_face_size=[None, 30.0, None, None])
    engine = LocalEngine(store=models, batch_threads=2)
    parallel = engine.detect_batch(images, min_face_size=[None, 30.0, None, None])
    assert [len(f) for f in parallel] == [len(f) for f in serial] == [1, n, 4, 1]
    for a, b in zip(serial, parallel, strict=True):
        np.testing.assert_allclose([f.box for f in a], [f.box for f in b], atol=1e-3)
    assert engine.providers_used["centerface"] == ["CPUExecutionProvider"]
    with pytest.raises(ValueError, match="min_face_size"):
        engine.detect_batch(images, min_face_size=[1.0])
    with pytest.raises(ValueError, match="batch_threads"):
        LocalEngine(store=models, batch_threads=0)


@pytest.mark.parametrize("workers", [1, 2])
def test_detect_many_prefetch_keeps_order_and_per_item_errors(
    models: ModelStore, tmp_path: Path, workers: int
) -> None:
    client = FaceClient("local", batch_workers=workers)
    good = str(SHARED_DATA / "grace_hopper.jpg")
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff not a jpeg")
    inputs = [good, str(bad), four_people_128()] * 7  # 21 inputs: three chunks of 8, 8, 5
    items = list(client.detect_many(inputs, min_face_size=5))
    assert [i.index for i in items] == list(range(21))
    assert [len(i.result.faces) if i.ok else None for i in items] == [1, None, 4] * 7


def test_detect_many_two_workers_matches_a_loop_on_one_thread_sessions(models: ModelStore) -> None:
    photo, n = crowd(1280, 720, face_px=40)
    grace_path = str(SHARED_DATA / "grace_hopper.jpg")
    inputs: list[Any] = [grace_path, photo, four_people_128(), str(DATA / "astronaut.jpg")] * 5  # 3 chunks
    loop_client = FaceClient("local", batch_workers=1)
    expected = [loop_client.detect(x) for x in inputs]
    client = FaceClient("local", batch_workers=2)
    backend = client.backend
    threads: set[str] = set()
    real = backend.detect_batch

    def recording(payloads: Any, request: Any, **kw: Any) -> Any:
        threads.add(threading.current_thread().name)
        assert kw == {"concurrent": True}
        return real(payloads, request, **kw)

    backend.detect_batch = recording  # type: ignore[method-assign]
    items = list(client.detect_many(inputs))
    assert [i.index for i in items] == list(range(len(inputs)))
    assert [len(i.unwrap().faces) for i in items] == [len(r.faces) for r in expected]
    assert [len(r.faces) for r in expected[:4]] == [1, n, 4, 1]
    for item, want in zip(items, expected, strict=True):
        got = sorted(f.box.xyxy for f in item.unwrap().faces)
        np.testing.assert_allclose(got, sorted(f.box.xyxy for f in want.faces), atol=1e-2)
    assert len(threads) == 2 and all(t.startswith("facekit-chunk") for t in threads)
    engine = backend.engine
    assert engine._detector is None  # detect_many alone never builds the all-core session
    options = engine.batch_detector.session.get_session_options()
    assert options.intra_op_num_threads == 1 and options.enable_mem_pattern is False


def test_detect_many_two_workers_reads_inputs_lazily(models: ModelStore) -> None:
    client = FaceClient("local", batch_workers=2)
    grace = Image.open(SHARED_DATA / "grace_hopper.jpg").convert("RGB")
    taken = 0

    def endless() -> Any:
        nonlocal taken
        while True:
            taken += 1
            yield grace

    stream = client.detect_many(endless())
    first = next(stream)
    assert first.ok and len(first.unwrap().faces) == 1
    assert taken <= 3 * 8 + 1  # at most workers + 1 chunks of 8 submitted
    stream.close()


def test_detect_many_of_one_chunk_stays_on_the_all_core_session(models: ModelStore) -> None:
    client = FaceClient("local", batch_workers=2)
    items = list(client.detect_many([str(SHARED_DATA / "grace_hopper.jpg")] * 8))
    assert [len(i.unwrap().faces) for i in items] == [1] * 8
    engine = client.backend.engine
    assert engine._detector is not None and engine._batch_detector is None


def test_batch_workers_default_env_and_bad_values(models: ModelStore, monkeypatch: pytest.MonkeyPatch) -> None:
    cores = os.cpu_count() or 1
    assert FaceClient("local").backend.batch_workers == (2 if cores >= 2 else 1)
    assert FaceClient("local", providers="CUDAExecutionProvider").backend.batch_workers == 1
    monkeypatch.setenv("FACEKIT_BATCH_WORKERS", "3")
    assert FaceClient("local").backend.batch_workers == 3
    for bad in ("two", "0"):
        monkeypatch.setenv("FACEKIT_BATCH_WORKERS", bad)
        with pytest.raises(ConfigurationError, match="batch_workers"):
            FaceClient("local")


def test_models_are_built_once_when_two_batches_start_together(
    models: ModelStore, grace: npt.NDArray[np.uint8], monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    import facekit.local.age_gender as age_gender_module
    import facekit.local.centerface as centerface_module
    import facekit.local.emotion as emotion_module

    built: list[str] = []

    def counting(module: Any, name: str) -> None:
        real = module.make_session

        def make(model: Any, **kw: Any) -> Any:
            built.append(name)
            time.sleep(0.05)  # a slow build, so that a second thread would start its own
            return real(model, **kw)

        monkeypatch.setattr(module, "make_session", make)

    counting(age_gender_module, "age_gender")
    counting(emotion_module, "emotion")
    counting(centerface_module, "centerface")
    engine = LocalEngine(store=models)
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def worker(i: int) -> None:
        barrier.wait()
        results[i] = engine.detect_batch([grace], attributes=frozenset({"age", "gender", "emotion"}), single_thread=True)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(built) == ["age_gender", "age_gender", "centerface", "emotion"]  # age, gender: one each
    assert results[0] is not None and results[1] is not None
    assert [f.age for f in results[0][0]] == [f.age for f in results[1][0]]
    assert results[0][0][0].gender is not None and results[0][0][0].emotions is not None
