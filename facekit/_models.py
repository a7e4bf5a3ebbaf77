"""The result model every backend returns: :class:`DetectionResult`, :class:`ImageInfo` and
:class:`DetectRequest` (:class:`Face` and :class:`FaceEmbedding` live in ``_face`` and are
re-exported here).

All models are pydantic v2 and round-trip through JSON without loss::

    DetectionResult.model_validate_json(result.model_dump_json()) == result
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from facekit._face import Face, FaceEmbedding

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from PIL import Image

    from facekit._draw import LabelFunction
    from facekit._imageref import ImageRef
    from facekit._supervision import SupervisionFaces

__all__ = ["DetectRequest", "DetectionResult", "Face", "FaceEmbedding", "ImageInfo"]


class ImageInfo(BaseModel):
    """What facekit knows about the input image and what it sent.

    Attributes:
        width: Width of the upright (EXIF-applied) image, pixels; None when unknown (URL input
            not probed, S3 object whose header could not be read).
        height: Height of the upright image, pixels; None when unknown.
        format: Detected format of the input (``"JPEG"``, ``"PNG"``, ...), from the content.
        source: Kind of input: ``path``, ``bytes``, ``file``, ``url``, ``s3``, ``pil``, ``array``.
        exif_orientation: The EXIF Orientation tag of the input (1-8), None if absent.
        orientation_applied: True when the image was rotated/flipped per EXIF before detection.
        scale: Size sent / upright size when the image was resized for the provider, else None.
        sent_width: Width of the image actually sent or processed, pixels.
        sent_height: Height of the image actually sent or processed, pixels.
        sent_format: Format of what was sent (``"JPEG"`` after re-encoding, ``"url"``, ``"s3"``).
        reencoded: True when facekit re-encoded the image to meet the provider's limits.
    """

    model_config = ConfigDict(frozen=True)

    width: int | None = None
    height: int | None = None
    format: str | None = None
    source: str | None = None
    exif_orientation: int | None = None
    orientation_applied: bool = False
    scale: float | None = None
    sent_width: int | None = None
    sent_height: int | None = None
    sent_format: str | None = None
    reencoded: bool = False


class DetectRequest(BaseModel):
    """What the caller asked for (kept on the result).

    Attributes:
        attributes: Canonical attribute names requested (see ``facekit.ATTRIBUTES``);
            ``("all",)`` for everything the backend can return.
        landmarks: Whether landmarks were requested: True, False, or ``"mesh"`` (the local
            engine's 468-point mesh and the named landmarks derived from it).
        face_id: Whether provider face ids were requested (Azure Limited Access).
        embeddings: Whether face descriptors were requested (``Face.embedding``).
        strict: When True, asking for something the backend cannot return raises
            :class:`~facekit.UnsupportedFeatureError`; when False it warns and leaves it None.
        options: Backend-specific per-call options (e.g. ``detection_model``).
    """

    model_config = ConfigDict(frozen=True)

    attributes: tuple[str, ...] = ()
    landmarks: bool | Literal["mesh"] = False
    face_id: bool = False
    embeddings: bool = False
    strict: bool = True
    options: dict[str, Any] = Field(default_factory=dict)


class DetectionResult(BaseModel):
    """The answer to ``FaceClient.detect``, the same shape for every backend.

    Attributes:
        provider: Backend name, e.g. ``"azure-rest"``, ``"aws"``, ``"local"``.
        models: Model names used, e.g. ``{"detection": "detection_03"}`` or
            ``{"detector": "centerface"}``.
        image: What facekit knows about the image (size of the upright image, EXIF, resizing).
        faces: Faces, largest box first; ``faces[i].index == i``.
        request: What was asked for.
        raw: What the provider sent, unchanged (JSON-compatible).
        warnings: Things the caller should know (e.g. unsupported attributes left None).
        runtime: Backend runtime facts, e.g. the onnxruntime execution providers used.
    """

    model_config = ConfigDict(frozen=True)

    provider: str
    models: dict[str, str] = Field(default_factory=dict)
    image: ImageInfo = Field(default_factory=ImageInfo)
    faces: list[Face] = Field(default_factory=list)
    request: DetectRequest = Field(default_factory=DetectRequest)
    raw: Any = None
    warnings: list[str] = Field(default_factory=list)
    runtime: dict[str, Any] = Field(default_factory=dict)

    #: The image the result was computed from (set by the client; not serialised, not compared).
    _image_ref: ImageRef | None = PrivateAttr(default=None)

    def __len__(self) -> int:
        return len(self.faces)

    def __eq__(self, other: object) -> bool:
        """Equal when every field is equal; the attached image reference does not count."""
        if not isinstance(other, DetectionResult):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # lists inside: not hashable

    def draw(
        self,
        image: Any = None,
        *,
        boxes: bool = True,
        landmarks: bool = True,
        labels: bool | LabelFunction = True,
        line_width: int | None = None,
    ) -> Image.Image:
        """Draw boxes, landmarks and labels (``"Female, 27"``) on a copy of the image.

        Args:
            image: The detected image (path, bytes, PIL, array ...); None uses the image the
                client attached (absent on results loaded from JSON).
            boxes: Draw face boxes (clipped to the image).
            landmarks: Draw landmark points.
            labels: True for gender and age (else the face index), False for none, or a
                function ``face -> str | None``.
            line_width: Box line width, pixels (default scales with the image).

        Returns:
            An RGB PIL image of the upright image's size.

        Example:
            >>> result = FaceClient("local").detect("photo.jpg", attributes=["age", "gender"])
            >>> result.draw().save("annotated.jpg")
        """
        from facekit._draw import draw_faces

        return draw_faces(
            self._picture(image), self.faces, boxes=boxes, landmarks=landmarks, labels=labels, line_width=line_width
        )

    def crop_faces(self, image: Any = None, *, margin: float = 0.0) -> list[Image.Image]:
        """Cut out each face (box clipped to the image), in face order.

        Args:
            image: The detected image; None uses the attached one.
            margin: Extra border on each side as a fraction of the box size (0.2 = 20%).

        Returns:
            One RGB PIL image per face: ``crops[i]`` is ``faces[i]``.
        """
        from facekit._draw import crop_faces
        from facekit._errors import InvalidRequestError

        if margin < 0:
            raise InvalidRequestError(f"margin must be >= 0, got {margin}")
        return crop_faces(self._picture(image), self.faces, margin=margin)

    @property
    def xyxy(self) -> npt.NDArray[np.float64]:
        """``(N, 4)`` numpy array of box corners ``x1, y1, x2, y2``, pixels, one row per face.

        Needs numpy (``pip install 'facekit-detect[numpy]'``); ``xyxy.round().astype(int)`` for integers.
        """
        from facekit._arrays import xyxy_array

        return xyxy_array(self)

    @property
    def confidence(self) -> npt.NDArray[np.float64]:
        """``(N,)`` numpy array of detection confidences 0..1; NaN where the provider gives none (Azure)."""
        from facekit._arrays import confidence_array

        return confidence_array(self)

    def to_supervision(self) -> SupervisionFaces:
        """The faces as ``supervision`` objects: ``detections, keypoints, names = result.to_supervision()``.

        ``detections`` is an ``sv.Detections`` (pixel xyxy, confidence, ``data`` with ``index``,
        ``age``, ``gender``, ``emotion``, ``label``), ``keypoints`` an ``sv.KeyPoints`` (None
        without landmarks) whose columns are the canonical landmark ``names``.
        Needs the ``supervision`` extra (``pip install 'facekit-detect[supervision]'``).

        Example:
            >>> import supervision as sv
            >>> detections, keypoints, _ = result.to_supervision()
            >>> frame = sv.BoxAnnotator().annotate(frame, detections)
        """
        from facekit._supervision import to_supervision

        return to_supervision(self)

    def aligned_faces(
        self, image: Any = None, *, size: int = 112, template: Any = "arcface"
    ) -> list[npt.NDArray[np.uint8]]:
        """Aligned face chips, one ``(size, size, 3)`` uint8 RGB array per face (5-point similarity transform).

        Args:
            image: The detected image; None uses the attached one.
            size: Chip side, pixels (the template is scaled to it).
            template: ``"arcface"`` (insightface's 112 px template), ``"dlib"`` (dlib's 5-point
                chip) or a ``(5, 2)`` array of positions in pixels of the chip.

        Raises:
            InvalidRequestError: A face without the five points (detect with ``landmarks=True``).
        """
        from facekit._chips import aligned_faces

        return aligned_faces(self, image, size=size, template=template)

    def anonymize(
        self,
        image: Any = None,
        *,
        method: str = "blur",
        shape: str = "ellipse",
        margin: float = 0.1,
        strength: float | None = None,
    ) -> Image.Image:
        """A copy of the image with every face hidden.

        Args:
            image: The detected image; None uses the attached one.
            method: ``"blur"``, ``"pixelate"`` or ``"fill"`` (black).
            shape: ``"ellipse"`` (tilted with the eye line when landmarks exist) or ``"box"``.
            margin: Growth of each box on every side, fraction of its size.
            strength: Blur radius as a fraction of the face size (default 0.2) or pixel blocks
                across the face (default 8).
        """
        from facekit._anonymize import anonymize

        return anonymize(self, image, method=method, shape=shape, margin=margin, strength=strength)

    def to_dataframe(self) -> Any:
        """A pandas ``DataFrame``, one row per face, attributes flattened (``emotion.happiness``).

        Needs the ``notebook`` extra (``pip install 'facekit-detect[notebook]'``).
        """
        from facekit._frame import faces_dataframe

        return faces_dataframe(self.faces)

    def _picture(self, image: Any) -> Image.Image:
        """The upright RGB image the faces refer to: ``image``, or the one the client attached.

        Raises:
            InvalidRequestError: No image attached and none given, or its size does not match.
        """
        from facekit._errors import InvalidRequestError
        from facekit._image import open_image, to_rgb

        if image is None:
            if self._image_ref is None:
                raise InvalidRequestError(
                    "this result has no image attached (e.g. it was loaded from JSON); pass the image: "
                    "result.draw(image='photo.jpg')"
                )
            picture: Image.Image = self._image_ref.open()
        else:
            picture = to_rgb(open_image(image).upright())
        width, height = self.image.width, self.image.height
        if width is not None and height is not None and picture.size != (width, height):
            raise InvalidRequestError(
                f"the image is {picture.width}x{picture.height} pixels but the result refers to a "
                f"{width}x{height} image; pass the image that was detected"
            )
        return picture

    def _thumbnail(self) -> bytes | None:
        if self._image_ref is None:
            return None
        from facekit._draw import thumbnail_png

        try:
            return thumbnail_png(self._picture(None), self.faces)
        except Exception:  # a display hook must never raise
            return None

    # Jupyter: one HTML output (the drawn image, embedded once, and the table of faces). There is
    # deliberately no _repr_png_: IPython would put the same picture in the output a second
    # time, as image/png next to the text/html that already holds it.
    def _repr_html_(self) -> str:
        from facekit._draw import faces_html

        return faces_html(
            provider=self.provider,
            faces=self.faces,
            size=(self.image.width, self.image.height),
            warnings=self.warnings,
            png=self._thumbnail(),
        )

    def to_json(self, *, indent: int | None = 2) -> str:
        """Serialize to JSON (loadable with ``DetectionResult.model_validate_json``)."""
        return self.model_dump_json(indent=indent)
