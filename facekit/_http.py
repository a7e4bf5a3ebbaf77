"""Deadline-bounded HTTP: the one mechanism every facekit network path uses.

A call's total deadline (:mod:`facekit._limits`) cannot be enforced with socket timeouts, which
bound one read each. facekit therefore

1. caps each request's socket timeouts to the time left (:func:`capped_timeout`), and
2. runs each network operation inside :func:`guarded`, which starts a timer for the time left;
   every HTTP connection that sends a request inside the scope registers itself (the
   ``Guarded*Connection`` classes, installed into ``requests`` sessions by :class:`GuardedAdapter`
   and into botocore's pools by :func:`guard_botocore_client`), and when the timer fires, their
   sockets are shut down. The blocked read returns at once and the scope raises
   :class:`~facekit.RequestTimeoutError`.

:class:`GuardedAdapter` also refuses answers larger than the call's ``max_response_bytes``
before reading them whole (by ``Content-Length``, then while reading), raising
:class:`~facekit.ProviderError`.
"""

from __future__ import annotations

import contextlib
import contextvars
import heapq
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

import requests
import requests.adapters
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from facekit._errors import ProviderError
from facekit._limits import cancellable, current_limits

__all__ = [
    "CancelHandle",
    "GuardedAdapter",
    "capped_timeout",
    "guard_botocore_client",
    "guarded",
    "guarded_pool_class",
    "guarded_session",
    "install_adapter",
    "parse_json",
    "answer_too_large",
    "read_capped",
    "redact_secrets",
    "transport_failure",
]

#: Bytes read at a time while reading an answer body.
_CHUNK: Final = 64 * 1024
#: Smallest socket timeout handed to a connection, seconds (0 would mean non-blocking).
_MIN_TIMEOUT: Final = 0.001


class _Watch:
    """The connections used inside one :func:`guarded` scope, shut when its time is up."""

    def __init__(self, parent: _Watch | None = None) -> None:
        self._lock = threading.Lock()
        self._connections: list[Any] = []
        self._active = True
        self.expired = False
        self._parent = parent

    def add(self, connection: Any) -> None:
        if self._parent is not None:  # an outer scope (a cancellable offload) may shut it too
            self._parent.add(connection)
        with self._lock:
            if not self._active:
                return
            if not self.expired:
                self._connections.append(connection)
                return
        _shut(connection)  # an attempt started after the deadline (e.g. after an SDK's own backoff)

    def expire(self) -> None:
        with self._lock:
            if not self._active:
                return
            self.expired = True
            connections, self._connections = self._connections, []
        for connection in connections:
            _shut(connection)

    def end(self) -> None:
        with self._lock:
            self._active = False
            self._connections = []

    @property
    def active(self) -> bool:
        """False once the scope ended (its alarm, if any, is moot)."""
        return self._active

    @property
    def stopped(self) -> bool:
        """True when this scope or one around it expired (deadline passed, or call cancelled)."""
        watch: _Watch | None = self
        while watch is not None:
            if watch.expired:
                return True
            watch = watch._parent
        return False


def _shut(connection: Any) -> None:
    """Shut a connection's socket so that a blocked read returns at once."""
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)


_WATCH: contextvars.ContextVar[_Watch | None] = contextvars.ContextVar("facekit_http_watch", default=None)


