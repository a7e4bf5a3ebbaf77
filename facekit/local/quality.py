"""Image quality of a face crop: blur, exposure and noise, pure numpy.

All three are measured on a 112 x 112 grey crop of the face (the square around the box;
see :func:`face_crops`), so they describe the face as the detector saw it, independent of
the photo's resolution beyond that.

Raw measures:

* blur: variance of the 4-neighbour Laplacian (grey levels squared); sharp faces are high;
* exposure: the median grey level of the face's central half, over 255, with the tails of
  the histogram (clipped highlights, crushed shadows) as overrides;
* noise: Immerkaer's (1996) estimate of the noise standard deviation, in grey levels.

Normalised values (0..1, Azure's convention: higher is more blurred / brighter / noisier)
and levels: see :data:`BLUR`, :data:`EXPOSURE`, :data:`NOISE`; the calibration is described
next to each constant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from facekit.local.align import square_box_matrices, warp_affine

__all__ = [
    "BLUR",
    "CROP_SIZE",
    "EXPOSURE",
    "NOISE",
    "Assessment",
    "Scale",
    "assess",
    "exposure_raw",
    "exposure_value",
    "face_crops",
    "laplacian_variance",
    "noise_sigma",
]

CROP_SIZE = 112
"""Side of the grey face crop the measures run on, pixels."""


@dataclass(frozen=True)
class Scale:
    """How a raw measure becomes a 0..1 value and a level.

    ``value = (log10(raw) - log10(zero)) / (log10(one) - log10(zero))``, clipped to 0..1
    (so ``raw <= zero`` gives 0 and ``raw >= one`` gives 1; ``zero > one`` inverts it);
    the value is then cut at ``cuts`` into ``levels`` (below, between inclusive, above).
    """

    zero: float
    one: float
    cuts: tuple[float, float]
    levels: tuple[str, str, str]

    def value(self, raw: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Map raw measures to 0..1."""
        lr = np.log10(np.maximum(raw, 1e-9))
        lz, lo = np.log10(self.zero), np.log10(self.one)
        return np.asarray(np.clip((lr - lz) / (lo - lz), 0.0, 1.0), dtype=np.float64)

    def level(self, value: float) -> str:
        """Level name for a 0..1 value."""
        if value < self.cuts[0]:
            return self.levels[0]
        return self.levels[1] if value <= self.cuts[1] else self.levels[2]


BLUR = Scale(zero=600.0, one=10.0, cuts=(0.25, 0.75), levels=("low", "medium", "high"))
"""Blur from the Laplacian variance (log scale, inverted: 600 -> 0, 10 -> 1).

Calibration (benchmarks/local/calibrate_quality.py, 34 faces of 40 px and up in 18 real
photos): the faces as photographed have a Laplacian variance of 41 / 89 / 322 / 537 / 1096
(5th / 25th / 50th / 75th / 95th percentiles); Gaussian blur on the crop brings the median
to 48 (sigma 1 px), 8 (sigma 2) and 4 (sigma 3). Levels: low above 215 (sharp; the median
real face), high below 28 (every sigma >= 2 blur; no real face above its 5th percentile),
medium between (sigma 1 blur; small faces enlarged to 112 px, which are soft). Noise raises
the Laplacian variance, so a noisy face can read as sharp; contrast scales it too (a face
at 30 % brightness has a median of 31)."""

EXPOSURE = Scale(zero=1.0, one=10.0, cuts=(0.25, 0.75), levels=("under", "good", "over"))
"""Levels for the exposure value (``zero``/``one`` unused: see :func:`exposure_value`)."""

NOISE = Scale(zero=1.0, one=24.0, cuts=(0.3, 0.7), levels=("low", "medium", "high"))
"""Noise from Immerkaer's sigma in grey levels (log scale: 1 -> 0, 24 -> 1).

Calibration: real faces measure 0.3 / 0.5 / 1.1 / 1.7 / 3.1 (percentiles as for blur);
adding Gaussian noise of sigma 3, 6 and 12 grey levels to the crop measures 3.3, 6.2, 12.0
(medians), so the estimate is faithful. Levels: low below sigma 2.6 (28 of the 34 real
faces), high above 9.2 (clearly visible grain: all sigma-12 faces), medium between (sigma 3
and 6 added noise, and the noisiest real JPEGs)."""


@dataclass(frozen=True)
class Assessment:
    """Quality of one face: each a (value 0..1, level) pair plus the raw measure."""

    blur: tuple[float, str]
    exposure: tuple[float, str]
    noise: tuple[float, str]
    raw: tuple[float, float, float]


