"""Error answers in each wire format: Azure's ``{"error": {"code", "message"}}``, Rekognition's
``{"__type", "message"}`` and facekit's own ``{"error": {"type", "message"}}``.

:class:`WireError` is what the routes raise for a request they refuse before detection;
:func:`azure_error_for`, :func:`aws_error_for` and :func:`facekit_error_for` map any
:class:`~facekit.FacekitError` raised while detecting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from facekit._errors import (
    FacekitError,
    InvalidImageError,
    InvalidRequestError,
    ModelNotAvailableError,
    RateLimitError,
    TransportError,
)

__all__ = ["WireError", "aws_error_for", "azure_error_for", "facekit_error_for"]


@dataclass
class WireError(Exception):
    """An error answer: HTTP status, the service's code, a message and extra headers."""

    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


def _retry_headers(exc: RateLimitError) -> dict[str, str]:
    return {"Retry-After": str(max(1, round(exc.retry_after)))} if exc.retry_after is not None else {}


def azure_error_for(exc: FacekitError, *, url_input: bool = False) -> WireError:
    """The Azure answer for an error raised while detecting."""
    if isinstance(exc, RateLimitError):
        return WireError(429, "429", exc.message, _retry_headers(exc))
    if isinstance(exc, InvalidImageError):
        return WireError(400, "InvalidImage", f"Decoding error, image format unsupported: {exc.message}")
    if url_input and isinstance(exc, (InvalidRequestError, TransportError)):
        return WireError(400, "InvalidURL", f"Failed to download the image from the specified URL: {exc.message}")
    if isinstance(exc, InvalidRequestError):
        return WireError(400, "BadArgument", exc.message)
    if isinstance(exc, (TransportError, ModelNotAvailableError)):
        return WireError(503, "ServiceUnavailable", exc.message)
    return WireError(500, "InternalServerError", exc.message)


def aws_error_for(exc: FacekitError, *, s3_input: bool = False) -> WireError:
    """The Rekognition answer for an error raised while detecting."""
    if isinstance(exc, RateLimitError):
        return WireError(400, "ThrottlingException", exc.message, _retry_headers(exc))
    if s3_input and isinstance(exc, (InvalidRequestError, TransportError)) and not isinstance(exc, InvalidImageError):
        return WireError(400, "InvalidS3ObjectException", f"Unable to get object metadata from S3: {exc.message}")
    if isinstance(exc, InvalidImageError):
        return WireError(400, "InvalidImageFormatException", f"Request has invalid image format: {exc.message}")
    if isinstance(exc, InvalidRequestError):
        return WireError(400, "InvalidParameterException", exc.message)
    return WireError(500, "InternalServerError", exc.message)


def facekit_error_for(exc: FacekitError) -> WireError:
    """facekit's own answer: the error class name as the code."""
    status = 500
    if isinstance(exc, RateLimitError):
        status = 429
    elif isinstance(exc, InvalidRequestError):
        status = 400
    elif isinstance(exc, (TransportError, ModelNotAvailableError)):
        status = 503
    headers = _retry_headers(exc) if isinstance(exc, RateLimitError) else {}
    return WireError(status, type(exc).__name__, exc.message, headers)
