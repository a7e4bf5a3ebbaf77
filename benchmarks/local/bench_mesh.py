"""Cost of the face mesh per face, against LiteRT running the same TFLite file on the same crops.

Usage::

    python benchmarks/local/bench_mesh.py [PHOTO ...] [--runs 30] [--litert /tmp/litert/bin/python]

Default photos: the repository's two portraits. Prints medians (ms): the mesh's
``session.run`` per face (all faces of a photo in one batch), the whole mesh step of the
engine per face (crops, run, points mapped back, ratios and pose), and, when ``--litert`` names
a Python that has ``ai-edge-litert`` (its own virtualenv: ``python -m venv /tmp/litert &&
/tmp/litert/bin/pip install ai-edge-litert numpy``), LiteRT's ``invoke()`` per face on the same
crops, then the ratio.
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

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]

_LITERT = """
import json, sys, time, numpy as np
from ai_edge_litert.interpreter import Interpreter
chips = np.load(sys.argv[1]).astype(np.float32) / 255
it = Interpreter(model_path=sys.argv[2], num_threads=int(sys.argv[4])); it.allocate_tensors()
inp = it.get_input_details()[0]["index"]
times = []
for _ in range(int(sys.argv[3])):
    t = time.perf_counter()
    for c in chips:
        it.set_tensor(inp, c[None]); it.invoke()
    times.append((time.perf_counter() - t) * 1000 / len(chips))
print(json.dumps(times))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("photos", nargs="*", type=Path)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--litert", help="a Python with ai-edge-litert installed")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from facekit.local.align import warp_affine
    from facekit.local.engine import LocalEngine
    from facekit.local.mesh import INPUT_SIZE, mesh_matrices

    photos = args.photos or [ROOT / "tests/data/grace_hopper.jpg", ROOT / "tests/local/data/astronaut.jpg"]
    engine = LocalEngine(intra_op_threads=args.threads)
    runner = engine.mesh_runner
    for photo in photos:
        rgb = np.asarray(Image.open(photo).convert("RGB"))
        det = engine.detector.detect(rgb)
        n = len(det.scores)
        if not n:
            print(f"{photo.name}: no face")
            continue
        chips = warp_affine(rgb, mesh_matrices(det.landmarks), INPUT_SIZE)
        faces = engine.detect(rgb)
        run_ms, step_ms = [], []
        for _ in range(args.runs):
            t = time.perf_counter()
            runner.model.run_chips(chips)
            run_ms.append((time.perf_counter() - t) * 1000 / n)
            t = time.perf_counter()
            runner.apply([(rgb, det.landmarks, faces)], frozenset({"eyes_open", "mouth_open", "smile", "head_pose"}))
            step_ms.append((time.perf_counter() - t) * 1000 / n)
        line = (
            f"{photo.name}: {n} face(s); facekit session.run {statistics.median(run_ms):.2f} ms/face, "
            f"whole mesh step {statistics.median(step_ms):.2f} ms/face"
        )
        if args.litert:
            with tempfile.TemporaryDirectory() as tmp:
                np.save(Path(tmp) / "c.npy", chips)
                out = subprocess.run(
                    [args.litert, "-c", _LITERT, str(Path(tmp) / "c.npy"),
                     str(engine.store.path("face_landmark.tflite")), str(args.runs), str(args.threads)],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
            lite = statistics.median(json.loads(out.stdout.strip().splitlines()[-1]))
            line += f"; LiteRT invoke {lite:.2f} ms/face; facekit/LiteRT {statistics.median(run_ms) / lite:.2f}"
        print(line)


if __name__ == "__main__":
    main()
