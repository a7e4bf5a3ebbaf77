"""The steps of one detection, shared by ``FaceClient.detect``, ``detect_many`` and the CLI.

::

    check_call        request check: canonical attribute names, the one per-call option check
                      (facekit._options), the backend's capability check     -> Call
    check_ready       (batches, once) the backend can serve the call (local weights present)
    limits            the call's scope: total deadline, answer bounds (facekit._limits); it
                      holds around preparation and the backend call
    prepare_image     open the input (header, EXIF, bomb guard), download a URL / s3:// input
                      the backend cannot take, fit it to the backend's limits -> Prepared
    prepare_in_memory the same without decoding or I/O where the input allows it (encoded
                      bytes sent as they are: a header read), for an event loop
    call_backend      backend.detect(payload, checked request)                -> BackendResult
    validate_output   drop impossible faces and values with warnings (facekit._validate)
    assemble          map faces to the caller's upright image, order, number  -> DetectionResult

Each step is a plain function of plain values. The steps do no I/O of their own except
through the image source (``facekit._image`` / ``facekit._fetch``) and the backend seam, so a
caller decides how they run: :func:`detect_one` runs them in a row, ``facekit._batch`` checks
once and then prepares, calls and assembles many inputs (batched or on threads), and an async
client can run the same steps on an event loop.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

from facekit._face import Face
from facekit._image import (
    DEFAULT_MAX_PIXELS,
    ColorOrder,
    ImageInput,
    Payload,
    SourceImage,
    open_image,
    prepare_payload,
    sent_unchanged,
)
from facekit._imageref import ImageRef
from facekit._limits import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RESPONSE_FACES,
    CallLimits,
    call_limits,
    parse_deadline,
)
from facekit._models import DetectionResult, DetectRequest, ImageInfo
from facekit._options import check_call_options
from facekit._validate import validate_faces
from facekit._vocabulary import normalize_attribute_names, normalize_landmarks_option
from facekit.backends._base import Backend, BackendResult

__all__ = [
    "Call",
    "Pipeline",
    "Prepared",
    "assemble",
    "build_request",
    "call_backend",
    "call_backend_batch",
    "check_call",
    "check_ready",
    "detect_one",
    "finish",
    "limits",
    "map_face",
    "prepare_image",
    "prepare_in_memory",
    "validate_output",
]


@dataclass(frozen=True)
class Pipeline:
    """What every call of one client shares: the backend and the client's defaults.

    Attributes:
        provider: Backend name put on results (``"local"``, ``"azure-rest"`` ...).
        backend: The backend instance (the only seam to the provider).
        strict: Default for ``strict=``: raise on unsupported requests (True) or warn.
        fit: Default for ``fit=``: re-encode or rescale images to meet provider limits.
        max_pixels: Decompression-bomb guard, pixels.
        deadline: Default total seconds of one call (downloads and retries included), None for none.
        max_response_bytes: Largest answer body read, bytes.
        max_response_faces: Most faces accepted in one answer.
    """

    provider: str
    backend: Backend
    strict: bool = True
    fit: bool = True
    max_pixels: int = DEFAULT_MAX_PIXELS
    deadline: float | None = DEFAULT_DEADLINE
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    max_response_faces: int = DEFAULT_MAX_RESPONSE_FACES


@dataclass(frozen=True)
class Call:
    """A checked call: what was asked, what the backend is asked, and how to prepare images.

    Attributes:
        request: The request as asked (canonical names; kept on the result).
        checked: The request the backend receives (``"all"`` expanded; unsupported features
            removed when not strict).
        notes: Warnings from the check (unsupported features left None), for every result.
        fit: Re-encode or rescale images to meet the provider's limits.
        probe_size: For URLs sent as URLs, read the image header to learn the size.
        color_order: Channel order of numpy inputs.
        deadline: Total seconds of the call (each input of a batch), None for none.
    """

    request: DetectRequest
    checked: DetectRequest
    notes: tuple[str, ...]
    fit: bool
    probe_size: bool
    color_order: ColorOrder
    deadline: float | None = DEFAULT_DEADLINE


@dataclass(frozen=True)
class Prepared:
    """One input made ready for the backend.

    Attributes:
        source: The opened input (upright size, format, EXIF orientation, origin).
        payload: What the backend receives (bytes, pixels, a URL or an S3 location).
    """

    source: SourceImage
    payload: Payload


# -- 1. request check ------------------------------------------------------------------------


def build_request(
    *,
    attributes: str | Iterable[str] | None = None,
    landmarks: bool | Literal["mesh"] = False,
    face_id: bool = False,
    strict: bool = True,
    embeddings: bool = False,
    options: dict[str, Any] | None = None,
) -> DetectRequest:
    """A :class:`DetectRequest` with canonical attribute names.

    Raises:
        InvalidRequestError: An unknown attribute name (with the closest valid one).
    """
    names = normalize_attribute_names(
        attributes if attributes is None or isinstance(attributes, str) else list(attributes)
    )
    return DetectRequest(
        attributes=names,
        landmarks=normalize_landmarks_option(landmarks),
        face_id=face_id,
        embeddings=embeddings,
        strict=strict,
        options=dict(options or {}),
    )


def check_call(
    pipeline: Pipeline,
    *,
    attributes: str | Iterable[str] | None = None,
    landmarks: bool | Literal["mesh"] = False,
    face_id: bool = False,
    strict: bool | None = None,
    fit: bool | None = None,
    probe_size: bool = False,
    color_order: ColorOrder = "rgb",
    deadline: float | object | None = ...,
    embeddings: bool = False,
    **options: Any,
) -> Call:
    """Check a call before any input is read: names, per-call options, capabilities.

    Args:
        pipeline: The client's pipeline.
        attributes, landmarks, face_id, strict, fit, probe_size, color_order, deadline,
            embeddings: As ``FaceClient.detect``; ``strict``, ``fit`` and ``deadline``
            default to the pipeline's.
        **options: Backend per-call options, checked against ``backend.call_options``.

    Raises:
        InvalidRequestError: Unknown attribute or option, invalid option value or deadline.
        UnsupportedFeatureError: ``strict`` and the backend cannot return something asked for.
    """
    seconds = pipeline.deadline if deadline is ... else parse_deadline(deadline)
    request = build_request(
        attributes=attributes,
        landmarks=landmarks,
        face_id=face_id,
        strict=pipeline.strict if strict is None else strict,
        embeddings=embeddings,
        options=options,
    )
    backend = pipeline.backend
    check_call_options(request.options, backend.accepted_options(), backend=pipeline.provider)
    checked, notes = backend.check_request(request)
    return Call(
        request=request,
        checked=checked,
        notes=tuple(notes),
        fit=pipeline.fit if fit is None else fit,
        probe_size=probe_size,
        color_order=color_order,
        deadline=seconds,
    )


def limits(pipeline: Pipeline, call: Call) -> AbstractContextManager[CallLimits]:
    """The scope of one call's network work: its total deadline and the answer bounds.

    Put it around :func:`prepare_image` (downloads, probes) and :func:`call_backend`; the
    backends' HTTP layers and the retry loop read it. Past the deadline:
    :class:`~facekit.DeadlineExceededError`.
    """
    return call_limits(
        call.deadline,
        max_response_bytes=pipeline.max_response_bytes,
        max_response_faces=pipeline.max_response_faces,
    )


def check_ready(pipeline: Pipeline, call: Call) -> None:
    """Raise now what every input of a batch would raise (``Backend.ready``), e.g. missing weights.

    Raises:
        ModelNotAvailableError: The local engine's weights are missing and cannot be fetched.
    """
    pipeline.backend.ready(call.checked)


# -- 2. image preparation ----------------------------------------------------------------------


def prepare_image(pipeline: Pipeline, call: Call, image: ImageInput | SourceImage) -> Prepared:
    """Open an input and turn it into the payload the backend takes.

    URL inputs go as URLs when the backend takes them (the header is probed only with
    ``probe_size``), else they are downloaded (bounded); ``s3://`` likewise.

    Raises:
        InvalidImageError: Unreadable, unsupported or too large an image.
        TransportError: A download failed.
    """
    source = open_image(image, color_order=call.color_order, max_pixels=pipeline.max_pixels)
    spec = pipeline.backend.input_spec_for(call.checked)
    if source.source == "url" and source.url is not None:
        from facekit._fetch import download_url, probe_url

        if "url" in spec.kinds:
            if call.probe_size:
                source.apply_header(probe_url(source.url))
        else:
            source.set_data(download_url(source.url))
    elif source.source == "s3" and source.s3 is not None and "s3" not in spec.kinds:
        from facekit._fetch import download_s3_object

        source.set_data(download_s3_object(source.s3))
    payload = prepare_payload(source, spec, fit=call.fit, backend=pipeline.provider)
    return Prepared(source=source, payload=payload)


#: Largest encoded input, bytes, that :func:`prepare_in_memory` opens on the caller's thread.
IN_MEMORY_OPEN_MAX_BYTES: Final = 2 * 1024 * 1024


def prepare_in_memory(pipeline: Pipeline, call: Call, image: Any) -> Prepared | SourceImage | None:
    """Step 2 without decoding or I/O, where the input allows it (an event loop runs this inline).

    Encoded bytes held in memory (up to :data:`IN_MEMORY_OPEN_MAX_BYTES`) are opened here
    (the header only); when the backend takes them as they are, the result is the same
    :class:`Prepared` as :func:`prepare_image`'s.

    Returns:
        The prepared input; or the opened input when preparing it means decoding (finish with
        :func:`prepare_image` on a worker thread); or None when the input is not encoded bytes
        in memory (paths, files, URLs, arrays: call :func:`prepare_image` on a worker thread).

    Raises:
        InvalidImageError: Unreadable bytes or too large an image (as :func:`prepare_image`).
    """
    if isinstance(image, memoryview):
        size = image.nbytes
    elif isinstance(image, (bytes, bytearray)):
        size = len(image)
    else:
        return None
    if size > IN_MEMORY_OPEN_MAX_BYTES:
        return None
    source = open_image(image, color_order=call.color_order, max_pixels=pipeline.max_pixels)
    spec = pipeline.backend.input_spec_for(call.checked)
    if not sent_unchanged(source, spec):
        return source
    return Prepared(source=source, payload=prepare_payload(source, spec, fit=call.fit, backend=pipeline.provider))


# -- 3. backend call ---------------------------------------------------------------------------


def call_backend(pipeline: Pipeline, call: Call, prepared: Prepared) -> BackendResult:
    """The backend's answer for one prepared input (faces in payload pixels)."""
    return pipeline.backend.detect(prepared.payload, call.checked)


