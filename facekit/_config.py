"""Configuration: arguments > environment > config file profile.

A config file is TOML with one table per profile::

    [default]
    provider = "local"

    [profiles.prod]
    provider = "azure-rest"
    endpoint = "https://myface.cognitiveservices.azure.com"
    api_version = "v1.2"

    [profiles.aws]
    provider = "aws"
    region = "eu-west-1"

``[default]`` applies to every profile; ``[profiles.NAME]`` overrides it. Keys are the backend's
keyword arguments. Environment variables: ``FACEKIT_PROVIDER``, ``FACEKIT_CONFIG`` (a file),
``FACEKIT_PROFILE``, and each backend's documented variables (``Backend.env_vars``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from facekit._errors import ConfigurationError

__all__ = [
    "DEFAULT_PROVIDER",
    "ENV_CONFIG",
    "ENV_PROFILE",
    "ENV_PROVIDER",
    "load_profile",
    "merge_options",
    "options_from_env",
]

#: The backend used when nothing says otherwise: the offline engine, no account needed.
DEFAULT_PROVIDER = "local"
#: Environment variable naming the provider.
ENV_PROVIDER = "FACEKIT_PROVIDER"
#: Environment variable naming a TOML config file.
ENV_CONFIG = "FACEKIT_CONFIG"
#: Environment variable naming the profile in the config file.
ENV_PROFILE = "FACEKIT_PROFILE"


def load_profile(path: str | os.PathLike[str], profile: str | None = None) -> dict[str, Any]:
    """Read one profile of a TOML config file (``[default]`` merged under ``[profiles.NAME]``).

    Raises:
        ConfigurationError: Missing file, invalid TOML, or unknown profile.
    """
    file = Path(path)
    try:
        document = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigurationError(f"config file not found: {str(file)!r}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"config file {str(file)!r} is not valid TOML: {exc}") from exc
    options = dict(document.get("default", {}))
    profiles = document.get("profiles", {})
    if profile is not None and profile != "default":
        if profile not in profiles:
            known = ", ".join(sorted(profiles)) or "none"
            raise ConfigurationError(f"no profile {profile!r} in {str(file)!r} (profiles: {known})")
        options.update(profiles[profile])
    return options


def options_from_env(
    env_vars: Mapping[str, tuple[str, ...]], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Read a backend's documented environment variables (first non-empty one per option)."""
    environ = os.environ if environ is None else environ
    found: dict[str, str] = {}
    for option, names in env_vars.items():
        for name in names:
            value = environ.get(name)
            if value:
                found[option] = value
                break
    return found


def merge_options(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Merge option layers, lowest priority first; None values do not override."""
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update({key: value for key, value in layer.items() if value is not None})
    return merged
