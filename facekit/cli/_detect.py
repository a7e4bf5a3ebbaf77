"""``facekit detect``: detect faces in images and print the results."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from facekit._client import FaceClient


def register(sub: Any) -> None:
    """Add the ``detect`` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser("detect", help="detect faces in images")
    parser.add_argument("images", nargs="+", help="image paths, URLs or s3:// URIs")
    parser.add_argument("--provider", "-p", help="backend name (default: FACEKIT_PROVIDER or local)")
    parser.add_argument("--config", help="TOML config file")
    parser.add_argument("--profile", help="profile in the config file")
    parser.add_argument("--attributes", "-a", help="comma-separated attributes, or 'all'")
    parser.add_argument("--landmarks", "-l", action="store_true", help="return landmarks")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Detect faces in each image and print JSON."""
    client = FaceClient(args.provider, config=args.config, profile=args.profile)
    for image in args.images:
        result = client.detect(image, attributes=args.attributes, landmarks=args.landmarks)
        sys.stdout.write(result.to_json() + "\n")
    return 0
