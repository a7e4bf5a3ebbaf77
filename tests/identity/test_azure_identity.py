"""Azure verify / find_similar for both Azure backends against a loopback Face service.

The stand-in detects by recognising the test photos' bytes (one face each, a fixed face id
per photo), answers /verify and /findsimilars by who is in which photo, and records every
request so that the request shapes are checked: detect with ``returnFaceId=true``, then the
face ids in the JSON bodies Azure documents.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from facekit import FaceClient, InvalidRequestError, ProviderError, UnsupportedFeatureError
from tests.azure_rest.fake_service import Reply, Seen, serve

pytest.importorskip("requests")

PHOTOS = Path(__file__).resolve().parents[1] / "data" / "identity"
PEOPLE = {p.stem: p for p in sorted(PHOTOS.glob("*.jpg"))}
BY_DIGEST = {hashlib.sha256(p.read_bytes()).hexdigest(): name for name, p in PEOPLE.items()}
FACE_ID = {name: str(uuid.uuid5(uuid.NAMESPACE_URL, name)) for name in PEOPLE}
WHO = {FACE_ID[name]: name.split("_")[0] for name in PEOPLE}
KEY = "identity-l00pback-k3y"
NOT_APPROVED = {
    "error": {
        "code": "UnsupportedFeature",
        "message": "Feature is not supported, missing approval for one or more of the following features: "
        "Identification,Verification. Please apply for access at https://aka.ms/facerecognition",
    }
}


def service_handler(seen: Seen) -> Reply:
    if seen.path.endswith("/detect"):
        name = BY_DIGEST.get(hashlib.sha256(seen.body).hexdigest())
        if name is None:
            return Reply(body=[])
        face: dict[str, Any] = {"faceRectangle": {"top": 100, "left": 200, "width": 150, "height": 160}}
        if seen.query.get("returnFaceId") == "true":
            face["faceId"] = FACE_ID[name]
        return Reply(body=[face])
    body = json.loads(seen.body)
    if seen.path.endswith("/verify"):
        same = WHO[body["faceId1"]] == WHO[body["faceId2"]]
        return Reply(body={"isIdentical": same, "confidence": 0.93 if same else 0.08})
    if seen.path.endswith("/findsimilars"):
        me = WHO[body["faceId"]]
        hits = [{"faceId": f, "confidence": 0.9 - 0.01 * i} for i, f in enumerate(body["faceIds"]) if WHO[f] == me]
        return Reply(body=hits[: body["maxNumOfCandidatesReturned"]])
    return Reply(status=404, body={"error": {"code": "NotFound", "message": seen.path}})


@pytest.fixture(params=["azure-rest", "azure-sdk"])
def provider(request: pytest.FixtureRequest) -> str:
    if request.param == "azure-sdk":
        pytest.importorskip("azure.ai.vision.face")
    return str(request.param)


def _client(provider: str, endpoint: str) -> FaceClient:
    return FaceClient(provider, endpoint=endpoint, key=KEY, api_version="v1.0")


def test_capabilities_name_the_limited_access(provider: str) -> None:
    caps = _client(provider, "http://127.0.0.1:9").capabilities
    assert caps.verify == "face_id" and caps.find_similar == "face_id" and not caps.embeddings
    assert caps.identity_note is not None and "aka.ms/facerecognition" in caps.identity_note


def test_verify_images_through_detect_then_verify(provider: str) -> None:
    with serve(service_handler) as service:
        client = _client(provider, service.endpoint)
        same = client.verify(PEOPLE["obama_1"], PEOPLE["obama_2"])
        other = client.verify(PEOPLE["obama_1"], PEOPLE["biden_1"])
        paths = [s.path for s in service.seen]
        bodies = [json.loads(s.body) for s in service.seen if s.path.endswith("/verify")]
        detects = [s for s in service.seen if s.path.endswith("/detect")]
    assert paths.count("/face/v1.0/verify") == 2 and len(detects) == 4
    assert all(s.query["returnFaceId"] == "true" for s in detects)
    assert bodies[0] == {"faceId1": FACE_ID["obama_1"], "faceId2": FACE_ID["obama_2"]}
    assert same.same and same.similarity == 0.93 and same.distance is None and same.method == "face_id"
    assert same.threshold == 0.5 and same.raw == {"isIdentical": True, "confidence": 0.93}
    assert same.face_a is not None and same.face_a.face_id == FACE_ID["obama_1"]
    assert not other.same and other.similarity == 0.08


def test_verify_faces_and_ids_without_detecting_again(provider: str) -> None:
    with serve(service_handler) as service:
        client = _client(provider, service.endpoint)
        face = client.detect(PEOPLE["obama_3"], face_id=True).faces[0]
        v = client.verify(face, FACE_ID["obama_1"], threshold=0.95)
        assert [s.path for s in service.seen] == ["/face/v1.0/detect", "/face/v1.0/verify"]
    assert not v.same and v.threshold == 0.95  # Azure says identical at 0.93, the caller asked for 0.95
    with pytest.raises(InvalidRequestError, match="face_id=True"):
        client.verify(face.model_copy(update={"face_id": None}), FACE_ID["obama_1"])


def test_find_similar_sends_face_ids_and_maps_answers_back(provider: str) -> None:
    with serve(service_handler) as service:
        client = _client(provider, service.endpoint)
        found = client.find_similar(
            PEOPLE["obama_1"], [PEOPLE["biden_1"], PEOPLE["obama_3"], FACE_ID["obama_2"]], top_k=5, threshold=0.5
        )
        (call,) = [json.loads(s.body) for s in service.seen if s.path.endswith("/findsimilars")]
    assert call == {
        "faceId": FACE_ID["obama_1"],
        "faceIds": [FACE_ID["biden_1"], FACE_ID["obama_3"], FACE_ID["obama_2"]],
        "maxNumOfCandidatesReturned": 5,
        "mode": "matchPerson",
    }
    assert [(m.candidate, m.face_id) for m in found.matches] == [(1, FACE_ID["obama_3"]), (2, FACE_ID["obama_2"])]
    assert found.matches[0].face is not None and found.matches[0].face_index == 0
    assert found.matches[1].face is None  # given as an id
    assert found.candidates == 3 and found.method == "face_id"


def test_403_unsupported_feature_is_explained(provider: str) -> None:
    def handler(seen: Seen) -> Reply:
        if seen.path.endswith("/verify"):
            return Reply(status=403, body=NOT_APPROVED)
        return service_handler(seen)

    with serve(handler) as service:
        client = _client(provider, service.endpoint)
        with pytest.raises(UnsupportedFeatureError) as info:
            client.verify(FACE_ID["obama_1"], FACE_ID["obama_2"])
    assert "Limited Access" in str(info.value) and "aka.ms/facerecognition" in str(info.value)
    assert info.value.status == 403 and KEY not in str(info.value)


def test_malformed_answers_and_refusals(provider: str) -> None:
    def handler(seen: Seen) -> Reply:
        return Reply(body={"isIdentical": "yes"})

    with serve(handler) as service:
        client = _client(provider, service.endpoint)
        with pytest.raises(ProviderError, match="isIdentical"):
            client.verify(FACE_ID["obama_1"], FACE_ID["obama_2"])
        with pytest.raises(UnsupportedFeatureError, match="quality_filter"):
            client.verify(FACE_ID["obama_1"], FACE_ID["obama_2"], quality_filter="HIGH")
        with pytest.raises(InvalidRequestError, match="1000"):
            client.find_similar(FACE_ID["obama_1"], [str(uuid.uuid4()) for _ in range(1001)])
        with pytest.raises(UnsupportedFeatureError, match="embeddings"):
            client.detect(PEOPLE["obama_1"], embeddings=True)
        assert len(service.seen) == 1  # only the malformed /verify went out
