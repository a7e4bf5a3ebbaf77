"""Write LocalEngine's detections for the evaluation photos, in score.py's format.

Usage:
    python benchmarks/local/eval_local.py [EVAL_DIR] [--out preds.jsonl] [--max-side 640]
        [--threshold 0.3]
    python EVAL_DIR/score.py preds.jsonl --gt EVAL_DIR/gt.jsonl

Boxes are written as [left, top, width, height, score] in pixels. The score threshold
defaults lower than the engine's (0.5) so that the AP curve sees the low-score tail.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from facekit.local.engine import LocalEngine


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("eval_dir", nargs="?", default="/work/shared/eval")
    ap.add_argument("--out", default="/tmp/facekit_local_preds.jsonl")
    ap.add_argument("--max-side", type=int, default=640)
    ap.add_argument("--threshold", type=float, default=0.3)
    args = ap.parse_args()
    root = Path(args.eval_dir)
    engine = LocalEngine(max_side=args.max_side or None, score_threshold=args.threshold)
    with open(root / "gt.jsonl") as f, open(args.out, "w") as out:
        for line in f:
            rec = json.loads(line)
            img = ImageOps.exif_transpose(Image.open(root / rec["image"])).convert("RGB")
            faces = engine.detect(np.asarray(img))
            boxes = [[fc.box[0], fc.box[1], fc.box[2] - fc.box[0], fc.box[3] - fc.box[1], fc.score] for fc in faces]
            out.write(json.dumps({"image": rec["image"], "boxes": boxes}) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
