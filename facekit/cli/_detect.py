"""``facekit detect``: detect faces in files, directories, globs, URLs and ``s3://`` URIs.

Output goes to stdout or ``--output FILE`` as JSON (an array), JSONL (one record per line),
CSV (one row per face) or Parquet (``--output`` only; one row per input), with a row for every
input, including inputs with no face and inputs that failed (error type and message). Each input
is written and flushed as soon as it is done (in input order), so ``--resume`` can continue a
killed JSONL run.

Exit codes (``facekit.cli._exit``): 0 every input done, 1 some inputs failed (or could not be
drawn), 2 usage or configuration error or a bad request (checked once, before any input),
3 missing extra or model (checked once, before any input), 4 every input failed with a
provider or transport error (bad key, service down).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from typing import IO, Any

from facekit._batch import BatchItem, ProgressBar
from facekit._errors import ConfigurationError
from facekit.cli._backend_args import add_arguments as add_backend_arguments
from facekit.cli._backend_args import call_options, expand_paths, make_client, rate_limiter
from facekit.cli._dask import add_arguments as add_dask_arguments
from facekit.cli._dask import run as run_dask
from facekit.cli._exit import batch_exit_code
from facekit.cli._inputs import InputEntry, expand_inputs
from facekit.cli._output import FORMATS, finished_inputs, make_writer
from facekit.cli._targets import TargetNames

__all__ = ["register", "run"]

_MESH_FLAG = "--landmarks-mesh"
_DRAW_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}


def register(sub: Any) -> None:
    """Add the ``detect`` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "detect",
        help="detect faces in images",
        description="Detect faces in images; one output row for every input.",
        epilog="exit codes: 0 all done, 1 some inputs failed, 2 usage/configuration, "
        "3 missing extra or model, 4 every input failed with a provider error",
    )
    parser.add_argument("images", nargs="+", help="image files, directories, glob patterns, URLs or s3:// URIs")
    parser.add_argument("-r", "--recursive", action="store_true", help="descend into subdirectories")
    add_backend_arguments(parser)
    parser.add_argument("--attributes", "-a", help="comma-separated attributes, or 'all'")
    parser.add_argument("--landmarks", "-l", action="store_const", const=True, default=False, help="return landmarks; --landmarks mesh: the local engine's 468-point face mesh and the names derived from it")
    parser.add_argument(  # "--landmarks mesh" and "--landmarks=mesh" are rewritten to this (prepare_argv)
        _MESH_FLAG,
        dest="landmarks",
        action="store_const",
        const="mesh",
        help=argparse.SUPPRESS,
    )
    parser.add_argument(
        "--strict",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="fail inputs when an attribute cannot be returned (default), or leave it empty with a warning",
    )
    parser.add_argument("--format", "-f", choices=FORMATS, default="json", help="output format (default json)")
    parser.add_argument("--output", "-o", help="write to FILE instead of stdout")
    parser.add_argument(
        "--resume", action="store_true", help="continue an interrupted --format jsonl --output FILE run"
    )
    parser.add_argument("--retry-failed", action="store_true", help="with --resume, redo inputs that failed")
    parser.add_argument("--draw", metavar="DIR", help="write annotated copies of the images into DIR")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary on stderr")
    shown.add_argument("--progress", action="store_true", help="progress bar even when stderr is not a terminal")
    add_dask_arguments(parser)
    parser.set_defaults(func=run, prepare_argv=prepare_argv)


def prepare_argv(argv: list[str]) -> list[str]:
    """Rewrite ``--landmarks mesh`` (and ``-l mesh``, ``--landmarks=mesh``) to one flag.

    ``--landmarks`` is a plain flag, so that ``facekit detect --landmarks a.jpg`` does not read
    ``a.jpg`` as its value; ``mesh`` right after it still asks for the face mesh.
    """
    out: list[str] = []
    tokens = iter(enumerate(argv))
    for position, token in tokens:
        if token == "--":
            out.extend(argv[position:])
            break
        if token == "--landmarks=mesh":
            out.append(_MESH_FLAG)
        elif token in ("--landmarks", "-l") and position + 1 < len(argv) and argv[position + 1] == "mesh":
            out.append(_MESH_FLAG)
            next(tokens)
        else:
            out.append(token)
    return out


