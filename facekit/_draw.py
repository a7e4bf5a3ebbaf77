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
from facekit._labels import Rect, place_labels

if TYPE_CHECKING:
    from facekit._face import Face

__all__ = ["PALETTE", "crop_faces", "draw_faces", "face_label", "faces_html", "label_layout", "thumbnail_png"]

#: Box colours, cycled by face index (RGB).
PALETTE: tuple[tuple[int, int, int], ...] = (
    (0, 200, 83),
    (41, 121, 255),
    (255, 145, 0),
    (213, 0, 249),
    (0, 184, 212),
    (255, 23, 68),
)

#: Longest side of the image rendered in Jupyter (``_repr_html_``), pixels.
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
            ``face -> str | None``. Each label sits on a box of its face's colour, outside every
            face box and clear of the other labels whenever the picture leaves room
            (:func:`label_layout`), so crowded photos stay readable.
        line_width: Box line width, pixels (default: about 1/300 of the longer side, at least 2).
        colors: RGB colours cycled by face index.

    Returns:
        A new RGB PIL image the size of ``picture``.
    """
    canvas = picture.copy()
    draw = ImageDraw.Draw(canvas)
    width, height = canvas.size
    stroke = _stroke(canvas.size, line_width)
    for face in faces:
        color = colors[face.index % len(colors)]
        box = _box_in(face.box, width, height)
        if boxes and box.area > 0:
            draw.rectangle(box.xyxy, outline=color, width=stroke)
        if landmarks and face.landmarks:
            radius = max(1.5, stroke * 0.9)
            for point in face.landmarks.values():
                draw.ellipse((point.x - radius, point.y - radius, point.x + radius, point.y + radius), fill=color)
    font = _font(max(12, stroke * 6))
    for face, text, rect in label_layout(canvas.size, faces, labels=labels, line_width=line_width):
        color = colors[face.index % len(colors)]
        left, top, _, _ = draw.textbbox((0, 0), text, font=font)
        draw.rectangle(rect, fill=color)
        ink = (0, 0, 0) if _luminance(color) > 150 else (255, 255, 255)
        draw.text((rect[0] + stroke - left, rect[1] + stroke - top), text, fill=ink, font=font)
    return canvas


def _stroke(size: tuple[int, int], line_width: int | None) -> int:
    return line_width or max(2, round(max(size) / 300))


def _luminance(color: tuple[int, int, int]) -> float:
    red, green, blue = color
    return 0.299 * red + 0.587 * green + 0.114 * blue


def label_layout(
    size: tuple[int, int],
    faces: Sequence[Face],
    *,
    labels: bool | LabelFunction = True,
    line_width: int | None = None,
) -> list[tuple[Face, str, Rect]]:
    """Where :func:`draw_faces` puts each label: ``(face, text, (x1, y1, x2, y2))`` per labelled face.

    The rectangles (text plus padding, on the label's background colour) come from
    :func:`facekit._labels.place_labels`: outside every face box, clear of each other,
    inside the image, whenever the picture leaves room.

    Args:
        size: ``(width, height)`` of the picture, pixels.
        faces: Faces in pixels of the picture; placed in face order (largest first).
        labels: As for :func:`draw_faces`.
        line_width: As for :func:`draw_faces` (the padding and font scale with it).
    """
    label_of: LabelFunction | None = face_label if labels is True else (labels or None)
    if label_of is None:
        return []
    width, height = size
    stroke = _stroke(size, line_width)
    font = _font(max(12, stroke * 6))
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    texts = [label_of(face) or None for face in faces]
    boxes: list[Rect] = [_box_in(face.box, width, height).xyxy for face in faces]
    sizes: list[tuple[float, float] | None] = []
    for text in texts:
        if text is None:
            sizes.append(None)
            continue
        left, top, right, bottom = measure.textbbox((0, 0), text, font=font)
        sizes.append((right - left + 2 * stroke, bottom - top + 2 * stroke))
    rects = place_labels(boxes, sizes, (width, height), gap=1.0)
    return [
        (face, text, rect) for face, text, rect in zip(faces, texts, rects, strict=True) if text is not None and rect
    ]


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
