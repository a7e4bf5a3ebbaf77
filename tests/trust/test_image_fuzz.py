"""Property-based fuzzing of image inputs: only ``InvalidImageError`` or a valid answer, in bounded time and memory.

Inputs are drawn by ``hypothesis``: encoded images (PNG, JPEG, GIF, BMP, TIFF, WEBP in many modes)
mutated by truncation, bit flips and wrong magic bytes; headers that declare huge sizes
(decompression bombs); EXIF orientations 0, 9, 255 and malformed EXIF blocks; PIL images of odd
modes and sizes; numpy arrays of the wrong shape, dtype or layout; file objects that misbehave.
Each goes through ``FaceClient`` with the ``fake`` backend (bytes as Azure-like backends take
them, and decoded pixels as the local engine takes them), through ``prepare_payload`` with the
Azure and Rekognition input specs (so re-encoding and rescaling run), and, for a subset, through
the real local engine.

Bounded in the default run; ``@pytest.mark.slow`` runs many more examples. Set
``FACEKIT_FUZZ_REPORT=path.json`` to write the figures (inputs tried, outcomes by class, slowest
input, peak traced memory).
"""

from __future__ import annotations

import io
import json
import os
import struct
import time
import tracemalloc
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from facekit import DetectionResult, FaceClient, InputSpec, InvalidImageError, open_image
from facekit._image import Payload, prepare_payload
from facekit.backends.aws import RekognitionBackend
from facekit.backends.azure_rest import AZURE_INPUT_SPEC
from facekit.backends.fake import FakeBackend

#: Decompression-bomb guard used by the fuzzed clients, pixels (keeps a declared-huge header cheap).
MAX_PIXELS = 4_000_000
#: Most seconds one input may take (a loaded 2-core runner; typical inputs take milliseconds).
SECONDS_PER_INPUT = 5.0
#: Most memory Python may trace while one input is handled, bytes.
TRACED_PEAK_LIMIT = 256 * 1024 * 1024

AWS_SPEC: InputSpec = RekognitionBackend.__dict__["input_spec"].fget(None)
SPECS = {"azure": AZURE_INPUT_SPEC, "aws": AWS_SPEC}
MODES = ("1", "L", "LA", "La", "P", "PA", "I", "I;16", "F", "CMYK", "YCbCr", "RGB", "RGBA", "RGBa", "RGBX", "LAB", "HSV")
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP")
MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"BM", b"RIFF", b"II*\x00", b"MM\x00*", b"<htm", b"\x00\x00")


# -- what is recorded -------------------------------------------------------------------------------
@dataclass
class Figures:
    """What the fuzz runs saw."""

    tried: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    by_target: Counter[str] = field(default_factory=Counter)
    slowest: tuple[float, str] = (0.0, "")
    peak: tuple[int, str] = (0, "")
    escaped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "inputs_tried": self.tried,
            "outcomes": dict(self.outcomes),
            "by_target": dict(self.by_target),
            "outside_invalid_image_error": len(self.escaped),
            "slowest_seconds": round(self.slowest[0], 4),
            "slowest_input": self.slowest[1],
            "peak_traced_bytes": self.peak[0],
            "peak_input": self.peak[1],
        }


FIGURES = Figures()


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    yield
    if started:
        tracemalloc.stop()
    path = os.environ.get("FACEKIT_FUZZ_REPORT")
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(FIGURES.as_dict(), handle, indent=2)


