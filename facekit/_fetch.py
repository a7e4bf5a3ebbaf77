"""Bounded downloads of URL and S3 inputs (only when a backend cannot take them directly,
or when the caller asks facekit to probe the image size)."""

from __future__ import annotations

from typing import Any

import requests

from facekit._errors import InvalidImageError, InvalidRequestError, NetworkError, RequestTimeoutError
from facekit._http import capped_timeout, guarded, guarded_session, transport_failure
from facekit._image import DEFAULT_DOWNLOAD_TIMEOUT, DEFAULT_MAX_DOWNLOAD_BYTES, HeaderInfo, S3Location, read_header

__all__ = ["download_s3_object", "download_url", "probe_url"]

#: Bytes read from the start of a remote image to learn its size and EXIF orientation.
PROBE_BYTES = 64 * 1024
#: Largest prefix read when the header does not fit in :data:`PROBE_BYTES`.
PROBE_MAX_BYTES = 1024 * 1024


def _read_bounded(response: requests.Response, limit: int, *, what: str, truncate: bool) -> bytes:
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_content(chunk_size=65536):
        chunks.append(chunk)
        total += len(chunk)
        if total >= limit:
            if truncate:
                break
            raise InvalidImageError(f"{what} is larger than {limit:,} bytes; download it yourself if it is trusted")
    return b"".join(chunks)[:limit] if truncate else b"".join(chunks)


_SESSION: requests.Session | None = None


def _default_session() -> requests.Session:
    global _SESSION
    if _SESSION is None:
        _SESSION = guarded_session()
    return _SESSION


def _get(url: str, *, headers: dict[str, str], timeout: Any, session: requests.Session | None) -> requests.Response:
    getter = (session or _default_session()).get
    try:
        response = getter(url, headers=headers, timeout=capped_timeout(timeout), stream=True)
    except requests.Timeout as exc:
        raise RequestTimeoutError(f"timed out fetching the image URL {url!r}") from exc
    except requests.RequestException as exc:
        raise NetworkError(f"cannot fetch the image URL {url!r}: {type(exc).__name__}") from exc
    if response.status_code >= 400:
        response.close()
        raise InvalidRequestError(f"fetching the image URL {url!r} failed with HTTP {response.status_code}")
    return response


def download_url(
    url: str,
    *,
    max_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
    timeout: Any = DEFAULT_DOWNLOAD_TIMEOUT,
    session: requests.Session | None = None,
) -> bytes:
    """Download a whole image, refusing more than ``max_bytes`` bytes."""
    with guarded(f"the download of {url!r}"):
        response = _get(url, headers={}, timeout=timeout, session=session)
        with response:
            try:
                return _read_bounded(response, max_bytes, what=f"the image at {url!r}", truncate=False)
            except requests.Timeout as exc:
                raise RequestTimeoutError(f"the download of {url!r} stalled: {type(exc).__name__}") from exc
            except requests.RequestException as exc:
                if transport_failure(exc) == "timeout":
                    raise RequestTimeoutError(f"the download of {url!r} stalled (read timeout)") from exc
                raise NetworkError(f"the download of {url!r} was cut off: {type(exc).__name__}") from exc


def probe_url(
    url: str, *, timeout: Any = DEFAULT_DOWNLOAD_TIMEOUT, session: requests.Session | None = None
) -> HeaderInfo:
    """Learn an image's format, size and EXIF orientation from a bounded request for its header.

    Sends ``Range: bytes=0-65535`` (and reads at most that much even if the server ignores
    the range), widening to 1 MiB when the header is longer (large EXIF blocks).

    Raises:
        InvalidImageError: The header could not be read within 1 MiB.
    """
    limit = PROBE_BYTES
    while True:
        with guarded(f"the size probe of {url!r}"):
            response = _get(url, headers={"Range": f"bytes=0-{limit - 1}"}, timeout=timeout, session=session)
            with response:
                try:
                    prefix = _read_bounded(response, limit, what=url, truncate=True)
                except requests.RequestException as exc:
                    if transport_failure(exc) == "timeout":
                        raise RequestTimeoutError(f"reading the header of {url!r} stalled (read timeout)") from exc
                    raise NetworkError(f"reading the header of {url!r} failed: {type(exc).__name__}") from exc
        header = read_header(prefix)
        if header is not None:
            return header
        if limit >= PROBE_MAX_BYTES or len(prefix) < limit:
            raise InvalidImageError(f"cannot read the image size from the first {len(prefix):,} bytes of {url!r}")
        limit = PROBE_MAX_BYTES


def download_s3_object(
    location: S3Location, *, client: Any = None, max_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES
) -> bytes:
    """Download an S3 object with boto3 (the ``aws`` extra) for backends that cannot take ``s3://``."""
    from facekit._deps import require

    boto3 = require("boto3", extra="aws", feature="s3:// inputs")
    s3 = client if client is not None else boto3.client("s3")
    kwargs: dict[str, Any] = {"Bucket": location.bucket, "Key": location.key}
    if location.version:
        kwargs["VersionId"] = location.version
    from botocore.exceptions import BotoCoreError, ClientError

    from facekit.backends._aws_guard import guard_client

    guard_client(s3)
    try:
        with guarded(f"the download of {location.uri}", provider="aws"):
            head = s3.head_object(**kwargs)
            if int(head.get("ContentLength", 0)) > max_bytes:
                raise InvalidImageError(f"{location.uri} is larger than {max_bytes:,} bytes")
            body: bytes = s3.get_object(**kwargs)["Body"].read()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise InvalidRequestError(f"cannot read {location.uri}: {code or 'ClientError'}") from exc
    except BotoCoreError as exc:
        raise NetworkError(f"cannot read {location.uri}: {type(exc).__name__}") from exc
    return body
