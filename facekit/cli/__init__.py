"""The ``facekit`` command line.

Subcommands live in their own modules (``_detect``, ``_blur``, ``_providers``, ``_models`` ...) and register
themselves through :func:`build_parser`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from facekit._errors import FacekitError
from facekit._version import __version__
from facekit.cli._exit import EXIT_MISSING, EXIT_OK, EXIT_PARTIAL, EXIT_PROVIDER, EXIT_USAGE

__all__ = [
    "EXIT_MISSING",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_PROVIDER",
    "EXIT_USAGE",
    "build_parser",
    "main",
    "parse_arguments",
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    from facekit.cli import _blur, _compare, _detect, _identity, _models, _providers, _serve

    parser = argparse.ArgumentParser(
        prog="facekit",
        description="Detect faces with Azure Face, AWS Rekognition or the local ONNX engine; one typed result.",
    )
    parser.add_argument("--version", action="version", version=f"facekit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (_detect, _blur, _providers, _models, _serve, _identity, _compare):
        module.register(sub)
    return parser


def parse_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Parse ``argv``, options allowed anywhere after the subcommand (``detect a.jpg -l b.jpg``).

    argparse's intermixed parsing does not work through subparsers, so the subcommand's own
    parser parses the rest with ``parse_intermixed_args``, after its ``prepare_argv`` hook
    (if any); subcommands it cannot handle (nested subcommands) use plain parsing.
    """
    choices: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            choices = dict(action.choices)
    command = choices.get(argv[0]) if argv else None
    if command is None or any(isinstance(action, argparse._SubParsersAction) for action in command._actions):
        return parser.parse_args(argv)
    prepare = command.get_default("prepare_argv")
    rest = prepare(argv[1:]) if prepare is not None else argv[1:]
    namespace = argparse.Namespace(command=argv[0])
    return command.parse_intermixed_args(rest, namespace)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    from facekit._errors import ConfigurationError, InvalidRequestError, MissingDependencyError, ModelNotAvailableError

    parser = build_parser()
    args = parse_arguments(parser, sys.argv[1:] if argv is None else list(argv))
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        code: int = args.func(args)
    except (MissingDependencyError, ModelNotAvailableError) as exc:
        print(f"facekit: {exc}", file=sys.stderr)
        return EXIT_MISSING
    except (ConfigurationError, InvalidRequestError) as exc:
        print(f"facekit: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except FacekitError as exc:
        print(f"facekit: {exc}", file=sys.stderr)
        return EXIT_PROVIDER
    return code
