"""The cache of converted graphs: one ONNX file per (source sha256, converter version).

A converted model is stored as ``<stem>.<sha256[:16]>.v<N>.onnx`` in the first writable
directory of: the source file's own directory, then the given cache directories. When none
is writable the graph is kept in memory only.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from facekit.local.store import sha256_file

__all__ = ["cached_conversion", "conversion_name"]


def conversion_name(src: Path, version: int, digest: str | None = None) -> str:
    """File name of the conversion of ``src`` by converter ``version``."""
    digest = digest if digest is not None else sha256_file(src)
    return f"{src.stem}.{digest[:16]}.v{version}.onnx"


def cached_conversion(
    source: str | os.PathLike[str],
    version: int,
    convert: Callable[[Path], bytes],
    cache_dirs: Sequence[Path] = (),
) -> bytes:
    """Return the serialized ONNX conversion of ``source``, from cache or freshly converted.

    Args:
        source: The verified source weight file.
        version: The converter's version (part of the cache key).
        convert: Turns the source path into serialized ONNX bytes.
        cache_dirs: Directories tried after the source's own directory.

    Returns:
        The serialized ONNX model.
    """
    src = Path(source)
    fname = conversion_name(src, version)
    dirs = [src.parent, *cache_dirs]
    for d in dirs:
        cand = d / fname
        if cand.is_file():
            return cand.read_bytes()
    data = convert(src)
    for d in dirs:
        try:
            d.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{fname}.", dir=d)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, d / fname)
            break
        except OSError:
            continue
    return data
