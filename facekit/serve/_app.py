"""The ASGI application (FastAPI on Starlette): Azure Face, Rekognition and facekit's own JSON.

Routes:

* ``POST /face/{version}/detect`` - Azure Face Detect, every version facekit's Azure backends
  know (:data:`~facekit.backends._azure_wire.API_VERSIONS`);
* ``POST /`` with ``X-Amz-Target: RekognitionService.DetectFaces`` - Rekognition (awsJson1_1);
* ``POST /v1/detect`` - a :class:`~facekit.DetectionResult` as JSON;
* ``GET /healthz`` - liveness, the backend and the queue;
* ``GET /openapi.json`` and ``/docs`` - the OpenAPI document (FastAPI's).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import re
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from facekit._errors import FacekitError, InvalidRequestError
from facekit._image import read_header
from facekit._models import DetectionResult
from facekit._vocabulary import normalize_attribute_names
from facekit.backends._aws_wire_reverse import detect_faces_response, parse_aws_attributes
from facekit.backends._azure_wire import API_VERSIONS
from facekit.backends._azure_wire_reverse import AzureQuery, azure_faces_to_wire, parse_azure_query
from facekit.serve._dispatch import Dispatcher
from facekit.serve._sigv4 import SignatureError, verify_sigv4
from facekit.serve._wire_errors import WireError, aws_error_for, azure_error_for, facekit_error_for

__all__ = ["AWS_MAX_IMAGE_BYTES", "AZURE_MAX_BYTES", "AZURE_MIN_BYTES", "ServeSettings", "build_app"]

#: Azure Face's body limits, bytes.
AZURE_MAX_BYTES: Final = 6 * 1024 * 1024
AZURE_MIN_BYTES: Final = 1024
#: Rekognition's ``Image.Bytes`` limit (base64-decoded), bytes.
AWS_MAX_IMAGE_BYTES: Final = 5_242_880
#: Largest awsJson body read: the base64 of the largest image plus room for the other members.
_AWS_MAX_BODY: Final = (AWS_MAX_IMAGE_BYTES + 2) // 3 * 4 + 64 * 1024
_URL_MAX_BODY: Final = 64 * 1024
_AWS_TARGET: Final = "RekognitionService.DetectFaces"
_AWS_JSON: Final = "application/x-amz-json-1.1"
_HTTP_URL_RE: Final = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)
_AWS_IMAGE_KEYS: Final = frozenset({"Bytes", "S3Object"})
_FACEKIT_QUERY: Final = ("attributes", "landmarks", "face_id", "strict")


@dataclass
class ServeSettings:
    """How the server answers (built by :func:`facekit.serve.create_app`).

    Attributes:
        key: When set, Azure requests need ``Ocp-Apim-Subscription-Key: <key>`` and
            ``/v1/detect`` needs it too (or ``Authorization: Bearer <key>``).
        aws_credentials: Access key id -> secret; when set, Rekognition requests must carry a
            valid SigV4 signature by one of them.
        body_timeout: Seconds a client may take to send its body (slow clients get 408).
        allow_urls: Take ``{"url": ...}`` bodies (the server then fetches the URL itself).
    """

    key: str | None = None
    aws_credentials: Mapping[str, str] = field(default_factory=dict)
    body_timeout: float = 30.0
    allow_urls: bool = True

    def __repr__(self) -> str:  # never show secrets
        return (
            f"ServeSettings(key={'***' if self.key else None}, aws_credentials={sorted(self.aws_credentials)}, "
            f"body_timeout={self.body_timeout}, allow_urls={self.allow_urls})"
        )


# -- shared helpers ------------------------------------------------------------------------------


async def _read_body(request: Request, limit: int, timeout: float, *, too_large: WireError) -> bytes:
    """The whole body, refusing more than ``limit`` bytes or a client slower than ``timeout`` s."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    total = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                total += len(chunk)
                if total > limit:
                    raise too_large
                chunks.append(chunk)
    except TimeoutError as exc:
        raise WireError(408, "Timeout", f"the request body did not arrive within {timeout:g} seconds") from exc
    return b"".join(chunks)


def _warnings_header(result: DetectionResult) -> dict[str, str]:
    if not result.warnings:
        return {}
    return {"x-facekit-warnings": json.dumps(result.warnings, ensure_ascii=True)[:4000]}


def _key_matches(given: str | None, key: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), key.encode())


