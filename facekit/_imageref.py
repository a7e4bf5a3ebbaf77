"""A light, re-openable reference to the image a result was computed from.

A :class:`~facekit.DetectionResult` holds no pixels. The pipeline attaches a private
:class:`ImageRef` to each result it returns (not serialised, not part of equality), so that
``result.draw()`` and Jupyter's rich display work without passing the image again. The
reference is light: a path input keeps only the path (re-read on demand), a URL or ``s3://``
input keeps only the address (fetched on demand, bounded), bytes keep the encoded bytes, PIL
and numpy inputs keep the upright image. A result loaded from JSON has no reference.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from facekit._errors import InvalidRequestError
from facekit._image import SourceImage, open_image

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["ImageRef"]


class ImageRef:
    """A light, re-openable reference to the image a result was computed from.

    Args:
        source: The opened input.
    """

    def __init__(self, source: SourceImage) -> None:
        self._path = source.name if source.source == "path" and source.name else None
        self._data = source.data if self._path is None else None
        self._url = source.url
        self._s3 = source.s3
        self._pixels = source if source.source in ("pil", "array") else None

    def __repr__(self) -> str:
        where = self._path or self._url or (self._s3.uri if self._s3 else None) or ("bytes" if self._data else "pixels")
        return f"ImageRef({where!r})"

    def open(self) -> Image.Image:
        """The upright RGB image (EXIF applied), read again from its origin when needed.

        Raises:
            InvalidImageError: The file is gone or unreadable.
            TransportError: A URL input could not be downloaded.
        """
        if self._path is not None:
            return open_image(self._path).rgb()
        if self._data is not None:
            return open_image(self._data).rgb()
        if self._pixels is not None:
            return self._pixels.rgb()
        if self._url is not None:
            from facekit._fetch import download_url

            return open_image(download_url(self._url)).rgb()
        if self._s3 is not None:
            from facekit._fetch import download_s3_object

            return open_image(download_s3_object(self._s3)).rgb()
        raise InvalidRequestError("the result has no image attached; pass image=...")
