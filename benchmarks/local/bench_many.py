"""``detect_many`` against a plain loop of ``detect``, each in its own fresh process, interleaved.

Usage:
    python benchmarks/local/bench_many.py [EVAL_DIR] [--inputs 100] [--repeats 5] [--threads N]

Inputs: every photo of EVAL_DIR (annotated and smoke photos) and of tests/data and
examples/images, cycled to ``--inputs`` paths, each decoded from its file every time. Modes,
run A B C A B C ... in separate processes (one warm-up call of the mode's own kind first, so
session creation is not timed; 16 inputs for ``detect_many``, since a batch of one chunk
runs on the all-core session instead and would build a second session):

* loop: ``for p in paths: client.detect(p)``;
* many: ``list(client.detect_many(paths))``: the default, ``batch_workers`` chunks of 8 at
  once (2 on a machine with 2 or more cores), each decoded and detected in its own thread on
  a one-thread onnxruntime session;
* many1: the same with ``batch_workers=1`` (one session on every core, the next chunk only
  decoded while the current one runs: the strategy before 2 workers);
* loop1: the loop on a one-thread session. Its figure times the number of cores is the most
  any scheme can reach with the same work per image (every core busy all the time, nothing
  lost to sharing): with ``loop1`` in ``--modes`` the ceiling ``cores x loop1 / loop`` is
  printed beside the measured ratios.

Prints images/s per run, the medians, the ratio many/loop per round (and its range), and
each process's peak resident memory (``ru_maxrss``).
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
if mode == "many1":
    kw["batch_workers"] = 1
if mode == "loop1":
    kw["intra_op_threads"] = 1
    mode = "loop"
client = FaceClient("local", **kw)
if mode == "loop":
    for p in paths[:4]:
        client.detect(p)
else:  # two chunks, so that the batch path (not the one-chunk path) builds its session
    list(client.detect_many(paths[:16]))
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


ROOT = Path(__file__).resolve().parent.parent.parent


def photos(root: Path) -> list[str]:
    found = sorted((root / "images").rglob("*.jpg")) + sorted((root / "smoke").glob("*.*"))
    found += sorted((ROOT / "tests" / "data").rglob("*.jpg")) + sorted((ROOT / "examples" / "images").glob("*.jpg"))
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
    ap.add_argument("--inputs", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", default="default", help="onnxruntime intra-op threads (default: its own)")
    ap.add_argument("--modes", default="loop,many,many1,loop1", help="comma-separated; loop first")
    args = ap.parse_args()
    distinct = photos(Path(args.eval_dir))
    paths = [distinct[i % len(distinct)] for i in range(args.inputs)]
    modes = args.modes.split(",")
    print(f"{len(paths)} inputs ({len(distinct)} distinct photos), threads={args.threads}, modes {modes}")
    runs: dict[str, list[dict[str, float]]] = {m: [] for m in modes}
    for r in range(args.repeats):
        line = []
        for mode in modes:
            got = run(mode, args.threads, paths)
            runs[mode].append(got)
            line.append(f"{mode} {got['ips']:.1f} img/s ({got['rss_mb']:.0f} MiB, {got['faces']:.0f} faces)")
        print(f"round {r + 1}: " + " | ".join(line))
    base = runs[modes[0]]
    for mode in modes:
        ips = [g["ips"] for g in runs[mode]]
        rss = [g["rss_mb"] for g in runs[mode]]
        text = (
            f"{mode:6} median {statistics.median(ips):5.1f} img/s (range {min(ips):.1f}-{max(ips):.1f}), "
            f"peak RSS median {statistics.median(rss):.0f} MiB"
        )
        if mode != modes[0]:
            ratios = [g["ips"] / b["ips"] for g, b in zip(runs[mode], base, strict=True)]
            text += (
                f" | {mode}/{modes[0]} median {statistics.median(ratios):.2f} "
                f"(range {min(ratios):.2f}-{max(ratios):.2f})"
            )
        print(text)
    if "loop1" in runs and modes[0] == "loop":
        import os

        cores = os.cpu_count() or 1
        ceilings = [cores * one["ips"] / b["ips"] for one, b in zip(runs["loop1"], base, strict=True)]
        print(
            f"ceiling for any scheme on {cores} cores, {cores} x loop1 / loop: median {statistics.median(ceilings):.2f} "
            f"(range {min(ceilings):.2f}-{max(ceilings):.2f})"
        )


if __name__ == "__main__":
    main()
