"""Rendering a :class:`~facekit._compare.Comparison`: table rows, fixed-width text, DataFrame, drawing."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from facekit._compare_types import FaceGroup, PairAgreement
from facekit._draw import PALETTE, draw_faces

if TYPE_CHECKING:
    from PIL import Image

    from facekit._face import Face
    from facekit._models import DetectionResult


class Comparison(Protocol):
    """What rendering needs of a :class:`facekit.Comparison` (kept apart so neither imports the other)."""

    @property
    def providers(self) -> list[str]: ...

    @property
    def groups(self) -> list[FaceGroup]: ...

    @property
    def results(self) -> dict[str, DetectionResult]: ...

    def face(self, group: FaceGroup | int, provider: str) -> Face: ...

    def only(self, provider: str | None = None) -> list[FaceGroup]: ...

__all__ = ["dataframe", "draw", "rows", "summary", "text_table"]

#: Keys of :func:`rows`, in order.
COLUMNS = (
    "face", "first", "second", "first_index", "second_index", "box_iou", "landmark_px", "landmarks_compared",
    "age_first", "age_second", "age_difference", "gender_first", "gender_second", "gender_agrees",
    "emotion_first", "emotion_second", "emotion_agrees",
)
_HEADERS = ("face", "providers", "box IoU", "landmarks px", "age, years", "gender", "emotion")


def _age_text(face: Face) -> str | None:
    attributes = face.attributes
    if attributes.age is not None:
        return f"{attributes.age:.0f}"
    if attributes.age_range is not None:
        return f"{attributes.age_range.low:.0f}-{attributes.age_range.high:.0f}"
    return None


def _gender(face: Face) -> str | None:
    return face.attributes.gender.value if face.attributes.gender is not None else None


def _emotion(face: Face) -> str | None:
    return face.attributes.emotion.dominant if face.attributes.emotion is not None else None


def _row(comparison: Comparison, group: FaceGroup, pair: PairAgreement | None) -> dict[str, Any]:
    first = pair.first if pair is not None else group.only
    assert first is not None
    a = comparison.face(group, first)
    b = comparison.face(group, pair.second) if pair is not None else None
    return {
        "face": group.number,
        "first": first,
        "second": pair.second if pair is not None else None,
        "first_index": group.faces[first],
        "second_index": group.faces[pair.second] if pair is not None else None,
        "box_iou": pair.box_iou if pair is not None else None,
        "landmark_px": pair.landmark_distance if pair is not None else None,
        "landmarks_compared": len(pair.landmarks_compared) if pair is not None else None,
        "age_first": _age_text(a),
        "age_second": _age_text(b) if b is not None else None,
        "age_difference": pair.age_difference if pair is not None else None,
        "gender_first": _gender(a),
        "gender_second": _gender(b) if b is not None else None,
        "gender_agrees": pair.gender_agrees if pair is not None else None,
        "emotion_first": _emotion(a),
        "emotion_second": _emotion(b) if b is not None else None,
        "emotion_agrees": pair.emotion_agrees if pair is not None else None,
    }


def rows(comparison: Comparison) -> list[dict[str, Any]]:
    """One dict per matched pair of providers and per face one provider found alone, by face number.

    Keys: ``face`` (group number), ``first``/``second`` (providers; ``second`` None for a
    one-provider face), ``first_index``/``second_index`` (face index in each result),
    ``box_iou`` (0..1), ``landmark_px`` (mean distance, pixels), ``landmarks_compared``
    (count), ``age_first``/``age_second`` (text: ``"27"`` or a range ``"22-30"``),
    ``age_difference`` (years), ``gender_*`` and ``emotion_*`` (values and ``*_agrees``).
    """
    table: list[dict[str, Any]] = []
    for group in comparison.groups:
        if group.only is not None:
            table.append(_row(comparison, group, None))
        table.extend(_row(comparison, group, pair) for pair in group.pairs)
    return table


def _both(first: Any, second: Any, agrees: bool | None) -> str:
    if first is None and second is None:
        return "-"
    sign = "=" if agrees else "!=" if agrees is False else "vs"
    return f"{first if first is not None else '?'} {sign} {second if second is not None else '?'}"


def _cells(row: dict[str, Any]) -> tuple[str, ...]:
    if row["second"] is None:
        face_age = row["age_first"] or "-"
        return (f"#{row['face']}", f"{row['first']} only", "-", "-", face_age, row["gender_first"] or "-",
                row["emotion_first"] or "-")
    landmarks = "-" if row["landmark_px"] is None else f"{row['landmark_px']:.1f} ({row['landmarks_compared']})"
    age = _both(row["age_first"], row["age_second"], None)
    if row["age_difference"] is not None:
        age = f"{age}: {row['age_difference']:.1f}"
    return (
        f"#{row['face']}",
        f"{row['first']} ~ {row['second']}",
        f"{row['box_iou']:.2f}",
        landmarks,
        age,
        _both(row["gender_first"], row["gender_second"], row["gender_agrees"]),
        _both(row["emotion_first"], row["emotion_second"], row["emotion_agrees"]),
    )


def summary(comparison: Comparison) -> list[str]:
    """One line per pair of providers (matched faces, mean IoU, agreement counts) and per provider."""
    lines = []
    for first, second in itertools.combinations(comparison.providers, 2):
        pairs = [p for g in comparison.groups for p in g.pairs if (p.first, p.second) == (first, second)]
        if not pairs:
            lines.append(f"{first} ~ {second}: no face matched")
            continue
        parts = [f"{len(pairs)} matched", f"mean IoU {sum(p.box_iou for p in pairs) / len(pairs):.2f}"]
        ages = [p.age_difference for p in pairs if p.age_difference is not None]
        if ages:
            parts.append(f"mean age difference {sum(ages) / len(ages):.1f} years")
        for label, values in (("gender", [p.gender_agrees for p in pairs]), ("emotion", [p.emotion_agrees for p in pairs])):
            known = [value for value in values if value is not None]
            if known:
                parts.append(f"{label} agrees {sum(known)}/{len(known)}")
        lines.append(f"{first} ~ {second}: " + ", ".join(parts))
    for provider in comparison.providers:
        found = len(comparison.results[provider].faces)
        lines.append(f"{provider}: {found} face(s), {len(comparison.only(provider))} found by it only")
    return lines


def text_table(comparison: Comparison) -> str:
    """The agreement table (one line per matched pair or one-provider face) and the summary."""
    body = [_cells(row) for row in rows(comparison)]
    widths = [max(len(cells[column]) for cells in [_HEADERS, *body]) for column in range(len(_HEADERS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
             for cells in [_HEADERS, *body]]
    if not body:
        lines.append("(no face found by any provider)")
    return "\n".join([*lines, "", *summary(comparison)])


def dataframe(comparison: Comparison) -> Any:
    """:func:`rows` as a pandas DataFrame (nullable ``Int64``/``boolean`` columns)."""
    from facekit._deps import require

    pandas = require("pandas", extra="dataframe", feature="Comparison.to_dataframe()")
    frame = pandas.DataFrame(rows(comparison), columns=list(COLUMNS))
    kinds = {"face": "Int64", "first_index": "Int64", "second_index": "Int64", "landmarks_compared": "Int64",
             "gender_agrees": "boolean", "emotion_agrees": "boolean"}
    return frame.astype(kinds)


def _labeller(texts: dict[int, str]) -> Callable[[Face], str | None]:
    return lambda face: texts.get(face.index)


def _picture(comparison: Comparison, image: Any) -> Image.Image:
    if image is None:
        for result in comparison.results.values():
            if result._image_ref is not None:
                return result._picture(None)
    first = next(iter(comparison.results.values()))
    return first._picture(image)


def draw(comparison: Comparison, image: Any, *, line_width: int | None = None) -> Image.Image:
    """Each provider's boxes and landmarks in its colour, ``#n`` labels per face group, and a legend.

    The first provider's boxes are drawn widest and each next one narrower on top, so boxes that
    coincide show as stripes of every colour.
    """
    from PIL import ImageDraw, ImageFont

    canvas = _picture(comparison, image)
    colors = {name: PALETTE[number % len(PALETTE)] for number, name in enumerate(comparison.providers)}
    base = line_width or max(2, round(max(canvas.size) / 400))
    count = len(comparison.providers)
    for number, name in enumerate(comparison.providers):  # wider lines first: boxes that coincide stay visible
        faces = comparison.results[name].faces
        canvas = draw_faces(canvas, faces, labels=False, line_width=base * (count - number), colors=(colors[name],))
    for name in comparison.providers:
        labelled = [g for g in comparison.groups if next(iter(g.faces)) == name]
        if not labelled:
            continue
        texts = {g.number: f"#{g.number}" + (f" {name} only" if g.only else "") for g in labelled}
        faces = [comparison.face(g, name).model_copy(update={"index": g.number}) for g in labelled]
        canvas = draw_faces(canvas, faces, boxes=False, landmarks=False, labels=_labeller(texts),
                            line_width=base, colors=(colors[name],))
    pen = ImageDraw.Draw(canvas)
    size = max(12, round(max(canvas.size) / 50))
    font = ImageFont.load_default(size=size)
    y = size // 2
    for name in comparison.providers:
        pen.rectangle((size // 2, y, size // 2 + size, y + size), fill=colors[name])
        pen.text((size * 2, y), name, fill=colors[name], font=font, stroke_width=2, stroke_fill=(0, 0, 0))
        y += round(size * 1.4)
    return canvas
