"""JPEG decoded straight into a numpy array, scaled while decoding (simplejpeg, pip extra ``local``).

Pillow scales a JPEG while decoding only by 1/2, 1/4 or 1/8, and hands the pixels to numpy
through a copy (``tobytes``). libjpeg-turbo scales by any M/8; simplejpeg exposes that and
writes the pixels into the array it returns. For the local engine that means, for example, a
1024-pixel photo decoded at 5/8 straight to the detector's 640 pixels instead of whole and
resized: 3.4 -> 2.3 ms for the decode and copy (``benchmarks/local/bench_call.py``).

Only plain files take this path: YCbCr or grayscale JPEGs that simplejpeg decodes without a
warning. Anything else (CMYK, a truncated or damaged file, simplejpeg not installed) returns
None and Pillow decodes the file as before, with its own errors. At the scales both decoders
offer the pixels are identical (both are libjpeg-turbo with the same settings; tested).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["decode_jpeg_at_least", "upright_array"]

#: Colour spaces decoded here (simplejpeg's names); CMYK and YCCK go to Pillow.
_PLAIN_COLOURSPACES = frozenset({"YCbCr", "Gray"})


def decode_jpeg_at_least(
    data: bytes, stored_target: tuple[int, int], orientation: int | None
) -> npt.NDArray[np.uint8] | None:
    """The upright RGB pixels at the smallest M/8 scale whose sides cover the target.

    Args:
        data: The JPEG file's bytes.
        stored_target: Smallest width and height wanted, pixels, in the file's stored
            orientation (:meth:`facekit._image.SourceImage.stored_size`).
        orientation: The file's EXIF orientation (1-8; None when absent), applied after decoding.

    Returns:
        An (H, W, 3) uint8 array, EXIF orientation applied; or None when this file is for
        Pillow (see the module docstring).
    """
    try:
        import simplejpeg
    except ImportError:
        return None
    try:
        stored_h, stored_w, colourspace, _ = simplejpeg.decode_jpeg_header(data)
    except ValueError:
        return None
    if colourspace not in _PLAIN_COLOURSPACES:
        return None
    want_w, want_h = stored_target
    scaled = want_w < stored_w or want_h < stored_h
    try:
        pixels = simplejpeg.decode_jpeg(
            data, colorspace="RGB", min_width=want_w if scaled else 0, min_height=want_h if scaled else 0, strict=True
        )
    except ValueError:  # a warning in strict mode (truncated, corrupt): Pillow's call
        return None
    return upright_array(pixels, orientation)


def upright_array(pixels: npt.NDArray[np.uint8], orientation: int | None) -> npt.NDArray[np.uint8]:
    """Apply an EXIF orientation to stored (H, W, C) pixels, as ``PIL.ImageOps.exif_transpose`` does.

    Returns:
        The upright pixels, C-contiguous (a copy when the orientation moves pixels).
    """
    import numpy as np

    if orientation in (None, 1):
        return pixels
    moves = {
        2: lambda a: a[:, ::-1],  # mirrored left-right
        3: lambda a: a[::-1, ::-1],  # rotated 180
        4: lambda a: a[::-1],  # mirrored top-bottom
        5: lambda a: a.transpose(1, 0, 2),  # mirrored along the main diagonal
        6: lambda a: np.rot90(a, -1),  # stored rotated 90 counter-clockwise: turn it clockwise
        7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),  # mirrored along the other diagonal
        8: lambda a: np.rot90(a, 1),  # stored rotated 90 clockwise
    }
    move = moves.get(orientation)
    if move is None:
        return pixels
    upright: npt.NDArray[np.uint8] = np.ascontiguousarray(move(pixels))
    return upright
