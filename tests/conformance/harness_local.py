"""Conformance harness for the ``local`` engine: real onnxruntime on the real weights.

The "service" here is the real detector, so the harness draws real faces: the public-domain
Grace Hopper portrait shipped in tests/data, its face scaled and pasted at each scenario box
on a plain background.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from PIL import Image

from facekit import FaceClient
from tests.conformance.harness import HarnessInfo, Scenario, iter_faces

try:
    from facekit.local.store import ModelStore
except ImportError as exc:  # numpy/onnxruntime missing: the local extra is not installed
    raise ImportError(f"the local extra is not installed: {exc}") from exc

if not os.environ.get("FACEKIT_REQUIRE_MODELS") and any(ModelStore().find(s.name) is None for s in ModelStore().list()):
    raise ImportError("the local engine's weights are not fetched; run `facekit models fetch`")

PORTRAIT = Path(__file__).parent.parent / "data" / "grace_hopper.jpg"


@lru_cache(maxsize=1)
def _portrait_face() -> tuple[Image.Image, tuple[float, float, float, float]]:
    """The portrait and its face box (left, top, width, height) as the engine itself finds it."""
    portrait = Image.open(PORTRAIT).convert("RGB")
    face = FaceClient("local").detect(portrait).faces[0].box
    return portrait, face.xywh


class LocalHarness:
    info = HarnessInfo(name="local", box_tolerance=0.15, supported_attribute="head_pose", unsupported_attribute="hair")

    @contextmanager
    def client(self, scenario: Scenario) -> Iterator[FaceClient]:
        yield FaceClient("local")

    def image(self, scenario: Scenario, size: tuple[int, int]) -> Image.Image:
        portrait, (fl, ft, fw, fh) = _portrait_face()
        canvas = Image.new("RGB", size, (200, 200, 200))
        for left, top, width, height in iter_faces(scenario, *size):
            sx, sy = width / fw, height / fh
            margin = 0.25
            crop = portrait.crop((fl - margin * fw, ft - margin * fh, fl + (1 + margin) * fw, ft + (1 + margin) * fh))
            scaled = crop.resize((round(crop.width * sx), round(crop.height * sy)), Image.Resampling.LANCZOS)
            canvas.paste(scaled, (round(left - margin * width), round(top - margin * height)))
        return canvas


HARNESS = LocalHarness()
