"""Points and boxes, stored in pixels of the upright image, with exact conversions.

A :class:`BoundingBox` keeps ``left, top, width, height`` as floats in pixels of the upright
(EXIF-applied) image the caller passed, plus the size of that image when it is known, so that
``to_ratio()`` and ``clipped()`` need no arguments. Boxes may lie partly outside the image
(Rekognition returns negative ratios and ratios above 1): they are kept as returned, and
``clipped()`` gives the part inside the image.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict

from facekit._errors import ImageSizeUnknownError

__all__ = ["BoundingBox", "Point", "RatioBox"]


class Point(BaseModel):
    """A point in pixels of the upright image (x to the right, y down)."""

    model_config = ConfigDict(frozen=True)

    x: float
    y: float

    def scaled(self, sx: float, sy: float) -> Point:
        """Return the point with x multiplied by ``sx`` and y by ``sy``."""
        return Point(x=self.x * sx, y=self.y * sy)

    def to_ratio(self, image_width: float, image_height: float) -> tuple[float, float]:
        """Return ``(x / image_width, y / image_height)``, ratios of the image size (0..1 inside)."""
        return self.x / image_width, self.y / image_height


class RatioBox(BaseModel):
    """A box as ratios of the image size (0..1 inside the image; may exceed that range)."""

    model_config = ConfigDict(frozen=True)

    left: float
    top: float
    width: float
    height: float

    def to_pixels(self, image_width: int, image_height: int) -> BoundingBox:
        """Convert to a :class:`BoundingBox` in pixels of an image of the given size.

        Args:
            image_width: Width of the image the ratios refer to, pixels.
            image_height: Height of the image the ratios refer to, pixels.
        """
        return BoundingBox(
            left=self.left * image_width,
            top=self.top * image_height,
            width=self.width * image_width,
            height=self.height * image_height,
            image_width=image_width,
            image_height=image_height,
        )


class BoundingBox(BaseModel):
    """A face rectangle in pixels of the upright image.

    Attributes:
        left: x of the left edge, pixels (may be negative).
        top: y of the top edge, pixels (may be negative).
        width: Width, pixels.
        height: Height, pixels.
        image_width: Width of the image the box refers to, pixels; None when unknown.
        image_height: Height of the image the box refers to, pixels; None when unknown.

    Example:
        >>> box = BoundingBox(left=10, top=20, width=30, height=40, image_width=100, image_height=200)
        >>> box.xyxy
        (10.0, 20.0, 40.0, 60.0)
        >>> box.to_ratio().left
        0.1
    """

    model_config = ConfigDict(frozen=True)

    left: float
    top: float
    width: float
    height: float
    image_width: int | None = None
    image_height: int | None = None

    @classmethod
    def from_xyxy(
        cls,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        *,
        image_width: int | None = None,
        image_height: int | None = None,
    ) -> BoundingBox:
        """Build a box from corner coordinates ``(x1, y1, x2, y2)`` in pixels."""
        return cls(
            left=x1,
            top=y1,
            width=x2 - x1,
            height=y2 - y1,
            image_width=image_width,
            image_height=image_height,
        )

    @classmethod
    def from_ratio(
        cls, left: float, top: float, width: float, height: float, *, image_width: int, image_height: int
    ) -> BoundingBox:
        """Build a box from ratios of the image size (Rekognition's form)."""
        return RatioBox(left=left, top=top, width=width, height=height).to_pixels(image_width, image_height)

    @property
    def right(self) -> float:
        """x of the right edge, pixels."""
        return self.left + self.width

    @property
    def bottom(self) -> float:
        """y of the bottom edge, pixels."""
        return self.top + self.height

    @property
    def xyxy(self) -> tuple[float, float, float, float]:
        """``(x1, y1, x2, y2)`` corners, pixels."""
        return (self.left, self.top, self.right, self.bottom)

    @property
    def xywh(self) -> tuple[float, float, float, float]:
        """``(left, top, width, height)``, pixels."""
        return (self.left, self.top, self.width, self.height)

    def to_int(self, *, clip: bool = False) -> tuple[int, int, int, int]:
        """Integer corners ``(x1, y1, x2, y2)``, pixels, each rounded to the nearest pixel edge.

        Ready for ``image.crop(box.to_int(clip=True))``, ``array[y1:y2, x1:x2]`` or OpenCV drawing.

        Args:
            clip: Clip to the image first (needs the image size) so the corners are valid indices.

        Raises:
            ImageSizeUnknownError: ``clip=True`` and the image size is not known.
        """
        box = self.clipped() if clip else self
        x1, y1, x2, y2 = (math.floor(value + 0.5) for value in box.xyxy)
        return x1, y1, max(x1, x2), max(y1, y2)

    @property
    def area(self) -> float:
        """Area, square pixels (0 for a degenerate box)."""
        return max(self.width, 0.0) * max(self.height, 0.0)

    @property
    def center(self) -> Point:
        """Centre of the box, pixels."""
        return Point(x=self.left + self.width / 2, y=self.top + self.height / 2)

    def _require_size(self) -> tuple[int, int]:
        if self.image_width is None or self.image_height is None:
            raise ImageSizeUnknownError(
                "the image size is unknown (e.g. a URL sent to the service without downloading it), "
                "so this box cannot be converted to ratios or clipped; call detect(..., probe_size=True) "
                "or pass the size explicitly with box.with_image_size(width, height)"
            )
        return self.image_width, self.image_height

    def with_image_size(self, image_width: int, image_height: int) -> BoundingBox:
        """Return the same box, stating the size of the image it refers to (pixels)."""
        return self.model_copy(update={"image_width": image_width, "image_height": image_height})

    def to_ratio(self) -> RatioBox:
        """Convert to ratios of the image size (the inverse of :meth:`RatioBox.to_pixels`).

        Raises:
            ImageSizeUnknownError: The image size is not known.
        """
        width, height = self._require_size()
        return RatioBox(
            left=self.left / width,
            top=self.top / height,
            width=self.width / width,
            height=self.height / height,
        )

    def clipped(self) -> BoundingBox:
        """Return the part of the box inside the image (may have zero area).

        Raises:
            ImageSizeUnknownError: The image size is not known.
        """
        width, height = self._require_size()
        x1 = min(max(self.left, 0.0), float(width))
        y1 = min(max(self.top, 0.0), float(height))
        x2 = min(max(self.right, 0.0), float(width))
        y2 = min(max(self.bottom, 0.0), float(height))
        return BoundingBox.from_xyxy(x1, y1, x2, y2, image_width=width, image_height=height)

    def scaled(self, sx: float, sy: float, *, image_width: int | None, image_height: int | None) -> BoundingBox:
        """Return the box with x multiplied by ``sx`` and y by ``sy``, for an image of the new size."""
        return BoundingBox(
            left=self.left * sx,
            top=self.top * sy,
            width=self.width * sx,
            height=self.height * sy,
            image_width=image_width,
            image_height=image_height,
        )

    def iou(self, other: BoundingBox) -> float:
        """Intersection over union with another box (0..1)."""
        ix = max(0.0, min(self.right, other.right) - max(self.left, other.left))
        iy = max(0.0, min(self.bottom, other.bottom) - max(self.top, other.top))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0
