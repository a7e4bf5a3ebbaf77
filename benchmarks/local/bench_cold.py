"""Cold start: ``facekit detect photo.jpg``, process start to first result, against its peers.

Usage:
    python benchmarks/local/bench_cold.py [--photo PATH] [--rounds 7]

Each round starts, in turn, a fresh process of every contestant on the same photo (default
examples/images/grace_hopper.jpg) and times it from outside, start to exit (the result is
printed just before exit):

* facekit: ``python -m facekit detect PHOTO`` (JSON of the detection on stdout);
* dlib: a script that imports dlib (dlib-bin), decodes the photo with Pillow and runs the HOG
  detector with one upsampling;
* mediapipe: the same with MediaPipe's BlazeFace full range (0.10.21, ``mp.solutions``).

Peers come from ``bash benchmarks/peers/setup_peers.sh`` (their own virtualenvs under
``$FACEKIT_PEERS``, default /work/peer-venvs); one that is not installed is reported, never
replaced by a number. Bytecode caches are warmed first (``PYTHONDONTWRITEBYTECODE`` is
removed), as after ``pip install``. Prints the median and the range over rounds of each, the
ratio facekit/peer per round, and where facekit's time goes (one more process with stamps:
``import facekit``, client and backend built including ``import onnxruntime``, the first
``detect`` including the session).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PEERS = Path(os.environ.get("FACEKIT_PEERS", "/work/peer-venvs"))

PEER_CODE = {
    "dlib": "import sys, numpy as np, dlib; from PIL import Image\n"
    "img = np.asarray(Image.open(sys.argv[1]).convert('RGB'))\n"
    "print(len(dlib.get_frontal_face_detector()(img, 1)))\n",
    "mediapipe": "import sys, numpy as np, mediapipe as mp; from PIL import Image\n"
    "img = np.asarray(Image.open(sys.argv[1]).convert('RGB'))\n"
    "d = mp.solutions.face_detection.FaceDetection(model_selection=1)\n"
    "print(len(d.process(img).detections or []))\n",
}

STAMPS = """
import sys, time
t0 = time.perf_counter()
import facekit
t1 = time.perf_counter()
client = facekit.FaceClient("local")
t2 = time.perf_counter()
result = client.detect(sys.argv[1])
t3 = time.perf_counter()
print(f"{(t1 - t0) * 1000:.0f} {(t2 - t1) * 1000:.0f} {(t3 - t2) * 1000:.0f} {len(result.faces)}")
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photo", default=str(ROOT / "examples" / "images" / "grace_hopper.jpg"))
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    peer_env = {**env, "GLOG_minloglevel": "3", "TF_CPP_MIN_LOG_LEVEL": "3"}
    commands: dict[str, tuple[list[str], dict[str, str]]] = {
        "facekit": ([sys.executable, "-m", "facekit", "detect", "--quiet", args.photo], env)
    }
    for kind, code in PEER_CODE.items():
        python = PEERS / kind / "bin" / "python"
        if python.is_file():
            commands[kind] = ([str(python), "-c", code, args.photo], peer_env)
        else:
            print(f"{kind}: not installed ({python} missing; run bash benchmarks/peers/setup_peers.sh)")
    for cmd, cmd_env in commands.values():  # warm the file cache and the bytecode caches
        subprocess.run(cmd, capture_output=True, env=cmd_env, check=True, cwd=ROOT)
    rounds: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(args.rounds):
        for who, (cmd, cmd_env) in commands.items():
            start = time.perf_counter()
            subprocess.run(cmd, capture_output=True, env=cmd_env, check=True, cwd=ROOT)
            rounds[who].append(time.perf_counter() - start)
    load = os.getloadavg()
    print(f"process start to first result, {Path(args.photo).name}, {args.rounds} rounds, load {load[0]:.2f}")
    for who, values in rounds.items():
        line = f"  {who:10} median {statistics.median(values):.3f} s (range {min(values):.3f}-{max(values):.3f})"
        if who != "facekit":
            ratios = [a / b for a, b in zip(rounds["facekit"], values, strict=True)]
            line += f" | facekit/{who} {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
        print(line)
    out = subprocess.run(
        [sys.executable, "-c", STAMPS, args.photo], capture_output=True, text=True, env=env, check=True, cwd=ROOT
    )
    imp, client, first, faces = out.stdout.split()
    print(
        f"  facekit in-process: import facekit {imp} ms, FaceClient('local') {client} ms "
        f"(imports onnxruntime and numpy), first detect {first} ms (session, decode, inference; {faces} face(s))"
    )


if __name__ == "__main__":
    main()