def _json_body(data: bytes, error: WireError) -> Any:
    try:
        return json.loads(data)
    except ValueError as exc:
        raise error from exc


# -- Azure ------------------------------------------------------------------------------------


def _azure_answer(error: WireError, request_id: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": error.code, "message": error.message}},
        status_code=error.status,
        headers={"apim-request-id": request_id, **error.headers},
    )


async def _azure_image(request: Request, settings: ServeSettings) -> tuple[Any, bool]:
    """(image for ``FaceClient.detect``, whether it is a URL) from an Azure body."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/json":
        body = await _read_body(
            request, _URL_MAX_BODY, settings.body_timeout,
            too_large=WireError(400, "BadArgument", "The JSON body is too large."),
        )
        data = _json_body(body, WireError(400, "BadArgument", "Request body is not valid JSON."))
        url = data.get("url") if isinstance(data, dict) else None
        if not isinstance(url, str) or not _HTTP_URL_RE.match(url.strip()):
            raise WireError(400, "InvalidURL", "Invalid image URL: the body must be {\"url\": \"http(s)://...\"}.")
        if not settings.allow_urls:
            raise WireError(400, "InvalidURL", "This server does not fetch image URLs; send the image bytes.")
        return url.strip(), True
    if media in ("application/octet-stream", "") or media.startswith("image/"):
        data = await _read_body(
            request, AZURE_MAX_BYTES, settings.body_timeout,
            too_large=WireError(400, "InvalidImageSize", "Image size is too big: the limit is 6 MB."),
        )
        if len(data) < AZURE_MIN_BYTES:
            raise WireError(400, "InvalidImageSize", "Image size is too small: at least 1 KB.")
        return data, False
    raise WireError(415, "BadArgument", "Invalid Media Type: use application/octet-stream or application/json.")


def _is_azure_backend(dispatcher: Dispatcher) -> bool:
    from facekit.backends.azure_rest import AzureBackendBase

    return isinstance(dispatcher.client.backend, AzureBackendBase)


def _azure_kwargs(query: AzureQuery, dispatcher: Dispatcher) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "attributes": list(query.attributes), "landmarks": query.landmarks, "face_id": query.face_id,
        "strict": False,
    }
    if _is_azure_backend(dispatcher):
        kwargs.update(query.backend_options())
        kwargs["allow_retired_attributes"] = True
    return kwargs


# -- Rekognition --------------------------------------------------------------------------------


def _aws_answer(error: WireError, request_id: str) -> JSONResponse:
    return JSONResponse(
        {"__type": error.code, "message": error.message},
        status_code=error.status,
        headers={"x-amzn-RequestId": request_id, "Content-Type": _AWS_JSON, **error.headers},
        media_type=_AWS_JSON,
    )


def _aws_image(payload: Any) -> tuple[Any, bool]:
    """(image for ``FaceClient.detect``, whether it is an S3 object) from a DetectFaces body."""
    if not isinstance(payload, dict):
        raise WireError(400, "SerializationException", "The request body must be a JSON object.")
    unknown = sorted(set(payload) - {"Image", "Attributes"})
    if unknown:
        raise WireError(400, "InvalidParameterException", f"Unknown member(s) {', '.join(unknown)} in DetectFaces.")
    image = payload.get("Image")
    if not isinstance(image, dict) or len(set(image) & _AWS_IMAGE_KEYS) != 1 or set(image) - _AWS_IMAGE_KEYS:
        raise WireError(400, "InvalidParameterException", "Image must have exactly one of Bytes or S3Object.")
    if "S3Object" in image:
        s3 = image["S3Object"]
        if not isinstance(s3, dict) or not isinstance(s3.get("Bucket"), str) or not isinstance(s3.get("Name"), str):
            raise WireError(400, "InvalidParameterException", "S3Object needs Bucket and Name.")
        version = s3.get("Version")
        return f"s3://{s3['Bucket']}/{s3['Name']}" + (f"?versionId={version}" if version else ""), True
    encoded = image["Bytes"]
    if not isinstance(encoded, str):
        raise WireError(400, "SerializationException", "Image.Bytes must be a base64 string.")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WireError(400, "SerializationException", "Image.Bytes is not valid base64.") from exc
    if len(data) > AWS_MAX_IMAGE_BYTES:
        raise WireError(400, "ImageTooLargeException", f"Image size is too large: the limit is {AWS_MAX_IMAGE_BYTES:,} bytes.")
    header = read_header(data) if data else None
    if header is None or header.format not in ("JPEG", "PNG"):
        raise WireError(400, "InvalidImageFormatException", "Request has invalid image format: use JPEG or PNG.")
    if min(header.width, header.height) < 80:
        raise WireError(400, "InvalidParameterException", "Request has invalid image dimensions: at least 80 pixels a side.")
    return data, False


# -- the application ----------------------------------------------------------------------------


def build_app(dispatcher: Dispatcher, settings: ServeSettings) -> FastAPI:
    """The FastAPI application answering with ``dispatcher`` (closed when the app shuts down)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await asyncio.get_running_loop().run_in_executor(None, dispatcher.close)

    from facekit._version import __version__

    app = FastAPI(
        title="facekit serve",
        version=__version__,
        description="Azure Face Detect and Rekognition DetectFaces wire formats, answered by a facekit backend "
        f"({dispatcher.client.provider}).",
        lifespan=lifespan,
    )
    app.state.dispatcher = dispatcher
    app.state.settings = settings

    binary_body = {
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                "application/json": {
                    "schema": {"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]}
                },
            },
        }
    }

    @app.post(
        "/face/{api_version}/detect",
        summary="Azure Face - Detect",
        tags=["azure"],
        openapi_extra={
            **binary_body,
            "parameters": [
                {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
                for name in (
                    "returnFaceId", "returnFaceLandmarks", "returnFaceAttributes", "detectionModel",
                    "recognitionModel", "returnRecognitionModel", "faceIdTimeToLive",
                )
            ],
        },
    )
    async def azure_detect(api_version: str, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        url_input = False
        try:
            if api_version not in API_VERSIONS:
                raise WireError(404, "404", f"Resource not found: API version {api_version!r} is unknown "
                                f"(known: {', '.join(API_VERSIONS)}).")
            if settings.key is not None and not _key_matches(
                request.headers.get("ocp-apim-subscription-key"), settings.key
            ):
                raise WireError(401, "401", "Access denied due to invalid subscription key or wrong API endpoint. "
                                "Make sure to provide a valid key for an active subscription.")
            query = parse_azure_query(api_version, dict(request.query_params))
            image, url_input = await _azure_image(request, settings)
            result = await dispatcher.detect(image, **_azure_kwargs(query, dispatcher))
        except WireError as error:
            return _azure_answer(error, request_id)
        except FacekitError as exc:
            return _azure_answer(azure_error_for(exc, url_input=url_input), request_id)
        recognition = result.models.get("recognition") if query.options.return_recognition_model else None
        body = azure_faces_to_wire(
            result.faces, api_version=api_version, attributes=query.attributes, landmarks=query.landmarks,
            face_id=query.face_id, recognition_model=recognition,
        )
        return JSONResponse(body, headers={"apim-request-id": request_id, **_warnings_header(result)})

    @app.post(
        "/",
        summary="Rekognition - DetectFaces (X-Amz-Target: RekognitionService.DetectFaces)",
        tags=["aws"],
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {_AWS_JSON: {"schema": {"type": "object", "properties": {
                    "Image": {"type": "object"}, "Attributes": {"type": "array", "items": {"type": "string"}},
                }}}},
            }
        },
    )
    async def aws_detect(request: Request) -> Response:
        request_id = str(uuid.uuid4())
        s3_input = False
        try:
            target = request.headers.get("x-amz-target")
            if target != _AWS_TARGET:
                raise WireError(400, "UnknownOperationException", f"This server answers {_AWS_TARGET} only, not {target!r}.")
            body = await _read_body(
                request, _AWS_MAX_BODY, settings.body_timeout,
                too_large=WireError(400, "ImageTooLargeException", "Image size is too large."),
            )
            if settings.aws_credentials:
                try:
                    verify_sigv4(
                        method=request.method, path=request.scope.get("raw_path", b"/").decode("latin-1") or "/",
                        query=request.scope.get("query_string", b"").decode("latin-1"),
                        headers=dict(request.headers), body=body, credentials=settings.aws_credentials,
                    )
                except SignatureError as exc:
                    status = 403 if exc.code == "MissingAuthenticationTokenException" else 400
                    raise WireError(status, exc.code, exc.message) from exc
            elif settings.key is not None:
                raise WireError(400, "AccessDeniedException", "This server needs a key: start it with AWS credentials "
                                "(--aws-access-key-id/--aws-secret-access-key) to take signed Rekognition calls.")
            payload = _json_body(body, WireError(400, "SerializationException", "The body is not valid JSON."))
            try:
                attributes, defaults = parse_aws_attributes(
                    payload.get("Attributes") if isinstance(payload, dict) else None
                )
            except InvalidRequestError as exc:
                raise WireError(400, "InvalidParameterException", exc.message) from exc
            image, s3_input = _aws_image(payload)
            result = await dispatcher.detect(image, attributes=list(attributes), landmarks=defaults, strict=False)
        except WireError as error:
            return _aws_answer(error, request_id)
        except FacekitError as exc:
            return _aws_answer(aws_error_for(exc, s3_input=s3_input), request_id)
        width, height = result.image.width, result.image.height
        if not width or not height:
            return _aws_answer(WireError(500, "InternalServerError", "the image size is unknown"), request_id)
        answer = detect_faces_response(result.faces, width, height, attributes=attributes, landmarks=defaults)
        return JSONResponse(
            answer, media_type=_AWS_JSON, headers={"x-amzn-RequestId": request_id, **_warnings_header(result)}
        )

    @app.post(
        "/v1/detect",
        summary="facekit: detect, answer a DetectionResult",
        tags=["facekit"],
        response_model=DetectionResult,
        openapi_extra={
            **binary_body,
            "parameters": [
                {"name": "attributes", "in": "query", "required": False, "schema": {"type": "string"},
                 "description": "comma-separated canonical attribute names, or 'all'"},
                {"name": "landmarks", "in": "query", "required": False, "schema": {"type": "boolean"}},
                {"name": "face_id", "in": "query", "required": False, "schema": {"type": "boolean"}},
                {"name": "strict", "in": "query", "required": False, "schema": {"type": "boolean"},
                 "description": "refuse what the backend cannot return (default true)"},
            ],
        },
    )
    async def facekit_detect(request: Request) -> Response:
        try:
            if settings.key is not None:
                bearer = request.headers.get("authorization", "").removeprefix("Bearer ").strip() or None
                given = request.headers.get("ocp-apim-subscription-key") or bearer
                if not _key_matches(given, settings.key):
                    raise WireError(401, "AuthenticationError", "missing or wrong key (Ocp-Apim-Subscription-Key or "
                                    "Authorization: Bearer)")
            params = dict(request.query_params)
            unknown = sorted(set(params) - set(_FACEKIT_QUERY))
            if unknown:
                raise WireError(400, "InvalidRequestError", f"unknown parameter(s) {', '.join(unknown)}; "
                                f"use {', '.join(_FACEKIT_QUERY)}")
            flags = {}
            for name in ("landmarks", "face_id", "strict"):
                text = params.get(name, "true" if name == "strict" else "false").strip().lower()
                if text not in ("true", "false", "1", "0"):
                    raise WireError(400, "InvalidRequestError", f"{name} must be true or false, got {text!r}")
                flags[name] = text in ("true", "1")
            attributes = normalize_attribute_names(params.get("attributes"))
            image, _ = await _azure_image(request, settings)
            result = await dispatcher.detect(image, attributes=list(attributes), **flags)
        except WireError as error:
            return JSONResponse({"error": {"type": error.code, "message": error.message}}, status_code=error.status,
                                headers=error.headers)
        except FacekitError as exc:
            mapped = facekit_error_for(exc)
            return JSONResponse({"error": {"type": mapped.code, "message": mapped.message}},
                                status_code=mapped.status, headers=mapped.headers)
        return JSONResponse(result.model_dump(mode="json"), headers=_warnings_header(result))

    @app.get("/healthz", summary="liveness, backend and queue", tags=["facekit"])
    async def healthz() -> dict[str, Any]:
        stats = dispatcher.stats
        return {
            "status": "ok",
            "provider": dispatcher.client.provider,
            "queue": {"pending": dispatcher.pending, "limit": dispatcher.max_queue},
            "workers": dispatcher.workers,
            "batching": {"enabled": dispatcher.batching, "max_batch": dispatcher.max_batch,
                         "window_seconds": dispatcher.batch_window},
            "stats": {"accepted": stats.accepted, "refused": stats.refused, "batches": stats.batches,
                      "batched_images": stats.batched_images, "largest_batch": stats.largest_batch},
        }

    return app
