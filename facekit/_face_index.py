"""``FaceIndex``: an in-memory store of face descriptors searched by brute force with numpy.

Example:
    >>> index = FaceIndex()                                  # dlib_resnet_v1, 128-D, 0.6
    >>> for face in client.detect("team.jpg", embeddings=True).faces:
    ...     index.add(f"team.jpg#{face.index}", face)
    >>> index.search(probe_face, top_k=3)                   # nearest first, within 0.6
    [IndexMatch(key='team.jpg#2', distance=0.41)]
    >>> index.save("team.npz"); FaceIndex.load("team.npz")

Search computes every distance (``|q|^2 + |v|^2 - 2 v.q`` with the squared norms kept), so
its cost grows linearly with the number of faces: measured in ``docs/identity.md``
(``benchmarks/identity/index_search.py``). numpy is needed (``pip install 'facekit-detect[local]'``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from facekit._deps import require
from facekit._errors import InvalidRequestError
from facekit._models import Face, FaceEmbedding

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["FaceIndex", "IndexMatch", "as_vector"]

_FORMAT = "facekit-face-index-v1"


@dataclass(frozen=True)
class IndexMatch:
    """One search hit.

    Attributes:
        key: The key the face was added under.
        distance: Euclidean distance to the query (0 = identical).
    """

    key: str
    distance: float


def as_vector(item: Face | FaceEmbedding | Sequence[float] | Any, *, model: str | None = None) -> list[float]:
    """The descriptor of a :class:`Face`, :class:`FaceEmbedding` or plain vector, as floats.

    Args:
        item: The face (with ``embedding``), embedding, or sequence / numpy vector.
        model: When given, a face or embedding made by another model is refused.

    Raises:
        InvalidRequestError: No embedding on the face, or one of another model.
    """
    if isinstance(item, Face):
        if item.embedding is None:
            raise InvalidRequestError(
                "this face has no embedding: detect with embeddings=True (local engine) to get one"
            )
        item = item.embedding
    if isinstance(item, FaceEmbedding):
        if model is not None and item.model != model:
            raise InvalidRequestError(
                f"cannot compare a {item.model!r} embedding with {model!r} ones: vectors of different "
                "models are not comparable"
            )
        return list(item.vector)
    try:
        return [float(v) for v in item]
    except TypeError as exc:
        raise InvalidRequestError(f"expected a Face, FaceEmbedding or vector, got {type(item).__name__}") from exc


class FaceIndex:
    """Face descriptors by key, searched by Euclidean distance.

    Args:
        model: The embedding model of every vector added (faces and embeddings of another
            model are refused).
        dim: Vector length.
        threshold: Default search threshold (Euclidean distance): hits farther than this are
            left out. ``0.6`` is dlib's same-person threshold.
    """

    def __init__(self, model: str = "dlib_resnet_v1", dim: int = 128, threshold: float = 0.6) -> None:
        self._np = require("numpy", extra="local", feature="FaceIndex")
        self.model = model
        self.dim = int(dim)
        self.threshold = float(threshold)
        self._keys: list[str] = []
        self._rows: dict[str, int] = {}
        self._vectors: npt.NDArray[np.float32] = self._np.zeros((0, self.dim), self._np.float32)
        self._norms: npt.NDArray[np.float32] = self._np.zeros(0, self._np.float32)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __repr__(self) -> str:
        return f"FaceIndex(model={self.model!r}, faces={self._size}, threshold={self.threshold})"

    @property
    def keys(self) -> list[str]:
        """Keys in storage order (removal moves the last key into the freed slot)."""
        return list(self._keys)

    def vector(self, key: str) -> list[float]:
        """The stored vector of ``key``.

        Raises:
            KeyError: Unknown key.
        """
        return [float(v) for v in self._vectors[self._rows[key]]]

    # -- changes ------------------------------------------------------------------------

    def add(self, key: str, item: Face | FaceEmbedding | Sequence[float] | Any) -> None:
        """Add one face under a new ``key``.

        Raises:
            InvalidRequestError: ``key`` is already present, no embedding, wrong model or length.
        """
        self.add_many([key], [item])

    def add_many(self, keys: Iterable[str], items: Iterable[Face | FaceEmbedding | Sequence[float] | Any]) -> None:
        """Add many faces at once (one array copy, so much faster than repeated :meth:`add`).

        ``items`` may also be an (N, dim) numpy array.

        Raises:
            InvalidRequestError: A key is present twice or already, lengths differ, no
                embedding, wrong model or vector length. Nothing is added then.
        """
        np = self._np
        keys = [str(k) for k in keys]
        if isinstance(items, np.ndarray):
            block = np.asarray(items, dtype=np.float32).reshape(len(items), -1)
        else:
            block = np.array([as_vector(i, model=self.model) for i in items], dtype=np.float32)
        if len(block) == 0 and not keys:
            return
        if block.ndim != 2 or block.shape[1] != self.dim:
            raise InvalidRequestError(f"vectors must have length {self.dim}, got shape {block.shape}")
        if len(block) != len(keys):
            raise InvalidRequestError(f"{len(keys)} keys for {len(block)} vectors")
        clash = [k for k in keys if k in self._rows]
        if clash or len(set(keys)) != len(keys):
            raise InvalidRequestError(f"key(s) already in the index or repeated: {sorted(set(clash) or keys)[:5]}")
        need = self._size + len(block)
        if need > len(self._vectors):
            capacity = max(need, 2 * len(self._vectors), 64)
            grown = np.zeros((capacity, self.dim), np.float32)
            grown[: self._size] = self._vectors[: self._size]
            norms = np.zeros(capacity, np.float32)
            norms[: self._size] = self._norms[: self._size]
            self._vectors, self._norms = grown, norms
        self._vectors[self._size : need] = block
        self._norms[self._size : need] = np.einsum("ij,ij->i", block, block)
        for offset, key in enumerate(keys):
            self._rows[key] = self._size + offset
        self._keys.extend(keys)
        self._size = need

    def remove(self, key: str) -> None:
        """Remove ``key`` (the last face moves into its slot).

        Raises:
            KeyError: Unknown key.
        """
        row = self._rows.pop(key)
        last = self._size - 1
        if row != last:
            moved = self._keys[last]
            self._vectors[row] = self._vectors[last]
            self._norms[row] = self._norms[last]
            self._keys[row] = moved
            self._rows[moved] = row
        self._keys.pop()
        self._size = last

    # -- search -------------------------------------------------------------------------

    def search(
        self, query: Face | FaceEmbedding | Sequence[float] | Any, *, top_k: int = 10, threshold: float | None = None
    ) -> list[IndexMatch]:
        """The ``top_k`` nearest faces within ``threshold``, nearest first.

        Args:
            query: A face with an embedding, an embedding or a vector.
            top_k: Most hits returned (>= 1).
            threshold: Largest distance returned; None uses the index's default, ``inf``
                returns the ``top_k`` nearest whatever their distance.

        Raises:
            InvalidRequestError: ``top_k`` < 1, no embedding, wrong model or vector length.
        """
        np = self._np
        if top_k < 1:
            raise InvalidRequestError(f"top_k must be at least 1, got {top_k}")
        q = np.asarray(as_vector(query, model=self.model), dtype=np.float32)
        if q.shape != (self.dim,):
            raise InvalidRequestError(f"the query must have length {self.dim}, got {q.shape[0]}")
        limit = self.threshold if threshold is None else float(threshold)
        n = self._size
        if n == 0:
            return []
        d2 = self._norms[:n] - 2.0 * (self._vectors[:n] @ q) + float(q @ q)
        k = min(top_k, n)
        best = np.argpartition(d2, k - 1)[:k] if k < n else np.arange(n)
        best = best[np.argsort(d2[best], kind="stable")]
        hits = []
        for row in best:
            dist = float(np.sqrt(max(float(d2[row]), 0.0)))
            if dist > limit:
                break
            hits.append(IndexMatch(self._keys[int(row)], dist))
        return hits

    # -- files --------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the index to an ``.npz`` file (keys, vectors, model, threshold)."""
        np = self._np
        with open(os.fspath(path), "wb") as f:
            np.savez(
                f,
                format=np.array(_FORMAT),
                model=np.array(self.model),
                threshold=np.array(self.threshold),
                keys=np.array(self._keys, dtype=np.str_),
                vectors=self._vectors[: self._size],
            )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> FaceIndex:
        """Read an index written by :meth:`save`.

        Raises:
            InvalidRequestError: Not a facekit face index file.
        """
        np = require("numpy", extra="local", feature="FaceIndex")
        try:
            with np.load(os.fspath(path), allow_pickle=False) as data:
                if str(data["format"]) != _FORMAT:
                    raise InvalidRequestError(f"{path} is not a facekit face index ({data['format']})")
                vectors = np.asarray(data["vectors"], np.float32)
                index = cls(str(data["model"]), vectors.shape[1], float(data["threshold"]))
                index.add_many([str(k) for k in data["keys"]], vectors)
        except (KeyError, ValueError, OSError) as exc:
            raise InvalidRequestError(f"cannot read a face index from {path}: {exc}") from exc
        return index
