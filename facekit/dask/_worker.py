"""One :class:`~facekit.FaceClient` per worker process and settings, reused by every task.

Building a client is the expensive part of a task for the local engine (it loads the ONNX
models) and a waste for cloud backends (sessions, connection pools). Tasks therefore ask
:func:`client_for` for their client: the first task of a worker process builds it, every
later task (of any partition, any graph) with the same settings gets the same one.
:class:`ClientCachePlugin` closes the clients when the worker shuts down.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
from dataclasses import dataclass, field
from typing import Any

from distributed import WorkerPlugin

from facekit._client import FaceClient

__all__ = ["ClientCachePlugin", "ClientSpec", "cache_stats", "client_for", "close_clients"]


@dataclass(frozen=True)
class ClientSpec:
    """How to build the client on a worker (travels with every task, pickled).

    Attributes:
        provider: Backend name (None: ``FACEKIT_PROVIDER`` on the worker, then ``local``).
        config: TOML config file path as seen by the worker, or None.
        profile: Profile in the config file, or None.
        options: Backend and client options (``FaceClient(**options)``).
    """

    provider: str | None = None
    config: str | None = None
    profile: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def key(self) -> str:
        """A digest of the settings: equal settings share one client per process."""
        data = pickle.dumps((self.provider, self.config, self.profile, sorted(self.options.items())))
        return hashlib.sha256(data).hexdigest()

    def build(self) -> FaceClient:
        """A new client with these settings."""
        return FaceClient(self.provider, config=self.config, profile=self.profile, **self.options)


_lock = threading.Lock()
_clients: dict[str, FaceClient] = {}
_builds: dict[str, int] = {}


def client_for(spec: ClientSpec) -> FaceClient:
    """The process's client for ``spec``, built on first use (thread-safe)."""
    key = spec.key()
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = spec.build()
            _clients[key] = client
            _builds[key] = _builds.get(key, 0) + 1
        return client


def cache_stats() -> dict[str, int]:
    """Clients built in this process by settings digest (1 each when reuse works)."""
    with _lock:
        return dict(_builds)


def close_clients() -> None:
    """Close and forget this process's clients."""
    with _lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.close()


class ClientCachePlugin(WorkerPlugin):  # type: ignore[misc]
    """A Dask worker plugin that closes facekit's cached clients when the worker closes.

    :func:`facekit.dask.detect` registers it (name ``"facekit-clients"``) when a
    ``distributed`` client is active; it has no other effect.
    """

    name = "facekit-clients"
    #: Registering it again (every ``detect`` call does) keeps the workers' plugin and clients;
    #: a replaced plugin would be torn down, closing the cached clients and their models.
    idempotent = True

    def setup(self, worker: Any) -> None:
        """Nothing to do: clients are built by the first task that needs them."""

    def teardown(self, worker: Any) -> None:
        """Close the clients (sessions, connection pools, ONNX sessions)."""
        close_clients()
