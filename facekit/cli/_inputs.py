"""Expand ``facekit detect`` arguments into inputs (the logic lives in :mod:`facekit._inputs`,
shared with ``FaceClient.detect_many``)."""

from __future__ import annotations

from facekit._inputs import IMAGE_EXTENSIONS, InputEntry, expand_inputs

__all__ = ["IMAGE_EXTENSIONS", "InputEntry", "expand_inputs"]
