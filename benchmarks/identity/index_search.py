"""FaceIndex search time at 10k and 100k faces, against a plain numpy brute force (same run).

    python benchmarks/identity/index_search.py [--sizes 10000 100000] [--queries 50]

Vectors are random (128-D, the spread of dlib descriptors); search time does not depend on
their values. Ours: ``FaceIndex.search(top_k=10)`` (kept squared norms, one matrix-vector
product, ``argpartition``). Peer: ``np.linalg.norm(vectors - q, axis=1)`` then ``argsort``, the
brute force face_recognition's ``face_distance`` does.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from facekit import FaceIndex


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--queries", type=int, default=50)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    for n in args.sizes:
        vecs = rng.normal(0, 0.09, (n, 128)).astype(np.float32)
        index = FaceIndex()
        t = time.perf_counter()
        index.add_many([f"face{i}" for i in range(n)], vecs)
        add_s = time.perf_counter() - t
        queries = vecs[rng.integers(0, n, args.queries)] + rng.normal(0, 0.01, (args.queries, 128)).astype(np.float32)
        ours, peer = [], []
        for q in queries:
            t = time.perf_counter()
            hits = index.search(q, top_k=10, threshold=float("inf"))
            ours.append(time.perf_counter() - t)
            t = time.perf_counter()
            d = np.linalg.norm(vecs - q, axis=1)
            best = np.argsort(d)[:10]
            peer.append(time.perf_counter() - t)
            assert hits[0].key == f"face{best[0]}"
        mo, mp = statistics.median(ours), statistics.median(peer)
        print(
            f"{n:>7} faces: add_many {add_s * 1000:.0f} ms; search median {mo * 1000:.2f} ms "
            f"(p90 {np.percentile(ours, 90) * 1000:.2f}); numpy norm+argsort {mp * 1000:.2f} ms; ratio {mp / mo:.1f}x"
        )


if __name__ == "__main__":
    main()
