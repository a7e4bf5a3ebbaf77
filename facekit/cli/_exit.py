"""Exit codes of the ``facekit`` command (see docs/errors.md).

0 success, 1 some inputs failed, 2 usage or configuration error (including a bad request,
found before any input), 3 missing dependency or model, 4 provider error on every input.
"""

from __future__ import annotations

from collections.abc import Sequence

from facekit._errors import ProviderError, TransportError

__all__ = ["EXIT_MISSING", "EXIT_OK", "EXIT_PARTIAL", "EXIT_PROVIDER", "EXIT_USAGE", "batch_exit_code"]

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_MISSING, EXIT_PROVIDER = 0, 1, 2, 3, 4


def batch_exit_code(done: int, failures: Sequence[Exception], later_failures: int = 0) -> int:
    """The exit code of a run over ``done`` inputs.

    Args:
        done: Inputs processed.
        failures: The detection errors, one per failed input.
        later_failures: Inputs detected but not written afterwards (drawing, saving).

    Returns:
        4 when every input failed with a provider or transport error, 1 when some failed, else 0.
    """
    if failures and len(failures) == done and all(isinstance(e, (ProviderError, TransportError)) for e in failures):
        return EXIT_PROVIDER
    return EXIT_PARTIAL if failures or later_failures else EXIT_OK
