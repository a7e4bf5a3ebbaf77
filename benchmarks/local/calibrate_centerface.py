"""Calibrate the int8 CenterFace detector on real photos, check it against the float one, time both.

Usage: python benchmarks/local/calibrate_centerface.py [/work/shared/eval] [--write] [--rounds 5]

1. Calibration photos: the unannotated smoke photos of EVAL and the project's test photos
   (tests/data, tests/local/data), never the annotated photos that AP is measured on; each
   prepared as the engine prepares it at max_side 640 and 320, and mirrored.
2. MinMax range of every activation of the edited float graph over them
   (:func:`facekit.local.centerface_int8.float_graph`); the first convolution's input is the
   padded 0..255 image, given its exact range.
3. AP@0.5 of float and int8 on the annotated photos (EVAL/score.py, threshold 0.3) at 640, 320
   and 288 pixels, and their agreement at the engine's threshold (0.5): faces found by one and not
   the other, box IoU of matched faces (mean, lowest), largest landmark and score differences;
   for scale, the same between the float detector on each photo and on its mirror image.
4. ``session.run`` time of both on a 1200x630 group photo and a 500x375 one at 640 and 320,
   interleaved (medians of the rounds and their range).

``--write`` stores the ranges of the tensors the quantiser uses in
``facekit/local/_centerface_int8_ranges.py`` (bump
:data:`facekit.local.centerface_int8.PREPARED_TAG` when they change).
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
from pathlib import Path

import numpy as np
import onnx
from _int8_calibration import minmax_ranges
from _int8_calibration import write_ranges as write_int8_ranges
from PIL import Image, ImageOps

from facekit.local.centerface import CenterFace, Detections
from facekit.local.centerface_int8 import MODEL_FILE, build_int8_centerface, float_graph
from facekit.local.store import ModelStore

ROOT = Path(__file__).resolve().parents[2]
RANGES_MODULE = ROOT / "facekit" / "local" / "_centerface_int8_ranges.py"
SIDES = (640, 320)
#: Sides the agreement is reported at (288: the speed setting measured against MediaPipe).
REPORT_SIDES = (640, 320, 288)


def _rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.ascontiguousarray(np.asarray(ImageOps.exif_transpose(im).convert("RGB")))


def calibration_photos(eval_dir: Path) -> list[Path]:
    """The unannotated photos: EVAL's smoke set and the project's own test photos."""
    found = sorted(p for p in (eval_dir / "smoke").iterdir() if p.suffix.lower() in (".jpg", ".png"))
    found += sorted((ROOT / "tests" / "data").rglob("*.jpg")) + sorted((ROOT / "tests" / "local" / "data").glob("*.jpg"))
    return found


def calibrate(graph_path: str, feeds: list[dict[str, np.ndarray]]) -> dict[str, tuple[float, float]]:
    """MinMax range of every float activation of the graph over ``feeds``."""
    ranges = minmax_ranges(graph_path, feeds)
    ranges["input.1"] = (0.0, 255.0)  # the padded image: exact in uint8 at scale 1
    return ranges


def used_ranges(model: bytes, ranges: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """The ranges of the tensors the quantised graph quantises."""
    graph = onnx.load_from_string(model).graph
    inits = {i.name for i in graph.initializer}
    names = {n.input[0] for n in graph.node if n.op_type == "QuantizeLinear" and n.input[0] not in inits}
    return {name: ranges[name] for name in sorted(names)}


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def ap(eval_dir: Path, det: CenterFace, images: dict[str, np.ndarray]) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for key, img in images.items():
            d = det.detect(img, score_threshold=0.3)
            boxes = [[float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1]), float(s)] for b, s in zip(d.boxes, d.scores, strict=True)]
            f.write(json.dumps({"image": key, "boxes": boxes}) + "\n")
    out = subprocess.run(
        [sys.executable, str(eval_dir / "score.py"), f.name, "--gt", str(eval_dir / "gt.jsonl"), "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    os.unlink(f.name)
    return float(json.loads(out.stdout)["results"]["overall"]["ap"])


def mirrored_back(det: CenterFace, img: np.ndarray) -> Detections:
    """``det``'s detections on the mirror image of ``img``, mapped back onto ``img``."""
    width = img.shape[1]
    d = det.detect(np.ascontiguousarray(img[:, ::-1]))
    boxes = d.boxes.copy()
    boxes[:, 0], boxes[:, 2] = width - d.boxes[:, 2], width - d.boxes[:, 0]
    landmarks = d.landmarks[:, [1, 0, 2, 4, 3]].copy()  # the viewer's left and right swap
    landmarks[:, :, 0] = width - landmarks[:, :, 0]
    return Detections(boxes, d.scores, landmarks)


