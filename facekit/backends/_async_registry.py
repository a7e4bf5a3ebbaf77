"""Which async twin :class:`~facekit.AsyncFaceClient` awaits for each sync backend.

Native twins: ``azure-rest`` (aiohttp, :mod:`facekit.backends.azure_rest_async`), ``aws``
(aiohttp with botocore's signer, :mod:`facekit.backends.aws_async`; ``s3://`` inputs on
threads) and ``azure-sdk`` (``azure.ai.vision.face.aio``, :mod:`facekit.backends.azure_sdk_async`).
Every other backend (``local``, ``fake``, registered ones) runs on a bounded pool of
threads (:class:`~facekit.backends._async_base.ThreadOffloadBackend`), ``threads`` or the
backend's ``async_threads`` at most. The async modules import the sync ones, never the
other way round.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from facekit.backends._async_base import AsyncBackend, ThreadOffloadBackend

if TYPE_CHECKING:
    from facekit.backends._base import Backend

__all__ = ["async_backend_for"]


def async_backend_for(backend: Backend, *, threads: int | None = None) -> AsyncBackend:
    """The async twin of a configured sync ``backend``.

    Args:
        backend: The sync backend (its settings are the twin's).
        threads: Most blocking calls at once for a thread-run backend (default: its ``async_threads``).

    Raises:
        MissingDependencyError: The ``async`` extra (aiohttp) is not installed.
        ConfigurationError: A setting the async stack cannot honour (e.g. a sync-only credential).
    """
    from facekit.backends.azure_rest import AzureRestBackend

    if isinstance(backend, AzureRestBackend):
        from facekit.backends.azure_rest_async import AsyncAzureRestBackend

        return AsyncAzureRestBackend(backend)
    if backend.name == "aws":
        from facekit.backends.aws import RekognitionBackend
        from facekit.backends.aws_async import AsyncRekognitionBackend

        if isinstance(backend, RekognitionBackend):
            return AsyncRekognitionBackend(backend, threads=threads or backend.async_threads)
    if backend.name == "azure-sdk":  # without importing the SDK for the other backends
        from facekit.backends.azure_sdk import AzureSdkBackend
        from facekit.backends.azure_sdk_async import AsyncAzureSdkBackend

        if isinstance(backend, AzureSdkBackend):
            return AsyncAzureSdkBackend(backend)
    return ThreadOffloadBackend(backend, threads=threads or backend.async_threads)
