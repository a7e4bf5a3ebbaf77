"""JPEG straight to numpy (simplejpeg): Pillow's pixels, every EXIF orientation, Pillow for the rest."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from facekit import FaceClient, InvalidImageError
from facekit._image import open_image
from facekit._jpeg_decode import decode_jpeg_at_least, upright_array

ROOT = Path(__file__).resolve().parents[1]
#: Real photos (public domain: tests/data/identity/README.md, tests/local/data/README.md).
PHOTOS = [
    ROOT / "data" / "grace_hopper.jpg",
    ROOT / "local" / "data" / "astronaut.jpg",
    ROOT / "data" / "identity" / "obama_2.jpg",
    ROOT / "data" / "identity" / "biden_1.jpg",
]


def _pillow(data: bytes, width: int, height: int) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        if width < im.width or height < im.height:
            im.draft("RGB", (width, height))
        return np.asarray(im.convert("RGB"))


@pytest.mark.parametrize("path", PHOTOS, ids=lambda p: p.name)
@pytest.mark.parametrize("divisor", [1, 2, 4, 8])
def test_the_pixels_are_pillows_at_the_scales_both_have(path: Path, divisor: int) -> None:
    data = path.read_bytes()
    with Image.open(path) as im:
        width, height = im.width // divisor, im.height // divisor
    ours = decode_jpeg_at_least(data, (width, height), None)
    assert ours is not None and ours.dtype == np.uint8 and ours.flags.c_contiguous
    np.testing.assert_array_equal(ours, _pillow(data, width, height))


def test_any_eighth_is_used_not_only_halves() -> None:
    with Image.open(PHOTOS[0]) as im:  # 512x600
        data = im.resize((1024, 1200)).tobytes("jpeg", "RGB", 90)
    pixels = decode_jpeg_at_least(data, (640, 750), None)
    assert pixels is not None and pixels.shape == (750, 640, 3)  # 5/8, where Pillow decodes 1024x1200


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_applied_like_pillow(orientation: int) -> None:
    with Image.open(PHOTOS[0]) as im:
        stored = im.convert("RGB").crop((0, 0, 512, 384))  # not square: a wrong rotation shows
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", quality=95, exif=exif)
    data = buffer.getvalue()
    with Image.open(io.BytesIO(data)) as im:
        want = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    up_w, up_h = want.shape[1], want.shape[0]
    source = open_image(data)  # the target goes in the stored orientation, as facekit passes it
    ours = decode_jpeg_at_least(data, source.stored_size(up_w, up_h), orientation)
    assert ours is not None and ours.shape == want.shape
    np.testing.assert_array_equal(ours, want)
    half = decode_jpeg_at_least(data, source.stored_size(up_w // 2, up_h // 2), orientation)
    assert half is not None and half.shape == (up_h // 2, up_w // 2, 3)


def test_upright_array_leaves_orientation_1_alone() -> None:
    pixels = np.zeros((2, 3, 3), np.uint8)
    assert upright_array(pixels, 1) is pixels and upright_array(pixels, None) is pixels


def test_unusual_or_damaged_files_are_left_to_pillow() -> None:
    data = PHOTOS[0].read_bytes()
    with Image.open(PHOTOS[0]) as im:
        cmyk = io.BytesIO()
        im.convert("CMYK").save(cmyk, "JPEG")
    assert decode_jpeg_at_least(cmyk.getvalue(), (100, 100), None) is None
    assert decode_jpeg_at_least(data[: len(data) // 2], (100, 100), None) is None  # truncated
    assert decode_jpeg_at_least(b"\xff\xd8\xff not a jpeg", (100, 100), None) is None


def test_without_simplejpeg_pillow_decodes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "simplejpeg", None)
    assert decode_jpeg_at_least(PHOTOS[0].read_bytes(), (100, 100), None) is None


def test_detection_is_the_same_through_either_decoder(models: object, monkeypatch: pytest.MonkeyPatch) -> None:
    client = FaceClient("local", allow_fetch=False)
    fast = client.detect(PHOTOS[2], attributes=["age"])
    monkeypatch.setitem(sys.modules, "simplejpeg", None)
    slow = client.detect(PHOTOS[2], attributes=["age"])
    assert len(fast.faces) == len(slow.faces) == 1
    a, b = fast.faces[0].box, slow.faces[0].box
    assert abs(a.left - b.left) < 3 and abs(a.top - b.top) < 3 and abs(a.width - b.width) < 3
    assert fast.faces[0].attributes.age is not None and slow.faces[0].attributes.age is not None
    assert abs(fast.faces[0].attributes.age - slow.faces[0].attributes.age) < 3


def test_a_truncated_jpeg_is_still_refused(models: object, tmp_path: Path) -> None:
    data = PHOTOS[0].read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidImageError):
        FaceClient("local", allow_fetch=False).detect(path)