def agreement(pairs: list[tuple[Detections, Detections]]) -> str:
    """How the detections of each pair's second differ from its first's."""
    unmatched, ious, landmark, score = 0, [], 0.0, 0.0
    for da, db in pairs:
        used: set[int] = set()
        for i, box in enumerate(da.boxes):
            cands = [(j, _iou(box, other)) for j, other in enumerate(db.boxes) if j not in used]
            j, best = max(cands, key=lambda c: c[1], default=(-1, 0.0))
            if best < 0.5:
                unmatched += 1
                continue
            used.add(j)
            ious.append(best)
            width = float(box[2] - box[0])
            landmark = max(landmark, float(np.abs(da.landmarks[i] - db.landmarks[j]).max()) / width)
            score = max(score, abs(float(da.scores[i]) - float(db.scores[j])))
        unmatched += len(db.boxes) - len(used)
    return (
        f"{len(ious)} faces matched, {unmatched} found by one only; box IoU mean {np.mean(ious):.3f}, "
        f"lowest {min(ious):.3f}; landmarks within {landmark:.3f} of the box width; scores within {score:.3f}"
    )


def write_ranges(ranges: dict[str, tuple[float, float]], photos: int, feeds: int) -> None:
    docstring = [
        "Activation ranges of the int8 CenterFace detector (written by benchmarks/local/calibrate_centerface.py).",
        "",
        f"MinMax over {photos} unannotated real photos (the evaluation smoke photos and the project's test",
        f"photos) at max_side 640 and 320 and mirrored ({feeds} inputs), by tensor name of the edited",
        "float graph (:func:`facekit.local.centerface_int8.float_graph`); ``input.1`` is the padded",
        "0..255 image, exact at scale 1.",
    ]
    write_int8_ranges(RANGES_MODULE, docstring, ranges)


def _time(det: CenterFace, img: np.ndarray, runs: int) -> float:
    feed = det.preprocess(img)[0]
    for _ in range(3):
        det.run(feed)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        det.run(feed)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("eval_dir", nargs="?", default="/work/shared/eval", type=Path)
    parser.add_argument("--write", action="store_true", help="store the ranges in the package")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    source = ModelStore().path(MODEL_FILE)
    photos = calibration_photos(args.eval_dir)
    with tempfile.TemporaryDirectory() as tmp:
        graph_path = os.path.join(tmp, "float.onnx")
        onnx.save(float_graph(source), graph_path)
        helpers = {side: CenterFace(graph_path, prepared=True, max_side=side) for side in SIDES}
        feeds = []
        for path in photos:
            rgb = _rgb(path)
            for img in (rgb, np.ascontiguousarray(rgb[:, ::-1])):
                feeds += [helpers[side].preprocess(img)[0] for side in SIDES]
        ranges = calibrate(graph_path, feeds)
        int8 = build_int8_centerface(source, ranges)
        shipped = used_ranges(int8, ranges)
        int8 = build_int8_centerface(source, shipped)  # the shipped ranges suffice
        print(f"calibrated on {len(photos)} photos ({len(feeds)} inputs); {len(shipped)} activation ranges used")
        gt = [json.loads(line)["image"] for line in (args.eval_dir / "gt.jsonl").read_text().splitlines()]
        images = {key: _rgb(args.eval_dir / key) for key in gt}
        models: dict[str, str | bytes] = {"float32": graph_path, "int8": int8}
        for side in REPORT_SIDES:
            dets = {k: CenterFace(m, prepared=True, max_side=side) for k, m in models.items()}
            aps = {k: ap(args.eval_dir, d, images) for k, d in dets.items()}
            fl, i8 = dets["float32"], dets["int8"]
            print(f"max_side {side}: AP@0.5 float32 {aps['float32']:.3f}, int8 {aps['int8']:.3f}")
            print(f"  int8 against float32: {agreement([(fl.detect(im), i8.detect(im)) for im in images.values()])}")
            print("  for scale, float32 on the mirror images against float32: "
                  f"{agreement([(fl.detect(im), mirrored_back(fl, im)) for im in images.values()])}")  # fmt: skip
        timed = {"multiface 1200x630": _rgb(args.eval_dir / "smoke/multiface.jpg"),
                 "2007_007763 500x375": _rgb(args.eval_dir / "images/dlib/2007_007763.jpg")}  # fmt: skip
        for side in SIDES:
            dets = {k: CenterFace(m, prepared=True, max_side=side) for k, m in models.items()}
            for label, img in timed.items():
                rounds: dict[str, list[float]] = {k: [] for k in dets}
                for _ in range(args.rounds):
                    for key, det in dets.items():
                        rounds[key].append(_time(det, img, args.runs))
                ratios = [f / i for f, i in zip(rounds["float32"], rounds["int8"], strict=True)]
                print(
                    f"max_side {side}, {label}: session.run float32 {statistics.median(rounds['float32']):.2f} ms, "
                    f"int8 {statistics.median(rounds['int8']):.2f} ms; int8 {statistics.median(ratios):.2f}x faster "
                    f"(rounds {min(ratios):.2f}-{max(ratios):.2f})"
                )
    if args.write:
        write_ranges(shipped, len(photos), len(feeds))
        print(f"wrote {RANGES_MODULE}")


if __name__ == "__main__":
    main()
