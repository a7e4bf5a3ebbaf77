"""Compare providers on the same image: :func:`compare` -> :class:`Comparison`.

Faces are matched across providers by box IoU with an optimal one-to-one assignment
(:mod:`facekit._assignment`), then each matched pair is scored: box IoU, landmark distance
over the canonical landmarks both have, age difference, gender and dominant-emotion agreement.
Rendering (text table, DataFrame, drawing) is in :mod:`facekit._compare_render`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from facekit._assignment import best_assignment
from facekit._batch import BatchItem
from facekit._compare_types import FaceGroup, PairAgreement
from facekit._errors import InvalidRequestError
from facekit._models import DetectionResult

if TYPE_CHECKING:
    from PIL import Image

    from facekit._face import Face

__all__ = ["DEFAULT_IOU", "Comparison", "FaceGroup", "PairAgreement", "compare"]

#: Smallest box IoU for two providers' faces to count as the same face.
DEFAULT_IOU = 0.3


class Comparison(BaseModel):
    """Faces of several providers on one image, matched, with their agreement.

    Attributes:
        providers: Provider names, in the order given.
        iou_threshold: Smallest box IoU that counted as the same face.
        groups: One group per distinct face, matched or found by one provider only.
        results: Provider name -> its result (the faces the groups point to).
    """

    model_config = ConfigDict(frozen=True)

    providers: list[str]
    iou_threshold: float
    groups: list[FaceGroup]
    results: dict[str, DetectionResult]

    @property
    def matched(self) -> list[FaceGroup]:
        """Groups found by at least two providers."""
        return [group for group in self.groups if len(group.faces) > 1]

    def only(self, provider: str | None = None) -> list[FaceGroup]:
        """Groups found by one provider only (by ``provider`` when given)."""
        return [group for group in self.groups if group.only is not None and provider in (None, group.only)]

    def face(self, group: FaceGroup | int, provider: str) -> Face:
        """The face ``provider`` found for ``group`` (a group or its number).

        Raises:
            InvalidRequestError: The provider did not find that face.
        """
        found = group if isinstance(group, FaceGroup) else self.groups[group - 1]
        if provider not in found.faces:
            raise InvalidRequestError(f"{provider!r} has no face in group {found.number}; it has {sorted(found.faces)}")
        return self.results[provider].faces[found.faces[provider]]

    def rows(self) -> list[dict[str, Any]]:
        """The agreement table as dicts: one per matched pair of providers, one per one-provider face."""
        from facekit._compare_render import rows

        return rows(self)

    def table(self) -> str:
        """The agreement table as fixed-width text (also ``str(comparison)``)."""
        from facekit._compare_render import text_table

        return text_table(self)

    def __str__(self) -> str:
        return self.table()

    def to_dataframe(self) -> Any:
        """:meth:`rows` as a pandas DataFrame (``pip install 'facekit-detect[dataframe]'``)."""
        from facekit._compare_render import dataframe

        return dataframe(self)

    def draw(self, image: Any = None, *, line_width: int | None = None) -> Image.Image:
        """Every provider's faces on one copy of the image, one colour per provider, with a legend.

        Args:
            image: The compared image (path, bytes, PIL ...); None uses the image a client
                attached to one of the results (absent on results loaded from JSON).
            line_width: Box line width, pixels (default scales with the image).
        """
        from facekit._compare_render import draw

        return draw(self, image, line_width=line_width)

    def to_json(self, *, indent: int | None = 2, results: bool = False) -> str:
        """The comparison as JSON; ``results=True`` includes each provider's full result."""
        return self.model_dump_json(indent=indent, exclude=None if results else {"results"})


def _age(face: Face) -> tuple[float, float] | None:
    attributes = face.attributes
    if attributes.age is not None:
        return attributes.age, attributes.age
    if attributes.age_range is not None:
        return attributes.age_range.low, attributes.age_range.high
    return None


def _age_difference(first: Face, second: Face) -> float | None:
    a, b = _age(first), _age(second)
    if a is None or b is None:
        return None
    return max(0.0, b[0] - a[1], a[0] - b[1])


def _agree(first: Any, second: Any) -> bool | None:
    return None if first is None or second is None else first == second


def _dominant(face: Face) -> str | None:
    emotion = face.attributes.emotion
    return emotion.dominant if emotion is not None else None


