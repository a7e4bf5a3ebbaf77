"""facekit's exceptions: one tree, every error a :class:`FacekitError`.

```
FacekitError                       .provider .status .code .request_id .body (None when local)
├── ConfigurationError             bad or missing configuration, e.g. no endpoint or key (ValueError)
├── MissingDependencyError         a backend's extra is not installed; message is the pip command (ImportError)
├── ModelNotAvailableError         local engine weights missing and not fetchable (offline)
├── InvalidRequestError            the request cannot be served as asked (ValueError)
│   ├── UnsupportedFeatureError    attribute, landmarks or face ids the backend/model cannot return
│   ├── ImageSizeUnknownError      a ratio conversion on a box whose image size is unknown
│   └── InvalidImageError          unreadable, unsupported format, too small/large, decompression bomb
├── ProviderError                  the service answered with an error (status, code, raw body)
│   ├── AuthenticationError        401, invalid key or token, access denied
│   ├── QuotaExceededError         403 out of call volume quota
│   ├── RateLimitError             429 or throttling; ``retry_after`` in seconds when known
│   └── ServiceUnavailableError    5xx, the service failed or is overloaded
├── TransportError                 no answer from the service
│   ├── RequestTimeoutError        the request timed out (also a builtin ``TimeoutError``)
│   │   └── DeadlineExceededError  the call's total deadline passed (never retried)
│   └── NetworkError               connection refused or reset, DNS failure, truncated body
└── RecordedError                  a non-facekit error read back from saved results (``read_results``)
```

Every error raised by a backend is mapped at one seam per backend and raised
``from`` the SDK's original exception. Messages never contain keys or tokens.
"""

from __future__ import annotations

import builtins
from typing import Any

__all__ = [
    "AuthenticationError",
    "ConfigurationError",
    "DeadlineExceededError",
    "FacekitError",
    "ImageSizeUnknownError",
    "InvalidImageError",
    "InvalidRequestError",
    "MissingDependencyError",
    "ModelNotAvailableError",
    "NetworkError",
    "ProviderError",
    "QuotaExceededError",
    "RateLimitError",
    "RecordedError",
    "RequestTimeoutError",
    "ServiceUnavailableError",
    "TransportError",
    "UnsupportedFeatureError",
]


class FacekitError(Exception):
    """Base class of every facekit error.

    Attributes:
        message: Human-readable explanation, saying what to do where possible.
        provider: Backend name (``"azure-rest"``, ``"aws"`` ...), or None for local checks.
        status: HTTP status code returned by the service, if any.
        code: The service's error code (e.g. ``"InvalidImageSize"``), if any.
        request_id: The service's request id, if any (quote it to support).
        body: The raw error body as received (parsed JSON or text), if any.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status
        self.code = code
        self.request_id = request_id
        self.body = body

    def __str__(self) -> str:
        details = [
            f"{name}={value}"
            for name, value in (
                ("provider", self.provider),
                ("status", self.status),
                ("code", self.code),
                ("request_id", self.request_id),
            )
            if value is not None
        ]
        return f"{self.message} ({', '.join(details)})" if details else self.message


class ConfigurationError(FacekitError, ValueError):
    """The client cannot be built: a setting is missing or invalid."""


class MissingDependencyError(FacekitError, ImportError):
    """A backend needs an optional extra that is not installed.

    The message is the exact command to run, e.g. ``pip install 'facekit-detect[aws]'``.
    """

    def __init__(self, extra: str, *, module: str | None = None, backend: str | None = None) -> None:
        from facekit._version import DISTRIBUTION

        command = f"pip install '{DISTRIBUTION}[{extra}]'"
        what = backend if backend and " " in backend else f"the {backend!r} backend" if backend else "this feature"
        missing = f" ({module} is not installed)" if module else ""
        super().__init__(f"{what} needs an optional extra{missing}; install it with: {command}")
        self.extra = extra
        self.module = module
        self.command = command


class ModelNotAvailableError(FacekitError):
    """A local model file is missing and could not be fetched."""


class InvalidRequestError(FacekitError, ValueError):
    """The request is invalid for this backend or this input."""


class UnsupportedFeatureError(InvalidRequestError):
    """The backend (or its configured model) cannot return what was asked for.

    Attributes:
        feature: The canonical name of what was asked, e.g. ``"emotion"``.
    """

    def __init__(self, message: str, *, feature: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.feature = feature


class ImageSizeUnknownError(InvalidRequestError):
    """A pixel/ratio conversion needs the image size, which is not known.

    This happens for URL inputs sent to a cloud service without downloading them;
    pass ``probe_size=True`` to ``detect`` to read the size from the image header.
    """


class InvalidImageError(InvalidRequestError):
    """The image cannot be read or does not meet the backend's limits."""


class ProviderError(FacekitError):
    """The service answered with an error that has no more specific class."""


class AuthenticationError(ProviderError):
    """Credentials are missing, invalid, expired or not allowed to call this operation."""


class QuotaExceededError(ProviderError):
    """The subscription's call volume quota is spent."""


class RateLimitError(ProviderError):
    """Too many requests.

    Attributes:
        retry_after: Seconds the service asked to wait, or None when it did not say.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServiceUnavailableError(ProviderError):
    """The service failed (5xx) or is temporarily unavailable."""


class TransportError(FacekitError):
    """The request got no usable answer."""


class RequestTimeoutError(TransportError, builtins.TimeoutError):
    """The request timed out (connect or read), or the service answered 408."""


class DeadlineExceededError(RequestTimeoutError):
    """The call's total deadline (``deadline=``, retries and downloads included) passed."""


class NetworkError(TransportError, builtins.ConnectionError):
    """The connection failed: refused, reset, DNS failure or a truncated body."""


class RecordedError(FacekitError):
    """An error read back from saved results whose class is not a facekit error (e.g. ``OSError``).

    :func:`facekit.read_results` restores facekit errors as their own class; any other error
    becomes this one, keeping what was recorded.

    Attributes:
        type_name: The class name of the original error, as recorded (e.g. ``"OSError"``).
        record: The error record as it was written (``type``, ``message`` ...).
    """

    def __init__(self, message: str, *, type_name: str, record: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.type_name = type_name
        self.record = dict(record) if record is not None else {"type": type_name, "message": message}
