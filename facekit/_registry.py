"""The lazy backend registry: name -> ``"module:Class"`` plus the extra that installs it.

Nothing is imported until a backend is asked for. Third-party packages add backends through
the ``facekit.backends`` entry-point group (``name = "package.module:Class"``); applications
call :func:`register_backend`.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from facekit._errors import ConfigurationError, MissingDependencyError

if TYPE_CHECKING:
    from facekit.backends._base import Backend

__all__ = [
    "ENTRY_POINT_GROUP",
    "BackendSpec",
    "available_backends",
    "get_backend_class",
    "register_backend",
    "resolve_name",
]

#: Entry-point group third-party backends register under.
ENTRY_POINT_GROUP = "facekit.backends"


@dataclass(frozen=True)
class BackendSpec:
    """A registered backend.

    Attributes:
        name: Canonical name.
        target: ``"module:Class"`` or the class itself.
        extra: The facekit extra that installs its dependencies, or None.
        requires: Top-level modules it needs (to tell whether the extra is installed).
        description: One line for listings.
    """

    name: str
    target: str | type[Backend]
    extra: str | None = None
    requires: tuple[str, ...] = ()
    description: str = ""

    @property
    def installed(self) -> bool:
        """True when every module in ``requires`` can be imported."""
        return all(_find(module) is not None for module in self.requires)


_lock = threading.Lock()
_registry: dict[str, BackendSpec] = {
    "local": BackendSpec(
        "local",
        "facekit.backends.local:LocalBackend",
        "local",
        ("onnxruntime", "numpy", "onnx"),
        "offline ONNX engine (CenterFace + age, gender, emotion, dlib face embeddings), no account needed",
    ),
    "azure-rest": BackendSpec(
        "azure-rest",
        "facekit.backends.azure_rest:AzureRestBackend",
        "azure",
        ("requests",),
        "Azure Face REST API (detect; verify and find similar with face ids) through requests",
    ),
    "azure-sdk": BackendSpec(
        "azure-sdk",
        "facekit.backends.azure_sdk:AzureSdkBackend",
        "azure-sdk",
        ("azure.ai.vision.face",),
        "Azure Face (detect; verify and find similar with face ids) through the azure-ai-vision-face SDK",
    ),
    "aws": BackendSpec(
        "aws",
        "facekit.backends.aws:RekognitionBackend",
        "aws",
        ("boto3",),
        "AWS Rekognition DetectFaces and CompareFaces through boto3",
    ),
    "fake": BackendSpec(
        "fake",
        "facekit.backends.fake:FakeBackend",
        None,
        (),
        "a backend driven by your handler, for tests",
    ),
}
_aliases: dict[str, str] = {"rekognition": "aws", "onnx": "local", "azure": "azure-rest"}
_entry_points_loaded = False


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name not in _registry:
            _registry[entry.name] = BackendSpec(entry.name, entry.value, description=f"plugin {entry.value}")


def register_backend(
    name: str,
    target: str | type[Backend],
    *,
    extra: str | None = None,
    requires: tuple[str, ...] = (),
    aliases: tuple[str, ...] = (),
    description: str = "",
    replace: bool = False,
) -> None:
    """Register a backend under ``name``.

    Args:
        name: The provider name users pass to ``FaceClient``.
        target: A :class:`~facekit.backends.Backend` subclass or ``"module:Class"`` (imported lazily).
        extra: The extra to name when its dependencies are missing.
        requires: Modules it needs.
        aliases: Other names for it.
        description: One line for ``facekit providers``.
        replace: Allow replacing an existing registration.

    Raises:
        ConfigurationError: ``name`` is taken and ``replace`` is False.
    """
    with _lock:
        _load_entry_points()
        key = name.lower()
        if (key in _registry or key in _aliases) and not replace:
            raise ConfigurationError(f"a backend named {name!r} is already registered; pass replace=True")
        _registry[key] = BackendSpec(key, target, extra, requires, description)
        for alias in aliases:
            _aliases[alias.lower()] = key


def resolve_name(name: str) -> str:
    """The canonical backend name for ``name`` or one of its aliases.

    Raises:
        ConfigurationError: Unknown name (the message lists the known ones).
    """
    with _lock:
        _load_entry_points()
        key = name.strip().lower().replace("_", "-")
        key = _aliases.get(key, key)
        if key not in _registry:
            import difflib

            known = ", ".join(sorted(_registry))
            alias_text = ", ".join(f"{alias} -> {target}" for alias, target in sorted(_aliases.items()))
            close = difflib.get_close_matches(key, [*_registry, *_aliases], n=1, cutoff=0.6)
            hint = f"did you mean {_aliases.get(close[0], close[0])!r}? " if close else ""
            raise ConfigurationError(
                f"unknown provider {name!r}; {hint}known providers: {known}"
                + (f" (aliases: {alias_text})" if alias_text else "")
            )
        return key


def get_spec(name: str) -> BackendSpec:
    """The :class:`BackendSpec` for ``name`` (aliases accepted)."""
    return _registry[resolve_name(name)]


def get_backend_class(name: str) -> type[Backend]:
    """Import and return the backend class for ``name``.

    Raises:
        ConfigurationError: Unknown name.
        MissingDependencyError: Its extra is not installed (the message is the pip command).
    """
    spec = get_spec(name)
    if not isinstance(spec.target, str):
        return spec.target
    missing = [module for module in spec.requires if _find(module.split(".")[0]) is None]
    if not missing:
        missing = [module for module in spec.requires if _find(module) is None]
    if missing and spec.extra:
        raise MissingDependencyError(spec.extra, module=missing[0], backend=spec.name)
    module_name, _, class_name = spec.target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if spec.extra and exc.name and not exc.name.startswith("facekit"):
            raise MissingDependencyError(spec.extra, module=exc.name, backend=spec.name) from exc
        raise
    backend_class: type[Backend] = getattr(module, class_name)
    return backend_class


def _find(module: str) -> object:
    """The module's spec, or None when it cannot be imported (absent, or blocked in sys.modules)."""
    try:
        return importlib.util.find_spec(module)
    except (ModuleNotFoundError, ValueError):
        return None


def available_backends() -> list[BackendSpec]:
    """Every registered backend (built-in, registered and entry points), by name."""
    with _lock:
        _load_entry_points()
        return [_registry[name] for name in sorted(_registry)]


def aliases() -> dict[str, str]:
    """Alias -> canonical name."""
    return dict(_aliases)
