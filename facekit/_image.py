"""Image preparation, done once before any backend runs.

:func:`open_image` accepts a path, bytes, a binary file object, an ``http(s)://`` URL, an
``s3://bucket/key[?versionId=...]`` URI, a PIL image or a numpy array (RGB unless told
``color_order="bgr"``). It sniffs the format from the content (never the file name), reads
the EXIF orientation so that every coordinate refers to the upright image, and refuses
decompression bombs (more than ``max_pixels`` pixels) before decoding.

:func:`prepare_payload` then turns the image into what a backend accepts (:class:`InputSpec`):
the original bytes when they already meet its limits, or a re-encoded and, if needed,
rescaled copy, recording the scale so that coordinates map back to the caller's image.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, Union
from urllib.parse import parse_qs, urlsplit

from PIL import Image, ImageFile, ImageOps

from facekit._errors import InvalidImageError, InvalidRequestError
from facekit._image_guard import JPEG_MAX_SIDE, check_size, image_errors, read_file_object, read_path
from facekit._jpeg_header import jpeg_header

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "ImageInput",
    "InputSpec",
    "Payload",
    "S3Location",
    "SourceImage",
    "open_image",
    "prepare_payload",
    "read_header",
    "sent_unchanged",
]

#: Largest image (width x height, pixels) facekit decodes unless told otherwise: a guard
#: against decompression bombs (a small file that decodes to gigabytes).
DEFAULT_MAX_PIXELS = 100_000_000
#: Largest download facekit makes for a URL input that a backend cannot take as a URL, bytes.
DEFAULT_MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024
#: Timeout for downloading a URL input (connect, read), seconds.
DEFAULT_DOWNLOAD_TIMEOUT = (5.0, 30.0)

ImageInput = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, BinaryIO, Image.Image, "npt.NDArray[Any]"]
ColorOrder = Literal["rgb", "bgr"]

_ORIENTATION_TAG = 0x0112
_SWAPPING_ORIENTATIONS = {5, 6, 7, 8}
_BASE64_RE = re.compile(rb"^[A-Za-z0-9+/=\s]+$")
_DATA_URI_RE = re.compile(rb"^data:image/[a-z0-9.+-]+;base64,", re.IGNORECASE)


@dataclass(frozen=True)
class S3Location:
    """An object in Amazon S3, from ``s3://bucket/key[?versionId=...]``."""

    bucket: str
    key: str
    version: str | None = None

    @classmethod
    def parse(cls, uri: str) -> S3Location:
        """Parse an ``s3://`` URI.

        Raises:
            InvalidRequestError: The URI has no bucket or no key.
        """
        parts = urlsplit(uri)
        key = parts.path.lstrip("/")
        if parts.scheme != "s3" or not parts.netloc or not key:
            raise InvalidRequestError(f"not an S3 URI: {uri!r}; expected s3://bucket/key[?versionId=...]")
        version = parse_qs(parts.query).get("versionId", [None])[0]
        return cls(bucket=parts.netloc, key=key, version=version)

    @property
    def uri(self) -> str:
        """The ``s3://`` URI."""
        suffix = f"?versionId={self.version}" if self.version else ""
        return f"s3://{self.bucket}/{self.key}{suffix}"


@dataclass(frozen=True)
class HeaderInfo:
    """What an image header tells: format, stored size, EXIF orientation, upright size (pixels)."""

    format: str
    stored_width: int
    stored_height: int
    orientation: int | None

    @property
    def width(self) -> int:
        """Width of the upright image, pixels."""
        return self.stored_height if self.orientation in _SWAPPING_ORIENTATIONS else self.stored_width

    @property
    def height(self) -> int:
        """Height of the upright image, pixels."""
        return self.stored_width if self.orientation in _SWAPPING_ORIENTATIONS else self.stored_height


def _png_exif_chunk(data: bytes) -> bytes | None:
    """The payload of a PNG's ``eXIf`` chunk, found by walking the chunk headers (no decoding);
    None when there is none before ``IEND`` or the bytes end first (a prefix)."""
    pos = 8
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        if kind == b"eXIf":
            payload = data[pos + 8 : pos + 8 + length]
            return payload if len(payload) == length else None
        if kind == b"IEND":
            return None
        pos += 12 + length
    return None