def _check_arguments(args: argparse.Namespace) -> None:
    if args.resume and (args.format != "jsonl" or not args.output):
        raise ConfigurationError("--resume needs --format jsonl and --output FILE")
    if args.format == "parquet" and not args.output:
        raise ConfigurationError("--format parquet needs --output FILE.parquet (Parquet is not streamed to stdout)")
    if args.retry_failed and not args.resume:
        raise ConfigurationError("--retry-failed goes with --resume")
    if args.workers is not None and args.workers < 1:
        raise ConfigurationError(f"--workers must be at least 1, got {args.workers}")


@contextlib.contextmanager
def _open_output(args: argparse.Namespace) -> Iterator[IO[str]]:
    if not args.output or args.format == "parquet":  # the Parquet writer writes its own file
        yield sys.stdout
        return
    directory = os.path.dirname(os.path.abspath(args.output))
    os.makedirs(directory, exist_ok=True)
    with open(args.output, "a" if args.resume else "w", encoding="utf-8", newline="") as handle:
        yield handle


class _Drawer:
    """Saves annotated copies under a directory, mirroring directory arguments' trees."""

    def __init__(self, directory: str) -> None:
        self.names = TargetNames(directory)

    def target(self, entry: InputEntry) -> str:
        ext = os.path.splitext(entry.relative or "image")[1].lower()
        return self.names.target(entry, ext if ext in _DRAW_FORMATS else ".png")

    def save(self, entry: InputEntry, item: BatchItem) -> None:
        assert item.result is not None
        path = self.target(entry)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        picture = item.result.draw()
        picture.save(path, format=_DRAW_FORMATS[os.path.splitext(path)[1]])


def run(args: argparse.Namespace) -> int:
    """Run ``facekit detect``; returns the exit code."""
    expand_paths(args, "output", "draw")
    if args.dask:
        return run_dask(args)
    _check_arguments(args)
    options = call_options(args)
    entries = expand_inputs(args.images, recursive=args.recursive)
    finished = finished_inputs(args.output, retry_failed=args.retry_failed) if args.resume else set()
    positions = {entry.name: position for position, entry in enumerate(entries)}
    todo = [entry for entry in entries if entry.name not in finished]
    client = make_client(args)
    limiter = rate_limiter(args)
    show = args.progress or (not args.quiet and sys.stderr.isatty())
    bar = ProgressBar(len(todo)) if show and len(todo) > 1 else None
    drawer = _Drawer(args.draw) if args.draw else None
    failures: list[Exception] = []
    draw_failures = faces = done = 0
    detect_kwargs: dict[str, Any] = {**options, "attributes": args.attributes, "landmarks": args.landmarks}
    if args.strict is not None:
        detect_kwargs["strict"] = args.strict
    with client:
        # The request and the backend are checked here, once, before any input or output:
        # a bad attribute exits 2, missing local weights exit 3 (facekit.cli.main).
        items = client.detect_many(
            (entry.name for entry in todo if entry.error is None),
            workers=args.workers,
            rate_limiter=limiter,
            **detect_kwargs,
        )
        with _open_output(args) as stream:
            writer = make_writer(args.format, stream, path=args.output)
            try:
                for entry in todo:
                    position = positions[entry.name]
                    if entry.error is not None:
                        item = BatchItem(position, entry.name, error=entry.error)
                    else:
                        produced = next(items)
                        item = BatchItem(position, entry.name, produced.result, produced.error, produced.seconds)
                    writer.write(item, entry.name)
                    done += 1
                    if item.error is not None:
                        failures.append(item.error)
                    elif item.result is not None:
                        faces += len(item.result.faces)
                        if drawer is not None:
                            try:
                                drawer.save(entry, item)
                            except Exception as exc:
                                draw_failures += 1
                                print(f"facekit: cannot draw {entry.name}: {exc}", file=sys.stderr)
                    if bar is not None:
                        bar.update(done, len(failures))
            finally:
                close = getattr(items, "close", None)
                if close is not None:
                    close()
                writer.close()
                if bar is not None:
                    bar.close(done, len(failures))
    if not args.quiet:
        skipped = f", {len(entries) - len(todo)} already done" if finished else ""
        print(f"facekit: {done} input(s), {faces} face(s), {len(failures)} failed{skipped}", file=sys.stderr)
    return batch_exit_code(done, failures, draw_failures)
