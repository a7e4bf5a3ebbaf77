"""Backends and the interface they implement; see :mod:`facekit.backends._base`.

Each backend module imports its SDK lazily, so importing this package is cheap.
"""

from facekit.backends._base import Backend, BackendResult, Capabilities, check_request

__all__ = ["Backend", "BackendResult", "Capabilities", "check_request"]
