"""Finding 9 of the trust review: hostile or broken image inputs, reproduced on every backend.

Each input below escaped as a raw Python exception (``ZeroDivisionError``, ``OSError``,
``ValueError``, ``TypeError``) before its fix; each must be an :class:`InvalidImageError` that
says what to do, raised during preparation, before any request reaches a service. The cloud
backends talk to the loopback stand-in (``tests/trust/standin.py``), which records that nothing
was sent; the local backend runs the real engine when its weights are present.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from facekit import DetectionResult, FaceClient, InputSpec, InvalidImageError, RetryPolicy, open_image
from facekit._image import prepare_payload
from facekit.backends.aws import RekognitionBackend
from facekit.backends.azure_rest import AZURE_INPUT_SPEC
from facekit.backends.fake import FakeBackend
from tests.conftest import encode
from tests.loopback import serve_bytes
from tests.trust.standin import FaultPlan, FaultyService

CLOUD = ("azure-rest", "azure-sdk", "aws")
KEY = "image-trust-key-0123456789abcdef"


def _noise(size: tuple[int, int] = (200, 160)) -> Image.Image:
    return Image.fromarray(np.random.default_rng(9).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def _truncated_pil() -> Image.Image:
    data = encode(_noise(), "JPEG")
    return Image.open(io.BytesIO(data[: len(data) // 2]))  # lazy: the header reads, the pixels do not


def _closed_pil() -> Image.Image:
    image = Image.new("RGB", (64, 48), (10, 20, 30))
    image.close()
    return image


def _pil_whose_file_was_closed(tmp: Path) -> Image.Image:
    path = tmp / "closed.png"
    Image.new("RGB", (64, 48)).save(path)
    with Image.open(path) as image:
        pass
    return image


class _ReadReturnsNone:
    """A non-blocking stream with nothing ready: ``read()`` returns None."""

    def read(self, size: int = -1) -> None:
        return None


class _ReadReturnsText:
    def read(self, size: int = -1) -> int:
        return 42


class _ReadRaises:
    def read(self, size: int = -1) -> bytes:
        raise OSError(5, "Input/output error")


def _closed_file(tmp: Path) -> Any:
    path = tmp / "photo.jpg"
    path.write_bytes(encode(Image.new("RGB", (32, 32))))
    handle = path.open("rb")
    handle.close()
    return handle


#: name -> (make input from a temporary folder, words the message must contain)
BROKEN: dict[str, tuple[Callable[[Path], Any], str]] = {
    "array_0x0x3": (lambda tmp: np.zeros((0, 0, 3), np.uint8), "no pixels"),
    "array_5x0": (lambda tmp: np.zeros((5, 0), np.uint8), "no pixels"),
    "pil_0x50": (lambda tmp: Image.new("RGB", (0, 50)), "no pixels"),
    "pil_truncated": (lambda tmp: _truncated_pil(), "truncated"),
    "pil_closed": (lambda tmp: _closed_pil(), "closed"),
    "pil_file_closed": (_pil_whose_file_was_closed, "closed"),
    "pil_mode_La": (lambda tmp: Image.new("La", (40, 30)), "mode 'La'"),
    "path_with_nul": (lambda tmp: str(tmp / "a\x00b.jpg"), "NUL"),
    "file_read_none": (lambda tmp: _ReadReturnsNone(), "returned None"),
    "file_read_int": (lambda tmp: _ReadReturnsText(), "returned int"),
    "file_read_raises": (lambda tmp: _ReadRaises(), "Input/output error"),
    "file_closed": (_closed_file, "closed"),
}


def _cloud_client(backend: str, url: str) -> FaceClient:
    if backend == "aws":
        return FaceClient(
            "aws", endpoint_url=url, region="us-east-1", aws_access_key_id="AKIDIMAGES",
            aws_secret_access_key=KEY, max_attempts=1, deadline=5.0,
        )
    return FaceClient(backend, endpoint=url, key=KEY, retry=RetryPolicy(max_retries=0), deadline=5.0)


@pytest.fixture(scope="module")
def cloud() -> Iterator[dict[str, tuple[FaultyService, FaceClient]]]:
    """One healthy stand-in per cloud backend (it never injects a fault) and a client for it."""
    opened: dict[str, tuple[FaultyService, FaceClient]] = {}
    for backend in CLOUD:
        service = FaultyService("aws" if backend == "aws" else "azure", FaultPlan(rate=0.0), image_size=(64, 48))
        service.__enter__()
        opened[backend] = (service, _cloud_client(backend, service.url))
    yield opened
    for service, client in opened.values():
        client.close()
        service.__exit__(None, None, None)


def _local_client() -> FaceClient | None:
    try:
        from facekit.local.store import ModelStore

        store = ModelStore(allow_fetch=False)
        if any(not ok for _, _, ok in store.verify()):
            if os.environ.get("FACEKIT_REQUIRE_MODELS"):
                pytest.fail("local weights missing (run `facekit models fetch`)")
            return None
    except ImportError:
        return None
    return FaceClient("local", allow_fetch=False)


@pytest.fixture(scope="module")
def local() -> FaceClient | None:
    return _local_client()


BACKENDS = ("fake", *CLOUD, "local")


def _client_for(backend: str, cloud: dict[str, tuple[FaultyService, FaceClient]], local: FaceClient | None) -> Any:
    if backend == "fake":
        return FaceClient("fake")
    if backend == "local":
        if local is None:
            pytest.skip("local weights not fetched (run `facekit models fetch`)")
        return local
    return cloud[backend][1]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_inputs_are_invalid_image_errors_on_every_backend(
    case: str, backend: str, tmp_path: Path, cloud: Any, local: Any
) -> None:
    make, words = BROKEN[case]
    client = _client_for(backend, cloud, local)
    served_before = len(cloud[backend][0].served) if backend in CLOUD else 0
    with pytest.raises(InvalidImageError) as caught:
        client.detect(make(tmp_path))
    assert words in str(caught.value), str(caught.value)
    if backend in CLOUD:
        assert len(cloud[backend][0].served) == served_before, "a broken image reached the service"


#: The cloud backends' declared limits, and the fake backend's default (JPEG/PNG, any size).
SPECS = {
    "fake": InputSpec(),
    "azure": AZURE_INPUT_SPEC,
    "aws": RekognitionBackend.__dict__["input_spec"].fget(None),
}


@pytest.mark.parametrize("spec_name", sorted(SPECS))
def test_an_image_beyond_the_jpeg_encoders_limit_is_an_invalid_image_error(spec_name: str) -> None:
    """A 10 x 70,000 PIL image must be re-encoded, and JPEG holds at most 65,500 pixels a side."""
    source = open_image(Image.new("RGB", (10, 70_000), (128, 128, 128)))
    with pytest.raises(InvalidImageError) as caught:
        prepare_payload(source, SPECS[spec_name], backend=spec_name)
    assert "65,500" in str(caught.value)
    assert "resize" in str(caught.value) or "crop" in str(caught.value)


def test_upscaling_to_a_minimum_side_cannot_build_a_bomb() -> None:
    """aws needs 80 pixels a side: a 1 x 20,000 strip would become 80 x 1,600,000 (128 M pixels)."""
    source = open_image(Image.new("L", (1, 20_000), 100), max_pixels=1_000_000)
    with pytest.raises(InvalidImageError) as caught:
        prepare_payload(source, SPECS["aws"], backend="aws")
    assert "max_pixels" in str(caught.value) or "65,500" in str(caught.value)


def test_a_tall_strip_goes_to_the_local_engine_as_pixels(local: FaceClient | None) -> None:
    """No encoder is involved for the local engine: the same 10 x 70,000 strip is a valid answer."""
    if local is None:
        pytest.skip("local weights not fetched (run `facekit models fetch`)")
    result = local.detect(Image.new("RGB", (10, 70_000), (128, 128, 128)))
    assert isinstance(result, DetectionResult)
    assert (result.image.width, result.image.height) == (10, 70_000)


def test_a_truncated_download_is_an_invalid_image_error(loopback: Any) -> None:
    """Downloaded bytes (a URL sent to a backend that cannot take URLs) go through the same seam.

    (Bytes that a backend takes as they are, e.g. a JPEG that meets Azure's limits, are sent
    without being decoded; the service then answers with its own error.)
    """
    data = encode(_noise(), "JPEG")
    loopback.route("GET", "/cut.jpg", serve_bytes(data[: len(data) // 3]))
    decoding = FaceClient(backend=FakeBackend(input_spec=InputSpec(kinds=frozenset({"pixels"}))))
    with pytest.raises(InvalidImageError) as caught:
        decoding.detect(loopback.url("/cut.jpg"))
    assert "truncated" in str(caught.value)
