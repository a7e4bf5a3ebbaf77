"""Async tests reuse the conformance harnesses (parametrised over ``harness``)."""

from __future__ import annotations

from tests.conformance.conftest import pytest_generate_tests

__all__ = ["pytest_generate_tests"]
