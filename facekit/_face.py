"""One detected face: :class:`Face` (box, confidence, landmarks, attributes, embedding).

Its own module so that drawing and tables (``_draw``, ``_frame``) can use it without
importing the result model that uses them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from facekit._attributes import FaceAttributes
from facekit._geometry import BoundingBox, Point

__all__ = ["Face", "FaceEmbedding"]


class FaceEmbedding(BaseModel):
    """A face descriptor: a vector whose distances say how alike two faces are.

    Vectors are provider- and model-specific: compare only vectors with the same ``model``.

    Attributes:
        model: The model that made the vector, e.g. ``"dlib_resnet_v1"`` (local engine).
        vector: The descriptor (128 floats for ``dlib_resnet_v1``, not normalised).
        metric: How to compare two vectors: ``"euclidean"`` (smaller is more alike).
        threshold: The model's documented same-person threshold in that metric
            (``0.6`` for ``dlib_resnet_v1``: same person when the distance is at most 0.6).
    """

    model_config = ConfigDict(frozen=True)

    model: str
    vector: tuple[float, ...]
    metric: Literal["euclidean"] = "euclidean"
    threshold: float


class Face(BaseModel):
    """One detected face.

    Attributes:
        index: Position in ``DetectionResult.faces`` (0 = largest box).
        box: Face rectangle in pixels of the caller's upright image.
        confidence: Detection confidence 0..1, or None when the provider gives none (Azure).
        face_id: The provider's face id (Azure, only when asked for), else None.
        landmarks: Canonical landmark name -> point in pixels of the caller's upright image;
            None when landmarks were not requested or not returned.
        attributes: Attributes; each field None unless returned.
        embedding: The face's descriptor (``detect(..., embeddings=True)``, local engine),
            else None. Compare only with descriptors of the same model.
        mesh: The 468 (x, y, z) points of the local engine's face mesh (``landmarks="mesh"``),
            pixels of the caller's upright image (z in the x scale, smaller is nearer the
            camera; MediaPipe's point order); None otherwise.
    """

    model_config = ConfigDict(frozen=True)

    index: int = 0
    box: BoundingBox
    confidence: float | None = None
    face_id: str | None = None
    landmarks: dict[str, Point] | None = None
    attributes: FaceAttributes = Field(default_factory=FaceAttributes)
    embedding: FaceEmbedding | None = None
    mesh: list[tuple[float, float, float]] | None = None
