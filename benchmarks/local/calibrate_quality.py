"""Calibrate the quality scales on real faces and controlled degradations of them.

Usage: python benchmarks/local/calibrate_quality.py [/work/shared/eval]

Prints percentiles of the raw measures (Laplacian variance, exposure, Immerkaer sigma) for
the detected faces of the evaluation photos, as they are and degraded on the 112 px crop:
Gaussian blur (sigma 1, 2, 3 px), intensity gain (x0.3, x0.55, x1.6, x2.5, clipped) and
additive Gaussian noise (sigma 3, 6, 12 grey levels).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from facekit.local.centerface import CenterFace
from facekit.local.quality import (
    assess,
    exposure_raw,
    face_crops,
    laplacian_variance,
    noise_sigma,
)
from facekit.local.store import ModelStore


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/eval")
    paths = sorted((root / "images").rglob("*.jpg")) + sorted((root / "smoke").glob("*.jp*g"))
    det = CenterFace(ModelStore().path("centerface.onnx"))
    crops = []
    for p in paths:
        rgb = np.asarray(ImageOps.exif_transpose(Image.open(p)).convert("RGB"))
        d = det.detect(rgb)
        big = (d.boxes[:, 2] - d.boxes[:, 0]) >= 40
        if big.any():
            crops.append(face_crops(rgb, d.boxes[big]))
    base = np.concatenate(crops)
    rng = np.random.default_rng(0)
    print(f"{len(base)} faces from {len(paths)} photos")

    def blur(s: float) -> np.ndarray:
        out: np.ndarray = np.stack([np.asarray(Image.fromarray(c).filter(ImageFilter.GaussianBlur(s))) for c in base])
        return out

    def gain(g: float) -> np.ndarray:
        out: np.ndarray = np.clip(base.astype(np.float32) * g, 0, 255).astype(np.uint8)
        return out

    def noise(s: float) -> np.ndarray:
        out: np.ndarray = np.clip(base + rng.normal(0, s, base.shape), 0, 255).astype(np.uint8)
        return out

    variants = {"original": base}
    variants.update({f"blur s={s}": blur(s) for s in (1, 2, 3)})
    variants.update({f"gain x{g}": gain(g) for g in (0.3, 0.55, 1.6, 2.5)})
    variants.update({f"noise s={s}": noise(s) for s in (3, 6, 12)})
    q = [5, 25, 50, 75, 95]

    def f(a: np.ndarray, d: str) -> str:
        return " ".join(f"{x:{d}}" for x in np.percentile(a, q))

    print(f"{'variant':14s} {'laplacian var p5/25/50/75/95':38s} {'exposure':34s} {'noise sigma':30s}")
    for name, v in variants.items():
        lv, ex, ns = laplacian_variance(v), exposure_raw(v)[:, 0], noise_sigma(v)
        print(f"{name:14s} {f(lv, '7.0f'):38s} {f(ex, '6.2f'):34s} {f(ns, '5.1f')}")
    print("levels (blur / exposure / noise):")
    for name, v in variants.items():
        a = assess(v)
        counts = [Counter(getattr(x, k)[1] for x in a) for k in ("blur", "exposure", "noise")]
        print(f"  {name:14s} " + " | ".join(", ".join(f"{k} {n}" for k, n in sorted(c.items())) for c in counts))


if __name__ == "__main__":
    main()
