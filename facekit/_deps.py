"""Optional dependencies, imported only when a backend or feature needs them."""

from __future__ import annotations

import importlib
from types import ModuleType

from facekit._errors import MissingDependencyError

__all__ = ["require"]


def require(module: str, *, extra: str, feature: str | None = None) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming ``pip install 'facekit-detect[extra]'``.

    Args:
        module: Module to import, e.g. ``"boto3"``.
        extra: facekit extra that installs it, e.g. ``"aws"``.
        feature: What needs it, for the message (a backend name or a feature).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing = getattr(exc, "name", None) or module
        raise MissingDependencyError(extra, module=missing, backend=feature) from exc
