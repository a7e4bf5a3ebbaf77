"""The backend arguments every detecting subcommand shares (``detect``, ``blur``).

``--provider``, ``--config`` and ``--profile`` choose the backend as ``FaceClient`` does;
``--endpoint`` and ``--region`` set the provider's endpoint (Azure ``endpoint``, AWS
``endpoint_url``) and region (AWS ``region``), refused for a provider without that setting;
``--option KEY=VALUE`` (repeatable) passes a per-call backend option, its value read as a bool,
integer, float, JSON list/object or else a string (:func:`parse_value`), checked by the one
per-call option check (:func:`facekit._options.check_call_options`: an unknown key is an error
with "did you mean"); ``--rate-limit 20/min`` (also ``/s``, ``/h``) spaces the calls.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import re
from typing import TYPE_CHECKING, Any

from facekit._errors import ConfigurationError
from facekit._ratelimit import RateLimiter, parse_rate
from facekit.cli._provider_arg import provider_name

if TYPE_CHECKING:
    from facekit._client import FaceClient

__all__ = [
    "add_arguments",
    "add_client_arguments",
    "call_options",
    "calls_per_second",
    "client_settings",
    "expand_paths",
    "make_client",
    "parse_value",
    "rate_limiter",
]

#: CLI setting -> the backend keyword arguments it may mean, first match wins.
SETTINGS: dict[str, tuple[str, ...]] = {"endpoint": ("endpoint", "endpoint_url"), "region": ("region",)}
#: ``detect()`` keywords that have their own flag: ``--option`` refuses them and names the flag.
_FLAGGED = {"attributes": "--attributes", "landmarks": "--landmarks", "strict": "--strict/--no-strict"}
_TRUE, _FALSE = {"true", "yes", "on"}, {"false", "no", "off"}
_INT = re.compile(r"^[+-]?[0-9]+$")
_FLOAT = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")


def parse_value(text: str) -> Any:
    """Read an ``--option`` value: ``true``/``false`` (also yes/no, on/off), an integer, a float,
    a JSON list, object or quoted string (``[1, 2]``, ``"007"``), else the text as it is.

    Raises:
        ValueError: A value that starts like JSON (``[``, ``{``, ``"``) but is not valid JSON,
            or a float that is not finite.
    """
    stripped = text.strip()
    lowered = stripped.lower()
    if lowered in _TRUE or lowered in _FALSE:
        return lowered in _TRUE
    if _INT.match(stripped):
        return int(stripped)
    if _FLOAT.match(stripped):
        number = float(stripped)
        if not math.isfinite(number):
            raise ValueError(f"{text!r} is not a finite number")
        return number
    if stripped[:1] in ('[', '{', '"'):
        try:
            return json.loads(stripped)
        except ValueError as exc:
            raise ValueError(f"{text!r} starts like JSON but is not valid JSON ({exc}); quote strings: [\"a\", \"b\"]") from exc
    return text


def _option(text: str) -> tuple[str, Any]:
    key, equals, value = text.partition("=")
    key = key.strip()
    if not equals or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r} (e.g. --option score_threshold=0.7)")
    if key in _FLAGGED:
        raise argparse.ArgumentTypeError(f"{key!r} has its own flag: use {_FLAGGED[key]} instead of --option")
    try:
        return key, parse_value(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--option {key}: {exc}") from exc


def _rate(text: str) -> tuple[float, float]:
    try:
        return parse_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def add_client_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--provider``, ``--config``, ``--profile``, ``--endpoint`` and ``--region`` (what
    :func:`make_client` reads) to a subcommand's parser."""
    parser.add_argument(
        "--provider", "-p", help="backend name, or package.module:Class of a Backend subclass (default: local)"
    )
    parser.add_argument("--config", help="TOML config file (default: FACEKIT_CONFIG)")
    parser.add_argument("--profile", help="profile in the config file (default: FACEKIT_PROFILE)")
    parser.add_argument("--endpoint", help="the provider's endpoint URL (Azure endpoint, AWS endpoint_url)")
    parser.add_argument("--region", help="the provider's region (AWS)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the client arguments (:func:`add_client_arguments`), ``--option``, ``--rate-limit`` and
    ``--workers`` to a detecting subcommand's parser."""
    add_client_arguments(parser)
    parser.add_argument(
        "--option",
        dest="options",
        action="append",
        type=_option,
        default=[],
        metavar="KEY=VALUE",
        help="per-call backend option, repeatable (e.g. --option score_threshold=0.7 --option tile=true); "
        "values: true/false, numbers, JSON lists, else text",
    )
    parser.add_argument("--workers", "-w", type=int, help="concurrent requests (default 4; local engine: batched)")
    parser.add_argument(
        "--rate-limit",
        type=_rate,
        metavar="RATE",
        help="most calls, e.g. 20/min (Azure free tier), 5/s, 1000/h; a bare number is calls per second",
    )


def call_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ``--option`` pairs as ``detect()`` keyword arguments (a repeated key: the last wins)."""
    return dict(args.options or [])


def rate_limiter(args: argparse.Namespace) -> RateLimiter | None:
    """The ``--rate-limit`` limiter, or None."""
    if args.rate_limit is None:
        return None
    calls, period = args.rate_limit
    return RateLimiter(calls, period)


def calls_per_second(args: argparse.Namespace) -> float | None:
    """``--rate-limit`` as calls per second (for ``--dask``), or None."""
    if args.rate_limit is None:
        return None
    calls, period = args.rate_limit
    return float(calls / period)


def expand_paths(args: argparse.Namespace, *names: str) -> None:
    """Expand ``~`` in the named path arguments (quoted ``"~/out.jsonl"`` reaches us unexpanded)."""
    for name in names:
        value = getattr(args, name, None)
        if isinstance(value, str):
            setattr(args, name, os.path.expanduser(value))


def _config_path(args: argparse.Namespace) -> str | None:
    from facekit._config import ENV_CONFIG

    path = args.config if args.config is not None else os.environ.get(ENV_CONFIG) or None
    return os.path.expanduser(path) if path else None


def _provider(args: argparse.Namespace, name: str | None) -> str:
    """The backend ``FaceClient`` will use: argument > ``FACEKIT_PROVIDER`` > config file > local."""
    from facekit._config import DEFAULT_PROVIDER, ENV_PROFILE, ENV_PROVIDER, load_profile

    if name is None:
        name = os.environ.get(ENV_PROVIDER) or None
    if name is None:
        config = _config_path(args)
        profile = args.profile if args.profile is not None else os.environ.get(ENV_PROFILE) or None
        name = load_profile(config, profile).get("provider") if config else None
    return str(name or DEFAULT_PROVIDER)


def client_settings(args: argparse.Namespace, name: str | None) -> dict[str, Any]:
    """``--endpoint``/``--region`` as the backend's keyword arguments.

    Raises:
        ConfigurationError: The provider has no such setting (the message names the ones it has).
    """
    wanted = {flag: getattr(args, flag) for flag in SETTINGS if getattr(args, flag, None) is not None}
    if not wanted:
        return {}
    from facekit._registry import get_backend_class, resolve_name

    provider = resolve_name(_provider(args, name))
    try:
        parameters = inspect.signature(get_backend_class(provider).__init__).parameters
    except (TypeError, ValueError):  # pragma: no cover - a backend whose signature cannot be read
        parameters = {}  # type: ignore[assignment]
    named = [p for p, value in parameters.items() if p != "self" and value.kind is not inspect.Parameter.VAR_KEYWORD]
    settings: dict[str, Any] = {}
    for flag, value in wanted.items():
        target = next((option for option in SETTINGS[flag] if option in named), None)
        if target is None:
            raise ConfigurationError(
                f"--{flag}: the {provider} backend has no {flag} setting; its settings are: {', '.join(named) or 'none'}"
            )
        settings[target] = value
    return settings


def make_client(args: argparse.Namespace) -> FaceClient:
    """The ``FaceClient`` the arguments describe (``~`` expanded in ``--config``)."""
    from facekit._client import FaceClient

    name = provider_name(args.provider)
    settings = client_settings(args, name)
    return FaceClient(name, config=_config_path(args), profile=args.profile, **settings)
