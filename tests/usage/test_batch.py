"""detect_many: order, per-item errors, bounded concurrency, rate limiting, batched inference."""

from __future__ import annotations

import itertools
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from PIL import Image

from facekit import (
    BoundingBox,
    DetectRequest,
    Face,
    FaceClient,
    FacekitWarning,
    InvalidImageError,
    InvalidRequestError,
    ModelNotAvailableError,
    Payload,
    RateLimiter,
    UnsupportedFeatureError,
)
from facekit._batch import BatchItem
from facekit.backends import BackendResult
from facekit.backends.fake import FakeBackend


def sized(width: int) -> Image.Image:
    return Image.new("RGB", (width, 100), (90, 90, 90))


def box_handler(delay_of: dict[int, float] | None = None):  # type: ignore[no-untyped-def]
    def handler(payload: Payload, request: DetectRequest) -> list[Face]:
        assert payload.width and payload.height
        if delay_of:
            time.sleep(delay_of.get(payload.width, 0.0))
        if payload.width == 333:
            raise RuntimeError("handler bug")
        return [Face(box=BoundingBox(left=0, top=0, width=payload.width / 2, height=payload.height / 2))]

    return handler


def test_items_come_in_input_order_with_errors_kept_on_their_item() -> None:
    widths = [200, 120, 333, 150, 101, 180]
    delays = {200: 0.08, 120: 0.0, 150: 0.04, 101: 0.0, 180: 0.01}
    client = FaceClient("fake", handler=box_handler(delays))
    inputs: list[object] = [sized(w) for w in widths]
    inputs.insert(3, "no/such/file.jpg")
    items = list(client.detect_many(inputs, workers=4))
    assert [item.index for item in items] == list(range(len(inputs)))
    assert [item.input is given for item, given in zip(items, inputs, strict=True)] == [True] * len(inputs)
    assert isinstance(items[2].error, RuntimeError)  # a non-facekit exception is captured too
    assert isinstance(items[3].error, InvalidImageError)
    ok = [item for item in items if item.ok]
    assert [item.result.faces[0].box.width for item in ok] == [w / 2 for w in widths if w != 333]  # type: ignore[union-attr]
    with pytest.raises(InvalidImageError):
        items[3].unwrap()


def test_concurrency_is_bounded_and_input_is_read_lazily() -> None:
    active = peak = 0
    lock = threading.Lock()

    def handler(payload: Payload, request: DetectRequest) -> list[Face]:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.03)
        with lock:
            active -= 1
        return []

    consumed = 0

    def endless() -> Iterator[Image.Image]:
        nonlocal consumed
        while True:
            consumed += 1
            yield sized(100)

    client = FaceClient("fake", handler=handler)
    stream = client.detect_many(endless(), workers=3)
    first = next(stream)
    assert first.index == 0 and first.ok
    assert consumed <= 2 * 3 + 1
    taken = [first] + [next(stream) for _ in range(11)]
    stream.close()  # type: ignore[attr-defined]
    assert [item.index for item in taken] == list(range(12))
    assert 2 <= peak <= 3
    assert consumed <= 12 + 2 * 3 + 1
    time.sleep(0.05)
    assert not [t for t in threading.enumerate() if t.name.startswith("facekit-batch")]


def test_rate_limiter_spaces_backend_calls() -> None:
    times: list[float] = []

    def handler(payload: Payload, request: DetectRequest) -> list[Face]:
        times.append(time.monotonic())
        return []

    client = FaceClient("fake", handler=handler)
    items = list(client.detect_many([sized(100)] * 8, workers=4, rate_limiter=RateLimiter(40)))
    assert all(item.ok for item in items)
    times.sort()
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.025 * 0.8  # 40/s: 25 ms apart (scheduling jitter allowed)
    assert times[-1] - times[0] >= 7 * 0.025 * 0.95


def test_progress_callback_and_detect_kwargs() -> None:
    seen: list[tuple[int, int | None]] = []
    client = FaceClient("fake", handler=box_handler(), attributes=["age"])
    items = list(client.detect_many([sized(100), sized(120)], progress=lambda d, t: seen.append((d, t)), attributes="age"))
    assert seen == [(1, 2), (2, 2)]
    assert all(item.result is not None and item.result.request.attributes == ("age",) for item in items)


def test_workers_must_be_positive() -> None:
    with pytest.raises(InvalidRequestError):
        list(FaceClient("fake").detect_many([sized(100)], workers=0))


class BatchedFake(FakeBackend):
    """A fake with batched inference, recording chunk sizes."""

    batch_size = 3

    def __init__(self) -> None:
        super().__init__(box_handler())
        self.chunks: list[int] = []

    def detect_batch(self, payloads: Sequence[Payload], request: DetectRequest) -> list[BackendResult]:
        self.chunks.append(len(payloads))
        if any(p.width == 333 for p in payloads):
            raise RuntimeError("one bad image spoils the batch")
        return [BackendResult(faces=[Face(box=BoundingBox(left=1, top=2, width=p.width / 4, height=10))]) for p in payloads]