def _orientation_of(image: Image.Image, data: bytes | None = None) -> int | None:
    """EXIF orientation 1..8 of an opened image, or None.

    ``data`` (the file's bytes, or a prefix) lets a PNG be answered without decoding it:
    Pillow's ``PngImageFile.getexif`` decodes the whole image to reach an ``eXIf`` chunk that
    follows the pixel data, which doubled the cost of every PNG; here the chunk is found by
    walking the chunk headers instead.
    """
    try:
        if image.format == "PNG" and data is not None and "exif" not in image.info:
            chunk = _png_exif_chunk(data)
            if chunk is not None:
                image.info["exif"] = b"Exif\x00\x00" + chunk  # as Pillow's own eXIf reader stores it
            value = Image.Image.getexif(image).get(_ORIENTATION_TAG)  # the base method never decodes
        else:
            value = image.getexif().get(_ORIENTATION_TAG)
    except Exception:  # a broken EXIF block must not stop detection
        return None
    return _valid_orientation(value)


def _valid_orientation(value: object) -> int | None:
    """An EXIF orientation tag's value when it is one of 1..8, else None."""
    return int(value) if isinstance(value, int) and 1 <= value <= 8 else None


def read_header(data: bytes) -> HeaderInfo | None:
    """Read format, size and EXIF orientation from the first bytes of an image.

    Works on a prefix of the file (e.g. a ranged GET of 64 KiB); returns None when the prefix
    is too short or not an image.
    """
    parser = ImageFile.Parser()
    try:
        parser.feed(data)
    except Exception:
        return None
    image = parser.image
    if image is None or image.format is None:
        try:
            with Image.open(io.BytesIO(data)) as opened:
                return HeaderInfo(
                    opened.format or "UNKNOWN", opened.width, opened.height, _orientation_of(opened, data)
                )
        except Exception:
            return None
    return HeaderInfo(image.format, image.width, image.height, _orientation_of(image, data))


_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"BM", b"RIFF", b"II*\x00", b"MM\x00*")


