"""Base64 encoding of request bodies: pybase64's SIMD codec when installed, else the standard library's.

Rekognition takes an image only as base64 inside its JSON body, and every async ``DetectFaces``
encodes its image on the event loop. The standard library's codec holds the loop about 50 us
for a 61 KB photo, pybase64's (pip extra ``async``) about 2 us, with byte-identical output; with
64 concurrent calls that is 3 ms of the round (``benchmarks/bench_async.py``).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["CODEC", "b64encode"]

b64encode: Callable[[bytes], bytes]
try:
    from pybase64 import b64encode

    CODEC = "pybase64"
except ImportError:  # the extra is optional: the standard library gives the same bytes
    from base64 import b64encode

    CODEC = "base64"