def test_batched_inference_in_chunks_and_fallback_per_item() -> None:
    backend = BatchedFake()
    client = FaceClient(backend=backend)
    widths = [100, 120, 140, 160, 333, 180, 200]
    items: list[BatchItem] = list(client.detect_many([sized(w) for w in widths] + [b"not an image"]))
    assert backend.chunks == [3, 3, 1]  # second chunk failed: redone one by one through detect()
    assert [item.index for item in items] == list(range(8))
    assert [item.result.faces[0].box.width for item in items[:3]] == [25.0, 30.0, 35.0]  # type: ignore[union-attr]
    assert [item.result.faces[0].box.width for item in items[3:4]] == [80.0]  # type: ignore[union-attr]  # per-item path
    assert isinstance(items[4].error, RuntimeError)
    assert isinstance(items[7].error, InvalidImageError)
    assert items[6].result is not None and items[6].result.faces[0].box.width == 50.0
    assert items[0].result is not None and items[0].result.faces[0].box.image_width == 100


def _write_png(path: Path, width: int) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    sized(width).save(path, format="PNG")
    return str(path)


def test_a_folder_or_glob_string_is_expanded_like_the_cli(tmp_path: Path) -> None:
    a = _write_png(tmp_path / "photos" / "a.png", 100)
    b = _write_png(tmp_path / "photos" / "b.jpg.png", 120)
    _write_png(tmp_path / "photos" / "sub" / "c.png", 140)  # not in a non-recursive folder listing
    (tmp_path / "photos" / "notes.txt").write_text("not an image")
    client = FaceClient("fake", handler=box_handler())
    by_folder = list(client.detect_many(str(tmp_path / "photos") + "/"))
    assert [item.input for item in by_folder] == [a, b]
    assert all(item.ok for item in by_folder)
    assert [item.result.image.width for item in by_folder] == [100, 120]  # type: ignore[union-attr]
    by_glob = list(client.detect_many(str(tmp_path / "photos" / "*.png")))
    assert [item.input for item in by_glob] == [a, b]
    deep = list(client.detect_many(tmp_path / "photos" / "**" / "*.png"))  # a Path works too
    assert sorted(Path(item.input).name for item in deep) == ["a.png", "b.jpg.png", "c.png"]
    assert [item.input for item in client.detect_many(a)] == [a]  # one file: one input, not 40 characters


def test_a_folder_or_glob_that_names_nothing_raises_before_any_input(tmp_path: Path) -> None:
    client = FaceClient("fake", handler=box_handler())
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidRequestError, match="no image files"):
        client.detect_many(str(tmp_path / "empty"))
    with pytest.raises(InvalidRequestError, match="no files match"):
        client.detect_many(str(tmp_path / "*.jpg"))
    with pytest.raises(TypeError, match="detect"):
        client.detect_many(b"\x89PNG...")  # type: ignore[arg-type]


def test_a_bad_request_raises_once_before_the_first_input_is_read() -> None:
    consumed = 0

    def inputs() -> Iterator[Image.Image]:
        nonlocal consumed
        for _ in range(5):
            consumed += 1
            yield sized(100)

    backend = FakeBackend(box_handler(), attributes=["age"], landmarks=False)
    client = FaceClient(backend=backend)
    with pytest.raises(InvalidRequestError, match="did you mean 'age'"):
        client.detect_many(inputs(), attributes=["agee"])
    with pytest.raises(UnsupportedFeatureError):
        client.detect_many(inputs(), landmarks=True)  # strict: the fake cannot return landmarks
    with pytest.raises(InvalidRequestError, match="workers"):
        client.detect_many(inputs(), workers=0)
    assert consumed == 0 and backend.calls == []


def test_unsupported_features_warn_once_per_batch_when_not_strict() -> None:
    backend = FakeBackend(box_handler(), attributes=["age"], landmarks=False)
    client = FaceClient(backend=backend)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        items = list(client.detect_many([sized(100)] * 3, landmarks=True, strict=False, workers=2))
    assert len([w for w in caught if issubclass(w.category, FacekitWarning)]) == 1
    assert all(item.ok and "landmarks" in " ".join(item.result.warnings) for item in items)  # type: ignore[union-attr]


def test_missing_local_weights_raise_once_before_any_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("onnxruntime")
    monkeypatch.delenv("FACEKIT_MODEL_DIR", raising=False)
    consumed = 0

    def inputs() -> Iterator[Image.Image]:
        nonlocal consumed
        consumed += 1
        yield sized(100)

    client = FaceClient("local", model_dir=str(tmp_path / "none"), cache_dir=str(tmp_path / "cache"), allow_fetch=False)
    with pytest.raises(ModelNotAvailableError, match="facekit models fetch") as info:
        client.detect_many(inputs())
    assert "centerface.onnx" in str(info.value)
    assert consumed == 0
