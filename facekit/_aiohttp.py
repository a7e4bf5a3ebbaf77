"""The aiohttp pieces the native async backends share: a session per event loop, bounded reads.

aiohttp sessions belong to the event loop they were made in; :class:`LoopSession` makes one
per loop on first use (inside the loop, :class:`~facekit._per_loop.PerLoop`: closed when that
loop shuts down, remade for a later loop) with the backend's connect and read timeouts and an
unbounded connection pool (the async client bounds concurrency itself), and
:meth:`LoopSession.post` is the one transport seam of the native async backends (deadline,
bounded read, every exception mapped). :func:`read_body` reads an answer whole, refusing one larger than the call's
``max_response_bytes`` by ``Content-Length`` or while reading, before anything is parsed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from facekit._async_limits import within_deadline
from facekit._deps import require
from facekit._errors import FacekitError, NetworkError, ProviderError, RequestTimeoutError
from facekit._http import answer_too_large, redact_secrets
from facekit._limits import current_limits
from facekit._per_loop import PerLoop

if TYPE_CHECKING:
    import aiohttp

__all__ = ["LoopSession", "bounded_response_class", "read_body"]

#: Bytes read at a time from an answer body.
_CHUNK: Final = 64 * 1024


class LoopSession:
    """An ``aiohttp.ClientSession`` per event loop, made on first use in the caller's loop.

    Args:
        connect: Seconds to open a connection.
        read: Seconds to wait for each read of the answer.
        feature: What needs aiohttp, for the missing-extra message.
    """

    def __init__(self, *, connect: float, read: float, feature: str) -> None:
        self.aiohttp = require("aiohttp", extra="async", feature=feature)
        self._connect, self._read = connect, read
        self._sessions: PerLoop[aiohttp.ClientSession] = PerLoop(self._new_session, _close_session, what="aiohttp session")

    def get(self) -> aiohttp.ClientSession:
        """The session of the running loop.

        Raises:
            ConfigurationError: The client is in use on a loop running in another thread.
        """
        return self._sessions.get()

    def _new_session(self) -> aiohttp.ClientSession:
        session: aiohttp.ClientSession = self.aiohttp.ClientSession(
            connector=self.aiohttp.TCPConnector(limit=0),
            timeout=self.aiohttp.ClientTimeout(total=None, sock_connect=self._connect, sock_read=self._read),
        )
        return session

    async def post(
        self,
        url: str,
        *,
        data: bytes,
        headers: dict[str, str],
        params: dict[str, str] | None = None,
        service: str,
        provider: str,
        timeout_hint: str,
        network_hint: str,
    ) -> tuple[int, dict[str, str], bytes]:
        """One POST, its answer read whole, within the call's deadline and answer bound: the
        transport seam of the native async backends.

        Args:
            url: Where to post.
            data: The body, bytes.
            headers: The request headers.
            params: Query parameters.
            service: The service's name for messages (``"Azure"``, ``"Rekognition"``).
            provider: Backend name recorded on errors.
            timeout_hint: How a timeout message ends (where and what to raise).
            network_hint: How a network-failure message ends (what to check).

        Returns:
            The status, the headers and the body.

        Raises:
            DeadlineExceededError: The call's deadline passed.
            RequestTimeoutError: A connect or read timeout.
            NetworkError: Refused, reset, or a body cut short.
            ProviderError: An answer over ``max_response_bytes``, or anything else aiohttp raised.
        """
        session = self.get()
        limit = current_limits().max_response_bytes
        try:
            async with (
                within_deadline(f"the request to {service}", provider=provider),
                session.post(url, params=params, data=data, headers=headers, allow_redirects=False) as response,
            ):
                content = await read_body(response, limit, what=f"{service}'s answer", provider=provider)
                return response.status, dict(response.headers), content
        except FacekitError as exc:
            exc.provider = exc.provider or provider
            raise
        except TimeoutError as exc:  # aiohttp's socket read and connect timeouts
            raise RequestTimeoutError(
                f"{service} did not answer, or stopped sending its answer, {timeout_hint}", provider=provider
            ) from exc
        except (self.aiohttp.ClientError, OSError) as exc:
            redact_secrets(exc)
            raise NetworkError(
                f"no usable answer from {service} at {url} ({type(exc).__name__}: connection refused, reset or "
                f"body cut short); {network_hint}",
                provider=provider,
            ) from exc
        except Exception as exc:  # the seam: whatever else aiohttp raised
            redact_secrets(exc)
            raise ProviderError(f"the request to {service} at {url} failed ({type(exc).__name__})", provider=provider) from exc

    async def close(self) -> None:
        """Close the running loop's session and its connections."""
        await self._sessions.close()


async def _close_session(session: aiohttp.ClientSession) -> None:
    if not session.closed:
        await session.close()


async def read_body(response: aiohttp.ClientResponse, limit: int, *, what: str, provider: str) -> bytes:
    """The whole body, refused (before reading it all) when it is larger than ``limit`` bytes.

    Raises:
        ProviderError: The body is larger than ``limit``.
    """
    declared = response.content_length
    if declared is not None and declared > limit:
        raise answer_too_large(what, limit, provider, declared=declared)
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.content.iter_chunked(_CHUNK):
        total += len(chunk)
        if total > limit:
            raise answer_too_large(what, limit, provider)
        chunks.append(chunk)
    return b"".join(chunks)


def bounded_response_class(*, what: str, provider: str) -> type[aiohttp.ClientResponse]:
    """An ``aiohttp.ClientResponse`` whose ``read()`` goes through :func:`read_body`.

    For transports that read answers whole themselves (azure-core's ``AioHttpTransport``):
    give it to ``aiohttp.ClientSession(response_class=...)`` and an answer over the current
    call's ``max_response_bytes`` is refused by its ``Content-Length``, or as soon as that many
    bytes arrived, instead of after it was read into memory.

    Args:
        what: The answer's name for the message (``"Azure's answer"``).
        provider: Backend name recorded on the error.
    """
    aiohttp_module = require("aiohttp", extra="async", feature=f"the async {provider} backend")

    class BoundedClientResponse(aiohttp_module.ClientResponse):  # type: ignore[misc, name-defined]
        async def read(self) -> bytes:
            if getattr(self, "_body", b"") is None:  # not read yet (aiohttp keeps the body in _body)
                try:
                    self._body = await read_body(self, current_limits().max_response_bytes, what=what, provider=provider)
                except BaseException:
                    self.close()
                    raise
            body: bytes = await super().read()
            return body

    return BoundedClientResponse