def _looks_like_base64(data: bytes) -> bool:
    head = data[:256].strip()
    if _DATA_URI_RE.match(head):
        return True
    if not _BASE64_RE.match(head):
        return False
    chunk = re.sub(rb"\s", b"", head)
    try:
        decoded = base64.b64decode(chunk[: len(chunk) // 4 * 4])
    except (binascii.Error, ValueError):
        return False
    return decoded.startswith(_IMAGE_MAGIC)


class SourceImage:
    """The caller's image, opened once.

    For URL and S3 inputs nothing is downloaded here: ``data`` is None and the size is known
    only once probed. For everything else the header is read at once (format, size, EXIF)
    and pixels are decoded only when a backend needs them.

    Attributes:
        source: ``path``, ``bytes``, ``file``, ``url``, ``s3``, ``pil`` or ``array``.
        data: The encoded bytes as given (None for PIL/array inputs and un-fetched URLs/S3).
        url: The URL for URL inputs.
        s3: The location for ``s3://`` inputs.
        format: Detected format (``"JPEG"``, ``"PNG"``, ``"WEBP"``...), from the content.
        exif_orientation: EXIF Orientation tag (1-8), None when absent.
        width: Width of the upright image, pixels (None until known).
        height: Height of the upright image, pixels (None until known).
    """

    def __init__(
        self,
        *,
        source: str,
        data: bytes | None = None,
        image: Image.Image | None = None,
        url: str | None = None,
        s3: S3Location | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        name: str | None = None,
    ) -> None:
        self.source = source
        self.data = data
        self.url = url
        self.s3 = s3
        self.name = name
        self.max_pixels = max_pixels
        self.format: str | None = None
        self.exif_orientation: int | None = None
        self.width: int | None = None
        self.height: int | None = None
        self._upright: Image.Image | None = None
        if image is not None:
            self._set_from_pil(image)
        elif data is not None:
            self._read_data_header()

    def __repr__(self) -> str:
        where = self.url or (self.s3.uri if self.s3 else self.name) or self.source
        return f"SourceImage({where!r}, format={self.format}, size={self.width}x{self.height})"

    # -- construction helpers -------------------------------------------------
    def _set_from_pil(self, image: Image.Image) -> None:
        check_size(image.width, image.height, self.max_pixels)
        if getattr(image, "tile", None) and getattr(image, "fp", True) is None:
            raise InvalidImageError(
                "the PIL image's file was closed before its pixels were read (Image.open is lazy); call "
                "image.load() inside the `with Image.open(...)` block, or pass the path or the bytes"
            )
        with image_errors("read the pixels of the PIL image"):
            image.load()  # a lazily opened image: truncated data or a closed file shows here, not later
            self.format = image.format
            self.exif_orientation = _orientation_of(image) if image.format else None
            upright = ImageOps.exif_transpose(image) if self.exif_orientation not in (None, 1) else image
        self._upright = upright
        self.width, self.height = upright.size

    def _check_pixels(self, width: int, height: int) -> None:
        check_size(width, height, self.max_pixels)

    def apply_header(self, header: HeaderInfo) -> None:
        """Record what an image header told: format, EXIF orientation and upright size."""
        check_size(header.width, header.height, None)
        self.format, self.exif_orientation = header.format, header.orientation
        self.width, self.height = header.width, header.height

    def set_data(self, data: bytes) -> None:
        """Attach fetched bytes (a downloaded URL or S3 object) and read their header."""
        self.data = data
        self._read_data_header()

    def _read_data_header(self) -> None:
        assert self.data is not None
        if not self.data:
            raise InvalidImageError("the image is empty (0 bytes)")
        quick = jpeg_header(self.data)  # a plain JPEG's segment headers: no Pillow needed
        if quick is not None:
            width, height, orientation = quick
            self._check_pixels(width, height)
            self.apply_header(HeaderInfo("JPEG", width, height, _valid_orientation(orientation)))
            return
        with (
            image_errors("read the image header", explain=self._unreadable),
            Image.open(io.BytesIO(self.data)) as opened,
        ):
            self._check_pixels(opened.width, opened.height)
            header = HeaderInfo(
                opened.format or "UNKNOWN", opened.width, opened.height, _orientation_of(opened, self.data)
            )
        self.apply_header(header)

    def _unreadable(self, exc: Exception) -> str:
        assert self.data is not None
        if "truncat" in str(exc).lower():
            return f"cannot read the image: the data is truncated ({exc}); pass the complete file"
        if _looks_like_base64(self.data):
            return "the bytes look like base64 text, not an image; decode them first: client.detect(base64.b64decode(text))"
        return (
            f"cannot read the image: unknown or corrupt format (first bytes {self.data[:8]!r}); "
            "facekit reads JPEG, PNG, GIF, BMP, WEBP, TIFF and the other formats Pillow supports"
        )

    # -- pixels ---------------------------------------------------------------
    @property
    def needs_rotation(self) -> bool:
        """True when the stored pixels must be rotated or flipped per EXIF to be upright."""
        return self.exif_orientation not in (None, 1)

    def upright(self, *, max_side: int | None = None) -> Image.Image:
        """Decode the upright image (EXIF applied).

        Args:
            max_side: When given, JPEG decoding may use DCT scaling to return an image whose
                longer side is at least ``max_side`` (faster for huge photos). The caller
                must read the returned size.
        """
        if self._upright is not None:
            return self._upright
        if self.data is None:
            raise InvalidRequestError(f"{self!r} has no pixels yet (a URL or S3 input that was not fetched)")
        with image_errors(f"decode the {self.format} image"):
            opened = Image.open(io.BytesIO(self.data))
            if max_side is not None and opened.format == "JPEG":
                opened.draft("RGB", (max_side, max_side))
            opened.load()
            upright = ImageOps.exif_transpose(opened) if self.needs_rotation else opened
        if max_side is None:
            self._upright = upright
        return upright

    def upright_at_least(self, width: int, height: int) -> Image.Image:
        """Decode the upright image at the smallest scale that is at least ``width`` x ``height``.

        JPEG is decoded with DCT scaling (1/2, 1/4 or 1/8), the factor chosen from both sides
        of the target in the stored orientation, so a landscape photo is reduced as much as
        its shorter side allows; other formats are decoded whole. Nothing is cached.

        Args:
            width: Smallest width wanted, pixels of the upright image.
            height: Smallest height wanted, pixels of the upright image.

        Returns:
            The upright image (EXIF applied); callers read its size.
        """
        if self._upright is not None:
            return self._upright
        if self.data is None:
            raise InvalidRequestError(f"{self!r} has no pixels yet (a URL or S3 input that was not fetched)")
        stored = self.stored_size(width, height)
        with image_errors(f"decode the {self.format} image"):
            opened = Image.open(io.BytesIO(self.data))
            if opened.format == "JPEG" and (stored[0] < opened.width or stored[1] < opened.height):
                opened.draft("RGB", stored)
            opened.load()
            return ImageOps.exif_transpose(opened) if self.needs_rotation else opened

    def stored_size(self, width: int, height: int) -> tuple[int, int]:
        """An upright width and height in the file's stored orientation (swapped by a
        90-degree EXIF rotation), pixels."""
        return (height, width) if self.exif_orientation in _SWAPPING_ORIENTATIONS else (width, height)

    def rgb(self, *, max_side: int | None = None) -> Image.Image:
        """The upright image in RGB (grayscale expanded, alpha composited on white)."""
        return to_rgb(self.upright(max_side=max_side))

    def rgb_array(self) -> npt.NDArray[np.uint8]:
        """The upright image as an ``H x W x 3`` uint8 RGB numpy array (imports numpy)."""
        import numpy as np

        return np.asarray(self.rgb(), dtype=np.uint8)


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any PIL mode to RGB; transparent pixels become white.

    Raises:
        InvalidImageError: Pillow cannot convert the mode (e.g. premultiplied ``"La"``).
    """
    if image.mode == "RGB":
        return image
    with image_errors(f"convert the mode {image.mode!r} image to RGB"):
        if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
            rgba = image.convert("RGBA")
            background = Image.new("RGB", rgba.size, (255, 255, 255))
            background.paste(rgba, mask=rgba.getchannel("A"))
            return background
        return image.convert("RGB")


def _from_array(array: Any, color_order: ColorOrder, max_pixels: int | None = None) -> Image.Image:
    import numpy as np

    arr = np.asarray(array)
    if arr.dtype != np.uint8:
        raise InvalidImageError(
            f"numpy images must be uint8 (0-255), got {arr.dtype}; convert with (arr * 255).clip(0, 255).astype('uint8')"
        )
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise InvalidImageError(f"numpy images must be HxW, HxWx3 or HxWx4, got shape {arr.shape}")
    check_size(arr.shape[1], arr.shape[0], max_pixels)  # before any copy is made
    if arr.ndim == 2:
        return Image.fromarray(np.ascontiguousarray(arr), mode="L")
    if color_order == "bgr":
        arr = arr[:, :, [2, 1, 0] + ([3] if arr.shape[2] == 4 else [])]
    elif color_order != "rgb":
        raise InvalidRequestError(f"color_order must be 'rgb' or 'bgr', got {color_order!r}")
    mode = "RGB" if arr.shape[2] == 3 else "RGBA"
    return Image.fromarray(np.ascontiguousarray(arr), mode=mode)


def _is_numpy_array(value: object) -> bool:
    return type(value).__module__ == "numpy" and hasattr(value, "__array_interface__")


def open_image(
    image: ImageInput | SourceImage,
    *,
    color_order: ColorOrder = "rgb",
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> SourceImage:
    """Open any supported input as a :class:`SourceImage` (URL and S3 inputs are not fetched).

    Args:
        image: Path (str or PathLike), bytes, binary file object, ``http(s)://`` URL,
            ``s3://`` URI, PIL image, or numpy ``uint8`` array (HxW, HxWx3, HxWx4).
        color_order: Channel order of numpy arrays: ``"rgb"`` (default) or ``"bgr"`` (OpenCV).
        max_pixels: Decompression-bomb guard, pixels.

    Raises:
        InvalidImageError: Missing file, unreadable content, bomb, or bad array.
    """
    if isinstance(image, SourceImage):
        return image
    if isinstance(image, Image.Image):
        return SourceImage(source="pil", image=image, max_pixels=max_pixels)
    if _is_numpy_array(image):
        return SourceImage(source="array", image=_from_array(image, color_order, max_pixels), max_pixels=max_pixels)
    if isinstance(image, (bytes, bytearray, memoryview)):
        return SourceImage(source="bytes", data=bytes(image), max_pixels=max_pixels)
    if isinstance(image, str) and image.lower().startswith(("http://", "https://")):
        return SourceImage(source="url", url=image, max_pixels=max_pixels)
    if isinstance(image, str) and image.lower().startswith("s3://"):
        return SourceImage(source="s3", s3=S3Location.parse(image), max_pixels=max_pixels)
    if isinstance(image, (str, os.PathLike)):
        path = os.fspath(image)
        return SourceImage(source="path", data=read_path(path), max_pixels=max_pixels, name=path)
    read = getattr(image, "read", None)
    if callable(read):
        data = read_file_object(read)
        return SourceImage(source="file", data=data, max_pixels=max_pixels, name=getattr(image, "name", None))
    raise InvalidImageError(
        f"unsupported image input of type {type(image).__name__}; pass a path, bytes, a binary file, "
        "an http(s) URL, an s3:// URI, a PIL image or a numpy array"
    )


@dataclass(frozen=True)
class InputSpec:
    """What a backend accepts, declared by the backend and enforced by :func:`prepare_payload`.

    Attributes:
        kinds: Payload kinds accepted: ``bytes`` (encoded image), ``url``, ``s3``, ``pixels``
            (a decoded RGB PIL image).
        formats: Encoded formats accepted for ``bytes`` (Pillow names: ``JPEG``, ``PNG``...).
        min_bytes: Smallest encoded size, bytes.
        max_bytes: Largest encoded size, bytes.
        min_side: Smallest width and height, pixels.
        max_side: Largest width and height, pixels (for ``pixels``: facekit downsizes above it).
        exact_size: For ``pixels``: True (default) resizes the image to exactly fit
            ``max_side``; False hands over the decoded image as it comes out of a scaled
            decode (JPEG DCT scaling, then an integer box reduction): at least the fitted
            size and less than twice it, for a backend that resizes it once itself.
    """

    kinds: frozenset[str] = frozenset({"bytes"})
    formats: frozenset[str] = frozenset({"JPEG", "PNG"})
    min_bytes: int | None = None
    max_bytes: int | None = None
    min_side: int | None = None
    max_side: int | None = None
    exact_size: bool = True


@dataclass(frozen=True)
class Payload:
    """What is handed to a backend, and how its coordinates map back.

    Attributes:
        kind: ``bytes``, ``url``, ``s3`` or ``pixels``.
        data: Encoded image for ``bytes``.
        image: Decoded RGB image for ``pixels`` (None when ``pixels`` holds them).
        pixels: Decoded upright RGB pixels for ``pixels``, an (H, W, 3) uint8 numpy array,
            when the JPEG was decoded straight to numpy (:mod:`facekit._jpeg_decode`).
        url: For ``url``.
        s3: For ``s3``.
        format: Format of ``data`` (``JPEG``...), or the kind for url/s3.
        width: Width of what is sent, pixels (None when unknown).
        height: Height of what is sent, pixels (None when unknown).
        scale_x: Sent width / upright width (1.0 when not resized).
        scale_y: Sent height / upright height.
        reencoded: True when ``data`` is not the caller's original bytes.
    """

    kind: str
    data: bytes | None = None
    image: Image.Image | None = None
    pixels: Any = None
    url: str | None = None
    s3: S3Location | None = None
    format: str | None = None
    width: int | None = None
    height: int | None = None
    scale_x: float = 1.0
    scale_y: float = 1.0
    reencoded: bool = False
    notes: list[str] = field(default_factory=list)


def _encode(image: Image.Image, fmt: str, *, quality: int = 95, compress_level: int | None = None) -> bytes:
    """Encode the (upright, possibly resized) image as ``fmt``.

    Raises:
        InvalidImageError: The encoder cannot hold the image (JPEG: 65,500 pixels a side) or fails.
    """
    if fmt == "JPEG" and max(image.size) > JPEG_MAX_SIDE:
        raise InvalidImageError(
            f"the {image.width}x{image.height} image must be re-encoded as JPEG, which holds at most "
            f"{JPEG_MAX_SIDE:,} pixels a side; crop or resize it first"
        )
    buffer = io.BytesIO()
    with image_errors(f"re-encode the mode {image.mode!r} image as {fmt}"):
        if fmt == "JPEG":
            to_rgb(image).save(buffer, format="JPEG", quality=quality)
        elif fmt == "PNG":
            png = image if image.mode in ("RGB", "RGBA", "L", "LA") else image.convert("RGBA")
            png.save(buffer, format="PNG", compress_level=6 if compress_level is None else compress_level)
        elif fmt == "BMP":
            to_rgb(image).save(buffer, format="BMP")
        else:
            image.save(buffer, format=fmt)
    return buffer.getvalue()


def _resize(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    with image_errors(f"resize the mode {image.mode!r} image to {size[0]}x{size[1]}"):
        return image.resize(size, Image.Resampling.LANCZOS)


def _target_size(
    width: int, height: int, spec: InputSpec, backend: str, max_pixels: int | None = None
) -> tuple[int, int]:
    scale = 1.0
    if spec.max_side is not None and max(width, height) > spec.max_side:
        scale = spec.max_side / max(width, height)
    if spec.min_side is not None and min(width, height) * scale < spec.min_side:
        scale = spec.min_side / min(width, height)
        if spec.max_side is not None and max(width, height) * scale > spec.max_side:
            raise InvalidImageError(
                f"a {width}x{height} image cannot be scaled to fit {backend}'s limits "
                f"(each side {spec.min_side}..{spec.max_side} pixels); crop it first"
            )
    if scale == 1.0:
        return width, height
    target = max(1, round(width * scale)), max(1, round(height * scale))
    if scale > 1.0 and max_pixels is not None and target[0] * target[1] > max_pixels:
        raise InvalidImageError(
            f"a {width}x{height} image would have to grow to {target[0]}x{target[1]} = "
            f"{target[0] * target[1]:,} pixels to meet {backend}'s minimum of {spec.min_side} pixels a side, "
            f"more than max_pixels={max_pixels:,}; crop it to a less elongated shape first"
        )
    return target


def prepare_payload(source: SourceImage, spec: InputSpec, *, fit: bool = True, backend: str = "the backend") -> Payload:
    """Turn a :class:`SourceImage` into a :class:`Payload` the backend accepts.

    URL and S3 inputs pass through when the backend accepts them; otherwise they must have been
    fetched (``source.data`` set). Encoded bytes are sent unchanged when their format, byte size
    and sides meet ``spec`` and no EXIF rotation is pending; otherwise the upright image is
    re-encoded (JPEG, or PNG for images with transparency) and, if needed, rescaled.

    Args:
        source: The opened image.
        spec: The backend's :class:`InputSpec`.
        fit: When False, never re-encode or rescale: raise :class:`InvalidImageError` instead.
        backend: Backend name for messages.

    Raises:
        InvalidImageError: The image cannot meet the limits (or ``fit`` is False and it does not).
    """
    if source.source == "url" and source.data is None:
        if "url" in spec.kinds:
            return Payload(kind="url", url=source.url, format="url", width=source.width, height=source.height)
        raise InvalidRequestError(f"{backend} cannot take URLs; the image must be downloaded first")
    if source.source == "s3" and source.data is None:
        if "s3" in spec.kinds:
            return Payload(kind="s3", s3=source.s3, format="s3", width=source.width, height=source.height)
        raise InvalidRequestError(f"{backend} cannot take s3:// inputs; the object must be downloaded first")
    width, height = source.width, source.height
    if width is None or height is None:
        upright = source.upright()
        width, height = upright.size
    target_w, target_h = _target_size(width, height, spec, backend, source.max_pixels)
    resized = (target_w, target_h) != (width, height)
    if resized and not fit:
        raise InvalidImageError(
            f"the {width}x{height} image does not meet {backend}'s side limits "
            f"(min {spec.min_side}, max {spec.max_side} pixels); pass fit=True to let facekit rescale it"
        )
    scale_x, scale_y = target_w / width, target_h / height
    if "pixels" in spec.kinds and not spec.exact_size:
        return _pixels_at_least(source, (target_w, target_h), (width, height))
    if "pixels" in spec.kinds:
        image = source.rgb(max_side=max(target_w, target_h) if resized else None)
        if image.size != (target_w, target_h):
            image = image.resize((target_w, target_h), Image.Resampling.BILINEAR)
        return Payload(
            kind="pixels",
            image=image,
            format="RGB",
            width=target_w,
            height=target_h,
            scale_x=scale_x,
            scale_y=scale_y,
            reencoded=False,
        )
    return _fit_bytes(source, spec, fit=fit, backend=backend, size=(width, height), target=(target_w, target_h))


def _pixels_at_least(source: SourceImage, target: tuple[int, int], size: tuple[int, int]) -> Payload:
    """A ``pixels`` payload decoded at the smallest scale that is at least ``target``.

    One scaled decode (a plain JPEG straight to numpy at any M/8, :mod:`facekit._jpeg_decode`;
    otherwise :meth:`SourceImage.upright_at_least`), then, when that is still twice the target
    or more (formats without scaled decoding, or a huge JPEG), one integer box reduction; the
    exact resize is left to the backend. ``size`` is the upright image's size.
    """
    pixels = _jpeg_pixels_at_least(source, target)
    image = to_rgb(source.upright_at_least(*target)) if pixels is None else None
    width, height = image.size if image is not None else (pixels.shape[1], pixels.shape[0])
    k = min(width // max(1, target[0]), height // max(1, target[1]))
    if k >= 2 and image is not None:
        image = image.reduce(k)
        width, height = image.size
    elif k >= 2:  # a huge JPEG: even 1/8 is twice the target
        import numpy as np

        pixels = np.asarray(Image.fromarray(pixels).reduce(k))
        height, width = pixels.shape[:2]
    return Payload(
        kind="pixels",
        image=image,
        pixels=pixels,
        format="RGB",
        width=width,
        height=height,
        scale_x=width / size[0],
        scale_y=height / size[1],
        reencoded=False,
    )


def _jpeg_pixels_at_least(source: SourceImage, target: tuple[int, int]) -> Any:
    """A JPEG's upright pixels as a numpy array, decoded by :mod:`facekit._jpeg_decode` at the
    smallest M/8 scale that covers ``target``; None for anything Pillow decodes (other formats,
    inputs already decoded, unusual JPEGs)."""
    if source.format != "JPEG" or source.data is None or source._upright is not None:
        return None
    from facekit._jpeg_decode import decode_jpeg_at_least

    return decode_jpeg_at_least(source.data, source.stored_size(*target), source.exif_orientation)


def _bytes_in_limits(data: bytes | None, spec: InputSpec) -> bool:
    return (
        data is not None
        and (spec.max_bytes is None or len(data) <= spec.max_bytes)
        and (spec.min_bytes is None or len(data) >= spec.min_bytes)
    )


def _bytes_go_as_they_are(source: SourceImage, spec: InputSpec, size: tuple[int, int], target: tuple[int, int]) -> bool:
    """The one rule for sending the caller's bytes unchanged: right format, byte size within the
    limits, no EXIF rotation pending, no rescaling (``target == size``)."""
    return (
        _bytes_in_limits(source.data, spec)
        and source.format in spec.formats
        and not source.needs_rotation
        and target == size
    )


def sent_unchanged(source: SourceImage, spec: InputSpec) -> bool:
    """True when :func:`prepare_payload` hands ``source``'s bytes over as they are: nothing to
    decode, rotate, rescale or re-encode (so preparing costs no more than reading the header).

    False also when preparing would fail; :func:`prepare_payload` then raises the reason.
    """
    width, height = source.width, source.height
    if source.data is None or width is None or height is None or "pixels" in spec.kinds or "bytes" not in spec.kinds:
        return False
    try:
        target = _target_size(width, height, spec, "the backend", source.max_pixels)
    except InvalidImageError:
        return False
    return _bytes_go_as_they_are(source, spec, (width, height), target)


def _fit_bytes(
    source: SourceImage, spec: InputSpec, *, fit: bool, backend: str, size: tuple[int, int], target: tuple[int, int]
) -> Payload:
    width, height = size
    data = source.data
    byte_ok = _bytes_in_limits(data, spec)
    if data is not None and _bytes_go_as_they_are(source, spec, size, target):
        return Payload(kind="bytes", data=data, format=source.format, width=width, height=height)
    if not fit:
        reasons = []
        if source.format not in spec.formats:
            reasons.append(f"format {source.format} is not one of {sorted(spec.formats)}")
        if data is not None and not byte_ok:
            reasons.append(f"{len(data):,} bytes is outside {spec.min_bytes or 0:,}..{spec.max_bytes:,} bytes")
        if source.needs_rotation:
            reasons.append(f"EXIF orientation {source.exif_orientation} must be applied")
        if data is None:
            reasons.append("the image must be encoded")
        raise InvalidImageError(
            f"the image cannot be sent to {backend} as it is ({'; '.join(reasons)}); pass fit=True to let "
            "facekit re-encode it"
        )
    upright = source.upright()
    notes: list[str] = []
    has_alpha = upright.mode in ("RGBA", "LA") or (upright.mode == "P" and "transparency" in upright.info)
    fmt = "PNG" if (has_alpha or "JPEG" not in spec.formats) and "PNG" in spec.formats else "JPEG"
    if fmt not in spec.formats:
        fmt = sorted(spec.formats)[0]
    current = upright if target == size else _resize(upright, target)
    encoded = _encode(current, fmt)
    quality = 95
    while spec.max_bytes is not None and len(encoded) > spec.max_bytes:
        if fmt == "JPEG" and quality > 75:
            quality -= 10
        else:
            shrink = max(0.5, min(0.95, (spec.max_bytes / len(encoded)) ** 0.5 * 0.95))
            new_size = (max(1, int(current.width * shrink)), max(1, int(current.height * shrink)))
            if spec.min_side is not None and min(new_size) < spec.min_side:
                raise InvalidImageError(
                    f"cannot fit the image into {spec.max_bytes:,} bytes for {backend} without going under "
                    f"{spec.min_side} pixels a side"
                )
            current = _resize(upright, new_size)
        encoded = _encode(current, fmt, quality=quality)
    if spec.min_bytes is not None and len(encoded) < spec.min_bytes:
        fmt = "BMP" if "BMP" in spec.formats else "PNG"
        encoded = _encode(current, fmt, compress_level=0)
        if len(encoded) < spec.min_bytes:
            raise InvalidImageError(
                f"the image is too small for {backend} ({len(encoded)} bytes even uncompressed, minimum "
                f"{spec.min_bytes:,}); use a larger image"
            )
    if source.format is not None and source.format not in spec.formats:
        notes.append(f"re-encoded {source.format} as {fmt} for {backend}")
    if current.size != size:
        notes.append(f"resized {width}x{height} to {current.width}x{current.height} for {backend}")
    return Payload(
        kind="bytes",
        data=encoded,
        format=fmt,
        width=current.width,
        height=current.height,
        scale_x=current.width / width,
        scale_y=current.height / height,
        reencoded=True,
        notes=notes,
    )
