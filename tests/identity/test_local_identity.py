"""verify / find_similar / embeddings on the local engine with real photos of real people.

Photos (``tests/data/identity``, provenance in its README): three different photos of Barack
Obama, one of Joe Biden, plus Eileen Collins and Grace Hopper from the other test data.
"""

from __future__ import annotations

import json
import os
from itertools import combinations
from pathlib import Path

import pytest

from facekit import (
    FaceClient,
    FaceEmbedding,
    FaceIndex,
    FacekitWarning,
    InvalidRequestError,
    UnsupportedFeatureError,
    Verification,
)

pytest.importorskip("onnxruntime")
from facekit.local.store import ModelStore

if not os.environ.get("FACEKIT_REQUIRE_MODELS") and any(ModelStore().find(s.name) is None for s in ModelStore().list()):
    pytest.skip("local weights not fetched (run `facekit models fetch`)", allow_module_level=True)

DATA = Path(__file__).resolve().parents[1] / "data"
PEOPLE = {
    "obama_1": ("obama", DATA / "identity" / "obama_1.jpg"),
    "obama_2": ("obama", DATA / "identity" / "obama_2.jpg"),
    "obama_3": ("obama", DATA / "identity" / "obama_3.jpg"),
    "biden_1": ("biden", DATA / "identity" / "biden_1.jpg"),
    "collins": ("collins", DATA.parent / "local" / "data" / "astronaut.jpg"),
    "hopper": ("hopper", DATA / "grace_hopper.jpg"),
}


@pytest.fixture(scope="module")
def client() -> FaceClient:
    return FaceClient("local")


@pytest.fixture(scope="module")
def faces(client: FaceClient) -> dict[str, object]:
    out = {}
    for name, (_, path) in PEOPLE.items():
        result = client.detect(path, embeddings=True)
        assert len(result.faces) == 1, name
        out[name] = result.faces[0]
    return out


def test_embeddings_only_when_asked(client: FaceClient) -> None:
    plain = client.detect(PEOPLE["hopper"][1])
    assert plain.faces[0].embedding is None and "embedding" not in plain.models
    result = client.detect(PEOPLE["hopper"][1], embeddings=True)
    emb = result.faces[0].embedding
    assert isinstance(emb, FaceEmbedding)
    assert emb.model == "dlib_resnet_v1" and emb.metric == "euclidean" and emb.threshold == 0.6
    assert len(emb.vector) == 128 and 0.5 < sum(v * v for v in emb.vector) ** 0.5 < 2.0
    assert result.raw[0]["embedding"] == list(emb.vector)  # the engine's output stays on the result
    again = type(result).model_validate_json(result.to_json())
    assert again.faces[0].embedding == emb


def test_every_pair_of_these_people_is_decided_right(client: FaceClient, faces: dict[str, object]) -> None:
    for a, b in combinations(PEOPLE, 2):
        v = client.verify(faces[a], faces[b])
        assert isinstance(v, Verification) and v.method == "embedding" and v.similarity is None
        assert v.threshold == 0.6 and v.distance is not None
        assert v.same == (PEOPLE[a][0] == PEOPLE[b][0]), (a, b, v.distance)


def test_verify_images_and_thresholds(client: FaceClient, faces: dict[str, object]) -> None:
    v = client.verify(PEOPLE["obama_1"][1], PEOPLE["obama_2"][1])
    assert v.same and v.face_a is not None and v.face_b is not None and v.distance is not None
    assert v.face_a.embedding == faces["obama_1"].embedding  # type: ignore[attr-defined]
    strict = client.verify(faces["obama_1"], faces["obama_2"], threshold=v.distance - 0.01)
    assert not strict.same and strict.threshold == pytest.approx(v.distance - 0.01)
    vector = list(faces["biden_1"].embedding.vector)  # type: ignore[attr-defined]
    assert not client.verify(faces["obama_1"], vector).same
    with pytest.raises(InvalidRequestError, match="embeddings=True"):
        client.verify(client.detect(PEOPLE["hopper"][1]).faces[0], faces["hopper"])
    with pytest.raises(UnsupportedFeatureError, match="quality_filter"):
        client.verify(faces["obama_1"], faces["obama_2"], quality_filter="HIGH")


def test_a_face_of_another_model_is_refused(client: FaceClient, faces: dict[str, object]) -> None:
    other = FaceEmbedding(model="someone-else", vector=(0.0,) * 128, threshold=1.0)
    with pytest.raises(InvalidRequestError, match="someone-else"):
        client.verify(faces["obama_1"], other)


def test_find_similar_over_images_faces_and_an_index(client: FaceClient, faces: dict[str, object]) -> None:
    paths = [PEOPLE[n][1] for n in ("biden_1", "obama_2", "hopper", "obama_3")]
    found = client.find_similar(faces["obama_1"], paths, top_k=5)
    assert [m.candidate for m in found.matches] == [3, 1]  # obama_3 is the closer one
    assert all(m.face is not None and m.face_index == 0 for m in found.matches)
    assert found.candidates == 4 and found.threshold == 0.6
    loose = client.find_similar(faces["obama_1"], paths, top_k=2, threshold=10.0)
    assert [m.candidate for m in loose.matches] == [3, 1]  # top_k cuts the rest
    index = FaceIndex()
    for name, face in faces.items():
        index.add(name, face)
    hits = client.find_similar(PEOPLE["obama_1"][1], index, top_k=10)
    assert [m.key for m in hits.matches] == ["obama_1", "obama_3", "obama_2"]
    assert hits.matches[0].distance == pytest.approx(0.0, abs=1e-3)
    assert hits.query_face is not None


def test_unsupported_backends_refuse_before_any_request() -> None:
    client = FaceClient("fake")
    assert client.capabilities.verify is None
    with pytest.raises(UnsupportedFeatureError, match="cannot verify"):
        client.verify(PEOPLE["obama_1"][1], PEOPLE["obama_2"][1])
    with pytest.raises(UnsupportedFeatureError, match="cannot find similar"):
        client.find_similar(PEOPLE["obama_1"][1], [PEOPLE["obama_2"][1]])
    with pytest.raises(UnsupportedFeatureError, match="embeddings"):
        client.detect(PEOPLE["obama_1"][1], embeddings=True)
    assert client.backend.calls == []  # type: ignore[attr-defined]
    with pytest.warns(FacekitWarning, match="embedding left as None"):
        lenient = client.detect(PEOPLE["obama_1"][1], embeddings=True, strict=False)
    assert any("embedding" in w for w in lenient.warnings)


def test_json_of_a_verification_round_trips(client: FaceClient, faces: dict[str, object]) -> None:
    v = client.verify(faces["obama_1"], faces["biden_1"])
    assert Verification.model_validate_json(v.model_dump_json()) == v
    assert json.loads(v.model_dump_json())["same"] is False