# -- inputs ---------------------------------------------------------------------------------------
@dataclass
class Case:
    """One fuzzed input: a label for the report and a factory (file objects are consumed)."""

    label: str
    make: Callable[[], Any]

    def __repr__(self) -> str:
        return self.label


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_declaring(width: int, height: int) -> bytes:
    """A valid-CRC PNG whose header declares ``width x height`` RGB, with a few bytes of pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + _chunk(b"IEND", b"")


def _gif_declaring(width: int, height: int) -> bytes:
    screen = struct.pack("<HH", width, height) + b"\x00\x00\x00"
    frame = b"\x2c" + struct.pack("<HHHH", 0, 0, width, height) + b"\x00\x02\x02\x44\x01\x00"
    return b"GIF89a" + screen + frame + b"\x3b"


def _seed_image(mode: str, size: tuple[int, int], seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    rgb = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    if mode == "La":
        return Image.new("La", size)
    return rgb.convert(mode) if mode != "RGB" else rgb


def _encoded(image: Image.Image, fmt: str, exif: bytes | None = None) -> bytes | None:
    buffer = io.BytesIO()
    try:
        if exif is not None:
            image.save(buffer, format=fmt, exif=exif)
        else:
            image.save(buffer, format=fmt)
    except Exception:  # Pillow cannot write this mode or this EXIF block in this format: no such file exists
        return None
    return buffer.getvalue()


def _exif(orientation: int | None, malformed: bytes | None) -> bytes:
    if malformed is not None:
        return b"Exif\x00\x00" + malformed
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    return exif.tobytes()


@st.composite
def encoded_cases(draw: st.DrawFn) -> Case:
    mode = draw(st.sampled_from(MODES))
    fmt = draw(st.sampled_from(FORMATS))
    size = (draw(st.integers(1, 48)), draw(st.integers(1, 48)))
    exif = None
    if fmt in ("JPEG", "PNG", "WEBP", "TIFF") and draw(st.booleans()):
        bad_ifd = draw(st.one_of(st.none(), st.binary(min_size=0, max_size=40)))
        exif = _exif(draw(st.sampled_from([None, 0, 1, 3, 6, 8, 9, 255, 65535])), bad_ifd)
    data = _encoded(_seed_image(mode, size, draw(st.integers(0, 3))), fmt, exif)
    if data is None:
        data = _encoded(_seed_image("RGB", size, 0), fmt) or b""
    mutation = draw(st.sampled_from(["none", "truncate", "flip", "magic", "flip+truncate"]))
    buf = bytearray(data)
    if "flip" in mutation and buf:
        for _ in range(draw(st.integers(1, 8))):
            position = draw(st.integers(0, len(buf) - 1))
            buf[position] ^= 1 << draw(st.integers(0, 7))
    if "truncate" in mutation:
        buf = buf[: draw(st.integers(0, max(0, len(buf) - 1)))]
    if mutation == "magic":
        magic = draw(st.sampled_from(MAGIC))
        buf[: len(magic)] = magic
    payload = bytes(buf)
    how = draw(st.sampled_from(["bytes", "file", "bytearray", "memoryview"]))
    label = f"{fmt}/{mode}/{size[0]}x{size[1]}/{mutation}/exif={exif is not None}/{how}/{len(payload)}B"
    if how == "file":
        return Case(label, lambda: io.BytesIO(payload))
    if how == "bytearray":
        return Case(label, lambda: bytearray(payload))
    if how == "memoryview":
        return Case(label, lambda: memoryview(payload))
    return Case(label, lambda: payload)


@st.composite
def bomb_cases(draw: st.DrawFn) -> Case:
    width = draw(st.sampled_from([1, 3, 2_001, 65_535, 100_000, 2**31 - 1]))
    height = draw(st.sampled_from([1, 5, 2_001, 65_535, 100_000, 2**31 - 1]))
    if draw(st.booleans()):
        data = _gif_declaring(min(width, 65_535), min(height, 65_535))
        return Case(f"GIF declaring {min(width, 65_535)}x{min(height, 65_535)}", lambda: data)
    data = _png_declaring(width, height)
    return Case(f"PNG declaring {width}x{height}", lambda: data)


@st.composite
def pil_cases(draw: st.DrawFn) -> Case:
    mode = draw(st.sampled_from(MODES))
    width = draw(st.sampled_from([0, 1, 2, 3, 17, 64, 79, 81]))
    height = draw(st.sampled_from([0, 1, 2, 3, 17, 64, 79, 81]))
    state = draw(st.sampled_from(["fresh", "closed", "lazy", "lazy-truncated"]))
    label = f"PIL {mode} {width}x{height} {state}" if not state.startswith("lazy") else f"PIL PNG 64x48 {state}"

    def make() -> Image.Image:
        if state.startswith("lazy"):  # Image.open reads the header only; a noisy 64 x 48 keeps it whole when cut
            data = _encoded(_seed_image("RGB", (64, 48), 1), "PNG") or b""
            return Image.open(io.BytesIO(data[: len(data) // 2] if state == "lazy-truncated" else data))
        image = Image.new(mode, (width, height))
        if state == "closed":
            image.close()
        return image

    return Case(label, make)


@st.composite
def array_cases(draw: st.DrawFn) -> Case:
    dtype = draw(st.sampled_from(["uint8", "uint8", "float64", "float32", "int16", "bool", "uint16", "object"]))
    shape = draw(
        st.sampled_from(
            [(0,), (7,), (0, 0), (0, 0, 3), (5, 0, 3), (1, 1), (9, 7), (9, 7, 1), (9, 7, 2), (9, 7, 3), (9, 7, 4),
             (9, 7, 5), (2, 9, 7, 3), (1, 1, 3), (40, 1, 3)]
        )
    )
    layout = draw(st.sampled_from(["c", "fortran", "strided", "reversed", "broadcast-huge"]))
    nan = dtype.startswith("float") and draw(st.booleans())
    label = f"array {dtype} {shape} {layout} nan={nan}"

    def make() -> Any:
        if layout == "broadcast-huge":  # a view that declares 3,000 x 3,000 x 3 without the memory
            return np.broadcast_to(np.zeros((1, 1, 3), np.uint8), (3_000, 3_000, 3))
        arr = np.random.default_rng(2).integers(0, 256, shape).astype(dtype)
        if nan:
            arr.flat[:: 3] = np.nan
        if layout == "fortran":
            arr = np.asfortranarray(arr)
        elif layout == "strided" and arr.ndim >= 2:
            arr = np.repeat(np.repeat(arr, 2, axis=0), 2, axis=1)[::2, ::2]
        elif layout == "reversed" and arr.ndim >= 1:
            arr = arr[::-1]
        return arr

    return Case(label, make)


class _Misbehaving:
    def __init__(self, how: str, data: bytes) -> None:
        self.how, self.data = how, data

    def read(self, *args: Any) -> Any:
        if self.how == "none":
            return None
        if self.how == "text":
            return "not bytes"
        if self.how == "int":
            return 7
        if self.how == "raises":
            raise OSError(5, "Input/output error")
        if self.how == "needs-size" and not args:
            raise TypeError("read() missing 1 required positional argument: 'size'")
        if self.how == "short":
            return self.data[: len(self.data) // 3]
        return self.data


@st.composite
def file_cases(draw: st.DrawFn) -> Case:
    how = draw(st.sampled_from(["none", "text", "int", "raises", "needs-size", "short", "closed", "list"]))
    data = _encoded(_seed_image("RGB", (32, 24), 3), "JPEG") or b""

    def make() -> Any:
        if how == "closed":
            handle = io.BytesIO(data)
            handle.close()
            return handle
        if how == "list":
            return [data]
        return _Misbehaving(how, data)

    return Case(f"file object: {how}", make)


ANY_CASE = st.one_of(encoded_cases(), bomb_cases(), pil_cases(), array_cases(), file_cases())


# -- targets --------------------------------------------------------------------------------------
def _check_payload(payload: Payload, spec: InputSpec) -> None:
    assert payload.kind == "bytes" and payload.data is not None
    assert payload.format in spec.formats
    assert spec.max_bytes is None or len(payload.data) <= spec.max_bytes
    assert spec.min_bytes is None or len(payload.data) >= spec.min_bytes
    assert payload.width is not None and payload.height is not None
    assert payload.width >= (spec.min_side or 1) and payload.height >= (spec.min_side or 1)
    assert payload.scale_x > 0 and payload.scale_y > 0
    if payload.reencoded:  # what facekit wrote must itself be a readable image of the stated size
        with Image.open(io.BytesIO(payload.data)) as written:
            written.load()
            assert written.size == (payload.width, payload.height)


def _check_result(result: DetectionResult) -> None:
    assert isinstance(result, DetectionResult)
    assert result.image.width is not None and result.image.width >= 1
    assert result.image.height is not None and result.image.height >= 1
    assert DetectionResult.model_validate_json(result.to_json()).image.width == result.image.width


FAKE_BYTES = FaceClient("fake", max_pixels=MAX_PIXELS)
FAKE_PIXELS = FaceClient(
    backend=FakeBackend(input_spec=InputSpec(kinds=frozenset({"pixels"}), max_side=640, exact_size=False)),
    max_pixels=MAX_PIXELS,
)


def _run_fake_bytes(value: Any) -> None:
    _check_result(FAKE_BYTES.detect(value))


def _run_fake_pixels(value: Any) -> None:
    _check_result(FAKE_PIXELS.detect(value))


def _run_spec(name: str) -> Callable[[Any], None]:
    def run(value: Any) -> None:
        spec = SPECS[name]
        _check_payload(prepare_payload(open_image(value, max_pixels=MAX_PIXELS), spec, backend=name), spec)

    return run


TARGETS: dict[str, Callable[[Any], None]] = {
    "fake-bytes": _run_fake_bytes,
    "fake-pixels": _run_fake_pixels,
    "azure-spec": _run_spec("azure"),
    "aws-spec": _run_spec("aws"),
}


def _exercise(target: str, run: Callable[[Any], None], case: Case) -> None:
    """Run one input; only InvalidImageError or a valid answer; record time and traced memory."""
    value = case.make()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    start = time.perf_counter()
    try:
        run(value)
        outcome = "valid"
    except InvalidImageError:
        outcome = "InvalidImageError"
    except Exception as exc:
        outcome = type(exc).__name__
        FIGURES.escaped.append(f"{target}: {case.label}: {outcome}: {exc}")
        raise
    finally:
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] - base
        FIGURES.tried += 1
        FIGURES.by_target[target] += 1
        if seconds > FIGURES.slowest[0]:
            FIGURES.slowest = (seconds, f"{target}: {case.label}")
        if peak > FIGURES.peak[0]:
            FIGURES.peak = (peak, f"{target}: {case.label}")
    FIGURES.outcomes[outcome] += 1
    assert seconds < SECONDS_PER_INPUT, f"{case.label} took {seconds:.2f} s on {target}"
    assert peak < TRACED_PEAK_LIMIT, f"{case.label} traced {peak:,} bytes on {target}"


def _all_targets(case: Case) -> None:
    for name, run in TARGETS.items():
        _exercise(name, run, case)


COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large], "database": None}


@settings(max_examples=int(os.environ.get("FACEKIT_FUZZ_EXAMPLES", "100")), derandomize=True, **COMMON)
@given(ANY_CASE)
def test_fuzzed_inputs_are_invalid_image_errors_or_valid_answers(case: Case) -> None:
    _all_targets(case)


@pytest.mark.slow
@settings(max_examples=3_000, **COMMON)
@given(ANY_CASE)
def test_fuzzed_inputs_many_more_examples(case: Case) -> None:
    _all_targets(case)


def test_a_declared_bomb_is_refused_under_the_default_guard() -> None:
    """Under the default max_pixels (100 M) too, a header that declares 2^31-1 x 2^31-1 is refused before decoding."""
    case = Case("PNG declaring 2147483647x2147483647 (default guard)", lambda: _png_declaring(2**31 - 1, 2**31 - 1))
    _exercise("fake-default-guard", lambda value: FaceClient("fake").detect(value), case)
    assert FIGURES.outcomes["InvalidImageError"] >= 1


# -- the real local engine, on a subset ---------------------------------------------------------------
@pytest.fixture(scope="module")
def local_client() -> FaceClient:
    pytest.importorskip("onnxruntime")
    from facekit.local.store import ModelStore

    if any(not ok for _, _, ok in ModelStore(allow_fetch=False).verify()):
        if os.environ.get("FACEKIT_REQUIRE_MODELS"):
            pytest.fail("local weights missing (run `facekit models fetch`)")
        pytest.skip("local weights not fetched (run `facekit models fetch`)")
    return FaceClient("local", allow_fetch=False, max_pixels=MAX_PIXELS)


LOCAL_CASES = st.one_of(encoded_cases(), pil_cases(), array_cases())


@settings(max_examples=int(os.environ.get("FACEKIT_FUZZ_LOCAL_EXAMPLES", "20")), derandomize=True, **COMMON)
@given(case=LOCAL_CASES)
def test_fuzzed_inputs_through_the_real_local_engine(local_client: FaceClient, case: Case) -> None:
    _exercise("local", lambda value: _check_result(local_client.detect(value)), case)


@pytest.mark.slow
@settings(max_examples=400, **COMMON)
@given(case=LOCAL_CASES)
def test_fuzzed_inputs_through_the_real_local_engine_many_more(local_client: FaceClient, case: Case) -> None:
    _exercise("local", lambda value: _check_result(local_client.detect(value)), case)
