"""The warning class facekit issues (its own module, so any step can warn without importing the client)."""

from __future__ import annotations

__all__ = ["FacekitWarning"]


class FacekitWarning(UserWarning):
    """Issued when facekit returns less than asked (``strict=False``) or changes the input."""
