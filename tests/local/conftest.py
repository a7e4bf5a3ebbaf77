"""Fixtures for the local engine's tests: real weights, real photos, no network.

Weights come from the model store's normal search path (FACEKIT_MODEL_DIR, the user
cache). When they are absent the tests that need them are skipped, unless the environment
sets FACEKIT_REQUIRE_MODELS (CI pre-fetches them with `facekit models fetch`), in which case
they fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from facekit.local.store import ModelStore

DATA = Path(__file__).resolve().parent / "data"
SHARED_DATA = Path(__file__).resolve().parent.parent / "data"


def isolated_store(models: ModelStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *names: str) -> ModelStore:
    """A store that holds copies of the pinned ``names`` only, caches under ``tmp_path/cache``
    and never fetches: what a file prepared from them is built in, away from the user cache.

    Args:
        models: The verified store the copies come from.
        tmp_path: The test's temporary directory (``src`` and ``cache`` are made in it).
        monkeypatch: Unsets ``FACEKIT_MODEL_DIR``, so that no other directory is searched.
        names: Pinned file names to copy.
    """
    import shutil

    monkeypatch.delenv("FACEKIT_MODEL_DIR", raising=False)
    (tmp_path / "src").mkdir()
    for name in names:
        shutil.copy(models.path(name), tmp_path / "src" / name)
    return ModelStore(tmp_path / "src", cache_dir=tmp_path / "cache", allow_fetch=False)


def _image(path: Path) -> npt.NDArray[np.uint8]:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


@pytest.fixture(scope="session")
def models() -> ModelStore:
    """A store whose four pinned files are present and verified (never fetches)."""
    store = ModelStore(allow_fetch=False)
    missing = [name for name, _, ok in store.verify() if not ok]
    if missing:
        msg = (
            f"model files missing or corrupt: {', '.join(missing)} "
            f"(run `facekit models fetch`; searched {store.search_dirs()})"
        )
        if os.environ.get("FACEKIT_REQUIRE_MODELS"):
            pytest.fail(msg)
        pytest.skip(msg)
    return store


@pytest.fixture(scope="session")
def grace() -> npt.NDArray[np.uint8]:
    """Grace Hopper, 512 x 600 RGB (matplotlib's public-domain sample)."""
    return _image(SHARED_DATA / "grace_hopper.jpg")


@pytest.fixture(scope="session")
def astronaut() -> npt.NDArray[np.uint8]:
    """Eileen Collins, 512 x 512 RGB (NASA, public domain; scikit-image's sample)."""
    return _image(DATA / "astronaut.jpg")


@pytest.fixture(scope="session")
def engine(models: ModelStore) -> object:
    """One LocalEngine shared by the tests (sessions are expensive to create)."""
    from facekit.local.engine import LocalEngine

    return LocalEngine(store=models)
