"""Shared fixtures: generated images (no file from ../shared is used by the tests)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.loopback import LoopbackServer

DATA = Path(__file__).parent / "data"


def encode(image: Image.Image, fmt: str = "JPEG", **kwargs: object) -> bytes:
    """Encode a PIL image to bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def marked_image(size: tuple[int, int] = (300, 200)) -> Image.Image:
    """A grey image with a red square in its top-left corner (to check orientation)."""
    image = Image.new("RGB", size, (128, 128, 128))
    image.paste((255, 0, 0), (0, 0, size[0] // 5, size[1] // 5))
    return image


def exif_rotated_jpeg(upright: Image.Image, orientation: int = 6) -> bytes:
    """A JPEG whose stored pixels are rotated, with the EXIF tag that makes ``upright`` again."""
    transposes = {
        6: Image.Transpose.ROTATE_90,  # stored = upright rotated 90 counter-clockwise
        8: Image.Transpose.ROTATE_270,
        3: Image.Transpose.ROTATE_180,
    }
    stored = upright.transpose(transposes[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(stored, "JPEG", quality=95, exif=exif.tobytes())


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        yield server


@pytest.fixture
def grace_hopper_bytes() -> bytes:
    return (DATA / "grace_hopper.jpg").read_bytes()