def face_crops(image: npt.NDArray[np.uint8], boxes: npt.NDArray[np.floating]) -> npt.NDArray[np.uint8]:
    """(N, 112, 112) grey crops of an RGB or grey image, each box made square."""
    chips = warp_affine(image, square_box_matrices(boxes, CROP_SIZE), CROP_SIZE)
    if chips.ndim == 4:
        y = chips @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        grey: npt.NDArray[np.uint8] = np.clip(y + 0.5, 0, 255).astype(np.uint8)
        return grey
    return chips


def laplacian_variance(crops: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    """Variance of the 4-neighbour Laplacian of each (N, H, W) crop; returns (N,)."""
    x = crops.astype(np.float32)
    lap = x[:, :-2, 1:-1] + x[:, 2:, 1:-1] + x[:, 1:-1, :-2] + x[:, 1:-1, 2:] - 4 * x[:, 1:-1, 1:-1]
    out: npt.NDArray[np.float64] = lap.reshape(len(x), -1).var(axis=1).astype(np.float64)
    return out


def noise_sigma(crops: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    """Immerkaer's fast noise estimate (grey levels) of each (N, H, W) crop; returns (N,)."""
    x = crops.astype(np.float32)
    # Mask [[1,-2,1],[-2,4,-2],[1,-2,1]], the difference of two Laplacians.
    conv = (
        x[:, :-2, :-2] + x[:, :-2, 2:] + x[:, 2:, :-2] + x[:, 2:, 2:]
        - 2 * (x[:, :-2, 1:-1] + x[:, 2:, 1:-1] + x[:, 1:-1, :-2] + x[:, 1:-1, 2:])
        + 4 * x[:, 1:-1, 1:-1]
    )  # fmt: skip
    h, w = x.shape[1] - 2, x.shape[2] - 2
    total = np.abs(conv).reshape(len(x), -1).sum(axis=1, dtype=np.float64)
    sigma: npt.NDArray[np.float64] = total * np.sqrt(np.pi / 2) / (6.0 * w * h)
    return sigma


def exposure_raw(crops: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    """Exposure measures of (N, H, W) crops; returns (N, 3).

    Columns: the median grey level of the central half of the crop (the face's skin, not
    the background) over 255; the fraction of those pixels at 245 and above (clipped
    highlights); the fraction at 10 and below (crushed shadows).
    """
    n, h, w = crops.shape[:3]
    centre = crops[:, h // 4 : h - h // 4, w // 4 : w - w // 4].reshape(n, -1)
    med = np.median(centre, axis=1) / 255.0
    hi = (centre >= 245).mean(axis=1)
    lo = (centre <= 10).mean(axis=1)
    return np.stack([med, hi, lo], axis=1).astype(np.float64)


_EXPOSURE_KNOTS = ((0.0, 0.08, 0.28, 0.85, 1.0), (0.0, 0.0, 0.25, 0.75, 1.0))


def exposure_value(raw: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Map :func:`exposure_raw` rows to 0..1 (0.25..0.75 is good exposure).

    Piecewise linear in the central median: 0.08 -> 0, 0.28 -> 0.25, 0.85 -> 0.75,
    1.0 -> 1; then at least 0.8 when a quarter or more of the face is clipped white, and
    at most 0.2 when a quarter or more is crushed black.

    Calibration (benchmarks/local/calibrate_quality.py): real faces' central medians are
    0.33 / 0.40 / 0.60 / 0.74 / 0.81 (5th to 95th percentile), all "good". Scaling the
    intensities on the crop: x0.3 gives 0.10 to 0.24 (all "under"), x0.55 gives 0.18 to
    0.44 (half "under": a face at half its light is borderline), x1.6 gives 0.54 to 1.0
    (median 0.95, "over"), x2.5 gives 0.84 and up with 27 % or more clipped ("over").
    """
    v = np.interp(raw[:, 0], *_EXPOSURE_KNOTS)
    v = np.where(raw[:, 1] >= 0.25, np.maximum(v, 0.8), v)
    v = np.where(raw[:, 2] >= 0.25, np.minimum(v, 0.2), v)
    return np.asarray(v, dtype=np.float64)


def assess(crops: npt.NDArray[np.uint8]) -> list[Assessment]:
    """Blur, exposure and noise of (N, 112, 112) grey face crops."""
    blur_raw = laplacian_variance(crops)
    exp_raw = exposure_raw(crops)
    noise_raw = noise_sigma(crops)
    bv, nv = BLUR.value(blur_raw), NOISE.value(noise_raw)
    ev = exposure_value(exp_raw)
    return [
        Assessment(
            blur=(float(bv[i]), BLUR.level(float(bv[i]))),
            exposure=(float(ev[i]), EXPOSURE.level(float(ev[i]))),
            noise=(float(nv[i]), NOISE.level(float(nv[i]))),
            raw=(float(blur_raw[i]), float(exp_raw[i, 0]), float(noise_raw[i])),
        )
        for i in range(len(crops))
    ]
