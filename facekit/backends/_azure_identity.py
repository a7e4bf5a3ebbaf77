"""Azure Face ``/verify`` (face to face) and ``/findsimilars`` (with ``faceIds``): bodies and answers.

Shared by the ``azure-rest`` and ``azure-sdk`` backends. Both operations take face ids from
detect (``returnFaceId=true``), which need Limited Access approval: without it Azure answers
403 ``UnsupportedFeature``, mapped to :class:`~facekit.UnsupportedFeatureError` with where to
apply. Face ids live 24 hours by default (``face_id_time_to_live``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from facekit._errors import InvalidRequestError, ProviderError

__all__ = [
    "FIND_SIMILAR_MODE",
    "MAX_CANDIDATES",
    "MAX_FACE_IDS",
    "find_similar_body",
    "parse_find_similar",
    "parse_verify",
    "verify_body",
]

#: Most ``faceIds`` one /findsimilars call takes.
MAX_FACE_IDS: Final = 1000
#: Most candidates one /findsimilars call returns (``maxNumOfCandidatesReturned``).
MAX_CANDIDATES: Final = 1000
#: facekit asks for the same person, not just look-alikes.
FIND_SIMILAR_MODE: Final = "matchPerson"


def verify_body(face_id_a: str, face_id_b: str) -> dict[str, Any]:
    """The JSON body of ``POST /face/{version}/verify`` (face to face)."""
    return {"faceId1": face_id_a, "faceId2": face_id_b}


def find_similar_body(face_id: str, face_ids: list[str], max_candidates: int) -> dict[str, Any]:
    """The JSON body of ``POST /face/{version}/findsimilars``.

    Raises:
        InvalidRequestError: More than :data:`MAX_FACE_IDS` candidate ids, or none.
    """
    if not face_ids:
        raise InvalidRequestError("find_similar needs at least one candidate face id")
    if len(face_ids) > MAX_FACE_IDS:
        raise InvalidRequestError(
            f"Azure /findsimilars takes at most {MAX_FACE_IDS} face ids per call, got {len(face_ids)}"
        )
    return {
        "faceId": face_id,
        "faceIds": list(face_ids),
        "maxNumOfCandidatesReturned": max(1, min(int(max_candidates), MAX_CANDIDATES)),
        "mode": FIND_SIMILAR_MODE,
    }


def _confidence(value: Any, where: str, provider: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise ProviderError(f"Azure's {where} has no confidence in 0..1 ({value!r})", provider=provider)
    return float(value)


def parse_verify(body: Any, *, provider: str) -> dict[str, Any]:
    """Check a /verify answer: ``{"isIdentical": bool, "confidence": 0..1}``, returned unchanged.

    Raises:
        ProviderError: Anything else.
    """
    if not isinstance(body, Mapping) or not isinstance(body.get("isIdentical"), bool):
        raise ProviderError("Azure's /verify answer has no isIdentical flag", provider=provider, body=body)
    _confidence(body.get("confidence"), "/verify answer", provider)
    return dict(body)


def parse_find_similar(body: Any, *, provider: str) -> list[dict[str, Any]]:
    """Check a /findsimilars answer: a list of ``{"faceId", "confidence"}``, returned unchanged.

    Raises:
        ProviderError: Anything else.
    """
    if not isinstance(body, list) or not all(isinstance(item, Mapping) for item in body):
        raise ProviderError("Azure's /findsimilars answer is not a list of faces", provider=provider, body=body)
    for item in body:
        if not isinstance(item.get("faceId"), str):
            raise ProviderError("Azure's /findsimilars answer lists a face without faceId", provider=provider)
        _confidence(item.get("confidence"), "/findsimilars answer", provider)
    return [dict(item) for item in body]