def call_backend_batch(
    pipeline: Pipeline, call: Call, prepared: Sequence[Prepared], *, concurrent: bool = False
) -> list[BackendResult] | None:
    """The answers of a backend with batched inference (``detect_batch``), one per input.

    ``concurrent`` (only ever True for a backend whose ``batch_workers`` is above 1) tells the
    backend that other chunks run at the same time; it is passed as ``concurrent=True``.

    Returns:
        The answers in input order, or None when the backend has no ``detect_batch`` or it
        returned the wrong number of answers (then call :func:`call_backend` per input).
    """
    method = getattr(pipeline.backend, "detect_batch", None)
    if not callable(method):
        return None
    payloads = [item.payload for item in prepared]
    outputs = list(method(payloads, call.checked, concurrent=True) if concurrent else method(payloads, call.checked))
    return outputs if len(outputs) == len(prepared) else None


# -- 4. value validation -----------------------------------------------------------------------


def validate_output(pipeline: Pipeline, prepared: Prepared, output: BackendResult) -> BackendResult:
    """Check a backend's normalised answer before it becomes a result (:mod:`facekit._validate`).

    Impossible faces (non-finite or non-positive boxes) are dropped and impossible values
    cleared, each with a warning added to the answer's warnings.
    """
    payload = prepared.payload
    width, height = (payload.width, payload.height) if payload.width else (output.image_size or (None, None))
    valid, notes = validate_faces(output.faces, width=width, height=height, provider=pipeline.provider)
    if not notes and len(valid) == len(output.faces):
        return output
    return replace(output, faces=valid, warnings=[*output.warnings, *notes])


