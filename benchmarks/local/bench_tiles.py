"""Tiling mode against ``max_side`` alone: recall and time on crowd photos.

Usage:
    python benchmarks/local/bench_tiles.py [EVAL_DIR] [--rounds 3]

Photos: a 2560x1440 crowd of 16 px faces built from the public-domain Grace Hopper portrait
(the same construction as tests/local/test_speed_paths.py, which checks that tiling
adds no duplicates, so found/present is the recall), and
EVAL/smoke/very_large_4352x2903.jpg (no annotation: faces found only). Each configuration
runs ``FaceClient("local", max_side=...).detect(path, tile=...)`` from the file:

* max_side 640 (the default), max_side 2048, and max_side 640 with ``tile=True``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from facekit import FaceClient  # noqa: E402
from tests.local.test_speed_paths import crowd  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("eval_dir", nargs="?", default="/work/shared/eval")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    photo, n = crowd()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "crowd.jpg"
        photo.save(path, quality=92)
        photos = [
            ("crowd 2560x1440", str(path), n),
            ("4352x2903", str(Path(args.eval_dir) / "smoke/very_large_4352x2903.jpg"), None),
        ]
        configs = [("max_side 640", 640, False), ("max_side 2048", 2048, False), ("640 + tile", 640, True)]
        clients = {name: FaceClient("local", max_side=side) for name, side, _ in configs}
        for label, p, truth in photos:
            print(f"{label}" + (f" ({truth} faces)" if truth else ""))
            for name, _, tile in configs:
                client = clients[name]
                faces = len(client.detect(p, tile=tile).faces)
                ms = []
                for _ in range(args.rounds):
                    t = time.perf_counter()
                    client.detect(p, tile=tile)
                    ms.append((time.perf_counter() - t) * 1000)
                recall = f"found {faces}/{truth}" if truth else f"{faces} faces"
                print(f"  {name:14} {recall:14} {statistics.median(ms):8.0f} ms (range {min(ms):.0f}-{max(ms):.0f})")


if __name__ == "__main__":
    main()