def pair_agreement(first: str, a: Face, second: str, b: Face) -> PairAgreement:
    """Score one face as two providers saw it (see :class:`PairAgreement`)."""
    shared = tuple(name for name in (a.landmarks or {}) if name in (b.landmarks or {}))
    distance = None
    if shared:
        assert a.landmarks is not None and b.landmarks is not None
        total = sum(math.dist((a.landmarks[n].x, a.landmarks[n].y), (b.landmarks[n].x, b.landmarks[n].y)) for n in shared)
        distance = total / len(shared)
    gender_a, gender_b = a.attributes.gender, b.attributes.gender
    return PairAgreement(
        first=first,
        second=second,
        box_iou=a.box.iou(b.box),
        landmark_distance=distance,
        landmarks_compared=shared,
        age_difference=_age_difference(a, b),
        gender_agrees=_agree(gender_a.value if gender_a else None, gender_b.value if gender_b else None),
        emotion_agrees=_agree(_dominant(a), _dominant(b)),
    )


def _named(results: Mapping[str, DetectionResult] | Iterable[DetectionResult | BatchItem]) -> dict[str, DetectionResult]:
    if isinstance(results, Mapping):
        named = dict(results)
    else:
        named = {}
        for value in results:
            result = value.unwrap() if isinstance(value, BatchItem) else value
            name, number = result.provider, 1
            while name in named:  # the same provider twice (e.g. two configurations): local, local#2
                number += 1
                name = f"{result.provider}#{number}"
            named[name] = result
    for name, result in named.items():
        if not isinstance(result, DetectionResult):
            raise InvalidRequestError(f"{name!r}: expected a DetectionResult, got {type(result).__name__}")
    return named


def _check_same_image(named: Mapping[str, DetectionResult]) -> None:
    sizes = {name: (r.image.width, r.image.height) for name, r in named.items() if r.image.width and r.image.height}
    if len(set(sizes.values())) > 1:
        shown = ", ".join(f"{name} {w}x{h}" for name, (w, h) in sizes.items())
        raise InvalidRequestError(f"the results are of different images ({shown}); compare results of one image")


def compare(
    results: Mapping[str, DetectionResult] | Iterable[DetectionResult | BatchItem], *, iou: float = DEFAULT_IOU
) -> Comparison:
    """Match the faces of several providers on one image and score how they agree.

    Providers are taken in order: the first one's faces start the groups; each next provider's
    faces are assigned to the groups so far by an optimal one-to-one assignment on box IoU (a
    face's IoU with a group is its mean IoU with the group's faces), pairs below ``iou`` left
    apart; a face left over starts a group of its own (found by that provider only).

    Args:
        results: Provider name -> result, or results (or batch items) each named by its
            ``provider`` (``local``, ``local#2`` for the same provider twice).
        iou: Smallest box IoU for the same face, 0..1 (default 0.3).

    Returns:
        A :class:`Comparison`: ``str(comparison)`` is the agreement table.

    Raises:
        InvalidRequestError: Fewer than two results, results of images of different sizes,
            or an IoU threshold outside (0, 1].

    Example:
        >>> comparison = facekit.compare({"local": local_result, "aws": aws_result})
        >>> print(comparison)
    """
    if not 0.0 < iou <= 1.0:
        raise InvalidRequestError(f"iou must be in (0, 1], got {iou}")
    named = _named(results)
    if len(named) < 2:
        raise InvalidRequestError(f"compare needs results of at least two providers, got {len(named)}")
    _check_same_image(named)
    members: list[dict[str, int]] = []
    for name, result in named.items():
        boxes = [[named[other].faces[index].box for other, index in group.items()] for group in members]
        scores = [[sum(box.iou(face.box) for box in group) / len(group) for face in result.faces] for group in boxes]
        taken: set[int] = set()
        for group, position in best_assignment(scores, minimum=iou):
            members[group][name] = position
            taken.add(position)
        members.extend({name: position} for position in range(len(result.faces)) if position not in taken)
    groups = []
    for number, faces in enumerate(members, start=1):
        pairs = [
            pair_agreement(a, named[a].faces[faces[a]], b, named[b].faces[faces[b]])
            for a, b in itertools.combinations(faces, 2)
        ]
        groups.append(FaceGroup(number=number, faces=faces, pairs=pairs))
    return Comparison(providers=list(named), iou_threshold=iou, groups=groups, results=named)
