"""Aligned face chips: each face warped by a 5-point similarity transform onto a template.

Like deepface's ``extract_faces(align=True)`` and insightface's ``norm_crop``: the five
canonical points (eye centres, nose tip, mouth corners; Azure's pupils stand in for its eye
centres) are mapped by a least-squares similarity transform (rotation, uniform scale,
translation) onto the template's positions, and the chip is sampled bilinearly with
anti-aliasing (:mod:`facekit.local.align`). Pixels outside the image are black.

Templates (x, y of the five points, viewer's left first):

* ``"arcface"``: the 112 x 112 ArcFace/insightface template, the input of most face-recognition
  networks; scaled by ``size / 112`` for other sizes.
* ``"dlib"``: dlib's 5-point chip (``get_face_chip_details`` with 0.2 padding), derived from
  dlib's 68-point mean face shape; scaled by ``size / 64``.
* any ``(5, 2)`` array: positions in pixels of a ``size`` x ``size`` chip.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from facekit._deps import require
from facekit._errors import InvalidRequestError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


#: The result whose faces this module reads; typed loosely because ``DetectionResult``'s own
#: methods call this module, which must not import it back (no import cycle, tests/test_import_graph.py).
DetectionResult = Any

__all__ = ["ARCFACE_112", "DLIB_64", "TEMPLATES", "aligned_faces", "template_points"]

#: ArcFace's 112 x 112 five-point template (insightface ``arcface_dst``), pixels.
ARCFACE_112: tuple[tuple[float, float], ...] = (
    (38.2946, 51.6963),
    (73.5318, 51.5014),
    (56.0252, 71.7366),
    (41.5493, 92.3655),
    (70.7299, 92.2041),
)

#: dlib-style 64 x 64 five-point chip from dlib's mean face shape (``facekit.local.align``), pixels.
DLIB_64: tuple[tuple[float, float], ...] = (
    (19.45, 19.02),
    (43.65, 19.02),
    (31.55, 32.71),
    (20.76, 44.81),
    (42.33, 44.81),
)

#: Named templates: name -> (points, the chip side they are given for).
TEMPLATES: dict[str, tuple[tuple[tuple[float, float], ...], int]] = {"arcface": (ARCFACE_112, 112), "dlib": (DLIB_64, 64)}


def template_points(template: str | Any, size: int) -> npt.NDArray[np.float64]:
    """The ``(5, 2)`` template positions in pixels of a ``size`` x ``size`` chip.

    Raises:
        InvalidRequestError: An unknown template name or an array that is not ``(5, 2)``.
    """
    np = require("numpy", extra="numpy", feature="aligned_faces()")
    if isinstance(template, str):
        if template not in TEMPLATES:
            raise InvalidRequestError(f"unknown template {template!r}; use one of {', '.join(TEMPLATES)} or a (5, 2) array")
        points, side = TEMPLATES[template]
        return np.array(points, dtype=np.float64) * (size / side)  # type: ignore[no-any-return]
    array = np.asarray(template, dtype=np.float64)
    if array.shape != (5, 2):
        raise InvalidRequestError(f"a template must be a (5, 2) array of x, y pixels, got shape {array.shape}")
    return array  # type: ignore[no-any-return]


def aligned_faces(
    result: DetectionResult, image: Any = None, *, size: int = 112, template: str | Any = "arcface"
) -> list[npt.NDArray[np.uint8]]:
    """One aligned ``(size, size, 3)`` uint8 RGB chip per face, in face order.

    Args:
        result: A result whose faces have the five canonical landmarks (``landmarks=True``).
        image: The detected image; None uses the image the client attached.
        size: Chip side, pixels.
        template: ``"arcface"``, ``"dlib"`` or a ``(5, 2)`` array of positions in the chip.

    Raises:
        InvalidRequestError: No landmarks, a face without the five points, a bad size or template.
    """
    np = require("numpy", extra="numpy", feature="aligned_faces()")
    from facekit._arrays import five_points
    from facekit.local.align import _invert, similarity_transform, warp_affine

    if size < 8:
        raise InvalidRequestError(f"size must be at least 8 pixels, got {size}")
    destination = template_points(template, size)
    points = five_points(result)
    found_points = [found for found in points if found is not None]
    missing = [index for index, found in enumerate(points) if found is None]
    if missing:
        raise InvalidRequestError(
            f"face(s) {missing} lack the five alignment landmarks (eyes, nose tip, mouth corners); "
            "detect with landmarks=True on a provider that returns them (local, aws, azure-rest, azure-sdk)"
        )
    if not points:
        return []
    rgb = np.asarray(result._picture(image), dtype=np.uint8)
    matrices = [_invert(similarity_transform(found, destination)) for found in found_points]
    chips = warp_affine(rgb, matrices, size)
    return list(chips)
