"""The one seam where boto3/botocore exceptions from Rekognition become facekit errors.

Mapped by ``Error.Code`` and HTTP status (never by message text), always ``raise ... from``
the original. The service's own message is quoted (it holds no secrets); credentials are
never part of any message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from facekit._errors import (
    AuthenticationError,
    FacekitError,
    InvalidImageError,
    InvalidRequestError,
    NetworkError,
    ProviderError,
    RateLimitError,
    RequestTimeoutError,
    ServiceUnavailableError,
)

__all__ = ["CREDENTIAL_HINT", "error_details", "map_client_error", "map_botocore_error"]

PROVIDER: Final = "aws"

#: What to tell a user whose credentials are missing or rejected.
CREDENTIAL_HINT: Final = (
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary "
    "credentials), or AWS_PROFILE / aws_profile= naming a profile in ~/.aws/credentials or ~/.aws/config "
    "(run 'aws sso login' for SSO profiles), or run where an IAM role is available"
)

#: Error codes that mean "who you are" was rejected (signature, token, unknown key).
_CREDENTIAL_CODES: Final = frozenset({
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
})

_THROTTLING_CODES: Final = frozenset({
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "Throttling",
    "TooManyRequestsException",
    "LimitExceededException",
})

_SERVER_CODES: Final = frozenset({"InternalServerError", "ServiceUnavailableException", "ServiceUnavailable"})


def error_details(response: Mapping[str, Any]) -> dict[str, Any]:
    """``status``, ``code``, ``request_id`` and ``body`` of a botocore error response."""
    error = response.get("Error") or {}
    metadata = response.get("ResponseMetadata") or {}
    headers = metadata.get("HTTPHeaders") or {}
    request_id = metadata.get("RequestId") or headers.get("x-amzn-requestid") or headers.get("x-amz-request-id")
    body = {"Error": dict(error)} if error else None
    return {
        "status": metadata.get("HTTPStatusCode"),
        "code": error.get("Code") or None,
        "request_id": request_id or None,
        "body": body,
    }


def _attempts(response: Mapping[str, Any]) -> str:
    retries = (response.get("ResponseMetadata") or {}).get("RetryAttempts")
    return f" after {int(retries) + 1} attempts (botocore's retries)" if isinstance(retries, int) and retries else ""


def map_client_error(exc: Any, *, s3_hint: str | None = None) -> FacekitError:
    """Map a botocore ``ClientError`` from ``DetectFaces`` to a facekit error.

    Args:
        exc: The ``botocore.exceptions.ClientError``.
        s3_hint: For S3 inputs, an explanation to add to ``InvalidS3ObjectException``
            (e.g. the bucket's region when it differs from the client's).
    """
    response: Mapping[str, Any] = getattr(exc, "response", None) or {}
    details = error_details(response)
    code = details["code"] or ""
    status = details["status"]
    said = (response.get("Error") or {}).get("Message") or ""
    quoted = f": {said}" if said else ""
    kwargs: dict[str, Any] = {"provider": PROVIDER, **details}
    if code in _THROTTLING_CODES:
        return RateLimitError(
            f"Rekognition throttled the request{_attempts(response)}{quoted}; slow down (e.g. a "
            "RateLimiter), raise max_attempts, or ask AWS for a higher DetectFaces quota",
            **kwargs,
        )
    if code in _SERVER_CODES or (isinstance(status, int) and status >= 500):
        return ServiceUnavailableError(
            f"Rekognition failed on its side{_attempts(response)}{quoted}; try again later", **kwargs
        )
    if code == "AccessDeniedException" or code == "AccessDenied":
        return AuthenticationError(
            f"AWS denied rekognition:DetectFaces{quoted}; the IAM identity needs rekognition:DetectFaces "
            "(and s3:GetObject on the object for s3:// inputs)",
            **kwargs,
        )
    if code in _CREDENTIAL_CODES or status in (401, 403):
        return AuthenticationError(f"AWS rejected the credentials ({code or status}){quoted}; {CREDENTIAL_HINT}", **kwargs)
    if code == "InvalidS3ObjectException":
        hint = s3_hint or (
            "check that the object exists, is a JPEG or PNG of at most 15 MB, that your credentials may "
            "s3:GetObject it, and that the bucket is in the same region as the Rekognition client (the most "
            "common cause: pass region= the bucket's region)"
        )
        return InvalidRequestError(f"Rekognition could not read the S3 object{quoted}; {hint}", **kwargs)
    if code == "ImageTooLargeException":
        return InvalidImageError(
            f"Rekognition says the image is too large{quoted}; bytes inputs may be at most 5,242,880 bytes "
            "(facekit fits them when fit=True) and S3 objects at most 15 MB: pass a smaller object, or the "
            "image bytes so that facekit downsizes them",
            **kwargs,
        )
    if code == "InvalidImageFormatException":
        return InvalidImageError(
            f"Rekognition cannot read the image{quoted}; it takes JPEG or PNG only: for s3:// objects in "
            "another format, pass the bytes so that facekit re-encodes them",
            **kwargs,
        )
    if code == "InvalidParameterException":
        return InvalidRequestError(
            f"Rekognition rejected a parameter{quoted}; images must be at least 80 pixels a side", **kwargs
        )
    if code in ("ValidationException", "SerializationException"):
        return InvalidRequestError(f"Rekognition rejected the request ({code}){quoted}", **kwargs)
    return ProviderError(f"Rekognition returned an error ({code or status}){quoted}", **kwargs)


def map_botocore_error(exc: BaseException, *, what: str = "Rekognition") -> FacekitError:
    """Map a botocore non-HTTP error (credentials, connection, timeout, validation).

    Args:
        exc: A ``botocore.exceptions.BotoCoreError``.
        what: The service, for messages (``"Rekognition"`` or ``"S3"``).
    """
    from botocore import exceptions as bx

    name = type(exc).__name__
    if isinstance(exc, (bx.ReadTimeoutError, bx.ConnectTimeoutError)):
        return RequestTimeoutError(
            f"the request to {what} timed out ({name}); raise read_timeout/connect_timeout or try again",
            provider=PROVIDER,
        )
    if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectionClosedError, bx.ConnectionError, bx.HTTPClientError)):
        return NetworkError(
            f"cannot reach {what} ({name}); check the network, the region and endpoint_url", provider=PROVIDER
        )
    credential_errors: tuple[type[BaseException], ...] = (
        bx.NoCredentialsError,
        bx.PartialCredentialsError,
        bx.CredentialRetrievalError,
        bx.UnknownCredentialError,
        bx.NoAuthTokenError,
        bx.TokenRetrievalError,
        bx.SSOError,
    )
    if isinstance(exc, credential_errors):
        return AuthenticationError(f"no usable AWS credentials ({name}); {CREDENTIAL_HINT}", provider=PROVIDER)
    if isinstance(exc, bx.ParamValidationError):
        return InvalidRequestError(f"the request to {what} failed botocore's validation ({name})", provider=PROVIDER)
    return ProviderError(f"{what} call failed ({name})", provider=PROVIDER)
