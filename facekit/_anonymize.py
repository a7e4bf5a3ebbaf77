"""Hide faces: blur, pixelate or fill each face's box or a landmark-fitted ellipse (Pillow only).

The region hidden for a face is its box grown by ``margin`` (a fraction of the box size), or,
with ``shape="ellipse"`` (the default), an ellipse with the grown box's width and height,
centred on the box and tilted with the eye line when the face has eye landmarks (so a tilted
head stays covered). Regions are clipped to the image; a face wholly outside it changes nothing.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageDraw, ImageFilter

from facekit._errors import InvalidRequestError
from facekit._geometry import BoundingBox

if TYPE_CHECKING:
    from facekit._face import Face

#: The result whose faces this module reads; typed loosely because ``DetectionResult``'s own
#: methods call this module, which must not import it back (no import cycle, tests/test_import_graph.py).
DetectionResult = Any

__all__ = ["METHODS", "SHAPES", "anonymize"]

METHODS = ("blur", "pixelate", "fill")
SHAPES = ("box", "ellipse")


def _eye_angle(face: Face) -> float:
    """The tilt of the eye line, radians (0 without eye landmarks)."""
    marks = face.landmarks or {}
    left = marks.get("left_eye") or marks.get("left_pupil")
    right = marks.get("right_eye") or marks.get("right_pupil")
    if left is None or right is None:
        return 0.0
    return math.atan2(right.y - left.y, right.x - left.x)


def _ellipse(face: Face, half_width: float, half_height: float, steps: int = 72) -> list[tuple[float, float]]:
    """An ellipse around the face: centred on the box, tilted with the eye line when landmarks exist."""
    centre = face.box.center
    angle = _eye_angle(face)
    cos, sin = math.cos(angle), math.sin(angle)
    points = []
    for step in range(steps):
        t = 2 * math.pi * step / steps
        x, y = half_width * math.cos(t), half_height * math.sin(t)
        points.append((centre.x + x * cos - y * sin, centre.y + x * sin + y * cos))
    return points


def _region(picture: Image.Image, box: tuple[int, int, int, int], method: str, strength: float, color: tuple[int, int, int]) -> Image.Image:
    x1, y1, x2, y2 = box
    part = picture.crop(box)
    side = max(x2 - x1, y2 - y1)
    if method == "fill":
        return Image.new("RGB", part.size, color)
    if method == "pixelate":
        blocks = max(1, round(strength))
        small = part.resize((max(1, (x2 - x1) * blocks // side), max(1, (y2 - y1) * blocks // side)), Image.Resampling.BOX)
        return small.resize(part.size, Image.Resampling.NEAREST)
    return part.filter(ImageFilter.GaussianBlur(radius=max(1.0, side * strength)))


def anonymize(
    result: DetectionResult,
    image: Any = None,
    *,
    method: str = "blur",
    shape: str = "ellipse",
    margin: float = 0.1,
    strength: float | None = None,
    color: tuple[int, int, int] = (0, 0, 0),
) -> Image.Image:
    """A copy of the image with every face hidden.

    Args:
        result: The detection result.
        image: The detected image; None uses the image the client attached.
        method: ``"blur"`` (Gaussian), ``"pixelate"`` (blocks) or ``"fill"`` (solid ``color``).
        shape: ``"ellipse"`` (the ellipse inside the grown box) or ``"box"``.
        margin: Growth of the box on each side, as a fraction of its width/height (0..1).
        strength: Blur radius as a fraction of the face's longer side (default 0.2), or the
            number of pixel blocks across the face (default 8).
        color: RGB fill colour for ``method="fill"``.

    Returns:
        An RGB PIL image the size of the upright image.

    Raises:
        InvalidRequestError: Unknown method or shape, negative margin, no image attached.
    """
    if method not in METHODS:
        raise InvalidRequestError(f"unknown anonymize method {method!r}; use one of {', '.join(METHODS)}")
    if shape not in SHAPES:
        raise InvalidRequestError(f"unknown shape {shape!r}; use one of {', '.join(SHAPES)}")
    if margin < 0:
        raise InvalidRequestError(f"margin must be >= 0, got {margin}")
    amount = strength if strength is not None else (8.0 if method == "pixelate" else 0.2)
    if amount <= 0:
        raise InvalidRequestError(f"strength must be positive, got {strength}")
    canvas: Image.Image = result._picture(image).copy()
    width, height = canvas.size
    for face in result.faces:
        box = face.box
        grown = BoundingBox(
            left=box.left - margin * box.width,
            top=box.top - margin * box.height,
            width=box.width * (1 + 2 * margin),
            height=box.height * (1 + 2 * margin),
            image_width=width,
            image_height=height,
        )
        outline = _ellipse(face, grown.width / 2, grown.height / 2) if shape == "ellipse" else None
        if outline is not None:
            xs, ys = [x for x, _ in outline], [y for _, y in outline]
            grown = BoundingBox.from_xyxy(min(xs), min(ys), max(xs), max(ys), image_width=width, image_height=height)
        x1, y1, x2, y2 = grown.to_int(clip=True)
        if x2 - x1 < 1 or y2 - y1 < 1:
            continue
        hidden = _region(canvas, (x1, y1, x2, y2), method, amount, color)
        mask = None
        if outline is not None:
            mask = Image.new("L", hidden.size, 0)
            ImageDraw.Draw(mask).polygon([(x - x1, y - y1) for x, y in outline], fill=255)
        canvas.paste(hidden, (x1, y1), mask)
    return canvas
