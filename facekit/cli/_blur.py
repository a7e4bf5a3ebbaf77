"""``facekit blur INPUTS --output DIR``: write copies of images with every face hidden.

Each input (files, directories, globs, URLs, ``s3://`` URIs, expanded as for ``detect``) is
detected, then :meth:`facekit.DetectionResult.anonymize` hides its faces (``--method blur``,
``pixelate`` or ``fill``; ``--shape ellipse`` tilted with the eye line, or ``box``) and the
copy is written under ``DIR`` with the input's name and format (a directory argument's tree is
mirrored). Inputs are never overwritten: an output path that is an input is refused before any
work. A copy is written whole or not at all (a temporary file renamed), and metadata such as
EXIF (GPS position, camera) is not copied; the pixels are stored upright, with the input's
transparency (PNG, WEBP, TIFF, GIF).

Failures are printed on stderr, one line per input, and the run goes on; copies already
written stay. Exit codes as for ``detect``: 0 every input written, 1 some failed, 2 usage or
configuration, 3 missing extra or model, 4 every input failed with a provider error.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import TYPE_CHECKING, Any

from facekit._anonymize import METHODS, SHAPES
from facekit._batch import ProgressBar
from facekit._errors import ConfigurationError
from facekit.cli._backend_args import add_arguments as add_backend_arguments
from facekit.cli._backend_args import call_options, expand_paths, make_client, rate_limiter
from facekit.cli._exit import batch_exit_code
from facekit.cli._inputs import InputEntry, expand_inputs
from facekit.cli._targets import TargetNames

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["keep_alpha", "register", "run", "save_image"]

#: Formats Pillow reads but writes under another name.
_WRITE_AS = {"MPO": "JPEG"}
#: Formats whose transparency the copy keeps.
_ALPHA_FORMATS = frozenset({"PNG", "WEBP", "TIFF", "GIF"})


def register(sub: Any) -> None:
    """Add the ``blur`` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "blur",
        help="write copies of images with every face blurred, pixelated or filled",
        description="Detect faces, then write a copy of every input with its faces hidden into --output DIR "
        "(same file names and formats; inputs are never overwritten).",
        epilog="exit codes: 0 all written, 1 some inputs failed, 2 usage/configuration, "
        "3 missing extra or model, 4 every input failed with a provider error",
    )
    parser.add_argument("images", nargs="+", help="image files, directories, glob patterns, URLs or s3:// URIs")
    parser.add_argument("--output", "-o", required=True, metavar="DIR", help="directory for the anonymised copies")
    parser.add_argument("-r", "--recursive", action="store_true", help="descend into subdirectories")
    parser.add_argument("--method", "-m", choices=METHODS, default="blur", help="how faces are hidden (default blur)")
    parser.add_argument(
        "--shape", choices=SHAPES, default="ellipse", help="region hidden: ellipse (tilted with the eyes) or box"
    )
    parser.add_argument(
        "--margin", type=float, default=0.1, help="growth of each face box on every side, fraction (default 0.1)"
    )
    parser.add_argument(
        "--strength",
        type=float,
        help="blur radius as a fraction of the face size (default 0.2), or pixel blocks across a face (default 8)",
    )
    add_backend_arguments(parser)
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary on stderr")
    shown.add_argument("--progress", action="store_true", help="progress bar even when stderr is not a terminal")
    parser.set_defaults(func=run)


