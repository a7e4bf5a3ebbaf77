"""``azure-sdk`` on ``azure.ai.vision.face.aio``: Microsoft's async client, the sync backend's rules.

Made (by :func:`~facekit.backends._async_registry.async_backend_for`) from a configured sync backend: the same endpoint,
credential, API version, client settings and retry rules (azure-core's async retry policy
without 4xx retries; facekit retries 429 itself, on the event loop, per the same
:class:`~facekit.RetryPolicy`). The call is built and its answer normalised by the sync
backend's own functions, and every exception goes through the same seam
(:func:`facekit.backends._azure_sdk_glue.map_sdk_error`).

The SDK's async transport is azure-core's ``AioHttpTransport`` (aiohttp, in the ``async``
extra) on a session whose answers are read bounded by the call's ``max_response_bytes``
(:func:`bounded_transport`), or the ``async_transport`` given to the backend (then the size is
checked once the SDK has read the answer). Each call is bounded by the call's deadline; a
cancelled call cancels its request. The SDK client, its transport and an async credential
facekit made are per event loop (:class:`~facekit._per_loop.PerLoop`): closed when their loop
shuts down, made again for a later loop.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from facekit._async_limits import within_deadline
from facekit._deps import require
from facekit._errors import ConfigurationError, RateLimitError
from facekit._http import answer_too_large
from facekit._limits import current_limits
from facekit._per_loop import PerLoop
from facekit.backends._async_base import AsyncBackend
from facekit.backends._azure_wire import build_query
from facekit.backends.azure_sdk import detect_call, sdk_keywords

if TYPE_CHECKING:
    from facekit._image import Payload
    from facekit._models import DetectRequest
    from facekit.backends._base import BackendResult
    from facekit.backends.azure_sdk import AzureSdkBackend

__all__ = ["AsyncAzureSdkBackend", "async_credential"]

logger = logging.getLogger("facekit.azure_sdk")


def async_credential(credential: Any) -> Any:
    """The credential the async SDK client takes for the sync backend's ``credential``.

    A key works for both; ``azure.identity``'s ``DefaultAzureCredential`` becomes a new
    ``azure.identity.aio`` twin (the caller closes it); any credential whose ``get_token`` is a
    coroutine is used as is.

    Raises:
        ConfigurationError: A sync token credential facekit cannot turn into an async one.
    """
    if not _needs_async_twin(credential):
        return credential
    identity_aio = require("azure.identity.aio", extra="azure-sdk", feature="async token authentication")
    return identity_aio.DefaultAzureCredential()


def _needs_async_twin(credential: Any) -> bool:
    """Whether ``credential`` is a sync ``DefaultAzureCredential`` (to be replaced by its async
    twin); False for a key or an async credential.

    Raises:
        ConfigurationError: A sync token credential facekit cannot turn into an async one.
    """
    from azure.core.credentials import AzureKeyCredential

    if isinstance(credential, AzureKeyCredential) or inspect.iscoroutinefunction(getattr(credential, "get_token", None)):
        return False
    if type(credential).__name__ == "DefaultAzureCredential" and type(credential).__module__.startswith("azure.identity"):
        return True
    raise ConfigurationError(
        f"AsyncFaceClient needs an async token credential, got {type(credential).__name__}: pass "
        "credential=azure.identity.aio.DefaultAzureCredential() (or another AsyncTokenCredential), or a key"
    )


def bounded_transport(**settings: Any) -> Any:
    """azure-core's ``AioHttpTransport`` on an aiohttp session whose answers are read bounded
    (:func:`facekit._aiohttp.bounded_response_class`): an answer over the call's
    ``max_response_bytes`` is refused before it is read whole, as on the sync transport.

    Args:
        **settings: ``AioHttpTransport`` settings (``connection_timeout``, ``read_timeout``; None
            values are left out).
    """
    import aiohttp
    from azure.core.pipeline.transport import AioHttpTransport

    from facekit._aiohttp import bounded_response_class

    response_class = bounded_response_class(what="Azure's answer", provider="azure-sdk")

    class BoundedAioHttpTransport(AioHttpTransport):  # type: ignore[misc]
        async def open(self) -> None:
            # the session azure-core would make (no cookies, no decompression, proxies from the
            # environment), with bounded reads; made here, inside the running loop
            # (azure-core's own attributes are read defensively: should they change, the transport
            # opens its plain session and the size is still checked once the answer was read)
            session: Any = getattr(self, "session", None)
            owner, opened = getattr(self, "_session_owner", False), getattr(self, "_has_been_opened", True)
            if session is None and owner and not opened:
                self.session = aiohttp.ClientSession(
                    trust_env=getattr(self, "_use_env_settings", True),
                    cookie_jar=aiohttp.DummyCookieJar(),
                    auto_decompress=False,
                    response_class=response_class,
                )
            await super().open()

    return BoundedAioHttpTransport(**{key: value for key, value in settings.items() if value is not None})


class AsyncAzureSdkBackend(AsyncBackend):
    """Azure Face Detect through ``azure.ai.vision.face.aio.FaceClient`` (extras ``azure-sdk``, ``async``).

    Args:
        backend: The configured sync backend.
    """

    sync: AzureSdkBackend

    def __init__(self, backend: AzureSdkBackend) -> None:
        self._face_aio = require("azure.ai.vision.face.aio", extra="azure-sdk", feature="AsyncFaceClient with azure-sdk")
        if backend._async_transport is None:
            require("aiohttp", extra="async", feature="AsyncFaceClient with azure-sdk")
        self.sync = backend
        if _needs_async_twin(backend._sdk_credential):  # refuses a credential that cannot work, before any call
            require("azure.identity.aio", extra="azure-sdk", feature="async token authentication")
        self._given_transport_used = False
        self._clients: PerLoop[_LoopClient] = PerLoop(self._new_client, _close_client, what="Azure SDK client")

    def _new_client(self) -> _LoopClient:
        """The SDK client of one event loop, on a transport (and async credential) of its own."""
        from facekit.backends._azure_sdk_glue import NoClientErrorAsyncRetryPolicy

        backend = self.sync
        options: dict[str, Any] = dict(backend._async_client_options)
        if backend._async_transport is not None:
            if self._given_transport_used:  # azure-core cannot reopen a transport once it was closed
                raise ConfigurationError(
                    "the async_transport given to the azure-sdk backend served an earlier event loop and was closed "
                    "with it; make one AsyncFaceClient per event loop, or leave async_transport out (facekit then "
                    "makes a transport per loop)"
                )
            self._given_transport_used = True
            options["transport"] = backend._async_transport
        else:
            options["transport"] = bounded_transport(
                connection_timeout=options.get("connection_timeout"), read_timeout=options.get("read_timeout")
            )
        if backend._retry_429:
            options["retry_policy"] = NoClientErrorAsyncRetryPolicy(**backend._retry_settings)
        credential = async_credential(backend._sdk_credential)
        client = self._face_aio.FaceClient(backend._endpoint, credential, api_version=backend._options.api_version, **options)
        return _LoopClient(client, credential if credential is not backend._sdk_credential else None)

    async def aclose(self) -> None:
        await self._clients.close()

    def __repr__(self) -> str:
        return f"AsyncAzureSdkBackend({self.sync!r})"

    async def detect(self, payload: Payload, request: DetectRequest) -> BackendResult:
        backend = self.sync
        options = backend._options.with_overrides(request.options)
        call = detect_call(self._clients.get().client, payload, sdk_keywords(build_query(request, options)))
        answer, headers = await self._call_retrying_429(call)
        return backend.detect_result(answer, headers, payload, options)

    async def _call_retrying_429(self, call: Callable[[Any, dict[str, Any]], Any]) -> tuple[Any, dict[str, str]]:
        """Await ``call``, retrying 429 answers per the backend's policy within the deadline."""
        backend = self.sync
        attempt = 1
        while True:
            try:
                return await self._call_once(call)
            except RateLimitError as error:
                delay = backend.wait_before_429_retry(error, attempt)
                if delay is None:
                    raise
                logger.debug("Azure answered 429; retry %d in %.2f s (async)", attempt, delay)
                await asyncio.sleep(delay)
                attempt += 1

    async def _call_once(self, call: Callable[[Any, dict[str, Any]], Any]) -> tuple[Any, dict[str, str]]:
        """One SDK call: the error seam (every azure-core exception mapped, ``from`` it)."""
        from facekit.backends._azure_sdk_glue import ResponseRecorder

        backend = self.sync
        if backend._rate_limiter is not None:
            await backend._rate_limiter.acquire_async()
        recorder = ResponseRecorder()
        try:
            async with within_deadline("the request to Azure", provider=backend.name):
                answer = await call(recorder, backend.per_call_options())
        except Exception as exc:
            error = backend.seam_error(exc, recorder.response)
            if error is exc:
                raise
            raise error from exc
        response = recorder.response
        headers = dict(response.headers) if response is not None else {}
        _check_size(response, current_limits().max_response_bytes, provider=backend.name)
        return answer, headers


class _LoopClient(NamedTuple):
    """The SDK client of one event loop, and the async credential facekit made for it (to close), if any."""

    client: Any
    credential: Any | None


async def _close_client(made: _LoopClient) -> None:
    try:
        await made.client.close()
    finally:
        close = getattr(made.credential, "close", None)
        if close is not None:
            await close()


def _check_size(response: Any, limit: int, *, provider: str) -> None:
    """Refuse an answer over ``limit`` bytes, once the SDK has read it (the guard for an
    ``async_transport`` given by the caller; facekit's own transport refuses it while reading)."""
    if response is None:
        return
    try:
        size = len(response.body())
    except Exception:  # a streamed or unreadable body: nothing to measure
        return
    if size > limit:
        raise answer_too_large("Azure's answer", limit, provider, declared=size)
