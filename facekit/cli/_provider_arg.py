"""The ``--provider`` argument: a registered name, or ``module:Class`` registered on the fly."""

from __future__ import annotations

import importlib

from facekit._errors import ConfigurationError

__all__ = ["provider_name"]


def provider_name(provider: str | None) -> str | None:
    """Register ``module:Class`` providers under their class's ``name``; return the name to use."""
    if provider is None or ":" not in provider:
        return provider
    from facekit._registry import register_backend

    module_name, _, class_name = provider.partition(":")
    try:
        backend_class = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"cannot import provider {provider!r}: {exc}") from exc
    name = str(getattr(backend_class, "name", "") or class_name).lower()
    register_backend(name, backend_class, replace=True, description=f"from {provider}")
    return name
