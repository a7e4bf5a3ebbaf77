"""Face identity for every provider: ``FaceClient.verify`` and ``FaceClient.find_similar``.

How each backend answers (``client.capabilities.verify`` / ``.find_similar``):

* ``"embedding"`` (local engine): facekit detects the faces with ``embeddings=True`` and
  compares dlib descriptors by **Euclidean distance** (0 = identical; same person when the
  distance is at most the threshold, default 0.6). ``distance`` is set, ``similarity`` None.
* ``"compare"`` (aws): Rekognition ``CompareFaces`` compares the largest face of the first
  image with every face of the second; **similarity** 0..1 (Rekognition's 0..100 / 100),
  same person when it is at least the threshold (default 0.8, Rekognition's own default
  ``SimilarityThreshold`` of 80). ``find_similar`` makes one CompareFaces call per candidate image.
* ``"face_id"`` (azure-rest, azure-sdk): facekit detects with ``face_id=True`` (Limited
  Access), then calls ``/verify`` or ``/findsimilars``; **similarity** is Azure's
  ``confidence`` 0..1; same person is Azure's ``isIdentical`` (confidence >= 0.5) unless a
  threshold is given.

A provider that cannot do what is asked raises :class:`~facekit.UnsupportedFeatureError`
before any request is sent.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from facekit._errors import InvalidRequestError, UnsupportedFeatureError
from facekit._models import DetectionResult, Face, FaceEmbedding

if TYPE_CHECKING:
    from facekit._face_index import FaceIndex
    from facekit.backends._base import Backend, Capabilities, CompareResult

__all__ = ["SimilarFaces", "SimilarMatch", "Verification", "find_similar", "verify"]


class IdentityClient(Protocol):
    """What verify / find_similar need of a client (``facekit.FaceClient`` has it); a protocol,
    so that this module does not import the client that calls it."""

    @property
    def provider(self) -> str: ...

    @property
    def backend(self) -> Backend: ...

    @property
    def capabilities(self) -> Capabilities: ...

    def detect(self, image: Any, *, face_id: bool = ..., embeddings: bool = ...) -> DetectionResult: ...

    def _compare_images(self, a: Any, b: Any, *, threshold: float, quality_filter: str | None) -> CompareResult: ...

    def _call_limits(self) -> AbstractContextManager[Any]: ...

#: Default same-person similarity for "compare" providers (Rekognition's default 80 %).
COMPARE_THRESHOLD = 0.8
#: Azure's documented isIdentical cut-off on confidence.
AZURE_THRESHOLD = 0.5

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

Method = Literal["embedding", "compare", "face_id"]

SCALES: dict[str, str] = {
    "embedding": "euclidean distance between descriptors of one model: 0 = identical, same person when <= threshold",
    "compare": "similarity 0..1 (the provider's percentage / 100): same person when >= threshold",
    "face_id": "the provider's confidence 0..1: same person when >= threshold",
}


class Verification(BaseModel):
    """Whether two faces are the same person.

    Attributes:
        provider: Backend name.
        method: ``"embedding"``, ``"compare"`` or ``"face_id"`` (see the module docs).
        same: True when the faces are taken to be the same person.
        distance: Euclidean distance (``"embedding"``), else None.
        similarity: Similarity or confidence 0..1 (``"compare"``, ``"face_id"``), else None.
        threshold: The threshold ``same`` was decided with, on the scale of ``distance`` or
            ``similarity``.
        scale: What the score means, in words.
        model: The embedding model (``"embedding"``), else None.
        face_a: The face compared from the first input (largest face of an image), if known.
        face_b: The face compared from the second input, if known.
        unmatched: Faces of the second image that did not match (aws), else empty.
        raw: The provider's answer(s), unchanged (for "embedding": None).
        warnings: Things the caller should know (e.g. more than one face in an image).
    """

    model_config = ConfigDict(frozen=True)

    provider: str
    method: Method
    same: bool
    distance: float | None = None
    similarity: float | None = None
    threshold: float
    scale: str
    model: str | None = None
    face_a: Face | None = None
    face_b: Face | None = None
    unmatched: list[Face] = Field(default_factory=list)
    raw: Any = None
    warnings: list[str] = Field(default_factory=list)


class SimilarMatch(BaseModel):
    """One candidate face that matched the query.

    Attributes:
        candidate: Index of the candidate in the ``candidates`` given (for a
            :class:`~facekit.FaceIndex`: None, see ``key``).
        key: The index key (FaceIndex candidates), else None.
        face_index: Which face of that candidate image (``Face.index``), None for faces,
            embeddings and index entries given directly.
        face: The candidate face when it came from an image, else None.
        distance: Euclidean distance (``"embedding"``), else None.
        similarity: Similarity 0..1 (``"compare"``, ``"face_id"``), else None.
        face_id: The provider's face id (``"face_id"``), else None.
    """

    model_config = ConfigDict(frozen=True)

    candidate: int | None = None
    key: str | None = None
    face_index: int | None = None
    face: Face | None = None
    distance: float | None = None
    similarity: float | None = None
    face_id: str | None = None


class SimilarFaces(BaseModel):
    """The faces most like a query face, best first.

    Attributes:
        provider: Backend name.
        method: ``"embedding"``, ``"compare"`` or ``"face_id"``.
        query_face: The query face (largest face of the query image), if known.
        matches: At most ``top_k`` matches within ``threshold``, best first.
        threshold: The threshold used, on the scale of the scores.
        scale: What the scores mean.
        model: The embedding model (``"embedding"``), else None.
        candidates: How many candidate faces were compared.
        raw: The provider's answer(s), unchanged.
        warnings: Things the caller should know.
    """

    model_config = ConfigDict(frozen=True)

    provider: str
    method: Method
    query_face: Face | None = None
    matches: list[SimilarMatch] = Field(default_factory=list)
    threshold: float
    scale: str
    model: str | None = None
    candidates: int = 0
    raw: Any = None
    warnings: list[str] = Field(default_factory=list)


# -- helpers -------------------------------------------------------------------------------


def _method(client: IdentityClient, call: Literal["verify", "find_similar"]) -> Method:
    caps = client.capabilities
    method = caps.verify if call == "verify" else caps.find_similar
    if method not in ("embedding", "compare", "face_id"):
        note = f": {caps.identity_note}" if caps.identity_note else ""
        raise UnsupportedFeatureError(
            f"the {client.provider} backend cannot {call.replace('_', ' ')}{note}", feature=call
        )
    return method  # type: ignore[return-value]


def _is_face_id(item: Any) -> bool:
    return isinstance(item, str) and bool(_UUID.match(item)) and not os.path.exists(item)


def _is_vector(item: Any) -> bool:
    if isinstance(item, (FaceEmbedding, Face, str, bytes, bytearray, os.PathLike)):
        return False
    shape = getattr(item, "shape", None)
    if shape is not None:
        return len(shape) == 1
    return isinstance(item, Sequence) and bool(item) and all(isinstance(v, (int, float)) for v in item)


def _largest(result: DetectionResult, which: str, warnings: list[str]) -> Face:
    if not result.faces:
        raise InvalidRequestError(f"no face found in the {which} image")
    if len(result.faces) > 1:
        warnings.append(f"{len(result.faces)} faces in the {which} image: the largest (index 0) was used")
    return result.faces[0]


def _embedding_of(client: IdentityClient, item: Any, which: str, warnings: list[str]) -> tuple[Face | None, FaceEmbedding]:
    from facekit.local.embedding import DEFAULT_THRESHOLD, EMBEDDING_MODEL

    if isinstance(item, FaceEmbedding):
        return None, item
    if isinstance(item, Face):
        if item.embedding is None:
            raise InvalidRequestError(f"the {which} face has no embedding: detect it with embeddings=True")
        return item, item.embedding
    if _is_vector(item):
        vector = tuple(float(v) for v in item)
        return None, FaceEmbedding(model=EMBEDDING_MODEL, vector=vector, threshold=DEFAULT_THRESHOLD)
    face = _largest(client.detect(item, embeddings=True), which, warnings)
    assert face.embedding is not None
    return face, face.embedding


def _distance(a: FaceEmbedding, b: FaceEmbedding) -> float:
    if a.model != b.model:
        raise InvalidRequestError(f"cannot compare a {a.model!r} embedding with a {b.model!r} one")
    if len(a.vector) != len(b.vector):
        raise InvalidRequestError(f"embeddings of different lengths ({len(a.vector)} and {len(b.vector)})")
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a.vector, b.vector, strict=True)))


def _face_id_of(client: IdentityClient, item: Any, which: str, warnings: list[str]) -> tuple[Face | None, str]:
    if _is_face_id(item):
        return None, str(item)
    if isinstance(item, Face):
        if item.face_id is None:
            raise InvalidRequestError(f"the {which} face has no face_id: detect it with face_id=True")
        return item, item.face_id
    face = _largest(client.detect(item, face_id=True), which, warnings)
    if face.face_id is None:
        raise InvalidRequestError(f"{client.provider} returned no face id for the {which} image")
    return face, face.face_id


# -- verify --------------------------------------------------------------------------------


def verify(
    client: IdentityClient,
    a: Any,
    b: Any,
    *,
    threshold: float | None = None,
    quality_filter: str | None = None,
) -> Verification:
    """Implement :meth:`FaceClient.verify` (see there)."""
    method = _method(client, "verify")
    if quality_filter is not None and method != "compare":
        raise UnsupportedFeatureError(
            f"quality_filter is an option of AWS CompareFaces; {client.provider} has none", feature="quality_filter"
        )
    warnings: list[str] = []
    if method == "embedding":
        face_a, emb_a = _embedding_of(client, a, "first", warnings)
        face_b, emb_b = _embedding_of(client, b, "second", warnings)
        limit = emb_a.threshold if threshold is None else float(threshold)
        distance = _distance(emb_a, emb_b)
        return Verification(
            provider=client.provider,
            method=method,
            same=distance <= limit,
            distance=distance,
            threshold=limit,
            scale=SCALES[method],
            model=emb_a.model,
            face_a=face_a,
            face_b=face_b,
            warnings=warnings,
        )
    if method == "compare":
        limit = COMPARE_THRESHOLD if threshold is None else float(threshold)
        compared = client._compare_images(a, b, threshold=limit, quality_filter=quality_filter)
        best = compared.matches[0] if compared.matches else None
        return Verification(
            provider=client.provider,
            method=method,
            same=best is not None and best[1] >= limit,
            similarity=best[1] if best is not None else None,
            threshold=limit,
            scale=SCALES[method],
            face_a=compared.source_face,
            face_b=best[0] if best is not None else None,
            unmatched=compared.unmatched,
            raw=compared.raw,
            warnings=[*compared.warnings, *warnings],
        )
    face_a, id_a = _face_id_of(client, a, "first", warnings)
    face_b, id_b = _face_id_of(client, b, "second", warnings)
    with client._call_limits():  # the client's total deadline and answer bounds hold for this call too
        answer = client.backend.verify_face_ids(id_a, id_b)
    confidence = float(answer["confidence"])
    same = bool(answer["isIdentical"]) if threshold is None else confidence >= float(threshold)
    return Verification(
        provider=client.provider,
        method=method,
        same=same,
        similarity=confidence,
        threshold=AZURE_THRESHOLD if threshold is None else float(threshold),
        scale=SCALES[method],
        face_a=face_a,
        face_b=face_b,
        raw=answer,
        warnings=warnings,
    )


# -- find similar --------------------------------------------------------------------------


def find_similar(
    client: IdentityClient,
    query: Any,
    candidates: Sequence[Any] | FaceIndex,
    *,
    top_k: int = 10,
    threshold: float | None = None,
    quality_filter: str | None = None,
) -> SimilarFaces:
    """Implement :meth:`FaceClient.find_similar` (see there)."""
    from facekit._face_index import FaceIndex

    method = _method(client, "find_similar")
    if top_k < 1:
        raise InvalidRequestError(f"top_k must be at least 1, got {top_k}")
    if isinstance(candidates, FaceIndex) and method != "embedding":
        raise UnsupportedFeatureError(
            f"a FaceIndex holds local embeddings; {client.provider} compares its own faces", feature="find_similar"
        )
    if quality_filter is not None and method != "compare":
        raise UnsupportedFeatureError(
            f"quality_filter is an option of AWS CompareFaces; {client.provider} has none", feature="quality_filter"
        )
    warnings: list[str] = []
    if method == "embedding":
        return _similar_by_embedding(client, query, candidates, top_k, threshold, warnings)
    if isinstance(candidates, FaceIndex):  # pragma: no cover - refused above
        raise AssertionError
    if method == "compare":
        return _similar_by_compare(client, query, list(candidates), top_k, threshold, quality_filter)
    return _similar_by_face_id(client, query, list(candidates), top_k, threshold, warnings)


def _similar_by_embedding(
    client: IdentityClient,
    query: Any,
    candidates: Sequence[Any] | FaceIndex,
    top_k: int,
    threshold: float | None,
    warnings: list[str],
) -> SimilarFaces:
    from facekit._face_index import FaceIndex

    query_face, emb = _embedding_of(client, query, "query", warnings)
    limit = emb.threshold if threshold is None else float(threshold)
    if isinstance(candidates, FaceIndex):
        hits = candidates.search(emb, top_k=top_k, threshold=limit)
        matches = [SimilarMatch(key=hit.key, distance=hit.distance) for hit in hits]
        count = len(candidates)
    else:
        scored: list[SimilarMatch] = []
        for position, item in enumerate(candidates):
            pairs: list[tuple[Face | None, FaceEmbedding, int | None]]
            if isinstance(item, (Face, FaceEmbedding)) or _is_vector(item):
                face, cand = _embedding_of(client, item, f"candidate {position}", warnings)
                pairs = [(face, cand, None)]
            else:
                result = client.detect(item, embeddings=True)
                if not result.faces:
                    warnings.append(f"no face in candidate {position}")
                pairs = [(f, f.embedding, f.index) for f in result.faces if f.embedding is not None]
            for face, cand, face_index in pairs:
                scored.append(
                    SimilarMatch(
                        candidate=position,
                        face_index=face_index,
                        face=face if face_index is not None else None,
                        distance=_distance(emb, cand),
                    )
                )
        count = len(scored)
        matches = sorted((m for m in scored if (m.distance or 0.0) <= limit), key=lambda m: m.distance or 0.0)
        matches = matches[:top_k]
    return SimilarFaces(
        provider=client.provider,
        method="embedding",
        query_face=query_face,
        matches=matches,
        threshold=limit,
        scale=SCALES["embedding"],
        model=emb.model,
        candidates=count,
        warnings=warnings,
    )


def _similar_by_compare(
    client: IdentityClient,
    query: Any,
    candidates: list[Any],
    top_k: int,
    threshold: float | None,
    quality_filter: str | None,
) -> SimilarFaces:
    limit = COMPARE_THRESHOLD if threshold is None else float(threshold)
    scored: list[SimilarMatch] = []
    raw: list[Any] = []
    warnings: list[str] = []
    query_face: Face | None = None
    count = 0
    for position, item in enumerate(candidates):
        compared = client._compare_images(query, item, threshold=limit, quality_filter=quality_filter)
        query_face = query_face or compared.source_face
        raw.append(compared.raw)
        warnings.extend(f"candidate {position}: {w}" for w in compared.warnings)
        count += len(compared.matches) + len(compared.unmatched)
        for face, similarity in compared.matches:
            if similarity >= limit:
                scored.append(SimilarMatch(candidate=position, face=face, similarity=similarity))
    scored.sort(key=lambda m: -(m.similarity or 0.0))
    return SimilarFaces(
        provider=client.provider,
        method="compare",
        query_face=query_face,
        matches=scored[:top_k],
        threshold=limit,
        scale=SCALES["compare"],
        candidates=count,
        raw=raw,
        warnings=warnings,
    )


def _similar_by_face_id(
    client: IdentityClient,
    query: Any,
    candidates: list[Any],
    top_k: int,
    threshold: float | None,
    warnings: list[str],
) -> SimilarFaces:
    query_face, query_id = _face_id_of(client, query, "query", warnings)
    ids: list[tuple[str, int, Face | None, int | None]] = []  # id, candidate, face, face index
    for position, item in enumerate(candidates):
        if _is_face_id(item) or isinstance(item, Face):
            face, fid = _face_id_of(client, item, f"candidate {position}", warnings)
            ids.append((fid, position, None, None))
            continue
        result = client.detect(item, face_id=True)
        if not result.faces:
            warnings.append(f"no face in candidate {position}")
        ids.extend((f.face_id, position, f, f.index) for f in result.faces if f.face_id is not None)
    if not ids:
        raise InvalidRequestError("no candidate face to compare with")
    with client._call_limits():
        answer = client.backend.find_similar_face_ids(query_id, [fid for fid, *_ in ids], top_k)
    by_id = {fid: (position, face, index) for fid, position, face, index in ids}
    limit = 0.0 if threshold is None else float(threshold)
    matches = []
    for hit in answer:
        fid = str(hit.get("faceId"))
        confidence = float(hit["confidence"])
        if fid not in by_id or confidence < limit:
            continue
        position, face, index = by_id[fid]
        matches.append(
            SimilarMatch(candidate=position, face_index=index, face=face, similarity=confidence, face_id=fid)
        )
    matches.sort(key=lambda m: -(m.similarity or 0.0))
    return SimilarFaces(
        provider=client.provider,
        method="face_id",
        query_face=query_face,
        matches=matches[:top_k],
        threshold=limit,
        scale=SCALES["face_id"],
        candidates=len(ids),
        raw=answer,
        warnings=warnings,
    )
