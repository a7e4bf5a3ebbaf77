"""Pixels for results: draw boxes, landmarks and labels; crop faces; render in Jupyter.

The functions here take the picture (an upright RGB PIL image) and the faces; finding the
picture (the image the client attached, or one passed again) is the result's job
(:meth:`facekit.DetectionResult.draw`), so this module knows faces, not results.

Drawing uses Pillow only.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFont

from facekit._errors import InvalidRequestError
from facekit._geometry import BoundingBox

if TYPE_CHECKING:
    from facekit._face import Face

__all__ = ["PALETTE", "crop_faces", "draw_faces", "face_label", "faces_html", "thumbnail_png"]

#: Box colours, cycled by face index (RGB).
PALETTE: tuple[tuple[int, int, int], ...] = (
    (0, 200, 83),
    (41, 121, 255),
    (255, 145, 0),
    (213, 0, 249),
    (0, 184, 212),
    (255, 23, 68),
)

#: Longest side of the image rendered by ``_repr_png_``/``_repr_html_``, pixels.
REPR_MAX_SIDE = 800

LabelFunction = Callable[["Face"], "str | None"]


def face_label(face: Face) -> str | None:
    """The default label: gender and age when known (``"Female, 27"``), else the face index (``"#0"``)."""
    attributes = face.attributes
    parts: list[str] = []
    if attributes.gender is not None:
        parts.append(attributes.gender.value.capitalize())
    if attributes.age is not None:
        parts.append(f"{attributes.age:.0f}")
    elif attributes.age_range is not None:
        parts.append(f"{attributes.age_range.low:.0f}-{attributes.age_range.high:.0f}")
    return ", ".join(parts) if parts else f"#{face.index}"


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one bitmap size
        return ImageFont.load_default()


def _box_in(box: BoundingBox, width: int, height: int) -> BoundingBox:
    return box.with_image_size(width, height).clipped()


def draw_faces(
    picture: Image.Image,
    faces: Sequence[Face],
    *,
    boxes: bool = True,
    landmarks: bool = True,
    labels: bool | LabelFunction = True,
    line_width: int | None = None,
    colors: tuple[tuple[int, int, int], ...] = PALETTE,
) -> Image.Image:
    """Draw faces on a copy of ``picture``.

    Args:
        picture: The upright RGB image the faces refer to.
        faces: Faces in pixels of ``picture``.
        boxes: Draw face boxes (clipped to the image).
        landmarks: Draw landmark points.
        labels: True for :func:`face_label` (``"Female, 27"``), False for none, or a function
            ``face -> str | None``.
        line_width: Box line width, pixels (default: about 1/300 of the longer side, at least 2).
        colors: RGB colours cycled by face index.

    Returns:
        A new RGB PIL image the size of ``picture``.
    """
    canvas = picture.copy()
    draw = ImageDraw.Draw(canvas)
    width, height = canvas.size
    stroke = line_width or max(2, round(max(width, height) / 300))
    font = _font(max(12, stroke * 6))
    label_of: LabelFunction | None = face_label if labels is True else (labels or None)
    for face in faces:
        color = colors[face.index % len(colors)]
        box = _box_in(face.box, width, height)
        if boxes and box.area > 0:
            draw.rectangle(box.xyxy, outline=color, width=stroke)
        if landmarks and face.landmarks:
            radius = max(1.5, stroke * 0.9)
            for point in face.landmarks.values():
                draw.ellipse((point.x - radius, point.y - radius, point.x + radius, point.y + radius), fill=color)
        text = label_of(face) if label_of is not None else None
        if text:
            left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
            text_w, text_h = right - left, bottom - top
            x = min(max(box.left, 0.0), max(width - text_w - 2 * stroke, 0.0))
            y = box.top - text_h - 2 * stroke
            if y < 0:
                y = box.bottom + stroke
            draw.rectangle((x, y, x + text_w + 2 * stroke, y + text_h + 2 * stroke), fill=color)
            draw.text((x + stroke - left, y + stroke - top), text, fill=(255, 255, 255), font=font)
    return canvas


def crop_faces(picture: Image.Image, faces: Sequence[Face], *, margin: float = 0.0) -> list[Image.Image]:
    """Cut each face out of ``picture``, in face order (``crops[i]`` is ``faces[i]``).

    Args:
        picture: The upright RGB image the faces refer to.
        faces: Faces in pixels of ``picture``.
        margin: Extra border on every side, as a fraction of the box's width/height
            (0.2 adds 20% of the width left and right and 20% of the height above and below).

    Returns:
        RGB PIL images; the box is clipped to the image, so a face at the edge gives a smaller
        crop, and a box wholly outside the image gives an empty (0-pixel) image.

    Raises:
        InvalidRequestError: A negative margin.
    """
    if margin < 0:
        raise InvalidRequestError(f"margin must be >= 0, got {margin}")
    width, height = picture.size
    crops: list[Image.Image] = []
    for face in faces:
        box = face.box
        grown = BoundingBox(
            left=box.left - margin * box.width,
            top=box.top - margin * box.height,
            width=box.width * (1 + 2 * margin),
            height=box.height * (1 + 2 * margin),
        )
        x1, y1, x2, y2 = _box_in(grown, width, height).xyxy
        left, top = int(x1), int(y1)
        crops.append(picture.crop((left, top, max(left, round(x2)), max(top, round(y2)))))
    return crops


def thumbnail_png(picture: Image.Image, faces: Sequence[Face]) -> bytes:
    """PNG bytes of the faces drawn on ``picture``, at most :data:`REPR_MAX_SIDE` pixels a side."""
    drawn = draw_faces(picture, faces)
    drawn.thumbnail((REPR_MAX_SIDE, REPR_MAX_SIDE))
    buffer = io.BytesIO()
    drawn.save(buffer, format="PNG")
    return buffer.getvalue()


def faces_html(
    *,
    provider: str,
    faces: Sequence[Face],
    size: tuple[int | None, int | None],
    warnings: Sequence[str],
    png: bytes | None,
) -> str:
    """An HTML summary: the drawn image (when given) and a table of faces.

    Args:
        provider: Backend name shown in the caption.
        faces: The faces listed in the table.
        size: ``(width, height)`` of the image, pixels (None when unknown).
        warnings: Listed under the table.
        png: The drawn image (:func:`thumbnail_png`), or None.
    """
    rows = []
    for face in faces:
        left, top, width, height = (round(value, 1) for value in face.box.xywh)
        confidence = "" if face.confidence is None else f"{face.confidence:.3f}"
        label = face_label(face) or ""
        rows.append(
            f"<tr><td>{face.index}</td><td>{left}, {top}, {width}, {height}</td>"
            f"<td>{confidence}</td><td>{html.escape(label)}</td></tr>"
        )
    picture = (
        f'<img src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}" style="max-width:100%"/>'
        if png
        else ""
    )
    shown = f"{size[0]}x{size[1]}" if size[0] else "unknown size"
    caption = f"{html.escape(provider)}: {len(faces)} face(s), image {shown}"
    table = (
        "<table><thead><tr><th>index</th><th>box (left, top, width, height) px</th><th>confidence</th>"
        f"<th>label</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    items = "".join(f"<li>{html.escape(text)}</li>" for text in warnings)
    notes = f"<ul>{items}</ul>" if items else ""
    return f"<div><p><b>{caption}</b></p>{picture}{table}{notes}</div>"
