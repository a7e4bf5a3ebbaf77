"""``facekit providers``: backends, whether their extra is installed, their capabilities.

Capabilities are read from the backend class without credentials, in this order:

1. ``capability_variants()`` classmethod, if the class has one: label -> ``Capabilities``,
   one entry per configuration that changes them (e.g. Azure's detection models);
2. the ``capabilities`` property, when it does not depend on the backend's settings;
3. a backend built with no options (e.g. ``fake``).

Otherwise they are reported as unknown. Backend modules import their SDKs lazily, so this
works without the extras installed.
"""

from __future__ import annotations

import argparse
import importlib
import json
from collections.abc import Mapping
from typing import Any

from facekit._registry import BackendSpec, aliases, available_backends
from facekit._version import DISTRIBUTION
from facekit.backends._base import Capabilities

__all__ = ["capability_variants", "describe_backends", "register", "run"]


def _backend_class(spec: BackendSpec) -> Any:
    if not isinstance(spec.target, str):
        return spec.target
    module_name, _, class_name = spec.target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def capability_variants(spec: BackendSpec) -> dict[str, Capabilities] | None:
    """The backend's capabilities by configuration label, or None when they cannot be read."""
    try:
        backend_class = _backend_class(spec)
    except Exception:
        return None
    hook = getattr(backend_class, "capability_variants", None)
    if callable(hook):
        variants: Mapping[str, Capabilities] = hook()
        return dict(variants)
    try:
        bare = backend_class.__new__(backend_class)
        return {"default": bare.capabilities}
    except Exception:
        pass
    try:
        return {"default": backend_class().capabilities}
    except Exception:
        return None


def describe_backends() -> list[dict[str, Any]]:
    """One JSON-friendly description per registered backend, by name."""
    alias_map = aliases()
    rows = []
    for spec in available_backends():
        variants = capability_variants(spec)
        rows.append(
            {
                "name": spec.name,
                "aliases": sorted(a for a, target in alias_map.items() if target == spec.name),
                "extra": spec.extra,
                "installed": spec.installed,
                "install": f"pip install '{DISTRIBUTION}[{spec.extra}]'" if spec.extra else None,
                "description": spec.description,
                "capabilities": None
                if variants is None
                else {label: caps.as_dict() for label, caps in variants.items()},
            }
        )
    return rows


def register(sub: Any) -> None:
    """Add the ``providers`` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "providers", help="list backends, whether they are installed, and what they return"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def _summary(capabilities: dict[str, Any] | None) -> str:
    if capabilities is None:
        return "capabilities: unknown until configured"
    lines = []
    for label, caps in capabilities.items():
        prefix = "" if label == "default" else f"{label}: "
        attributes = ", ".join(caps["attributes"]) or "none"
        lines.append(
            f"{prefix}attributes: {attributes}; landmarks: {caps['landmarks']}; "
            f"inputs: {', '.join(caps['inputs'])}"
        )
    return "\n    ".join(lines)


def run(args: argparse.Namespace) -> int:
    """List registered backends."""
    rows = describe_backends()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        status = "installed" if row["installed"] else f"missing: {row['install']}"
        names = row["name"] + (f" ({', '.join(row['aliases'])})" if row["aliases"] else "")
        print(f"{names:26} {status:40} {row['description']}")
        print(f"    {_summary(row['capabilities'])}")
    return 0
