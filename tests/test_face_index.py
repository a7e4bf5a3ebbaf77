"""FaceIndex: add, remove, search, save and load, checked against a plain numpy brute force."""

from __future__ import annotations

from pathlib import Path

import pytest

from facekit import FaceEmbedding, FaceIndex, InvalidRequestError

np = pytest.importorskip("numpy")


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 0.09, (n, 128)).astype(np.float32)


def test_search_agrees_with_brute_force() -> None:
    vecs = _vectors(500)
    index = FaceIndex()
    index.add_many([f"k{i}" for i in range(500)], vecs)
    query = vecs[7] + 0.01
    hits = index.search(query, top_k=5, threshold=float("inf"))
    dist = np.linalg.norm(vecs - query, axis=1)
    order = np.argsort(dist)[:5]
    assert [h.key for h in hits] == [f"k{i}" for i in order]
    assert [h.distance for h in hits] == pytest.approx(dist[order].tolist(), abs=1e-4)
    within = index.search(query, top_k=500, threshold=1.2)
    assert len(within) == int((dist <= 1.2).sum()) and all(h.distance <= 1.2 for h in within)
    assert index.search(query, top_k=3)[0].key == "k7"  # default threshold 0.6


def test_add_remove_and_files(tmp_path: Path) -> None:
    vecs = _vectors(100, seed=1)
    index = FaceIndex()
    for i, v in enumerate(vecs):
        index.add(f"k{i}", FaceEmbedding(model="dlib_resnet_v1", vector=tuple(map(float, v)), threshold=0.6))
    assert len(index) == 100 and "k3" in index
    index.remove("k3")
    index.remove("k99")
    assert len(index) == 98 and "k3" not in index
    assert all(h.key != "k3" for h in index.search(vecs[3], top_k=98, threshold=float("inf")))
    assert index.vector("k98") == pytest.approx(vecs[98].tolist())  # moved rows keep their vectors
    with pytest.raises(KeyError):
        index.remove("k3")
    path = tmp_path / "faces.npz"
    index.save(path)
    loaded = FaceIndex.load(path)
    assert len(loaded) == 98 and loaded.model == "dlib_resnet_v1" and loaded.threshold == 0.6
    q = vecs[50]
    assert loaded.search(q, top_k=4, threshold=9.0) == index.search(q, top_k=4, threshold=9.0)


def test_bad_input_is_refused(tmp_path: Path) -> None:
    index = FaceIndex()
    index.add("a", [0.0] * 128)
    with pytest.raises(InvalidRequestError, match="already"):
        index.add("a", [0.0] * 128)
    with pytest.raises(InvalidRequestError, match="length 128"):
        index.add("b", [0.0] * 3)
    with pytest.raises(InvalidRequestError, match="not comparable"):
        index.add("c", FaceEmbedding(model="other", vector=(0.0,) * 128, threshold=1))
    with pytest.raises(InvalidRequestError, match="top_k"):
        index.search([0.0] * 128, top_k=0)
    assert len(index) == 1
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(InvalidRequestError, match="cannot read"):
        FaceIndex.load(junk)
    assert FaceIndex().search([0.0] * 128) == []
