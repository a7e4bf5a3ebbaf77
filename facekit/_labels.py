"""Where face labels go on a drawing: outside every face box and clear of each other.

:func:`place_labels` is pure geometry (no Pillow): given the face boxes and each label's size,
it returns one rectangle per label, tried in this order until one covers no face box and no
label already placed, all clamped to the image:

1. right above the face, its left edge on the box's (then right-aligned, then centred);
2. right below it, the same three ways;
3. beside it, left then right, top-aligned, bottom-aligned, centred;
4. the same positions pushed farther out, one step (half a label) at a time, up to
   :data:`MAX_STEPS` steps.

On a photo so crowded that no such place exists, the label goes where it covers the least of
the *other* faces, then the least of the other labels, then the least of its own face (inside
its own box's top, as a last resort), so a neighbour is covered only when nothing else fits.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

__all__ = ["MAX_STEPS", "Rect", "intersection", "place_labels"]

#: A rectangle ``(x1, y1, x2, y2)`` in pixels, ``x2 > x1``, ``y2 > y1``.
Rect = tuple[float, float, float, float]

#: How many half-label steps a label may be pushed away from its face before the fallback.
MAX_STEPS = 6


def intersection(a: Rect, b: Rect) -> float:
    """The area two rectangles share, square pixels (0 when they only touch)."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return width * height if width > 0 and height > 0 else 0.0


def _clamp(x: float, y: float, size: tuple[float, float], image: tuple[float, float]) -> Rect:
    w, h = size
    x = min(max(x, 0.0), max(image[0] - w, 0.0))
    y = min(max(y, 0.0), max(image[1] - h, 0.0))
    return (x, y, x + w, y + h)


def _positions(box: Rect, size: tuple[float, float], gap: float) -> Iterator[tuple[float, float]]:
    """Top-left corners to try, nearest first (see the module docstring)."""
    x1, y1, x2, y2 = box
    w, h = size
    along_x = (x1, x2 - w, (x1 + x2 - w) / 2)
    along_y = (y1, y2 - h, (y1 + y2 - h) / 2)
    for step in range(MAX_STEPS + 1):
        dx, dy = step * w / 2, step * h / 2
        for x in along_x:
            yield x, y1 - gap - h - dy
        for x in along_x:
            yield x, y2 + gap + dy
        for y in along_y:
            yield x1 - gap - w - dx, y
        for y in along_y:
            yield x2 + gap + dx, y
        if step:  # slide along the top and bottom edges
            for x in (x1 - dx, x1 + dx):
                yield x, y1 - gap - h
                yield x, y2 + gap
            for y in (y1 - dy, y1 + dy):
                yield x1 - gap - w, y
                yield x2 + gap, y
    yield x1, y1  # the fallback's last resort: inside the top of its own box
    yield x1, y2 - h


def place_labels(
    boxes: Sequence[Rect],
    sizes: Sequence[tuple[float, float] | None],
    image_size: tuple[float, float],
    *,
    gap: float = 1.0,
) -> list[Rect | None]:
    """Rectangles for labels, one per face, that cover no face box and no other label when possible.

    Args:
        boxes: Face boxes ``(x1, y1, x2, y2)``, pixels, clipped to the image; labels are placed
            in this order (give the most important faces first).
        sizes: ``(width, height)`` of each face's label, pixels, or None for no label.
        image_size: ``(width, height)`` of the image, pixels; every rectangle stays inside it
            (a label larger than the image is pinned to its top-left corner).
        gap: Space between a label and its face box, pixels.

    Returns:
        ``rects[i]`` for ``boxes[i]``: the label's rectangle, or None where ``sizes[i]`` is None.
    """
    placed: list[Rect] = []
    rects: list[Rect | None] = []
    for index, (own, size) in enumerate(zip(boxes, sizes, strict=True)):
        if size is None:
            rects.append(None)
            continue
        reach = (MAX_STEPS + 2) * max(size)  # nothing farther can touch a candidate
        area = (own[0] - reach, own[1] - reach, own[2] + reach, own[3] + reach)
        others = [box for number, box in enumerate(boxes) if number != index and intersection(box, area)]
        near_labels = [rect for rect in placed if intersection(rect, area)]
        best: tuple[float, float, float, int] | None = None
        chosen: Rect | None = None
        for order, (x, y) in enumerate(_positions(own, size, gap)):
            rect = _clamp(x, y, size, image_size)
            cost = (
                sum(intersection(rect, box) for box in others),
                sum(intersection(rect, label) for label in near_labels),
                intersection(rect, own),
                order,
            )
            if cost[:3] == (0.0, 0.0, 0.0):
                chosen = rect
                break
            if best is None or cost < best:
                best, chosen = cost, rect
        assert chosen is not None
        placed.append(chosen)
        rects.append(chosen)
    return rects
