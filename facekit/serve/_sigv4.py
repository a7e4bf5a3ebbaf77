"""Verify AWS Signature Version 4 on an incoming request (header form, as boto3 signs).

Pure standard library: the canonical request, the string to sign and the HMAC-SHA256 key
chain are rebuilt from what arrived and compared in constant time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl, quote

__all__ = ["SignatureError", "verify_sigv4"]

#: Largest difference between the request's ``X-Amz-Date`` and the server's clock, seconds.
MAX_SKEW: Final = 15 * 60

_AUTH_RE: Final = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*SignedHeaders=(?P<headers>[^,\s]+),"
    r"\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


@dataclass
class SignatureError(Exception):
    """The request is not signed, or not signed with the configured credentials.

    Attributes:
        code: The Rekognition error code to answer (``MissingAuthenticationTokenException``,
            ``UnrecognizedClientException``, ``InvalidSignatureException``).
        message: What is wrong.
    """

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def _canonical_query(query: str) -> str:
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs)


def verify_sigv4(
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Mapping[str, str],
    now: dt.datetime | None = None,
) -> str:
    """Check the ``Authorization`` header of a request.

    Args:
        method: HTTP method.
        path: The raw request path (as sent, percent-encoded).
        query: The raw query string.
        headers: Request headers, names in any case.
        body: The request body as received.
        credentials: Access key id -> secret access key accepted.
        now: The current time (for tests).

    Returns:
        The access key id that signed the request.

    Raises:
        SignatureError: Missing, malformed, unknown-key, expired or wrong signature.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    authorization = lowered.get("authorization", "")
    if not authorization:
        raise SignatureError("MissingAuthenticationTokenException", "Missing Authentication Token")
    match = _AUTH_RE.match(authorization.strip())
    if match is None:
        raise SignatureError("IncompleteSignatureException", "The Authorization header is not an AWS4-HMAC-SHA256 signature")
    parts = match.group("credential").split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise SignatureError("IncompleteSignatureException", "Malformed Credential in the Authorization header")
    key_id, date, region, service, _ = parts
    secret = credentials.get(key_id)
    if secret is None:
        raise SignatureError("UnrecognizedClientException", "The security token included in the request is invalid.")
    amz_date = lowered.get("x-amz-date", "")
    try:
        signed_at = dt.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError as exc:
        raise SignatureError("IncompleteSignatureException", "X-Amz-Date is missing or malformed") from exc
    current = now or dt.datetime.now(dt.UTC)
    if abs((current - signed_at).total_seconds()) > MAX_SKEW or not amz_date.startswith(date):
        raise SignatureError("InvalidSignatureException", "Signature expired or not yet valid (check the clock)")
    signed = match.group("headers").split(";")
    if "host" not in signed or any(name not in lowered for name in signed):
        raise SignatureError("InvalidSignatureException", "A signed header is missing from the request")
    canonical_headers = "".join(f"{name}:{' '.join(lowered[name].split())}\n" for name in signed)
    payload_hash = hashlib.sha256(body).hexdigest()
    canonical_request = "\n".join(
        [method.upper(), quote(path or "/", safe="/-_.~%"), _canonical_query(query), canonical_headers,
         ";".join(signed), payload_hash]
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()]
    )
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), date), region), service), "aws4_request")
    expected = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, match.group("signature")):
        raise SignatureError(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method.",
        )
    return key_id
