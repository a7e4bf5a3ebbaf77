"""Write tests/local/data/mesh_reference.npz: LiteRT's outputs of face_landmark.tflite on real crops.

The reference comes from Google's own TFLite interpreter (``ai-edge-litert``), which must live
in its own virtualenv, never in facekit's::

    python -m venv /tmp/litert && /tmp/litert/bin/pip install ai-edge-litert numpy
    # 1. cut the crops with facekit (its venv):
    python benchmarks/local/make_mesh_reference.py crops /tmp/mesh_chips.npy
    # 2. run the interpreter (the litert venv; no facekit import):
    /tmp/litert/bin/python benchmarks/local/make_mesh_reference.py reference /tmp/mesh_chips.npy \
        ~/.cache/facekit/models/face_landmark.tflite tests/local/data/mesh_reference.npz

Crops: the faces of tests/data/grace_hopper.jpg and tests/local/data/astronaut.jpg as the
engine cuts them (192 x 192 RGB uint8), plus one seeded uniform-noise image.
"""

from __future__ import annotations

import sys

import numpy as np


def crops(out: str) -> None:
    from pathlib import Path

    from PIL import Image

    from facekit.local.align import warp_affine
    from facekit.local.engine import LocalEngine
    from facekit.local.mesh import INPUT_SIZE, mesh_matrices

    root = Path(__file__).resolve().parents[2]
    engine = LocalEngine()
    chips = []
    for p in (root / "tests/data/grace_hopper.jpg", root / "tests/local/data/astronaut.jpg"):
        rgb = np.asarray(Image.open(p).convert("RGB"))
        det = engine.detector.detect(rgb)
        chips.append(warp_affine(rgb, mesh_matrices(det.landmarks[:1]), INPUT_SIZE)[0])
    chips.append(np.random.default_rng(17).integers(0, 256, (INPUT_SIZE, INPUT_SIZE, 3), dtype=np.uint8))
    np.save(out, np.stack(chips))


def reference(chips_path: str, tflite: str, out: str) -> None:
    from ai_edge_litert.interpreter import Interpreter  # type: ignore[import-not-found]

    chips = np.load(chips_path)
    it = Interpreter(model_path=tflite)
    it.allocate_tensors()
    inp = it.get_input_details()[0]["index"]
    outs = it.get_output_details()
    got: dict[str, list[np.ndarray]] = {o["name"]: [] for o in outs}
    for chip in chips:
        it.set_tensor(inp, (chip.astype(np.float32) / 255)[None])
        it.invoke()
        for o in outs:
            got[o["name"]].append(it.get_tensor(o["index"]).reshape(-1))
    np.savez_compressed(out, chips=chips, **{k: np.stack(v) for k, v in got.items()})


if __name__ == "__main__":
    if sys.argv[1] == "crops":
        crops(sys.argv[2])
    else:
        reference(*sys.argv[2:5])
