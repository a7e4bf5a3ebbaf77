"""``azure-rest`` on httpx's async stack: the same requests, answers and errors as the sync backend.

Made by :meth:`AzureRestBackend.to_async` from a configured sync backend, whose settings it
uses unchanged (endpoint, credential, models, timeouts, retry policy, rate limiter). What is
sent and how an answer is read are the sync backend's own functions
(:meth:`~facekit.backends.azure_rest.AzureRestBackend.detect_request`,
:func:`~facekit.backends.azure_rest.read_answer`,
:meth:`~facekit.backends.azure_rest.AzureRestBackend.detect_result`); only the transport
differs. Why httpx: it is the async client that FastAPI and most async Python code already
carry, with HTTP/1.1 connection pooling, per-phase timeouts and cancellation that drops the
connection of an unfinished answer.

Answers are read as a stream and refused past the call's ``max_response_bytes``; each attempt
is bounded by the call's deadline (:func:`facekit._async_limits.within_deadline`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Final

from facekit._async_limits import within_deadline
from facekit._async_retry import call_with_retries_async
from facekit._deps import require
from facekit._errors import FacekitError, NetworkError, ProviderError, RequestTimeoutError
from facekit._http import answer_too_large, redact_secrets
from facekit._limits import current_limits
from facekit.backends._async_base import AsyncBackend

if TYPE_CHECKING:
    import httpx

    from facekit._image import Payload
    from facekit._models import DetectRequest
    from facekit.backends._base import BackendResult
    from facekit.backends.azure_rest import AzureRestBackend

__all__ = ["AsyncAzureRestBackend"]

logger = logging.getLogger("facekit.azure_rest")

#: Connections kept open for reuse (as many as the async client usually runs at once).
KEEPALIVE_CONNECTIONS: Final = 64


class AsyncAzureRestBackend(AsyncBackend):
    """Azure Face Detect over REST with ``httpx.AsyncClient`` (pip extra ``async``).

    Args:
        backend: The configured sync backend.
        client: An ``httpx.AsyncClient`` to use (not closed by :meth:`aclose`); default: an own one.
    """

    sync: AzureRestBackend

    def __init__(self, backend: AzureRestBackend, *, client: httpx.AsyncClient | None = None) -> None:
        httpx_module = require("httpx", extra="async", feature="AsyncFaceClient with azure-rest")
        self.sync = backend
        timeout = backend._timeout
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        self._own_client = client is None
        self._client: httpx.AsyncClient = client or httpx_module.AsyncClient(
            timeout=httpx_module.Timeout(connect=connect, read=read, write=read, pool=read),
            limits=httpx_module.Limits(max_connections=None, max_keepalive_connections=KEEPALIVE_CONNECTIONS),
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()

    def __repr__(self) -> str:
        return f"AsyncAzureRestBackend({self.sync!r})"

    async def detect(self, payload: Payload, request: DetectRequest) -> BackendResult:
        backend = self.sync
        options, url, query, data, content_type = backend.detect_request(payload, request)
        limiter = backend._rate_limiter

        async def attempt() -> tuple[Any, dict[str, str]]:
            if limiter is not None:
                await limiter.acquire_async()
            return await self._post(url, query, data, content_type)

        body, headers = await call_with_retries_async(attempt, backend._retry)
        return backend.detect_result(body, headers, payload, options)

    async def _auth_headers(self) -> dict[str, str]:
        if self.sync._token_provider is not None:  # a credential's get_token may block: not on the loop
            return await asyncio.to_thread(self.sync._auth_headers)
        return self.sync._auth_headers()

    async def _post(self, url: str, query: dict[str, str], data: bytes, content_type: str) -> tuple[Any, dict[str, str]]:
        """One attempt: POST, read the body (bounded in time and size), map failures to the tree."""
        import httpx

        from facekit.backends.azure_rest import read_answer

        name = self.sync.name
        headers = {"Content-Type": content_type, "Accept": "application/json", **(await self._auth_headers())}
        limit = current_limits().max_response_bytes
        logger.debug("POST %s %s (%d bytes, %s, async)", url, query, len(data), content_type)
        try:
            async with (
                within_deadline("the request to Azure", provider=name),
                self._client.stream("POST", url, params=query, content=data, headers=headers) as response,
            ):
                content = await _read_capped(response, limit, provider=name)
                status, response_headers = response.status_code, dict(response.headers)
        except FacekitError as exc:
            exc.provider = exc.provider or name
            raise
        except httpx.TimeoutException as exc:
            redact_secrets(exc)
            raise RequestTimeoutError(
                f"Azure did not answer, or stopped sending its answer, within the timeout ({self.sync._timeout} s) "
                f"at {url}; raise timeout= or try again",
                provider=name,
            ) from exc
        except (httpx.TransportError, OSError) as exc:
            redact_secrets(exc)
            raise NetworkError(
                f"no usable answer from Azure at {url} ({type(exc).__name__}: connection refused, reset or "
                "body cut short); check the endpoint and the network",
                provider=name,
            ) from exc
        except Exception as exc:  # the seam: whatever httpx or h11 raised
            redact_secrets(exc)
            raise ProviderError(f"the request to Azure at {url} failed ({type(exc).__name__})", provider=name) from exc
        return read_answer(status, response_headers, content, provider=name)


async def _read_capped(response: httpx.Response, limit: int, *, provider: str) -> bytes:
    """The whole body, refused (before reading it all) when it is larger than ``limit`` bytes."""
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise answer_too_large("Azure's answer", limit, provider, declared=int(declared))
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.aiter_bytes():
        total += len(chunk)
        if total > limit:
            raise answer_too_large("Azure's answer", limit, provider)
        chunks.append(chunk)
    return b"".join(chunks)

