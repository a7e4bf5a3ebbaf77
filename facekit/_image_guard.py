"""The one seam where a failure on the caller's image becomes an :class:`InvalidImageError`.

Pillow reports a broken image with whatever its decoder, encoder or converter happens to raise
(``OSError`` for truncated data, ``ValueError`` for a closed image or an unconvertible mode,
``SyntaxError``, ``struct.error``, ``IndexError``... from malformed headers), and Python's own
file handling adds ``ValueError`` (a NUL byte in a path) and ``TypeError`` (a ``read()`` that
returns None). Every Pillow call facekit makes on the caller's pixels runs inside
:func:`image_errors`, and :func:`check_size` refuses sizes that no backend can use, so that
preparation raises only :class:`InvalidImageError`, with a message saying what to do.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from PIL import Image

from facekit._errors import InvalidImageError

__all__ = ["JPEG_MAX_SIDE", "check_size", "image_errors", "read_file_object", "read_path"]

#: Largest width or height a JPEG can hold, pixels (libjpeg's limit).
JPEG_MAX_SIDE = 65_500


def _explain(action: str, exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    lowered = text.lower()
    if isinstance(exc, MemoryError):
        return f"not enough memory to {action}; pass a smaller image, or crop or resize it first"
    if "closed" in lowered:
        return (
            f"cannot {action}: the image, or the file it was opened from, was closed before facekit read its "
            "pixels; pass it while it is open (or pass image.copy(), the bytes or the path)"
        )
    if "truncat" in lowered or "broken data stream" in lowered or isinstance(exc, EOFError):
        return f"cannot {action}: the image data is truncated or corrupt ({text}); pass the complete file"
    if "conversion from" in lowered or "mode" in lowered:
        return (
            f"cannot {action}: Pillow has no conversion for it ({text}); convert it yourself to an RGB, RGBA, "
            "L or LA image first"
        )
    return (
        f"cannot {action}: {type(exc).__name__}: {text}; the image is corrupt or in a form facekit cannot read: "
        "pass a JPEG, PNG or another image Pillow opens"
    )


@contextmanager
def image_errors(action: str, *, explain: Callable[[Exception], str] | None = None) -> Iterator[None]:
    """Run Pillow calls on the caller's image; any failure becomes :class:`InvalidImageError`.

    Only Pillow calls on the caller's data belong inside (decode, convert, resize, encode), so
    that a fault in facekit itself is never reported as a bad image. Pillow's decompression-bomb
    warning is silenced: facekit applies its own ``max_pixels`` guard before decoding.

    Args:
        action: What facekit was doing, completing "cannot ...", e.g. ``"decode the JPEG image"``.
        explain: Builds the message instead of the built-in wording (e.g. to spot base64 text).

    Raises:
        InvalidImageError: Chained ``from`` the original exception.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            yield
    except InvalidImageError:
        raise
    except Image.DecompressionBombError as exc:
        raise InvalidImageError(
            f"image declares more pixels than the decompression-bomb guard allows: {exc}; if the image is "
            "trusted, pass a larger max_pixels to FaceClient(...)"
        ) from exc
    except Exception as exc:
        raise InvalidImageError(explain(exc) if explain is not None else _explain(action, exc)) from exc


def check_size(width: int, height: int, max_pixels: int | None) -> None:
    """Refuse an image with no pixels, or (when ``max_pixels`` is given) more than ``max_pixels``.

    Raises:
        InvalidImageError: A side is 0 pixels, or ``width * height > max_pixels``.
    """
    if width < 1 or height < 1:
        raise InvalidImageError(
            f"the image has no pixels ({width}x{height}); pass an image at least 1 pixel wide and 1 pixel high"
        )
    if max_pixels is not None and width * height > max_pixels:
        raise InvalidImageError(
            f"image is {width}x{height} = {width * height:,} pixels, more than max_pixels="
            f"{max_pixels:,} (a decompression-bomb guard); if the image is trusted, pass a larger "
            "max_pixels to FaceClient(...) or detect(...)"
        )


def read_path(path: str | bytes) -> bytes:
    """Read an image file whole.

    Raises:
        InvalidImageError: Missing file, a directory, no permission, a name no file can have.
    """
    shown = path if isinstance(path, str) else path.decode(errors="replace")
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError as exc:
        raise InvalidImageError(f"no such image file: {shown!r}") from exc
    except IsADirectoryError as exc:
        raise InvalidImageError(f"{shown!r} is a directory, not an image file") from exc
    except OSError as exc:
        raise InvalidImageError(f"cannot read {shown!r}: {exc.strerror or exc}") from exc
    except ValueError as exc:  # a NUL byte, or characters the file system cannot encode
        if "\x00" in shown:
            raise InvalidImageError(
                f"the path {shown!r} contains a NUL byte, which no file name can hold; check how it was built"
            ) from exc
        raise InvalidImageError(f"{shown!r} cannot be a file name here: {exc}") from exc


def read_file_object(read: Callable[[], object]) -> bytes:
    """Read a binary file object whole through its ``read`` method.

    Raises:
        InvalidImageError: ``read()`` failed (closed file, I/O error), or returned text, None
            (a non-blocking stream with nothing ready) or anything else that is not bytes.
    """
    try:
        data = read()
    except (OSError, ValueError, TypeError) as exc:
        raise InvalidImageError(
            f"reading the file object failed ({type(exc).__name__}: {exc}); pass an open binary file "
            "(open(path, 'rb')), its bytes or the path"
        ) from exc
    if isinstance(data, str):
        raise InvalidImageError("the file object is open in text mode; open it with 'rb'")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        got = "None" if data is None else type(data).__name__
        raise InvalidImageError(
            f"the file object's read() returned {got}, not bytes; pass a binary file opened with 'rb', or read "
            "the data yourself first (a non-blocking stream returns None when nothing is ready)"
        )
    return bytes(data)
