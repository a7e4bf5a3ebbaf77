"""``facekit serve``: a local server that speaks Azure Face Detect and Rekognition DetectFaces.

Apps written for either service run unmodified against any facekit backend (the local engine
by default): point their endpoint at the server. See ``docs/serve.md``.

Example:
    >>> from facekit.serve import create_app, running
    >>> app = create_app("local")                       # the backend is built once, here
    >>> with running(app) as url:                       # uvicorn on 127.0.0.1, a free port
    ...     requests.post(f"{url}/face/v1.0/detect?returnFaceAttributes=age,gender", data=jpeg,
    ...                   headers={"Content-Type": "application/octet-stream"}).json()

Needs the ``serve`` extra (``pip install 'facekit-detect[serve]'``): FastAPI and uvicorn.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from facekit._deps import require
from facekit._errors import ConfigurationError

if TYPE_CHECKING:
    from facekit._client import FaceClient

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "create_app", "is_loopback", "run", "running"]

#: Where the server listens unless told otherwise: loopback only.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (``127.0.0.0/8``, ``::1``)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def create_app(
    provider: str | None = "local",
    *,
    client: FaceClient | None = None,
    key: str | None = None,
    aws_credentials: Mapping[str, str] | None = None,
    workers: int = 2,
    max_queue: int = 32,
    batch_window: float = 0.005,
    max_batch: int | None = None,
    body_timeout: float = 30.0,
    allow_urls: bool = True,
    **options: Any,
) -> Any:
    """Build the ASGI app; its backend is built now, once, and shared by every request.

    Args:
        provider: Backend answering the requests (``"local"``, ``"azure-rest"``, ``"aws"`` ...).
        client: A ready :class:`~facekit.FaceClient` (then ``provider`` and ``options`` are unused);
            the caller closes it.
        key: Require ``Ocp-Apim-Subscription-Key: <key>`` on Azure and facekit requests.
        aws_credentials: Access key id -> secret access key; Rekognition requests must then be
            SigV4-signed by one of them (a wrong signature gets ``InvalidSignatureException``).
        workers: Threads decoding images and running the backend (the bounded pool).
        max_queue: Requests admitted at once (waiting or running); more get 429 /
            ``ThrottlingException`` with ``Retry-After``.
        batch_window: Seconds a local-engine request waits to be batched with others (0.005).
        max_batch: Most images per ``detect_batch`` call (default: the backend's ``batch_size``).
        body_timeout: Seconds a client may take to send its request body.
        allow_urls: Accept ``{"url": ...}`` bodies (the server fetches the image itself).
        **options: Backend options, as for ``FaceClient(provider, **options)``.

    Returns:
        A FastAPI application (ASGI).

    Raises:
        MissingDependencyError: The ``serve`` extra is not installed.
        ConfigurationError: The backend cannot be built.
    """
    require("fastapi", extra="serve", feature="facekit serve")
    from facekit._client import FaceClient
    from facekit.serve._app import ServeSettings, build_app
    from facekit.serve._dispatch import Dispatcher

    if workers < 1 or max_queue < 1:
        raise ConfigurationError(f"workers and max_queue must be at least 1, got {workers} and {max_queue}")
    if batch_window < 0 or body_timeout <= 0:
        raise ConfigurationError("batch_window must be >= 0 seconds and body_timeout > 0 seconds")
    owns_client = client is None
    if client is None:
        client = FaceClient(provider, strict=False, **options)
    dispatcher = Dispatcher(
        client, workers=workers, max_queue=max_queue, batch_window=batch_window, max_batch=max_batch,
        owns_client=owns_client,
    )
    settings = ServeSettings(
        key=key or None, aws_credentials=dict(aws_credentials or {}), body_timeout=body_timeout, allow_urls=allow_urls
    )
    return build_app(dispatcher, settings)


def _check_bind(host: str, app: Any) -> None:
    settings = app.state.settings
    if not is_loopback(host) and not settings.key:
        raise ConfigurationError(
            f"binding {host!r} exposes the server beyond this machine: pass a key (--key / key=...) so that "
            "only clients holding it are answered, or bind 127.0.0.1"
        )


def _uvicorn_config(app: Any, host: str, port: int, log_level: str) -> Any:
    uvicorn = require("uvicorn", extra="serve", feature="facekit serve")
    return uvicorn.Config(
        app, host=host, port=port, log_level=log_level, timeout_keep_alive=5, limit_concurrency=1024,
        lifespan="on",
    )


def run(app: Any, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, log_level: str = "info") -> None:
    """Serve ``app`` with uvicorn until interrupted (binding beyond loopback needs a key)."""
    _check_bind(host, app)
    uvicorn = require("uvicorn", extra="serve", feature="facekit serve")
    uvicorn.Server(_uvicorn_config(app, host, port, log_level)).run()


@contextlib.contextmanager
def running(app: Any, *, host: str = DEFAULT_HOST, port: int = 0, log_level: str = "warning") -> Iterator[str]:
    """Serve ``app`` with uvicorn in a background thread; yields its base URL (``http://127.0.0.1:PORT``).

    ``port=0`` picks a free port. The server stops (and closes the backend) on exit.
    """
    _check_bind(host, app)
    uvicorn = require("uvicorn", extra="serve", feature="facekit serve")
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    server = uvicorn.Server(_uvicorn_config(app, host, bound, log_level))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="facekit-serve")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise ConfigurationError("the server did not start (see the log above)")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
