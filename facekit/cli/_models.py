"""``facekit models``: list, fetch and verify the local engine's weight files."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    """Add the ``models`` subcommand (filled in by the local engine)."""
    parser: argparse.ArgumentParser = sub.add_parser("models", help="manage the local engine's model files")

    def _help(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(func=_help)
