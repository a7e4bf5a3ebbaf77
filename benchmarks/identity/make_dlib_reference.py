"""Reference descriptors from dlib itself, for the ONNX conversion test.

Two steps, two interpreters (dlib is never installed next to facekit)::

    # 1. facekit's venv: aligned 150 x 150 chips of the test photos (+ one noise chip)
    python benchmarks/identity/make_dlib_reference.py chips /tmp/chips.npz
    # 2. dlib's venv (benchmarks/identity/setup_dlib_venv.sh): dlib's own forward pass
    /work/peer-venvs/dlib/bin/python benchmarks/identity/make_dlib_reference.py reference \
        /tmp/chips.npz tests/local/data/dlib_reference.npz

Step 2 loads dlib_face_recognition_resnet_model_v1.dat with dlib's own deserialiser and runs
``face_recognition_model_v1.compute_face_descriptor`` on each chip (no jitter), sharing no
code with facekit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = [
    "tests/data/identity/obama_1.jpg",
    "tests/data/identity/biden_1.jpg",
    "tests/local/data/astronaut.jpg",
    "tests/data/grace_hopper.jpg",
]


def chips(out: str) -> None:
    sys.path.insert(0, str(ROOT))
    from PIL import Image

    from facekit.local.embedding import FaceEmbedder
    from facekit.local.engine import LocalEngine
    from facekit.local.store import ModelStore

    engine = LocalEngine(ModelStore(allow_fetch=False))
    got = []
    for name in PHOTOS:
        rgb = np.asarray(Image.open(ROOT / name).convert("RGB"))
        face = engine.detect(rgb)[0]
        got.append(FaceEmbedder.chips(rgb, np.array([face.landmarks]))[0])
    got.append(np.random.default_rng(0).integers(0, 256, (150, 150, 3), dtype=np.uint8))
    np.savez_compressed(out, chips=np.stack(got), names=np.array([*PHOTOS, "noise(seed 0)"]))
    print(f"wrote {len(got)} chips to {out}")


def reference(chips_file: str, out: str) -> None:
    import dlib  # only in dlib's own venv

    from_cache = Path.home() / ".cache/facekit/models/dlib_face_recognition_resnet_model_v1.dat"
    model = dlib.face_recognition_model_v1(str(from_cache))
    data = np.load(chips_file)
    desc = np.array([np.array(model.compute_face_descriptor(np.ascontiguousarray(c))) for c in data["chips"]])
    np.savez_compressed(
        out, chips=data["chips"], names=data["names"], descriptors=desc.astype(np.float32),
        dlib_version=np.array(dlib.__version__),
    )  # fmt: skip
    print(f"wrote {len(desc)} dlib {dlib.__version__} descriptors to {out}")


if __name__ == "__main__":
    if sys.argv[1] == "chips":
        chips(sys.argv[2])
    else:
        reference(sys.argv[2], sys.argv[3])
