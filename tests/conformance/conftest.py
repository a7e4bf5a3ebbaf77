"""Collect every ``harness_*.py`` module's ``HARNESS`` and parametrise the suite over them."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import tests.conformance as package


def _harnesses() -> list[object]:
    found = []
    for module in pkgutil.iter_modules(package.__path__):
        if module.name.startswith("harness_"):
            try:
                loaded = importlib.import_module(f"tests.conformance.{module.name}")
            except ImportError as exc:  # a backend's extra missing on this machine
                found.append(pytest.param(None, id=module.name[8:], marks=pytest.mark.skip(reason=str(exc))))
                continue
            found.append(pytest.param(loaded.HARNESS, id=loaded.HARNESS.info.name))
    return found


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "harness" in metafunc.fixturenames:
        metafunc.parametrize("harness", _harnesses())