# -- 5. assembly -------------------------------------------------------------------------------


def map_face(
    face: Face, sx: float, sy: float, width: int | None, height: int | None, *, index: int | None = None
) -> Face:
    """``face`` scaled by ``(sx, sy)``, its box given the image size ``width`` x ``height`` pixels
    (and numbered ``index`` when given)."""
    box = face.box.scaled(sx, sy, image_width=width, image_height=height)
    landmarks = None
    if face.landmarks is not None:
        landmarks = {name: point.scaled(sx, sy) for name, point in face.landmarks.items()}
    mesh = None
    if face.mesh is not None:
        mesh = [(x * sx, y * sy, z * sx) for x, y, z in face.mesh]
    update: dict[str, Any] = {"box": box, "landmarks": landmarks, "mesh": mesh}
    if index is not None:
        update["index"] = index
    return face.model_copy(update=update)


def assemble(pipeline: Pipeline, call: Call, prepared: Prepared, output: BackendResult) -> DetectionResult:
    """Map a backend's faces from payload pixels to the caller's upright image, order and number them.

    Faces are sorted by box area, largest first (ties keep the provider's order). The result
    gets a light reference to its image for ``draw()`` and Jupyter display.
    """
    source, payload = prepared.source, prepared.payload
    width, height = source.width, source.height
    if (width is None or height is None) and output.image_size is not None:
        width, height = output.image_size
    sx, sy = 1.0 / payload.scale_x, 1.0 / payload.scale_y
    # one scale for every face keeps the order of areas: sort first, then map and number in one copy
    ordered = sorted(output.faces, key=lambda face: -face.box.area)
    faces = [map_face(face, sx, sy, width, height, index=index) for index, face in enumerate(ordered)]
    resized = payload.kind in ("bytes", "pixels") and (payload.scale_x != 1.0 or payload.scale_y != 1.0)
    image = ImageInfo(
        width=width,
        height=height,
        format=source.format,
        source=source.source,
        exif_orientation=source.exif_orientation,
        orientation_applied=source.needs_rotation and payload.kind in ("bytes", "pixels"),
        scale=payload.scale_x if resized else None,
        sent_width=payload.width,
        sent_height=payload.height,
        sent_format=payload.format,
        reencoded=payload.reencoded,
    )
    extra_warnings = list(payload.notes)
    if payload.kind == "url" and source.needs_rotation:
        extra_warnings.append(
            f"the image at the URL has EXIF orientation {source.exif_orientation}; the service received the "
            "stored pixels, so its coordinates may not refer to the upright image: pass the downloaded bytes instead"
        )
    if width is None:
        extra_warnings.append(
            "the image size is unknown (URL sent without downloading): boxes are in pixels but cannot be "
            "converted to ratios; pass probe_size=True to learn the size"
        )
    result = DetectionResult(
        provider=pipeline.provider,
        models=output.models,
        image=image,
        faces=faces,
        request=call.request,
        raw=output.raw,
        warnings=[*call.notes, *output.warnings, *extra_warnings],
        runtime=output.runtime,
    )
    result._image_ref = ImageRef(source)  # for draw() and Jupyter display; never serialised
    return result


def finish(pipeline: Pipeline, call: Call, prepared: Prepared, output: BackendResult) -> DetectionResult:
    """Steps 4 and 5: validate the backend's answer, then assemble the result."""
    return assemble(pipeline, call, prepared, validate_output(pipeline, prepared, output))


def detect_one(pipeline: Pipeline, call: Call, image: ImageInput | SourceImage) -> DetectionResult:
    """The steps after the request check for one input: within the call's limits, prepare
    and call the backend; then validate and assemble."""
    with limits(pipeline, call):
        prepared = prepare_image(pipeline, call, image)
        output = call_backend(pipeline, call, prepared)
    return finish(pipeline, call, prepared, output)
