"""The parts of a provider comparison: :class:`PairAgreement` (two providers on one face) and
:class:`FaceGroup` (one face as every provider saw it). :class:`~facekit.Comparison` holds them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["FaceGroup", "PairAgreement"]


class PairAgreement(BaseModel):
    """How two providers agree on one face.

    Attributes:
        first: The first provider's name.
        second: The second provider's name.
        box_iou: Intersection over union of the two boxes, 0..1.
        landmark_distance: Mean distance between the landmarks both have, pixels; None when
            they share none.
        landmarks_compared: The canonical landmark names both have (those averaged).
        age_difference: Years between the two age estimates (a provider's ``age`` or its
            ``age_range``; 0 when one lies within the other's range); None unless both gave one.
        gender_agrees: Both gave the same gender; None unless both gave one.
        emotion_agrees: Both gave the same dominant emotion; None unless both gave emotions.
    """

    model_config = ConfigDict(frozen=True)

    first: str
    second: str
    box_iou: float
    landmark_distance: float | None = None
    landmarks_compared: tuple[str, ...] = ()
    age_difference: float | None = None
    gender_agrees: bool | None = None
    emotion_agrees: bool | None = None


class FaceGroup(BaseModel):
    """One face as the providers saw it.

    Attributes:
        number: The group's number, from 1 (the first provider's faces first, largest first).
        faces: Provider name -> index of the face in that provider's result.
        pairs: Agreement of every two providers that found the face, in provider order.
    """

    model_config = ConfigDict(frozen=True)

    number: int
    faces: dict[str, int]
    pairs: list[PairAgreement] = []

    @property
    def only(self) -> str | None:
        """The provider, when only one found this face; else None."""
        return next(iter(self.faces)) if len(self.faces) == 1 else None
