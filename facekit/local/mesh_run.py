"""Running the face mesh inside the engine: one batched pass for every face of every image.

:class:`MeshRunner` crops each face from the detector's five points, runs MediaPipe's mesh
network once on all crops, and writes onto each :class:`~facekit.local.engine.LocalFace` the
468 points, the mesh's face score and what the mesh tells (see
:mod:`facekit.local.mesh_geometry`): eyes and mouth open, a smile cue, and the head pose
(which then replaces the five-point estimate: ``pose_from="mesh:468"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from facekit.local.align import warp_affine
from facekit.local.mesh import INPUT_SIZE, FaceMesh, mesh_matrices, to_image
from facekit.local.mesh_geometry import (
    EAR_WIDTH,
    EYES_OPEN_EAR,
    LIFT_WIDTH,
    MAR_WIDTH,
    MESH_ATTRIBUTES,
    MOUTH_OPEN_MAR,
    SMILE_LIFT,
    confidence,
    measure,
)

#: An engine face (``facekit.local.engine.LocalFace``), written in place; named loosely so that
#: this module does not import the engine that calls it (no import cycle).
LocalFace = Any

__all__ = ["MESH_ATTRIBUTES", "MeshRunner"]

class MeshRunner:
    """The face mesh model plus the per-face bookkeeping of the engine.

    Args:
        model: The converted graph, a path or bytes (:func:`facekit.local.mesh.prepared_mesh_model`).
        providers: onnxruntime execution providers, in order of preference.
        intra_op_threads: onnxruntime threads per operator; ``None`` for its default.
    """

    def __init__(
        self,
        model: Path | bytes,
        *,
        providers: Sequence[str] | None = None,
        intra_op_threads: int | None = None,
    ) -> None:
        self.model = FaceMesh(model, providers=providers, intra_op_threads=intra_op_threads)

    def apply(
        self,
        found: Sequence[tuple[npt.NDArray[np.uint8], npt.NDArray[np.floating], list[LocalFace]]],
        attributes: frozenset[str],
    ) -> None:
        """Mesh every face and fill its mesh fields; one ``session.run`` for all images.

        Args:
            found: (image, (N, 5, 2) detector points, the image's N faces) per image.
            attributes: The requested attribute names: ``eyes_open``, ``mouth_open``,
                ``smile`` and ``head_pose`` are filled from the mesh when present.
        """
        mats_per_image = [mesh_matrices(lm) for _, lm, _ in found]
        chips = np.concatenate(
            [warp_affine(img, mats, INPUT_SIZE) for (img, _, _), mats in zip(found, mats_per_image, strict=True)]
        )
        pts, probs = self.model.run_chips(chips)
        k = 0
        for (_, _, faces), mats in zip(found, mats_per_image, strict=True):
            image_pts = to_image(pts[k : k + len(mats)], mats)
            for face, p, prob in zip(faces, image_pts, probs[k : k + len(mats)], strict=True):
                _fill(face, p, float(prob), attributes)
            k += len(mats)


def _fill(face: LocalFace, points: npt.NDArray[np.float64], prob: float, attributes: frozenset[str]) -> None:
    m = measure(points)
    face.mesh = tuple(map(tuple, points.tolist()))
    face.mesh_score = prob
    face.mesh_measures = m.as_dict()
    if "eyes_open" in attributes:
        face.eyes_open = (m.ear > EYES_OPEN_EAR, confidence(m.ear, EYES_OPEN_EAR, EAR_WIDTH))
    if "mouth_open" in attributes:
        face.mouth_open = (m.mar > MOUTH_OPEN_MAR, confidence(m.mar, MOUTH_OPEN_MAR, MAR_WIDTH))
    if "smile" in attributes:
        face.mesh_smile = (m.lift > SMILE_LIFT, confidence(m.lift, SMILE_LIFT, LIFT_WIDTH))
    if "head_pose" in attributes:
        face.pose = (m.roll, m.yaw, m.pitch)
        face.pose_from = "mesh:468"
