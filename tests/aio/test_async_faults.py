"""The fault suite (``tests/trust/test_fault_suite.py``) run through AsyncFaceClient.

The same stand-in, the same faults, the same client settings and the same checks: every call
ends in a right success or a :class:`~facekit.FacekitError` subclass, within the deadline;
Retry-After is waited out before an Azure retry; the key appears in no message. Only the
client differs: aiohttp (azure-rest), the SDK's ``aio`` client (azure-sdk), boto3 on the
async client's threads (aws). The default run is bounded; ``-m slow`` runs the long one.
"""

from __future__ import annotations

from typing import Any

import pytest

from facekit import AsyncFaceClient
from tests.aio.sync_view import OnLoop
from tests.trust.test_fault_suite import BACKENDS, _check, client_settings, run_suite


def _async_client(backend: str, url: str) -> OnLoop:
    return OnLoop(lambda: AsyncFaceClient(backend, **client_settings(backend, url)))


_async_client.label = "AsyncFaceClient"  # type: ignore[attr-defined]


def _run(backend: str, calls: int, seed: int) -> dict[str, Any]:
    return run_suite(backend, calls=calls, seed=seed, make_client=_async_client)


@pytest.mark.parametrize("backend", BACKENDS)
def test_async_faults_end_in_the_tree_or_a_right_answer_within_the_deadline(backend: str) -> None:
    report = _run(backend, calls=80, seed=5)
    assert report["client"] == "AsyncFaceClient"
    _check(report)


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_async_faults_long_run(backend: str) -> None:
    _check(_run(backend, calls=600, seed=13))
