"""Expand input arguments into images: files, directories, globs, URLs, ``s3://`` URIs.

Used by ``facekit detect`` (one argument per command-line word) and by
``FaceClient.detect_many("photos/")`` / ``detect_many("photos/*.jpg")`` (a single string or
path is expanded the same way instead of being iterated character by character).

Every argument yields at least one :class:`InputEntry`: an argument that matches nothing
(a missing file, an empty directory, a glob without matches) yields one entry carrying the
error, so that the CLI gives it its row in the output like any failed input;
:func:`expand_images` raises that error instead.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from facekit._errors import InvalidImageError, InvalidRequestError

__all__ = ["IMAGE_EXTENSIONS", "InputEntry", "expand_images", "expand_inputs"]

#: File name endings taken from directories (case-insensitive). Explicit files and glob
#: matches are taken whatever their ending (the content decides the format).
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"})

_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class InputEntry:
    """One input found for an argument.

    Attributes:
        name: The input as shown in the output and used by ``--resume`` (path, URL, URI).
        relative: Where its annotated copy goes under ``--draw DIR`` (POSIX relative path).
        error: Why the argument gave no image, or None.
    """

    name: str
    relative: str
    error: Exception | None = None


def _remote_relative(argument: str) -> str:
    path = urlsplit(argument).path
    return PurePosixPath(path).name or "image"


def _walk(directory: str, recursive: bool) -> Iterator[tuple[str, str]]:
    if recursive:
        for root, dirs, files in os.walk(directory):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(root, name)
                yield path, os.path.relpath(path, directory)
    else:
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            if os.path.isfile(path):
                yield path, name


def _expand_one(argument: str, recursive: bool) -> Iterator[InputEntry]:
    if argument.lower().startswith(("http://", "https://", "s3://")):
        yield InputEntry(argument, _remote_relative(argument))
        return
    argument = os.path.expanduser(argument)  # "~/photos" quoted in a script or a config
    if os.path.isdir(argument):
        found = False
        for path, relative in _walk(argument, recursive):
            if os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS:
                found = True
                yield InputEntry(path, PurePosixPath(*relative.split(os.sep)).as_posix())
        if not found:
            hint = "" if recursive else " (pass --recursive / recursive=True to look in subdirectories)"
            yield InputEntry(argument, "", InvalidRequestError(f"no image files in directory {argument!r}{hint}"))
    elif os.path.exists(argument):
        yield InputEntry(argument, os.path.basename(argument))
    elif _GLOB_CHARS & set(argument):
        matches = sorted(path for path in glob.glob(argument, recursive=True) if os.path.isfile(path))
        if not matches:
            yield InputEntry(argument, "", InvalidRequestError(f"no files match {argument!r}"))
        for path in matches:
            yield InputEntry(path, os.path.basename(path))
    else:
        yield InputEntry(argument, "", InvalidImageError(f"no such image file: {argument!r}"))


def expand_inputs(arguments: Sequence[str], *, recursive: bool = False) -> list[InputEntry]:
    """Expand CLI arguments into inputs, in argument order, directory contents sorted by name.

    Args:
        arguments: Paths, directories, glob patterns (``**`` for any depth), ``http(s)://``
            URLs and ``s3://`` URIs.
        recursive: Descend into subdirectories of directory arguments.

    Returns:
        Entries without duplicates (an input named twice is kept once, at its first place).
    """
    seen: set[str] = set()
    entries: list[InputEntry] = []
    for argument in arguments:
        for entry in _expand_one(argument, recursive):
            if entry.name not in seen:
                seen.add(entry.name)
                entries.append(entry)
    return entries


def expand_images(argument: str | os.PathLike[str], *, recursive: bool = False) -> list[str]:
    """The image paths (or the URL / URI) one argument names, as ``facekit detect`` finds them.

    Args:
        argument: A file, a directory (its image files, by name), a glob pattern (``**`` for
            any depth), an ``http(s)://`` URL or an ``s3://`` URI.
        recursive: Descend into subdirectories of a directory.

    Returns:
        The inputs, sorted by name within a directory or glob.

    Raises:
        InvalidRequestError: A directory without image files or a glob without matches.
        InvalidImageError: A plain path that does not exist.
    """
    entries = expand_inputs([os.fspath(argument)], recursive=recursive)
    for entry in entries:
        if entry.error is not None:
            raise entry.error
    return [entry.name for entry in entries]
