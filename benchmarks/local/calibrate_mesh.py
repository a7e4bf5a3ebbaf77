"""Check the mesh's eyes-open, mouth-open and smile thresholds against labels made by eye.

Usage::

    python benchmarks/local/calibrate_mesh.py [EVAL_DIR]   # default ../shared/eval

Reads ``benchmarks/local/mesh_labels.json`` (labels only: the evaluation photos are not in the
repository), runs the local engine with the mesh on the labelled photos, matches faces by box
centre, and prints for each attribute the ratio of every face, the accuracy of the threshold
in :mod:`facekit.local.mesh_geometry` and of the best threshold on these faces, plus the
emotion model's P(happy) > 0.5 as a smile baseline and the pitch median (:data:`PITCH_ZERO`).
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from facekit.local import mesh_geometry as g
    from facekit.local.engine import LocalEngine

    eval_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "eval"
    labels = json.loads((ROOT / "benchmarks/local/mesh_labels.json").read_text())["faces"]
    local = {"grace_hopper.jpg": ROOT / "tests/data/grace_hopper.jpg", "astronaut.jpg": ROOT / "tests/local/data/astronaut.jpg"}
    engine = LocalEngine()
    asked = frozenset({"eyes_open", "mouth_open", "smile", "emotion", "head_pose"})
    rows = []
    for name in dict.fromkeys(lab["image"] for lab in labels):
        path = local.get(name, eval_dir / "images" / "dlib" / name)
        faces = engine.detect(np.asarray(Image.open(path).convert("RGB")), attributes=asked)
        for lab in (lab for lab in labels if lab["image"] == name):
            cx, cy = (lab["box"][0] + lab["box"][2]) / 2, (lab["box"][1] + lab["box"][3]) / 2
            face = min(faces, key=lambda f: abs((f.box[0] + f.box[2]) / 2 - cx) + abs((f.box[1] + f.box[3]) / 2 - cy))
            assert face.mesh_measures is not None and face.emotions is not None
            rows.append((lab, face.mesh_measures, face.emotions["happy"]))
    print(f"{len(rows)} labelled faces")
    for attr, key, thr in (("eyes_open", "ear", g.EYES_OPEN_EAR), ("mouth_open", "mar", g.MOUTH_OPEN_MAR),
                           ("smiling", "lift", g.SMILE_LIFT)):  # fmt: skip
        pairs = sorted((m[key], lab[attr]) for lab, m, _ in rows if lab[attr] is not None)
        yes = [round(v, 3) for v, truth in pairs if truth]
        no = [round(v, 3) for v, truth in pairs if not truth]

        def acc(t: float, pairs: list[tuple[float, bool]] = pairs) -> int:
            return sum((v > t) == truth for v, truth in pairs)

        best = max((v for v, _ in pairs), key=acc)
        print(f"\n{attr} ({key}); labelled yes {len(yes)}, no {len(no)}")
        print(f"  yes: {yes}\n  no:  {no}")
        print(f"  threshold {thr}: {acc(thr)}/{len(pairs)} right; best on these faces {best:.3f}: {acc(best)}/{len(pairs)}")
        if attr == "smiling":
            base = sum((p > 0.5) == lab[attr] for lab, _, p in rows if lab[attr] is not None)
            print(f"  emotion model P(happy) > 0.5: {base}/{len(pairs)} right")
    pitches = [m["pitch"] + g.PITCH_ZERO for _, m, _ in rows]
    print(f"\nraw mesh-frame pitch median over all faces {statistics.median(pitches):.1f} deg (PITCH_ZERO {g.PITCH_ZERO})")


if __name__ == "__main__":
    main()