class _Alarms:
    """One daemon thread that expires watches at their deadlines (no thread per call).

    A ``threading.Timer`` per guarded call costs a thread start each; with 64 calls in flight
    (the async client on boto3 threads) that doubled the threads and the cost of a call.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._heap: list[tuple[float, int, _Watch]] = []
        self._count = 0
        self._thread: threading.Thread | None = None

    def add(self, expires_at: float, watch: _Watch) -> None:
        """Expire ``watch`` at ``expires_at`` (``time.monotonic()``) unless it ended before."""
        with self._condition:
            self._count += 1
            heapq.heappush(self._heap, (expires_at, self._count, watch))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="facekit-deadlines", daemon=True)
                self._thread.start()
            self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while self._heap and not self._heap[0][2].active:
                    heapq.heappop(self._heap)  # ended in time: drop it
                if not self._heap:
                    self._condition.wait(timeout=30.0)
                    if not self._heap:
                        self._thread = None
                        return
                    continue
                expires_at, _, watch = self._heap[0]
                wait = expires_at - time.monotonic()
                if wait > 0:
                    self._condition.wait(timeout=wait)
                    continue
                heapq.heappop(self._heap)
            watch.expire()


_ALARMS = _Alarms()


@contextmanager
def guarded(what: str, *, provider: str | None = None) -> Iterator[None]:
    """Bound the network operation in the body by the current call's deadline.

    Args:
        what: What the body does, for the timeout message (``"the request to Azure"``).
        provider: Backend name recorded on the error.

    Raises:
        RequestTimeoutError: The deadline passed before or during the body.
    """
    deadline = current_limits().deadline
    if deadline is None:
        yield
        return
    deadline.check(what, provider=provider)
    watch = _Watch(parent=_WATCH.get())
    token = _WATCH.set(watch)
    _ALARMS.add(deadline.expires_at, watch)
    try:
        yield
    except Exception as exc:  # whatever a shut socket caused (a reset, a cut body), the deadline is why
        if watch.expired:
            raise deadline.error(what, provider=provider) from exc
        raise
    finally:
        watch.end()
        _WATCH.reset(token)
    if watch.expired:  # the answer was complete just as the timer fired: still too late
        raise deadline.error(what, provider=provider)


class CancelHandle:
    """Shuts the connections of work running in another thread, from any thread.

    The async client runs blocking work (boto3 calls, downloads) on threads; when its task is
    cancelled, :meth:`cancel` shuts every connection that work opened inside
    :meth:`scope`, so the blocked read returns at once and the thread ends instead of
    waiting for the server.
    """

    def __init__(self) -> None:
        self._watch = _Watch()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` ran."""
        return self._watch.expired

    def cancel(self) -> None:
        """Shut the connections in use now, and any opened from now on inside :meth:`scope`."""
        self._watch.expire()

    @contextmanager
    def scope(self) -> Iterator[None]:
        """Run the body (in the worker thread) so that :meth:`cancel` reaches its connections
        and retry loops stop (:func:`facekit._limits.call_cancelled`)."""
        token = _WATCH.set(self._watch)
        try:
            with cancellable(lambda: self._watch.expired):
                yield
        finally:
            self._watch.end()  # the connections go back to their pools: never shut them later
            _WATCH.reset(token)


def capped_timeout(timeout: Any) -> Any:
    """``timeout`` (seconds, a (connect, read) pair, or None) capped to the current deadline."""
    deadline = current_limits().deadline
    if deadline is None:
        return timeout
    left = max(deadline.remaining(), _MIN_TIMEOUT)
    if timeout is None:
        return left
    if isinstance(timeout, tuple):
        return tuple(left if part is None else min(float(part), left) for part in timeout)
    return min(float(timeout), left)


class _GuardedConnectionMixin:
    """Registers the connection with the current :func:`guarded` scope on every request."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        watch = _WATCH.get()
        if watch is not None:
            watch.add(self)
            if watch.stopped:  # not connected yet, so there is no socket to shut: do not start
                raise ConnectionAbortedError("the call was cancelled or its deadline passed before this request")
        return super().request(*args, **kwargs)  # type: ignore[misc]


_POOL_CLASSES: dict[type[Any], type[Any]] = {}
_POOL_LOCK = threading.Lock()


def guarded_pool_class(pool_class: type[Any]) -> type[Any]:
    """A subclass of a urllib3 connection pool class whose connections register with :func:`guarded`."""
    with _POOL_LOCK:
        cached = _POOL_CLASSES.get(pool_class)
        if cached is not None:
            return cached
        base_connection = pool_class.ConnectionCls
        connection_class = type(f"Guarded{base_connection.__name__}", (_GuardedConnectionMixin, base_connection), {})
        guarded_class = type(f"Guarded{pool_class.__name__}", (pool_class,), {"ConnectionCls": connection_class})
        _POOL_CLASSES[pool_class] = guarded_class
        return guarded_class


def parse_json(content: bytes | str) -> Any:
    """Parse an answer body as JSON.

    Raises:
        ValueError: The body is not JSON, or nested too deeply to parse (``RecursionError``).
    """
    try:
        return json.loads(content)
    except RecursionError as exc:
        raise ValueError("the JSON is nested too deeply") from exc


def read_capped(response: requests.Response, limit: int, *, what: str, provider: str | None = None) -> bytes:
    """Read a streamed answer's body, refusing more than ``limit`` bytes.

    Raises:
        ProviderError: The answer is larger than ``limit`` (by its ``Content-Length`` or as read).
    """
    declared = response.headers.get("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        response.close()
        raise answer_too_large(what, limit, provider, declared=int(declared))
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_content(chunk_size=_CHUNK):
        total += len(chunk)
        if total > limit:
            response.close()
            raise answer_too_large(what, limit, provider)
        chunks.append(chunk)
    return b"".join(chunks)


def answer_too_large(what: str, limit: int, provider: str | None, *, declared: int | None = None) -> ProviderError:
    size = f" ({declared:,} bytes)" if declared is not None else ""
    return ProviderError(
        f"{what} is larger than the {limit:,} bytes accepted{size}; a face answer is at most a few hundred KB, so "
        "this is not one: check the endpoint, or raise max_response_bytes",
        provider=provider,
    )


class GuardedAdapter(requests.adapters.HTTPAdapter):
    """A requests adapter bound by the current call: deadline-capped timeouts, guarded connections,
    and answers of at most ``max_response_bytes`` (read whole unless the caller streams)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": guarded_pool_class(HTTPConnectionPool),
            "https": guarded_pool_class(HTTPSConnectionPool),
        }

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        limits = current_limits()
        response = super().send(
            request, stream=True, timeout=capped_timeout(timeout), verify=verify, cert=cert, proxies=proxies
        )
        if not stream:
            response._content = read_capped(response, limits.max_response_bytes, what="the answer")
            response._content_consumed = True  # type: ignore[attr-defined]
        return response


