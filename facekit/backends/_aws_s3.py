"""What the ``aws`` backend needs to know about an S3 object before Rekognition reads it.

Rekognition returns ratios; converting them to pixels needs the image size, which facekit
learns from a ranged GET of the object's first 64 KiB (1 MiB when the header is longer), never
the whole object. Rekognition applies the EXIF orientation of JPEG objects itself, so the size
that matters is the **upright** one; PNG is never rotated, so its stored size is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from facekit._errors import AuthenticationError, FacekitError, InvalidImageError, InvalidRequestError, NetworkError
from facekit._http import guarded
from facekit._image import HeaderInfo, S3Location, read_header
from facekit.backends._aws_errors import PROVIDER, error_details, map_botocore_error

__all__ = ["PROBE_BYTES", "PROBE_MAX_BYTES", "S3_MAX_BYTES", "S3Image", "bucket_region", "probe_s3_image"]

#: Bytes read from the start of an S3 object to learn its size and EXIF orientation.
PROBE_BYTES: Final = 64 * 1024
#: Largest prefix read when the header does not fit in :data:`PROBE_BYTES` (big EXIF blocks).
PROBE_MAX_BYTES: Final = 1024 * 1024
#: Largest S3 object Rekognition reads, bytes (15 MB).
S3_MAX_BYTES: Final = 15 * 1024 * 1024
#: Formats Rekognition reads.
FORMATS: Final = frozenset({"JPEG", "PNG"})


@dataclass(frozen=True)
class S3Image:
    """An S3 image as Rekognition will see it.

    Attributes:
        header: Format, stored size and EXIF orientation read from the object's first bytes.
        object_bytes: Size of the whole object, bytes (None when S3 did not say).
        width: Width of the image Rekognition analyses, pixels (upright for JPEG).
        height: Height of the image Rekognition analyses, pixels.
    """

    header: HeaderInfo
    object_bytes: int | None

    @property
    def width(self) -> int:
        """Width of the image Rekognition analyses, pixels."""
        return self.header.width if self.header.format == "JPEG" else self.header.stored_width

    @property
    def height(self) -> int:
        """Height of the image Rekognition analyses, pixels."""
        return self.header.height if self.header.format == "JPEG" else self.header.stored_height

    def facts(self) -> dict[str, Any]:
        """JSON-friendly facts for ``DetectionResult.runtime``."""
        return {
            "format": self.header.format,
            "exif_orientation": self.header.orientation,
            "stored_size": [self.header.stored_width, self.header.stored_height],
            "analysed_size": [self.width, self.height],
            "object_bytes": self.object_bytes,
        }


def _s3_error(exc: Any, location: S3Location) -> FacekitError:
    response = getattr(exc, "response", None) or {}
    details = error_details(response)
    code = details["code"] or ""
    status = details["status"]
    kwargs: dict[str, Any] = {"provider": PROVIDER, **details}
    uri = location.uri
    if code == "NoSuchBucket":
        return InvalidRequestError(f"the bucket {location.bucket!r} of {uri} does not exist", **kwargs)
    if code in ("NoSuchKey", "NotFound") or status == 404:
        return InvalidRequestError(f"{uri} does not exist (no such key); check the bucket and key", **kwargs)
    if code in ("NoSuchVersion", "InvalidArgument") and location.version:
        return InvalidRequestError(f"version {location.version!r} of {uri} does not exist", **kwargs)
    if code in ("AccessDenied", "AllAccessDisabled") or status == 403:
        return AuthenticationError(
            f"S3 denied reading {uri}; the IAM identity needs s3:GetObject (and s3:GetObjectVersion for "
            "?versionId=) on it, which Rekognition needs too (S3 also answers 403 for a missing key when "
            "s3:ListBucket is not allowed)",
            **kwargs,
        )
    if code == "InvalidRange":
        return InvalidImageError(f"{uri} is empty (0 bytes)", **kwargs)
    return InvalidRequestError(f"cannot read {uri} ({code or status})", **kwargs)


def _get_prefix(s3: Any, location: S3Location, limit: int) -> tuple[bytes, int | None]:
    from botocore.exceptions import BotoCoreError, ClientError

    kwargs: dict[str, Any] = {"Bucket": location.bucket, "Key": location.key, "Range": f"bytes=0-{limit - 1}"}
    if location.version:
        kwargs["VersionId"] = location.version
    try:
        with guarded(f"the size probe of {location.uri}", provider="aws"):
            response = s3.get_object(**kwargs)
            body = response["Body"]
            try:
                prefix: bytes = body.read(limit)
            finally:
                body.close()
    except FacekitError:
        raise
    except ClientError as exc:
        raise _s3_error(exc, location) from exc
    except BotoCoreError as exc:
        raise map_botocore_error(exc, what="S3") from exc
    except Exception as exc:  # urllib3 errors from the streamed body, anything else botocore lets through
        raise NetworkError(f"reading the header of {location.uri} failed ({type(exc).__name__})", provider="aws") from exc
    total: int | None = None
    content_range = str(response.get("ContentRange") or "")
    if "/" in content_range and content_range.rsplit("/", 1)[1].isdigit():
        total = int(content_range.rsplit("/", 1)[1])
    elif isinstance(response.get("ContentLength"), int) and len(prefix) < limit:
        total = len(prefix)
    return prefix[:limit], total


def probe_s3_image(s3: Any, location: S3Location) -> S3Image:
    """Read an S3 object's header with a ranged GET and check Rekognition can take it.

    Args:
        s3: A boto3 S3 client.
        location: The object.

    Returns:
        The header and object size.

    Raises:
        InvalidRequestError: The bucket, key or version does not exist.
        AuthenticationError: S3 denied the read.
        InvalidImageError: Not a JPEG/PNG, larger than 15 MB, or no readable header.
    """
    limit = PROBE_BYTES
    while True:
        prefix, total = _get_prefix(s3, location, limit)
        header = read_header(prefix)
        if header is not None or limit >= PROBE_MAX_BYTES or len(prefix) < limit:
            break
        limit = PROBE_MAX_BYTES
    if header is None:
        raise InvalidImageError(
            f"cannot read an image header from the first {len(prefix):,} bytes of {location.uri}; "
            "Rekognition reads JPEG and PNG objects only",
            provider=PROVIDER,
        )
    if header.format not in FORMATS:
        raise InvalidImageError(
            f"{location.uri} is {header.format}, but Rekognition reads only JPEG and PNG from S3; pass the image "
            "bytes instead (e.g. download it) so that facekit re-encodes it",
            provider=PROVIDER,
        )
    if total is not None and total > S3_MAX_BYTES:
        raise InvalidImageError(
            f"{location.uri} is {total:,} bytes, more than the {S3_MAX_BYTES:,} bytes (15 MB) Rekognition reads "
            "from S3; pass the image bytes instead so that facekit downsizes them",
            provider=PROVIDER,
        )
    return S3Image(header=header, object_bytes=total)


def bucket_region(s3: Any, bucket: str) -> str | None:
    """The region a bucket lives in, from a HeadBucket (None when S3 does not tell).

    S3 names the region in the ``x-amz-bucket-region`` header, on success and on the 301/403
    answers to a request sent to the wrong region.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        response = getattr(exc, "response", None) or {}
    except BotoCoreError:
        return None
    headers = (response.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
    region = headers.get("x-amz-bucket-region") or response.get("BucketRegion")
    return str(region) if region else None
