"""Static INT8 quantisation of the prepared CenterFace graph, calibrated on real photos.

Usage:
    python benchmarks/local/quantize_centerface.py [--eval-dir EVAL] [--out /tmp/centerface.int8.onnx]
        [--max-side 640]
    python benchmarks/peers/bench_peers.py detect --model /tmp/centerface.int8.onnx

Calibration images: the unannotated smoke photos of EVAL and the project's test photos, never
the annotated photos that AP is measured on. ``onnxruntime.quantization.quantize_static``, QDQ
format, per-channel weights, MinMax calibration, only Conv / ConvTranspose quantised (the
prepended resize and pad stay float). Prints AP@0.5 before and after on the annotated photos
(EVAL/score.py, threshold 0.3) and the median detection time of each graph, interleaved.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from facekit.local.centerface import CenterFace, prepared_centerface
from facekit.local.store import ModelStore

ROOT = Path(__file__).resolve().parents[2]


def calibration_images(eval_dir: Path) -> list[np.ndarray]:
    paths = [*sorted((eval_dir / "smoke").glob("*.*")), ROOT / "tests/data/grace_hopper.jpg"]
    paths += sorted((ROOT / "tests/local/data").glob("*.jpg"))
    out = []
    for p in paths:
        try:
            out.append(np.asarray(ImageOps.exif_transpose(Image.open(p)).convert("RGB")))
        except OSError:
            continue
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", default="/work/shared/eval")
    ap.add_argument("--out", default="/tmp/centerface.int8.onnx")
    ap.add_argument("--max-side", type=int, default=640)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    eval_dir = Path(args.eval_dir)
    src = prepared_centerface(ModelStore())
    assert not isinstance(src, bytes)
    helper = CenterFace(src, prepared=True, max_side=args.max_side)
    feeds = [helper.preprocess(img)[0] for img in calibration_images(eval_dir)]

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.it = iter(feeds)

        def get_next(self) -> dict[str, Any] | None:
            return next(self.it, None)

    quantize_static(
        str(src),
        args.out,
        Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        weight_type=QuantType.QInt8,
        activation_type=QuantType.QUInt8,
        op_types_to_quantize=["Conv", "ConvTranspose"],
    )
    print(f"calibrated on {len(feeds)} photos; wrote {args.out}")
    models = {"float32": CenterFace(src, prepared=True, max_side=args.max_side, score_threshold=0.3)}
    models["int8"] = CenterFace(Path(args.out), prepared=True, max_side=args.max_side, score_threshold=0.3)
    gt = [json.loads(line) for line in (eval_dir / "gt.jsonl").read_text().splitlines()]
    images = {
        g["image"]: np.asarray(ImageOps.exif_transpose(Image.open(eval_dir / g["image"])).convert("RGB")) for g in gt
    }
    for name, det in models.items():
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
            for key, img in images.items():
                d = det.detect(img)
                boxes = [
                    [float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1]), float(s)]
                    for b, s in zip(d.boxes, d.scores, strict=True)
                ]
                f.write(json.dumps({"image": key, "boxes": boxes}) + "\n")
        out = subprocess.run(
            [sys.executable, str(eval_dir / "score.py"), f.name, "--gt", str(eval_dir / "gt.jsonl"), "--json"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        print(f"{name}: AP@0.5 {json.loads(out.stdout)['results']['overall']['ap']:.3f}")
    multi = np.asarray(Image.open(eval_dir / "smoke/multiface.jpg").convert("RGB"))
    times: dict[str, list[float]] = {k: [] for k in models}
    for _ in range(5):
        for name, det in models.items():
            det.detect(multi)
            ts = []
            for _ in range(args.runs):
                t = time.perf_counter()
                det.detect(multi)
                ts.append((time.perf_counter() - t) * 1000)
            times[name].append(statistics.median(ts))
    ratios = [a / b for a, b in zip(times["int8"], times["float32"], strict=True)]
    for name, vals in times.items():
        print(f"{name}: multiface detection {statistics.median(vals):.1f} ms (rounds {min(vals):.1f}-{max(vals):.1f})")
    print(f"int8/float32 {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})")


if __name__ == "__main__":
    main()
