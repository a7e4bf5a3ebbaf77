"""``facekit._jpeg_header``: the segment-header reader answers only what Pillow would, or nothing.

Differential: every answer is compared with Pillow's (``Image.open`` + the EXIF orientation
facekit reads), on the repository's real photos, on JPEGs Pillow writes with every kind of
block the reader handles, and on thousands of damaged variants (cut, flipped, inserted
bytes). For a damaged file the reader may say None (Pillow then decides) but never answer
where Pillow refuses the file or answers differently.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from PIL import Image

from facekit._image import SourceImage, _orientation_of
from facekit._jpeg_header import jpeg_header

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = sorted({*ROOT.glob("tests/**/*.jpg"), *ROOT.glob("examples/images/*.jpg")})


def pillow_answer(data: bytes) -> tuple[int, int, int | None] | None:
    """What facekit's Pillow path finds: stored size and orientation; None when it cannot open."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.format != "JPEG":
                return None
            return opened.width, opened.height, _orientation_of(opened, data)
    except Exception:
        return None


def agrees(data: bytes) -> bool:
    quick = jpeg_header(data)
    if quick is None:
        return True
    width, height, orientation = quick
    return pillow_answer(data) == (width, height, orientation if orientation in range(1, 9) else None)


def _made(**save: object) -> bytes:
    image = Image.new("RGB", (64, 48), (200, 120, 40))
    mode = save.pop("mode", None)
    if isinstance(mode, str):
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", **save)
    return buffer.getvalue()


def _exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "facekit test camera"  # a value stored outside the entry
    return exif.tobytes()


def _big_endian_exif(orientation: int) -> bytes:
    entry = (0x0112).to_bytes(2, "big") + (3).to_bytes(2, "big") + (1).to_bytes(4, "big")
    entry += orientation.to_bytes(2, "big") + b"\x00\x00"
    return b"MM\x00*" + (8).to_bytes(4, "big") + (1).to_bytes(2, "big") + entry + b"\x00\x00\x00\x00"


def _with_app1(data: bytes, payload: bytes) -> bytes:
    segment = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    return data[:2] + segment + data[2:]


MADE = {
    "baseline": _made(),
    "progressive": _made(progressive=True),
    "grey": _made(mode="L"),
    "cmyk": _made(mode="CMYK"),
    "optimized": _made(optimize=True, quality=70),
    "restart-interval": _made(restart_marker_blocks=1),
    "comment": _made(comment=b"a comment"),
    "icc": _made(icc_profile=b"\x00" * 300),
    "big-endian-exif-6": _with_app1(_made(), b"Exif\x00\x00" + _big_endian_exif(6)),
    "xmp-and-exif": _with_app1(_made(exif=_exif(3)), b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>"),
    **{f"exif-{value}": _made(exif=_exif(value)) for value in range(1, 9)},
    "exif-out-of-range": _made(exif=_exif(9)),
}


@pytest.mark.parametrize("path", PHOTOS, ids=lambda path: path.name)
def test_real_photos_read_as_pillow_reads_them(path: Path) -> None:
    data = path.read_bytes()
    quick = jpeg_header(data)
    assert quick is not None, "a plain camera JPEG should not need Pillow"
    assert agrees(data)


@pytest.mark.parametrize("name", sorted(MADE))
def test_every_block_kind_is_read_as_pillow_reads_it(name: str) -> None:
    data = MADE[name]
    assert jpeg_header(data) is not None
    assert agrees(data)


def test_orientation_comes_from_exif_in_both_byte_orders() -> None:
    assert jpeg_header(MADE["exif-6"]) == (64, 48, 6)
    assert jpeg_header(MADE["big-endian-exif-6"]) == (64, 48, 6)
    assert SourceImage(source="bytes", data=MADE["exif-6"]).width == 48  # upright: sides swapped


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xd8",
        b"\xff\xd8\xff\xd9",  # no frame, no scan
        MADE["baseline"][:200],  # cut before the scan
        _with_app1(MADE["baseline"], b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>"),  # XMP only: Pillow's call
        _with_app1(_made(exif=_exif(3)), b"Exif\x00\x00" + _exif(6)[6:]),  # two EXIF blocks: Pillow joins them
        b"\x89PNG\r\n\x1a\n",
    ],
    ids=["empty", "soi-only", "no-frame", "cut", "xmp-only", "two-exif", "png"],
)
def test_files_it_does_not_vouch_for_go_to_pillow(data: bytes) -> None:
    assert jpeg_header(data) is None


def _damaged(base: bytes, rng: random.Random, count: int) -> list[bytes]:
    """Cut at every length through the headers, then random flips and inserts in them."""
    scan = base.find(b"\xff\xda")
    head = max(scan + 12, 64)
    variants = [base[:cut] for cut in range(0, min(len(base), head + 16))]
    for _ in range(count):
        data = bytearray(base)
        for _ in range(rng.randint(1, 3)):
            where = rng.randrange(2, head)
            choice = rng.random()
            if choice < 0.6:
                data[where] = rng.randrange(256)
            elif choice < 0.8:
                data[where:where] = bytes([rng.randrange(256)])
            else:
                del data[where]
        variants.append(bytes(data))
    return variants


@pytest.mark.parametrize("name", ["baseline", "exif-6", "big-endian-exif-6", "icc", "xmp-and-exif", "progressive"])
def test_damaged_files_are_never_answered_unlike_pillow(name: str) -> None:
    rng = random.Random(f"jpeg-header-{name}")
    variants = _damaged(MADE[name], rng, 700)
    answered = 0
    for data in variants:
        assert agrees(data), f"differs from Pillow on a damaged {name} file: {data[:80]!r}"
        answered += jpeg_header(data) is not None
    assert answered > 0  # the comparison was not vacuous


@pytest.mark.parametrize("path", PHOTOS, ids=lambda path: path.name)
def test_damaged_real_photos(path: Path) -> None:
    rng = random.Random(f"jpeg-header-{path.name}")
    for data in _damaged(path.read_bytes(), rng, 300):
        assert agrees(data), f"differs from Pillow on a damaged {path.name}"
