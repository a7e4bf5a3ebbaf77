"""``detect_many`` against a plain loop of ``detect``, each in its own fresh process, interleaved.

Usage:
    python benchmarks/local/bench_many.py [EVAL_DIR] [--inputs 60] [--repeats 3] [--threads N]

Inputs: every photo of EVAL_DIR (annotated and smoke photos), cycled to ``--inputs`` paths, each
decoded from its file every time. Modes, run A B A B ... in separate processes (one warm-up
pass over 4 photos first, so session creation is not timed):

* loop: ``for p in paths: client.detect(p)``;
* many: ``list(client.detect_many(paths))`` (chunks of 8, the next chunk decoded while the
  current one runs).

Prints images/s per run, the median, the ratio many/loop per pair, and each process's peak
resident memory (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

_CHILD = """
import json, resource, sys, time
from facekit import FaceClient
mode, threads, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
kw = {} if threads == "default" else {"intra_op_threads": int(threads)}
client = FaceClient("local", **kw)
for p in paths[:4]:
    client.detect(p)
t = time.perf_counter()
if mode == "loop":
    faces = sum(len(client.detect(p).faces) for p in paths)
else:
    items = list(client.detect_many(paths))
    assert all(i.ok for i in items), [i.error for i in items if not i.ok]
    faces = sum(len(i.result.faces) for i in items)
dt = time.perf_counter() - t
print(json.dumps({"ips": len(paths) / dt, "faces": faces,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def photos(root: Path) -> list[str]:
    found = sorted((root / "images").rglob("*.jpg")) + sorted((root / "smoke").glob("*.*"))
    return [str(p) for p in found if p.suffix.lower() in (".jpg", ".jpeg", ".png")]


def run(mode: str, threads: str, paths: list[str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, threads, *paths], capture_output=True, text=True, check=True
    )
    figures: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("eval_dir", nargs="?", default="/work/shared/eval")
    ap.add_argument("--inputs", type=int, default=60)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", default="default", help="onnxruntime intra-op threads (default: its own)")
    args = ap.parse_args()
    distinct = photos(Path(args.eval_dir))
    paths = [distinct[i % len(distinct)] for i in range(args.inputs)]
    print(f"{len(paths)} inputs ({len(distinct)} distinct photos), threads={args.threads}")
    loops: list[float] = []
    manys: list[float] = []
    for r in range(args.repeats):
        a = run("loop", args.threads, paths)
        b = run("many", args.threads, paths)
        loops.append(a["ips"])
        manys.append(b["ips"])
        print(
            f"run {r + 1}: loop {a['ips']:.1f} img/s ({a['rss_mb']:.0f} MiB peak, {a['faces']} faces) | "
            f"detect_many {b['ips']:.1f} img/s ({b['rss_mb']:.0f} MiB peak, {b['faces']} faces) | "
            f"ratio {b['ips'] / a['ips']:.2f}"
        )
    ratios = [m / lo for m, lo in zip(manys, loops, strict=True)]
    print(
        f"median: loop {statistics.median(loops):.1f} img/s, detect_many {statistics.median(manys):.1f} img/s, "
        f"ratio {statistics.median(ratios):.2f} (range {min(ratios):.2f}-{max(ratios):.2f})"
    )


if __name__ == "__main__":
    main()