def save_image(picture: Image.Image, path: str, image_format: str | None) -> None:
    """Write ``picture`` to ``path`` whole or not at all, in ``image_format`` (default: from the name).

    Raises:
        OSError: The format cannot be written, or the disk refused.
    """
    from PIL import Image

    fmt = _WRITE_AS.get(image_format or "", image_format)
    if not fmt:
        fmt = Image.registered_extensions().get(os.path.splitext(path)[1].lower(), "PNG")
    options: dict[str, Any] = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    partial = f"{path}.partial"
    try:
        picture.save(partial, format=fmt, **options)
        os.replace(partial, path)
    except (KeyError, ValueError) as exc:  # Pillow: no writer for the format
        raise OSError(f"cannot write {fmt} images: {exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(partial)


def keep_alpha(hidden: Image.Image, name: str, image_format: str | None) -> Image.Image:
    """``hidden`` with the transparency of the local image ``name`` (PNG, WEBP, TIFF, GIF), if it has any."""
    if image_format not in _ALPHA_FORMATS or "://" in name:
        return hidden
    from facekit._image import open_image

    upright = open_image(name).upright()
    if upright.size != hidden.size or not (upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info):
        return hidden
    with_alpha = hidden.convert("RGBA")
    with_alpha.putalpha(upright.convert("RGBA").getchannel("A"))
    return with_alpha


def _targets(args: argparse.Namespace, entries: list[InputEntry]) -> dict[str, str]:
    if os.path.exists(args.output) and not os.path.isdir(args.output):
        raise ConfigurationError(f"--output {args.output!r} is a file; blur writes its copies into a directory")
    names = TargetNames(args.output)
    targets = {entry.name: names.target(entry) for entry in entries if entry.error is None}
    inputs = {os.path.realpath(entry.name): entry.name for entry in entries if "://" not in entry.name}
    for name, target in targets.items():
        clash = inputs.get(os.path.realpath(target))
        if clash is not None:
            raise ConfigurationError(
                f"the copy of {name!r} would overwrite the input {clash!r}; choose an --output directory "
                "that holds none of the inputs"
            )
    return targets


def run(args: argparse.Namespace) -> int:
    """Run ``facekit blur``; returns the exit code."""
    expand_paths(args, "output")
    if args.margin < 0:
        raise ConfigurationError(f"--margin must be >= 0, got {args.margin}")
    if args.strength is not None and args.strength <= 0:
        raise ConfigurationError(f"--strength must be positive, got {args.strength}")
    if args.workers is not None and args.workers < 1:
        raise ConfigurationError(f"--workers must be at least 1, got {args.workers}")
    entries = expand_inputs(args.images, recursive=args.recursive)
    targets = _targets(args, entries)
    show = args.progress or (not args.quiet and sys.stderr.isatty())
    bar = ProgressBar(len(entries)) if show and len(entries) > 1 else None
    failures: list[Exception] = []
    save_failures = faces = done = 0
    with make_client(args) as client:
        landmarks = args.shape == "ellipse" and bool(client.capabilities.landmarks)  # the ellipse follows the eye line
        items = client.detect_many(
            (entry.name for entry in entries if entry.error is None),
            workers=args.workers,
            rate_limiter=rate_limiter(args),
            landmarks=landmarks,
            **call_options(args),
        )
        try:
            for entry in entries:
                error = entry.error
                if error is None:
                    item = next(items)
                    error = item.error
                if error is not None:
                    failures.append(error)
                    print(f"facekit: {entry.name}: {type(error).__name__}: {error}", file=sys.stderr)
                else:
                    assert item.result is not None
                    try:
                        hidden = item.result.anonymize(
                            method=args.method, shape=args.shape, margin=args.margin, strength=args.strength
                        )
                        fmt = item.result.image.format
                        save_image(keep_alpha(hidden, entry.name, fmt), targets[entry.name], fmt)
                        faces += len(item.result.faces)
                    except Exception as exc:
                        save_failures += 1
                        print(f"facekit: cannot write the copy of {entry.name}: {exc}", file=sys.stderr)
                done += 1
                if bar is not None:
                    bar.update(done, len(failures) + save_failures)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()
            if bar is not None:
                bar.close(done, len(failures) + save_failures)
    if not args.quiet:
        written = done - len(failures) - save_failures
        print(
            f"facekit: {done} input(s), {faces} face(s) hidden, {len(failures) + save_failures} failed; "
            f"{written} file(s) in {args.output}",
            file=sys.stderr,
        )
    return batch_exit_code(done, failures, save_failures)