def guarded_session() -> requests.Session:
    """A new ``requests.Session`` whose http and https traffic goes through :class:`GuardedAdapter`."""
    session = requests.Session()
    install_adapter(session)
    return session


def install_adapter(session: requests.Session) -> requests.Session:
    """Mount :class:`GuardedAdapter` on ``session`` for http and https (a caller's session too)."""
    adapter = GuardedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def guard_botocore_client(client: Any) -> None:
    """Make a botocore client's connections register with :func:`guarded`.

    botocore keeps its connection pool classes on its HTTP session; facekit swaps them for the
    guarded subclasses (the only way to reach a socket that a trickling server keeps busy).
    A client whose internals differ is left as it is: the deadline is then still checked
    before each attempt (see ``facekit.backends.aws``), but one attempt is bounded only by its
    socket timeouts.
    """
    http_session: Any = getattr(getattr(client, "_endpoint", None), "http_session", None)
    classes = getattr(http_session, "_pool_classes_by_scheme", None)
    if http_session is None or not isinstance(classes, dict):
        return
    guarded_classes = {scheme: guarded_pool_class(pool) for scheme, pool in classes.items()}
    http_session._pool_classes_by_scheme = guarded_classes
    managers = [getattr(http_session, "_manager", None), *getattr(http_session, "_proxy_managers", {}).values()]
    for manager in managers:
        if manager is not None:
            manager.pool_classes_by_scheme = guarded_classes


#: Request headers that carry credentials (case-insensitive).
SECRET_HEADERS: Final = frozenset({"ocp-apim-subscription-key", "authorization", "x-amz-security-token", "api-key"})
_REDACTED: Final = "***"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything it wraps: causes, contexts, azure-core's ``inner_exception``, args."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "inner_exception", None)]
        linked.append(getattr(current, "reason", None))  # urllib3's MaxRetryError
        linked += [arg for arg in current.args if isinstance(arg, BaseException)]
        todo.extend(item for item in linked if isinstance(item, BaseException))


def transport_failure(exc: BaseException) -> str | None:
    """What an HTTP stack's exception says happened on the wire, whatever its class.

    Returns:
        ``"timeout"`` when a socket read or connect timed out (also after part of the body),
        ``"network"`` for a refused or reset connection or a body cut short, else None.
    """
    import http.client

    import urllib3.exceptions

    kind: str | None = None
    for item in _chain(exc):
        refused = isinstance(item, urllib3.exceptions.NewConnectionError)  # a ConnectTimeoutError subclass
        if not refused and isinstance(
            item, (socket.timeout, TimeoutError, urllib3.exceptions.TimeoutError, requests.Timeout)
        ):
            return "timeout"
        if isinstance(
            item,
            (
                ConnectionError,
                http.client.IncompleteRead,
                urllib3.exceptions.ProtocolError,
                urllib3.exceptions.NewConnectionError,
                requests.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
            ),
        ):
            kind = "network"
    return kind


def redact_secrets(exc: BaseException) -> None:
    """Blank credential headers on the requests that ``exc`` and its chain keep.

    requests' and azure-core's exceptions keep the request they failed on (``exc.request``,
    ``exc.response.request``), and with it the subscription key or bearer token. facekit
    raises its own errors ``from`` them, so the key would be one attribute away from any
    ``except`` clause or error reporter; this replaces such header values with ``***``.
    """
    for item in _chain(exc):
        for holder in (_attribute(item, "request"), _attribute(_attribute(item, "response"), "request")):
            headers = getattr(holder, "headers", None)
            if headers is None:
                continue
            try:
                for name in list(headers.keys()):
                    if str(name).lower() in SECRET_HEADERS:
                        headers[name] = _REDACTED
            except (TypeError, AttributeError):  # an immutable or odd header object: leave it
                continue


def _attribute(value: Any, name: str) -> Any:
    """``value.name``, or None when it is missing or its property raises (httpx's unset ``request``)."""
    try:
        return getattr(value, name, None)
    except Exception:
        return None
