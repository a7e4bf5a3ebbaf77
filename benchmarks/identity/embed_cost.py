"""Cost per face of the 128-D embedding: facekit's ONNX graph against dlib itself (same chips, same run).

    python benchmarks/identity/embed_cost.py [--dlib-python /work/peer-venvs/dlib/bin/python]

Chips: the five 150 x 150 chips of tests/local/data/dlib_reference.npz, tiled to batches of
1, 8 and 32. Ours: one ``session.run`` per batch (onnxruntime CPU, default threads). Peer:
dlib 20.0.1's ``compute_face_descriptor`` on the list of chips (its own batched call), in its
own virtualenv. Medians of 15 runs, milliseconds per face.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
CHIPS = ROOT / "tests/local/data/dlib_reference.npz"
BATCHES = (1, 8, 32)
RUNS = 15

PEER = r"""
import json, sys, time, statistics
import dlib, numpy as np
chips, model = np.load(sys.argv[1])["chips"], dlib.face_recognition_model_v1(sys.argv[2])
out = {}
for n in (1, 8, 32):
    batch = [np.ascontiguousarray(chips[i % len(chips)]) for i in range(n)]
    model.compute_face_descriptor(batch)  # warm-up
    times = []
    for _ in range(15):
        t = time.perf_counter(); model.compute_face_descriptor(batch); times.append((time.perf_counter() - t) / n)
    out[n] = statistics.median(times)
print(json.dumps(out))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dlib-python")
    args = ap.parse_args()
    from facekit.local.embedding import FaceEmbedder, prepared_embedding_model
    from facekit.local.store import ModelStore

    store = ModelStore(allow_fetch=False)
    dat = store.path("dlib_face_recognition_resnet_model_v1.dat")
    emb = FaceEmbedder(prepared_embedding_model(store))
    chips = np.load(CHIPS)["chips"]
    ours = {}
    for n in BATCHES:
        batch = chips[np.arange(n) % len(chips)]
        emb.embed(batch)
        times = []
        for _ in range(RUNS):
            t = time.perf_counter()
            emb.embed(batch)
            times.append((time.perf_counter() - t) / n)
        ours[n] = statistics.median(times)
    theirs = {}
    if args.dlib_python:
        done = subprocess.run([args.dlib_python, "-c", PEER, str(CHIPS), str(dat)], capture_output=True, text=True, check=True)
        theirs = {int(k): v for k, v in json.loads(done.stdout).items()}
    for n in BATCHES:
        line = f"batch {n:>2}: facekit ONNX {ours[n] * 1000:6.2f} ms/face"
        if n in theirs:
            line += f"; dlib {theirs[n] * 1000:6.2f} ms/face; dlib/ours {theirs[n] / ours[n]:.1f}x"
        print(line)


if __name__ == "__main__":
    main()
