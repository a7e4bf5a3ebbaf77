"""``facekit compare``: how several providers see the faces of one image.

Live (``facekit compare photo.jpg --providers local,aws,azure-rest``: one detection per
provider) or from saved results (``facekit compare --results a.json b.json``: files written by
``facekit detect``, no call made). Prints the agreement table (``--json`` for JSON) and draws
every provider's faces in its own colour with ``--draw out.png``.

Exit codes: 0 compared, 1 compared but a provider failed, 2 usage or configuration (e.g. fewer
than two results), 3 missing extra or model, 4 provider error (when fewer than two providers
answered, the first failure decides the code).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from typing import Any

from facekit._errors import ConfigurationError, FacekitError
from facekit._models import DetectionResult
from facekit.cli._exit import EXIT_OK, EXIT_PARTIAL
from facekit.cli._provider_arg import provider_name

__all__ = ["register", "run"]

DEFAULT_ATTRIBUTES = "age,gender,emotion"


def register(sub: Any) -> None:
    """Add the ``compare`` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "compare",
        help="compare providers on one image: matched faces, box IoU, landmark and attribute agreement",
        description="Match the faces several providers find in one image (optimal assignment on box IoU) "
        "and show how they agree. Live calls with --providers, or saved `facekit detect` JSON with --results.",
        epilog="exit codes: 0 compared, 1 compared but a provider failed, 2 usage/configuration, "
        "3 missing extra or model, 4 provider error",
    )
    parser.add_argument("image", nargs="?", help="the image (needed with --providers; with --results only to --draw)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--providers", "-P", help="comma-separated providers to call, e.g. local,aws,azure-rest")
    source.add_argument(
        "--results", nargs="+", metavar="[NAME=]FILE",
        help="saved results, one image each (`facekit detect photo.jpg > a.json`); NAME defaults to the provider",
    )  # fmt: skip
    parser.add_argument("--attributes", "-a", default=DEFAULT_ATTRIBUTES,
                        help=f"attributes asked of each provider (default {DEFAULT_ATTRIBUTES}); "
                        "one a provider cannot return is left empty")  # fmt: skip
    parser.add_argument("--iou", type=float, default=None, help="smallest box IoU for the same face (default 0.3)")
    parser.add_argument("--draw", metavar="FILE", help="write the image with every provider's faces (PNG or JPEG)")
    parser.add_argument("--json", action="store_true", help="print the comparison as JSON instead of a table")
    parser.add_argument("--output", "-o", help="write the table or JSON to FILE instead of stdout")
    parser.add_argument("--config", help="TOML config file (default: FACEKIT_CONFIG)")
    parser.add_argument("--profile", help="profile in the config file (default: FACEKIT_PROFILE)")
    parser.set_defaults(func=run)


def _live(args: argparse.Namespace) -> tuple[dict[str, DetectionResult], list[tuple[str, Exception]]]:
    from facekit._client import FaceClient

    if not args.image:
        raise ConfigurationError("--providers needs the IMAGE to detect: facekit compare photo.jpg --providers local,aws")
    names = [name.strip() for name in args.providers.split(",") if name.strip()]
    if len(names) < 2:
        raise ConfigurationError(f"--providers needs at least two providers, got {names}")
    results: dict[str, DetectionResult] = {}
    failures: list[tuple[str, Exception]] = []
    for name in names:
        try:
            client = FaceClient(provider_name(name), config=args.config, profile=args.profile)
            with client, warnings.catch_warnings():
                warnings.simplefilter("ignore")  # an attribute a provider lacks is left empty: the table shows it
                result = client.detect(args.image, attributes=args.attributes, landmarks=True, strict=False)
        except FacekitError as exc:
            failures.append((name, exc))
            print(f"facekit: {name} failed: {exc}", file=sys.stderr)
            continue
        key, number = result.provider, 1
        while key in results:
            number += 1
            key = f"{result.provider}#{number}"
        results[key] = result
    return results, failures


def _saved(args: argparse.Namespace) -> tuple[dict[str, DetectionResult], str | None]:
    from facekit._read_results import read_results

    results: dict[str, DetectionResult] = {}
    image: str | None = None
    for argument in args.results:
        name, path = "", argument
        if "=" in argument and not os.path.exists(argument):
            name, _, path = argument.partition("=")  # NAME=FILE; a path with "=" in it works when it exists
        items = read_results(os.path.expanduser(path))
        if len(items) != 1:
            raise ConfigurationError(f"{path!r} holds {len(items)} inputs; compare takes one result of one image per file")
        result = items[0].unwrap()
        if image is None and isinstance(items[0].input, str):
            image = items[0].input
        key = name or result.provider
        if key in results:
            stem = os.path.splitext(os.path.basename(path))[0]
            key = stem if name == "" and stem not in results else f"{key}#{len(results) + 1}"
        results[key] = result
    return results, image


def run(args: argparse.Namespace) -> int:
    """Run ``facekit compare``; returns the exit code."""
    from facekit._compare import DEFAULT_IOU, compare

    failures: list[tuple[str, Exception]] = []
    recorded_image: str | None = None
    if args.providers:
        results, failures = _live(args)
        if len(results) < 2 and failures:
            raise failures[0][1]
    else:
        results, recorded_image = _saved(args)
    comparison = compare(results, iou=args.iou if args.iou is not None else DEFAULT_IOU)
    text = comparison.to_json() if args.json else comparison.table()
    if args.output:
        with open(os.path.expanduser(args.output), "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    else:
        print(text)
    if args.draw:
        image = args.image or recorded_image
        if image is None or (not args.image and not os.path.exists(image)):
            raise ConfigurationError(f"--draw needs the image: pass it as IMAGE (the results name {image!r})")
        target = os.path.expanduser(args.draw)
        directory = os.path.dirname(os.path.abspath(target))
        os.makedirs(directory, exist_ok=True)
        comparison.draw(os.path.expanduser(image)).save(target)
    return EXIT_PARTIAL if failures else EXIT_OK
