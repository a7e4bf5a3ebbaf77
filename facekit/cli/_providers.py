"""``facekit providers``: backends, whether their extra is installed, their capabilities."""

from __future__ import annotations

import argparse
import json
from typing import Any

from facekit._registry import aliases, available_backends


def register(sub: Any) -> None:
    """Add the ``providers`` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser("providers", help="list backends and whether they are installed")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """List registered backends."""
    alias_map = aliases()
    rows = []
    for spec in available_backends():
        rows.append(
            {
                "name": spec.name,
                "aliases": sorted(a for a, target in alias_map.items() if target == spec.name),
                "extra": spec.extra,
                "installed": spec.installed,
                "description": spec.description,
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        status = "installed" if row["installed"] else f"missing: pip install 'facekit[{row['extra']}]'"
        names = row["name"] + (f" ({', '.join(row['aliases'])})" if row["aliases"] else "")
        print(f"{names:28} {status:40} {row['description']}")
    return 0
