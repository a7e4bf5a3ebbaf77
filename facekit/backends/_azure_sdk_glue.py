"""azure-core glue for the ``azure-sdk`` backend: its retry policy, a response recorder, and
the one seam that maps azure-core exceptions into facekit's error tree.

Imported by :mod:`facekit.backends.azure_sdk` only after the SDK imported, so the azure
imports at the top of this module never run on ``import facekit``.

Why a retry policy of our own: azure-core's ``RetryPolicy`` retries POST only on 500/503/504,
**except** that any answer of 400 or more that carries ``Retry-After`` is retried whatever the
method (measured with azure-core 1.41: a POST answered 429 + ``Retry-After`` is sent 4 times,
sleeping the full ``Retry-After`` each time, uncapped). facekit retries 429 itself, per
:mod:`facekit._retry`; :class:`NoClientErrorRetryPolicy` therefore never retries a 4xx
answer and leaves azure-core its POST retries of 500/503/504 (it does not retry a POST
whose connection failed or timed out, and neither does facekit here).
"""

from __future__ import annotations

import json
from typing import Any

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    DecodeError,
    DeserializationError,
    HttpResponseError,
    IncompleteReadError,
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)
from azure.core.pipeline.policies import AsyncRetryPolicy, RetryPolicy

from facekit._errors import AuthenticationError, FacekitError, NetworkError, ProviderError, RequestTimeoutError
from facekit._http import transport_failure
from facekit._retry import DEFAULT_MAX_RETRY_AFTER
from facekit.backends._azure_wire import map_azure_error, request_id_of

__all__ = ["NoClientErrorAsyncRetryPolicy", "NoClientErrorRetryPolicy", "ResponseRecorder", "map_sdk_error"]

_MAX_DETAIL = 300


class _NoClientErrorRetries:
    """azure-core's retry decision minus every 4xx answer and every over-long ``Retry-After``."""

    def __init__(self, *, max_retry_after: float = DEFAULT_MAX_RETRY_AFTER, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_retry_after = max_retry_after

    def is_retry(self, settings: dict[str, Any], response: Any) -> bool:
        """azure-core's decision, minus every 4xx and every 5xx asking to wait too long."""
        status = response.http_response.status_code
        if 400 <= status < 500:
            return False
        retry_after = self.get_retry_after(response)  # type: ignore[attr-defined]
        if retry_after is not None and retry_after > self.max_retry_after:
            return False
        return bool(super().is_retry(settings, response))  # type: ignore[misc]


class NoClientErrorRetryPolicy(_NoClientErrorRetries, RetryPolicy[Any, Any]):
    """azure-core's ``RetryPolicy`` that never retries a 4xx answer (429 included).

    Args:
        max_retry_after: Longest ``Retry-After`` honoured for a 5xx answer, seconds; a longer
            one is not retried (the error reaches the caller at once).
        **kwargs: azure-core retry settings (``retry_total``, ``retry_backoff_factor`` ...).
    """


class NoClientErrorAsyncRetryPolicy(_NoClientErrorRetries, AsyncRetryPolicy[Any, Any]):
    """The same policy for the SDK's async client (``azure.ai.vision.face.aio``)."""


class ResponseRecorder:
    """A ``raw_response_hook`` that keeps the last HTTP response of a call.

    The SDK parses error bodies as JSON before raising, so a non-JSON error page (a proxy's
    502 HTML) surfaces as a bare ``json.JSONDecodeError`` with no status; the recorded
    response gives the seam its status, headers and body.
    """

    def __init__(self) -> None:
        self.response: Any = None

    def __call__(self, pipeline_response: Any) -> None:
        self.response = pipeline_response.http_response


def _body_of(response: Any) -> Any:
    """The response body as parsed JSON, else its text, else None."""
    if response is None:
        return None
    try:
        text = response.text()
    except Exception:  # a body that was never read or cannot be decoded
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _headers_of(response: Any) -> dict[str, str]:
    return dict(response.headers) if response is not None and response.headers is not None else {}


def _detail(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return str(message).splitlines()[0][:_MAX_DETAIL]


def map_sdk_error(exc: BaseException, response: Any = None, *, provider: str = "azure-sdk") -> FacekitError:
    """Map an exception raised by an SDK call to facekit's error tree (by status and code only).

    Args:
        exc: What the SDK raised (an azure-core ``AzureError``, or the ``ValueError`` the SDK
            lets escape when an error body is not JSON).
        response: The last HTTP response of the call (from :class:`ResponseRecorder`), if any.
        provider: Backend name to record.

    Returns:
        The error to raise ``from exc``.
    """
    failure = transport_failure(exc)
    if isinstance(exc, (ServiceRequestTimeoutError, ServiceResponseTimeoutError)) or failure == "timeout":
        return RequestTimeoutError(
            f"Azure did not answer, or stopped sending its answer, in time: {_detail(exc)}; raise timeout= or try again",
            provider=provider,
        )
    if isinstance(exc, IncompleteReadError):
        return NetworkError(
            f"Azure's answer was cut short (connection reset or closed mid-body): {_detail(exc)}; try again",
            provider=provider,
        )
    if isinstance(exc, ServiceRequestError):
        return NetworkError(f"could not reach Azure (request not sent): {_detail(exc)}", provider=provider)
    if isinstance(exc, ServiceResponseError) or failure == "network":
        return NetworkError(
            f"the connection to Azure failed before or during its answer (reset or closed): {_detail(exc)}; try again",
            provider=provider,
        )
    if isinstance(exc, HttpResponseError) and exc.response is not None:
        response = exc.response
    status = getattr(response, "status_code", None)
    if isinstance(status, int) and status >= 400:
        return map_azure_error(status, _body_of(response), _headers_of(response), provider=provider)
    if isinstance(exc, ClientAuthenticationError):  # no answer: the credential could not get a token
        return AuthenticationError(f"could not authenticate to Azure: {_detail(exc)}", provider=provider)
    if isinstance(exc, (DecodeError, DeserializationError, ValueError)):
        return ProviderError(
            f"Azure answered HTTP {status} with a body that is not a Face - Detect response: {_detail(exc)}",
            provider=provider,
            status=status,
            request_id=request_id_of(_headers_of(response)),
            body=_body_of(response),
        )
    if isinstance(exc, AzureError):
        return ProviderError(f"the Azure SDK failed: {_detail(exc)}", provider=provider, status=status)
    return ProviderError(f"the Azure SDK call failed: {type(exc).__name__}", provider=provider)
