"""Image preparation: every input kind, content sniffing, EXIF, bombs, fitting to limits."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facekit import InputSpec, InvalidImageError, InvalidRequestError, S3Location, open_image
from facekit._image import prepare_payload, read_header
from tests.conftest import encode, exif_rotated_jpeg, marked_image
from tests.loopback import LoopbackServer

JPEG_PNG = InputSpec(kinds=frozenset({"bytes"}), formats=frozenset({"JPEG", "PNG"}))


def _red_corner(image: Image.Image) -> str:
    """Which corner of an RGB image holds the red marker."""
    w, h = image.size
    rgb = image.convert("RGB")
    corners = {"top-left": (2, 2), "top-right": (w - 3, 2), "bottom-left": (2, h - 3), "bottom-right": (w - 3, h - 3)}
    return next(name for name, xy in corners.items() if rgb.getpixel(xy)[0] > 200 and rgb.getpixel(xy)[1] < 80)


def test_path_str_pathlike_bytes_bytearray_file(tmp_path: Path) -> None:
    data = encode(marked_image(), "PNG")
    path = tmp_path / "x.png"
    path.write_bytes(data)
    for value, kind in (
        (str(path), "path"),
        (path, "path"),
        (data, "bytes"),
        (bytearray(data), "bytes"),
        (memoryview(data), "bytes"),
    ):
        source = open_image(value)  # type: ignore[arg-type]
        assert (source.source, source.format, source.width, source.height) == (kind, "PNG", 300, 200)
    with path.open("rb") as handle:
        source = open_image(handle)
    assert (source.source, source.width) == ("file", 300)


def test_pil_and_numpy_inputs_rgb_bgr_gray_rgba() -> None:
    image = marked_image()
    assert open_image(image).source == "pil"
    rgb = np.asarray(image)
    source = open_image(rgb)
    assert source.source == "array"
    assert source.rgb().getpixel((1, 1)) == (255, 0, 0)
    bgr = rgb[:, :, ::-1].copy()
    assert open_image(bgr, color_order="bgr").rgb().getpixel((1, 1)) == (255, 0, 0)
    # the same array read as RGB shows blue: the order is explicit, never guessed
    assert open_image(bgr).rgb().getpixel((1, 1)) == (0, 0, 255)
    gray = np.full((50, 60), 77, dtype=np.uint8)
    assert open_image(gray).rgb().getpixel((0, 0)) == (77, 77, 77)
    rgba = np.zeros((40, 40, 4), dtype=np.uint8)
    rgba[..., 0] = 255
    rgba[..., 3] = 0  # fully transparent -> white when flattened
    assert open_image(rgba).rgb().getpixel((0, 0)) == (255, 255, 255)


def test_bad_arrays_and_inputs_raise_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidImageError, match="uint8"):
        open_image(np.zeros((10, 10, 3), dtype=np.float32))
    with pytest.raises(InvalidImageError, match="shape"):
        open_image(np.zeros((10, 10, 5), dtype=np.uint8))
    with pytest.raises(InvalidImageError, match="no such image file"):
        open_image(tmp_path / "missing.jpg")
    with pytest.raises(InvalidImageError, match="directory"):
        open_image(tmp_path)
    with pytest.raises(InvalidImageError, match="unsupported image input"):
        open_image(12345)  # type: ignore[arg-type]
    with pytest.raises(InvalidImageError, match="empty"):
        open_image(b"")
    with pytest.raises(InvalidImageError, match="unknown or corrupt"):
        open_image(b"this is not an image at all" * 10)
    text = tmp_path / "t.jpg"
    text.write_bytes(encode(marked_image()))
    with text.open("r", encoding="latin-1") as handle, pytest.raises(InvalidImageError, match="text mode"):
        open_image(handle)  # type: ignore[arg-type]


def test_base64_text_is_recognised() -> None:
    data = base64.b64encode(encode(marked_image()))
    with pytest.raises(InvalidImageError, match="base64"):
        open_image(data)
    with pytest.raises(InvalidImageError, match="base64"):
        open_image(b"data:image/jpeg;base64," + data)


def test_format_is_sniffed_from_content_not_name(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(encode(marked_image(), "WEBP"))
    source = open_image(path)
    assert source.format == "WEBP"
    payload = prepare_payload(source, JPEG_PNG, backend="test")
    assert payload.format == "JPEG"
    assert payload.reencoded
    assert Image.open(io.BytesIO(payload.data or b"")).format == "JPEG"
    assert any("WEBP" in note for note in payload.notes)


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied_once(orientation: int) -> None:
    upright = marked_image((300, 200))
    data = exif_rotated_jpeg(upright, orientation)
    stored = Image.open(io.BytesIO(data))
    if orientation in (6, 8):
        assert stored.size == (200, 300)
    source = open_image(data)
    assert source.exif_orientation == orientation
    assert (source.width, source.height) == (300, 200)
    assert _red_corner(source.rgb()) == "top-left"
    payload = prepare_payload(source, JPEG_PNG, backend="test")
    assert payload.reencoded  # the upright pixels are sent, never the rotated ones
    sent = Image.open(io.BytesIO(payload.data or b""))
    assert sent.size == (300, 200)
    assert sent.getexif().get(0x0112) in (None, 1)
    assert _red_corner(sent) == "top-left"


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_refused_before_decoding() -> None:
    bomb = _png_header_only(50_000, 50_000)  # 2.5 gigapixels declared in a 100-byte file
    assert len(bomb) < 200
    with pytest.raises(InvalidImageError, match="decompression"):
        open_image(bomb)
    with pytest.raises(InvalidImageError, match="max_pixels"):
        open_image(_png_header_only(5000, 5000), max_pixels=1_000_000)
    # a large declared size within the guard opens (header only, nothing decoded)
    assert open_image(_png_header_only(5000, 5000)).width == 5000


def test_original_bytes_pass_through_when_they_fit() -> None:
    data = encode(marked_image(), "JPEG")
    payload = prepare_payload(open_image(data), JPEG_PNG, backend="test")
    assert payload.data is data
    assert not payload.reencoded
    assert (payload.scale_x, payload.scale_y) == (1.0, 1.0)


def test_downscale_to_max_bytes_records_scale() -> None:
    rng = np.random.default_rng(0)
    noise = Image.fromarray(rng.integers(0, 256, (900, 1200, 3), dtype=np.uint8))
    data = encode(noise, "PNG")
    spec = InputSpec(kinds=frozenset({"bytes"}), formats=frozenset({"JPEG", "PNG"}), max_bytes=200_000)
    payload = prepare_payload(open_image(data), spec, backend="test")
    assert payload.data is not None and len(payload.data) <= 200_000
    assert payload.width is not None and payload.width < 1200
    assert payload.scale_x == pytest.approx(payload.width / 1200)
    assert payload.scale_y == pytest.approx((payload.height or 0) / 900)
    with pytest.raises(InvalidImageError, match="fit=True"):
        prepare_payload(open_image(data), spec, fit=False, backend="test")


def test_max_side_and_min_side_rescale_both_ways() -> None:
    spec = InputSpec(kinds=frozenset({"bytes"}), formats=frozenset({"JPEG"}), max_side=100)
    payload = prepare_payload(open_image(encode(marked_image((400, 200)))), spec, backend="test")
    assert (payload.width, payload.height, payload.scale_x) == (100, 50, 0.25)
    spec = InputSpec(kinds=frozenset({"bytes"}), formats=frozenset({"JPEG"}), min_side=80)
    payload = prepare_payload(open_image(encode(marked_image((60, 40)))), spec, backend="test")
    assert (payload.width, payload.height) == (120, 80)
    assert payload.scale_x == 2.0
    impossible = InputSpec(kinds=frozenset({"bytes"}), formats=frozenset({"JPEG"}), min_side=80, max_side=100)
    with pytest.raises(InvalidImageError, match="crop"):
        prepare_payload(open_image(encode(marked_image((1000, 10)))), impossible, backend="test")


def test_too_few_bytes_are_padded_with_an_uncompressed_format() -> None:
    tiny = encode(Image.new("RGB", (40, 40), (10, 10, 10)), "PNG")
    assert len(tiny) < 1024
    spec = InputSpec(kinds=frozenset({"bytes"}), formats=frozenset({"JPEG", "PNG", "BMP"}), min_bytes=1024)
    payload = prepare_payload(open_image(tiny), spec, backend="test")
    assert payload.format == "BMP"
    assert payload.data is not None and len(payload.data) >= 1024
    assert (payload.scale_x, payload.width) == (1.0, 40)


def test_rgba_png_keeps_png_when_allowed() -> None:
    rgba = Image.new("RGBA", (100, 100), (255, 0, 0, 128))
    source = open_image(encode(rgba, "PNG"))
    spec = InputSpec(kinds=frozenset({"bytes"}), formats=frozenset({"JPEG", "PNG"}), max_side=50)
    payload = prepare_payload(source, spec, backend="test")
    assert payload.format == "PNG"


def test_pixels_payload_for_local_engines() -> None:
    spec = InputSpec(kinds=frozenset({"pixels"}), max_side=200)
    source = open_image(encode(marked_image((800, 400))))
    payload = prepare_payload(source, spec, backend="test")
    assert payload.kind == "pixels" and payload.image is not None
    assert payload.image.size == (200, 100)
    assert payload.image.mode == "RGB"
    assert payload.scale_x == 0.25


def test_url_and_s3_inputs_are_not_fetched_when_the_backend_takes_them() -> None:
    source = open_image("https://example.invalid/a.jpg")
    assert (source.source, source.width, source.data) == ("url", None, None)
    spec = InputSpec(kinds=frozenset({"bytes", "url"}))
    payload = prepare_payload(source, spec, backend="test")
    assert (payload.kind, payload.url, payload.width) == ("url", "https://example.invalid/a.jpg", None)
    with pytest.raises(InvalidRequestError):
        prepare_payload(source, JPEG_PNG, backend="test")
    s3 = open_image("s3://bucket/dir/key.jpg?versionId=v7")
    assert s3.s3 == S3Location("bucket", "dir/key.jpg", "v7")
    assert s3.s3.uri == "s3://bucket/dir/key.jpg?versionId=v7"
    with pytest.raises(InvalidRequestError, match="S3 URI"):
        S3Location.parse("s3://bucket-only")


def test_read_header_on_a_prefix() -> None:
    data = exif_rotated_jpeg(marked_image((300, 200)), 6)
    header = read_header(data[:4096])
    assert header is not None
    assert (header.format, header.orientation, header.width, header.height) == ("JPEG", 6, 300, 200)
    assert read_header(b"garbage") is None


def test_url_probe_and_download_on_loopback(loopback: LoopbackServer) -> None:
    from facekit._fetch import download_url, probe_url
    from tests.loopback import serve_bytes

    data = exif_rotated_jpeg(marked_image((300, 200)), 6) + b"\x00" * 200_000
    loopback.route("GET", "/photo.jpg", serve_bytes(data))
    header = probe_url(loopback.url("/photo.jpg"))
    assert (header.width, header.height) == (300, 200)
    assert loopback.received[-1].headers["Range"] == "bytes=0-65535"
    assert download_url(loopback.url("/photo.jpg")) == data
    with pytest.raises(InvalidImageError, match="larger than"):
        download_url(loopback.url("/photo.jpg"), max_bytes=10_000)
    with pytest.raises(InvalidRequestError, match="404"):
        download_url(loopback.url("/missing.jpg"))


# -- PNG EXIF orientation, read without decoding the pixels ---------------------------------------


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunks.append((data[pos + 4 : pos + 8], data[pos : pos + 12 + length]))
        pos += 12 + length
    return chunks


def _rotated_png(*, exif_after_pixels: bool, break_pixels: bool = False) -> bytes:
    """A 60x40 PNG whose EXIF says orientation 6 (rotate 90 degrees clockwise to view).

    Pillow writes the ``eXIf`` chunk before the pixels; ``exif_after_pixels`` moves it behind
    the last ``IDAT`` (where the PNG spec also allows it); ``break_pixels`` spoils the
    compressed pixel data, so that any decode fails.
    """
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    marked_image().resize((60, 40)).save(buf, "PNG", exif=exif)
    chunks = _png_chunks(buf.getvalue())
    assert [kind for kind, _ in chunks].index(b"eXIf") < [kind for kind, _ in chunks].index(b"IDAT")
    if exif_after_pixels:
        exif_chunk = next(raw for kind, raw in chunks if kind == b"eXIf")
        chunks = [(k, r) for k, r in chunks if k != b"eXIf"]
        chunks.insert(len(chunks) - 1, (b"eXIf", exif_chunk))  # before IEND
    if break_pixels:
        chunks = [
            (k, r[:8] + b"\x00" * (len(r) - 12) + struct.pack(">I", zlib.crc32(b"IDAT" + b"\x00" * (len(r) - 12))))
            if k == b"IDAT"
            else (k, r)
            for k, r in chunks
        ]
    return b"\x89PNG\r\n\x1a\n" + b"".join(raw for _, raw in chunks)


@pytest.mark.parametrize("after", [False, True])
def test_png_exif_orientation_before_or_after_the_pixels(after: bool) -> None:
    data = _rotated_png(exif_after_pixels=after)
    source = open_image(data)
    assert (source.format, source.exif_orientation, source.width, source.height) == ("PNG", 6, 40, 60)
    header = read_header(data)
    assert header is not None and header.orientation == 6
    payload = prepare_payload(source, JPEG_PNG, backend="test")
    with Image.open(io.BytesIO(payload.data)) as sent:
        assert sent.size == (40, 60)  # rotated upright before sending


def test_png_header_is_read_without_decoding_the_pixels() -> None:
    # Pillow's own PngImageFile.getexif decodes the whole image to find an eXIf chunk after the
    # pixels; here the pixel data is spoilt, so a decode would fail and lose the orientation.
    data = _rotated_png(exif_after_pixels=True, break_pixels=True)
    with pytest.raises(OSError):  # the pixels really are undecodable
        Image.open(io.BytesIO(data)).load()
    header = read_header(data)
    assert header is not None and (header.format, header.orientation) == ("PNG", 6)
    assert open_image(data).exif_orientation == 6
    # a prefix that stops before the eXIf chunk: no orientation, no error
    cut = read_header(data[:100])
    assert cut is None or cut.orientation is None
    plain = encode(marked_image(), "PNG")
    assert open_image(plain).exif_orientation is None
