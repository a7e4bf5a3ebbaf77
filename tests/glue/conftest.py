"""The glue tests run the real local engine: reuse its weights fixture (skips or fails as there)."""

from tests.local.conftest import models

__all__ = ["models"]
