"""Where the CLI writes one file per input under a directory (``detect --draw``, ``blur --output``).

A directory argument's tree is mirrored (``photos/a/b.jpg`` -> ``DIR/a/b.jpg``); a file, glob
match or URL goes to ``DIR/<its name>``; two inputs with the same name get ``-2``, ``-3`` ...
"""

from __future__ import annotations

import os

from facekit.cli._inputs import InputEntry

__all__ = ["TargetNames"]


class TargetNames:
    """Unique output paths under ``directory``, one per input.

    Args:
        directory: The output directory (created by the caller when it writes).
    """

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.used: set[str] = set()

    def target(self, entry: InputEntry, ext: str | None = None) -> str:
        """The output path for ``entry``, with ``ext`` (``".png"``) instead of its own ending when given."""
        stem, own = os.path.splitext(entry.relative or "image")
        ext = own if ext is None else ext
        candidate, number = f"{stem}{ext}", 1
        while candidate in self.used:
            number += 1
            candidate = f"{stem}-{number}{ext}"
        self.used.add(candidate)
        return os.path.join(self.directory, *candidate.split("/"))
