"""``facekit serve``: answer Azure Face and Rekognition calls (and facekit's own JSON) locally.

The backend (``--provider``, default ``local``) is built once; settings come as for
``FaceClient``: ``--config``/``--profile``, then environment variables. Secrets can come from
the environment instead of the command line: ``FACEKIT_SERVE_KEY``,
``FACEKIT_SERVE_AWS_ACCESS_KEY_ID`` and ``FACEKIT_SERVE_AWS_SECRET_ACCESS_KEY``.
"""

from __future__ import annotations

import argparse
import os
import warnings
from typing import Any

from facekit._errors import ConfigurationError

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the ``serve`` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "serve",
        help="serve the Azure Face and Rekognition wire formats locally",
        description="A local server speaking Azure Face Detect, Rekognition DetectFaces and facekit's JSON, "
        "answered by any facekit backend. Needs the 'serve' extra.",
    )
    parser.add_argument("--provider", "-p", default=None, help="backend answering the requests (default: local)")
    parser.add_argument("--config", help="TOML config file for the backend (default: FACEKIT_CONFIG)")
    parser.add_argument("--profile", help="profile in the config file (default: FACEKIT_PROFILE)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; others need --key)")
    parser.add_argument("--port", type=int, default=5000, help="port (default 5000)")
    parser.add_argument("--key", help="require this Ocp-Apim-Subscription-Key (env FACEKIT_SERVE_KEY)")
    parser.add_argument("--aws-access-key-id", help="verify SigV4 signatures by this key id "
                        "(env FACEKIT_SERVE_AWS_ACCESS_KEY_ID)")
    parser.add_argument("--aws-secret-access-key", help="its secret (env FACEKIT_SERVE_AWS_SECRET_ACCESS_KEY)")
    parser.add_argument("--workers", type=int, default=2, help="threads decoding and detecting (default 2)")
    parser.add_argument("--max-queue", type=int, default=32,
                        help="requests admitted at once; more get 429 / ThrottlingException (default 32)")
    parser.add_argument("--batch-window-ms", type=float, default=5.0,
                        help="how long a request waits to be batched with others, ms (default 5)")
    parser.add_argument("--max-batch", type=int, default=None,
                        help="most images per batched engine call (default: the backend's batch size; 1 disables)")
    parser.add_argument("--no-urls", action="store_true", help="refuse {\"url\": ...} bodies (never fetch URLs)")
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the app and serve it until interrupted."""
    from facekit._client import FacekitWarning
    from facekit.serve import create_app, is_loopback
    from facekit.serve import run as serve

    key = args.key or os.environ.get("FACEKIT_SERVE_KEY") or None
    key_id = args.aws_access_key_id or os.environ.get("FACEKIT_SERVE_AWS_ACCESS_KEY_ID") or None
    secret = args.aws_secret_access_key or os.environ.get("FACEKIT_SERVE_AWS_SECRET_ACCESS_KEY") or None
    if (key_id is None) != (secret is None):
        raise ConfigurationError("give both --aws-access-key-id and --aws-secret-access-key, or neither")
    if not is_loopback(args.host) and not key:
        raise ConfigurationError(
            f"binding {args.host!r} exposes the server beyond this machine: pass --key (or FACEKIT_SERVE_KEY), "
            "or bind 127.0.0.1"
        )
    options: dict[str, Any] = {}
    if args.config:
        options["config"] = args.config
    if args.profile:
        options["profile"] = args.profile
    app = create_app(
        args.provider,
        key=key,
        aws_credentials={key_id: secret} if key_id and secret else None,
        workers=args.workers,
        max_queue=args.max_queue,
        batch_window=args.batch_window_ms / 1000.0,
        max_batch=args.max_batch,
        allow_urls=not args.no_urls,
        **options,
    )
    # What a backend cannot return is already in each answer's x-facekit-warnings header.
    warnings.filterwarnings("ignore", category=FacekitWarning)
    serve(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0
