"""Fixtures for facekit.dask: a real ``distributed.LocalCluster`` (2 worker processes, 1 thread
each) shared by the module that asks for it, and real photos."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

try:
    import dask  # noqa: F401
    import distributed  # noqa: F401
    import pyarrow  # noqa: F401
except ImportError:  # the 'dask' extra is not installed: skip this folder
    collect_ignore_glob = ["test_*.py"]

TESTS = Path(__file__).resolve().parent.parent
#: Real photos shipped with the tests (public domain; see tests/data and tests/local/data).
GRACE = TESTS / "data" / "grace_hopper.jpg"
ASTRONAUT = TESTS / "local" / "data" / "astronaut.jpg"


@pytest.fixture(scope="module")
def cluster_client() -> Iterator[Any]:
    """A ``distributed.Client`` on a fresh LocalCluster of 2 worker processes, 1 thread each."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(2, timeout=60)
        yield client


@pytest.fixture(scope="session")
def models() -> Any:
    """The local engine's verified weights (skipped when absent, failed with FACEKIT_REQUIRE_MODELS)."""
    import os

    from facekit.local.store import ModelStore

    store = ModelStore(allow_fetch=False)
    missing = [name for name, _, ok in store.verify() if not ok]
    if missing:
        message = f"model files missing: {', '.join(missing)} (run `facekit models fetch`)"
        if os.environ.get("FACEKIT_REQUIRE_MODELS"):
            pytest.fail(message)
        pytest.skip(message)
    return store
