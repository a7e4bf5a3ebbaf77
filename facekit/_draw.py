"""Pixels for results: draw boxes, landmarks and labels; crop faces; render in Jupyter.

A :class:`~facekit.DetectionResult` holds no pixels. The client attaches a private
:class:`ImageRef` to each result it returns (not serialised, not part of equality), so that
``result.draw()`` and Jupyter's rich display work without passing the image again. The
reference is light: a path input keeps only the path (re-read on demand), a URL or ``s3://``
input keeps only the address (fetched on demand, bounded), bytes keep the encoded bytes, PIL
and numpy inputs keep the upright image. A result loaded from JSON has no reference: pass
``image=`` explicitly.

Drawing uses Pillow only.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageDraw, ImageFont

from facekit._errors import InvalidRequestError
from facekit._geometry import BoundingBox
from facekit._image import SourceImage, open_image, to_rgb

if TYPE_CHECKING:
    from facekit._models import DetectionResult, Face

__all__ = ["PALETTE", "ImageRef", "crop_faces", "draw_result", "face_label", "repr_html", "repr_png"]

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


class ImageRef:
    """A light, re-openable reference to the image a result was computed from.

    Args:
        source: The opened input.
    """

    def __init__(self, source: SourceImage) -> None:
        self._path = source.name if source.source == "path" and source.name else None
        self._data = source.data if self._path is None else None
        self._url = source.url
        self._s3 = source.s3
        self._pixels = source if source.source in ("pil", "array") else None

    def __repr__(self) -> str:
        where = self._path or self._url or (self._s3.uri if self._s3 else None) or ("bytes" if self._data else "pixels")
        return f"ImageRef({where!r})"

    def open(self) -> Image.Image:
        """The upright RGB image (EXIF applied), read again from its origin when needed.

        Raises:
            InvalidImageError: The file is gone or unreadable.
            TransportError: A URL input could not be downloaded.
        """
        if self._path is not None:
            return open_image(self._path).rgb()
        if self._data is not None:
            return open_image(self._data).rgb()
        if self._pixels is not None:
            return self._pixels.rgb()
        if self._url is not None:
            from facekit._fetch import download_url

            return open_image(download_url(self._url)).rgb()
        if self._s3 is not None:
            from facekit._fetch import download_s3_object

            return open_image(download_s3_object(self._s3)).rgb()
        raise InvalidRequestError("the result has no image attached; pass image=...")


def image_for(result: DetectionResult, image: Any) -> Image.Image:
    if image is None:
        ref = result._image_ref
        if ref is None:
            raise InvalidRequestError(
                "this result has no image attached (e.g. it was loaded from JSON); pass the image: "
                "result.draw(image='photo.jpg')"
            )
        picture: Image.Image = ref.open()
    else:
        picture = to_rgb(open_image(image).upright())
    width, height = result.image.width, result.image.height
    if width is not None and height is not None and picture.size != (width, height):
        raise InvalidRequestError(
            f"the image is {picture.width}x{picture.height} pixels but the result refers to a "
            f"{width}x{height} image; pass the image that was detected"
        )
    return picture


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


def draw_result(
    result: DetectionResult,
    image: Any = None,
    *,
    boxes: bool = True,
    landmarks: bool = True,
    labels: bool | LabelFunction = True,
    line_width: int | None = None,
    colors: tuple[tuple[int, int, int], ...] = PALETTE,
) -> Image.Image:
    """Draw the result's faces on a copy of the image.

    Args:
        result: The detection result.
        image: The detected image (any input ``FaceClient.detect`` accepts); None uses the image
            attached by the client.
        boxes: Draw face boxes (clipped to the image).
        landmarks: Draw landmark points.
        labels: True for :func:`face_label` (``"Female, 27"``), False for none, or a function
            ``face -> str | None``.
        line_width: Box line width, pixels (default: about 1/300 of the longer side, at least 2).
        colors: RGB colours cycled by face index.

    Returns:
        A new RGB PIL image the size of the upright image.

    Raises:
        InvalidRequestError: No image is attached and none given, or its size does not match.
    """
    canvas = image_for(result, image).copy()
    draw = ImageDraw.Draw(canvas)
    width, height = canvas.size
    stroke = line_width or max(2, round(max(width, height) / 300))
    font = _font(max(12, stroke * 6))
    label_of: LabelFunction | None = face_label if labels is True else (labels or None)
    for face in result.faces:
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


def crop_faces(result: DetectionResult, image: Any = None, *, margin: float = 0.0) -> list[Image.Image]:
    """Cut each face out of the image, in face order (``crops[i]`` is ``result.faces[i]``).

    Args:
        result: The detection result.
        image: The detected image; None uses the image attached by the client.
        margin: Extra border on every side, as a fraction of the box's width/height
            (0.2 adds 20% of the width left and right and 20% of the height above and below).

    Returns:
        RGB PIL images; the box is clipped to the image, so a face at the edge gives a smaller
        crop, and a box wholly outside the image gives an empty (0-pixel) image.

    Raises:
        InvalidRequestError: No image, a size mismatch, or a negative margin.
    """
    if margin < 0:
        raise InvalidRequestError(f"margin must be >= 0, got {margin}")
    picture = image_for(result, image)
    width, height = picture.size
    crops: list[Image.Image] = []
    for face in result.faces:
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


def _thumbnail_png(result: DetectionResult) -> bytes | None:
    if result._image_ref is None:
        return None
    try:
        picture = draw_result(result)
    except Exception:  # a display hook must never raise
        return None
    picture.thumbnail((REPR_MAX_SIDE, REPR_MAX_SIDE))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def repr_png(result: DetectionResult) -> bytes | None:
    """PNG bytes of the drawn result (at most ``REPR_MAX_SIDE`` pixels), or None without an image."""
    return _thumbnail_png(result)


def repr_html(result: DetectionResult) -> str:
    """An HTML summary: the drawn image (when attached) and a table of faces."""
    rows = []
    for face in result.faces:
        left, top, width, height = (round(value, 1) for value in face.box.xywh)
        confidence = "" if face.confidence is None else f"{face.confidence:.3f}"
        label = face_label(face) or ""
        rows.append(
            f"<tr><td>{face.index}</td><td>{left}, {top}, {width}, {height}</td>"
            f"<td>{confidence}</td><td>{html.escape(label)}</td></tr>"
        )
    png = _thumbnail_png(result)
    picture = (
        f'<img src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}" style="max-width:100%"/>'
        if png
        else ""
    )
    size = f"{result.image.width}x{result.image.height}" if result.image.width else "unknown size"
    caption = f"{html.escape(result.provider)}: {len(result.faces)} face(s), image {size}"
    table = (
        "<table><thead><tr><th>index</th><th>box (left, top, width, height) px</th><th>confidence</th>"
        f"<th>label</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    warnings = "".join(f"<li>{html.escape(text)}</li>" for text in result.warnings)
    notes = f"<ul>{warnings}</ul>" if warnings else ""
    return f"<div><p><b>{caption}</b></p>{picture}{table}{notes}</div>"
