"""Calibrate the int8 age network on real faces, check it against the float one, and time both.

Usage: python benchmarks/local/calibrate_age.py [/work/shared/eval] [--write]

1. Aligned 64-pixel age chips of every face the engine finds in the evaluation photos
   (``images/dlib``: 43 faces; ``smoke``: 21), exactly as the engine makes them.
2. MinMax ranges of every activation of the folded float model
   (:func:`facekit.local.age_int8.fold_affine_layers`) over the chips and their mirror images.
3. Agreement with the float model on faces the ranges never saw: calibrated on one set,
   evaluated on the other, both ways (mean and largest age difference, years).
   For scale: how far the float model's age moves when a face is mirrored.
4. ``session.run`` time for the six faces of ``smoke/multiface.jpg``, float and int8,
   interleaved (medians and ranges of 5 rounds).

``--write`` stores the ranges from all 64 faces in ``facekit/local/_age_int8_ranges.py``
(bump :data:`facekit.local.age_int8.PREPARED_TAG` when they change).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from _int8_calibration import minmax_ranges
from _int8_calibration import write_ranges as write_int8_ranges
from PIL import Image, ImageOps

import facekit.local.age_gender as age_gender
from facekit.local._ort import make_session
from facekit.local.age_gender import AGE_VALUES, prepare
from facekit.local.age_int8 import MODEL_FILE, build_int8_age, fold_affine_layers
from facekit.local.engine import LocalEngine
from facekit.local.store import ModelStore

RANGES_MODULE = Path(__file__).resolve().parents[2] / "facekit" / "local" / "_age_int8_ranges.py"


def collect_chips(root: Path) -> dict[str, np.ndarray]:
    """The age chips of every photo, by path relative to ``root``."""
    paths = sorted((root / "images").rglob("*.jpg")) + sorted(
        p for p in (root / "smoke").iterdir() if p.suffix in (".jpg", ".png")
    )
    seen: list[np.ndarray] = []
    original = age_gender.AgeGender._run

    def spy(self: Any, which: str, chips: np.ndarray) -> np.ndarray:
        if which == "age":
            seen.append(chips.copy())
        return original(self, which, chips)

    age_gender.AgeGender._run = spy  # type: ignore[method-assign]
    try:
        engine = LocalEngine()
        out: dict[str, np.ndarray] = {}
        for path in paths:
            rgb = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
            before = len(seen)
            engine.detect(rgb, attributes=frozenset({"age"}))
            if len(seen) > before and len(seen[-1]):
                out[str(path.relative_to(root))] = seen[-1]
    finally:
        age_gender.AgeGender._run = original  # type: ignore[method-assign]
    return out


def calibrate(folded: Path, chips: np.ndarray) -> dict[str, tuple[float, float]]:
    """MinMax range of every activation of the folded model over ``chips`` and their mirror images."""
    both = np.concatenate([chips, chips[:, :, ::-1]])
    return minmax_ranges(folded, ({"images": prepare(np.ascontiguousarray(both[i : i + 1]))} for i in range(len(both))))


def ages(model: str | bytes, chips: np.ndarray) -> np.ndarray:
    session = make_session(model)
    probs = session.run(None, {"images": prepare(chips)})[0]
    out: np.ndarray = (probs / probs.sum(axis=1, keepdims=True)) @ AGE_VALUES
    return out


def write_ranges(ranges: dict[str, tuple[float, float]], faces: int) -> None:
    docstring = [
        "Activation ranges of the int8 age network (written by benchmarks/local/calibrate_age.py).",
        "",
        f"MinMax over {faces} real faces of the evaluation photos and their mirror images, by tensor",
        "name of the folded float graph (:func:`facekit.local.age_int8.fold_affine_layers`).",
    ]
    write_int8_ranges(RANGES_MODULE, docstring, ranges)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default="/work/shared/eval", type=Path)
    parser.add_argument("--write", action="store_true", help="store the ranges from all faces in the package")
    args = parser.parse_args()
    groups = collect_chips(args.root)
    dlib = np.concatenate([v for k, v in groups.items() if "dlib" in k])
    smoke = np.concatenate([v for k, v in groups.items() if "dlib" not in k])
    source = ModelStore().path(MODEL_FILE)
    print(f"{len(dlib)} faces in images/dlib, {len(smoke)} in smoke/")
    with tempfile.TemporaryDirectory() as tmp:
        folded = Path(tmp) / "folded.onnx"
        onnx.save(fold_affine_layers(onnx.load(str(source))), str(folded))
        float_model = str(source)
        for name, train, test in (("images/dlib -> smoke", dlib, smoke), ("smoke -> images/dlib", smoke, dlib)):
            int8 = build_int8_age(source, calibrate(folded, train))
            diff = np.abs(ages(int8, test) - ages(float_model, test))
            print(f"calibrated on {name}: |int8 - float| mean {diff.mean():.2f} years, max {diff.max():.2f}")
        everything = np.concatenate([dlib, smoke])
        ranges = calibrate(folded, everything)
        int8 = build_int8_age(source, ranges)
        diff = np.abs(ages(int8, everything) - ages(float_model, everything))
        print(f"calibrated on all {len(everything)}: |int8 - float| mean {diff.mean():.2f} years, max {diff.max():.2f}")
        mirrored = np.ascontiguousarray(everything[:, :, ::-1])
        noise = np.abs(ages(float_model, mirrored) - ages(float_model, everything))
        print(f"for scale, the float model on each face and its mirror image: mean {noise.mean():.2f} years, max {noise.max():.2f}")
    x = {"images": prepare(groups["smoke/multiface.jpg"])}
    sessions = {"float32": make_session(float_model), "int8": make_session(int8)}
    rounds: dict[str, list[float]] = {k: [] for k in sessions}
    for _ in range(5):
        for key, session in sessions.items():
            for _ in range(3):
                session.run(None, x)
            times = []
            for _ in range(20):
                start = time.perf_counter()
                session.run(None, x)
                times.append(time.perf_counter() - start)
            rounds[key].append(statistics.median(times) * 1e3)
    for key, values in rounds.items():
        print(f"{key:8s} 6 faces of multiface: median {statistics.median(values):.2f} ms (rounds {min(values):.2f}-{max(values):.2f})")
    ratio = statistics.median(rounds["float32"]) / statistics.median(rounds["int8"])
    print(f"int8 is {ratio:.1f}x faster")
    if args.write:
        write_ranges(ranges, len(everything))
        print(f"wrote {RANGES_MODULE}")


if __name__ == "__main__":
    main()
