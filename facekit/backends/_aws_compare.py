"""Rekognition ``CompareFaces`` for ``FaceClient.verify`` / ``find_similar`` on the aws backend.

``CompareFaces`` takes two images (bytes or S3 objects), picks the largest face of the source
image and scores every face of the target: ``FaceMatches`` (similarity at least
``SimilarityThreshold``, 0..100) and ``UnmatchedFaces``. facekit reports similarities as
0..1 and boxes in pixels of each caller image.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Protocol

from facekit._errors import FacekitError, InvalidRequestError, ProviderError
from facekit._http import guarded
from facekit._image import Payload
from facekit._models import Face
from facekit.backends._aws_errors import map_botocore_error, map_client_error
from facekit.backends._aws_s3 import probe_s3_image
from facekit.backends._aws_wire import parse_face_detail
from facekit.backends._base import CompareResult

__all__ = ["QUALITY_FILTERS", "compare_faces"]


class RekognitionBackend(Protocol):
    """What CompareFaces needs of the aws backend (its boto3 clients); a protocol, so that this
    module does not import the backend that calls it."""

    @property
    def client(self) -> Any: ...

    @property
    def s3_client(self) -> Any: ...

QUALITY_FILTERS: Final = ("NONE", "AUTO", "LOW", "MEDIUM", "HIGH")
"""Values of ``QualityFilter`` (Rekognition's default: ``NONE`` for CompareFaces)."""


def _image(backend: RekognitionBackend, payload: Payload) -> tuple[dict[str, Any], int, int, bool]:
    if payload.kind == "s3" and payload.s3 is not None:
        probed = probe_s3_image(backend.s3_client, payload.s3)
        s3_object = {"Bucket": payload.s3.bucket, "Name": payload.s3.key}
        if payload.s3.version:
            s3_object["Version"] = payload.s3.version
        return {"S3Object": s3_object}, probed.width, probed.height, True
    if payload.kind == "bytes" and payload.data is not None and payload.width and payload.height:
        return {"Bytes": payload.data}, payload.width, payload.height, False
    raise InvalidRequestError(f"the aws backend cannot send a {payload.kind!r} payload", provider="aws")


def _faces(items: Any, width: int, height: int, where: str, warnings: list[str]) -> list[tuple[Face, float | None]]:
    out: list[tuple[Face, float | None]] = []
    if not isinstance(items, list):
        return out
    for number, item in enumerate(items):
        if not isinstance(item, Mapping):
            continue
        detail = item.get("Face", item)
        face = parse_face_detail(detail, width, height, landmarks=False, where=f"{where} {number}", warnings=warnings)
        if face is not None:
            similarity = item.get("Similarity")
            out.append((face, None if similarity is None else float(similarity) / 100.0))
    return out


def compare_faces(
    backend: RekognitionBackend,
    source: Payload,
    target: Payload,
    *,
    similarity_threshold: float,
    quality_filter: str | None,
) -> CompareResult:
    """Call ``CompareFaces``; faces in pixels of each payload (of each S3 object's upright image).

    Args:
        backend: The configured aws backend (its boto3 clients are used).
        source: The image whose largest face is compared.
        target: The image whose faces are scored.
        similarity_threshold: 0..1; sent as ``SimilarityThreshold`` (0..100).
        quality_filter: ``QualityFilter`` or None for Rekognition's default.

    Raises:
        InvalidRequestError: A threshold outside 0..1 or an unknown quality filter (before sending).
        ProviderError and the other mapped errors of the aws backend.
    """
    if not 0.0 <= similarity_threshold <= 1.0:
        raise InvalidRequestError(f"the aws similarity threshold is 0..1, got {similarity_threshold}", provider="aws")
    params: dict[str, Any] = {"SimilarityThreshold": round(similarity_threshold * 100.0, 6)}
    if quality_filter is not None:
        value = quality_filter.upper()
        if value not in QUALITY_FILTERS:
            raise InvalidRequestError(
                f"unknown quality_filter {quality_filter!r}; CompareFaces takes {', '.join(QUALITY_FILTERS)}",
                provider="aws",
            )
        params["QualityFilter"] = value
    src, sw, sh, src_s3 = _image(backend, source)
    tgt, tw, th, tgt_s3 = _image(backend, target)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        with guarded("the request to Rekognition", provider="aws"):
            response: dict[str, Any] = backend.client.compare_faces(SourceImage=src, TargetImage=tgt, **params)
    except FacekitError:
        raise
    except ClientError as exc:
        raise map_client_error(exc) from exc
    except BotoCoreError as exc:
        raise map_botocore_error(exc) from exc
    except Exception as exc:  # botocore's parser on a body of the wrong shape
        raise ProviderError(
            f"Rekognition's answer could not be read ({type(exc).__name__}); it is not a CompareFaces answer",
            provider="aws",
        ) from exc
    if not isinstance(response, Mapping) or not isinstance(response.get("FaceMatches", []), list):
        raise ProviderError("Rekognition answered without a FaceMatches list: not a CompareFaces answer", provider="aws")
    warnings: list[str] = []
    source_faces = _faces([response["SourceImageFace"]] if response.get("SourceImageFace") else [], sw, sh,
                          "source face", warnings)  # fmt: skip
    matched = _faces(response.get("FaceMatches"), tw, th, "matched face", warnings)
    unmatched = _faces(response.get("UnmatchedFaces"), tw, th, "unmatched face", warnings)
    matches = sorted(((face, sim or 0.0) for face, sim in matched), key=lambda pair: -pair[1])
    raw = {key: value for key, value in response.items() if key != "ResponseMetadata"}
    return CompareResult(
        source_face=source_faces[0][0] if source_faces else None,
        matches=matches,
        unmatched=[face for face, _ in unmatched],
        raw=raw,
        warnings=warnings,
        image_sizes=((sw, sh) if src_s3 else None, (tw, th) if tgt_s3 else None),
    )
