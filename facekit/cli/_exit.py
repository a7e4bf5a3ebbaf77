"""Exit codes of the ``facekit`` command (see docs/errors.md).

0 success, 1 some inputs failed, 2 usage or configuration error (including a bad request,
found before any input), 3 missing dependency or model, 4 provider error on every input.
"""

from __future__ import annotations

__all__ = ["EXIT_MISSING", "EXIT_OK", "EXIT_PARTIAL", "EXIT_PROVIDER", "EXIT_USAGE"]

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_MISSING, EXIT_PROVIDER = 0, 1, 2, 3, 4
