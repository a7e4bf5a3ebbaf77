"""Generated docs match the code; the error reference names every error class."""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path

import facekit._errors as errors

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen_capabilities", DOCS / "gen_capabilities.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_generated_docs_equal_fresh_output() -> None:
    generator = _generator()
    for name, build in generator.GENERATED.items():
        assert (DOCS / name).read_text(encoding="utf-8") == build(), f"{name} is stale: run python docs/gen_capabilities.py"


def test_error_reference_lists_every_error_class() -> None:
    text = (DOCS / "errors.md").read_text(encoding="utf-8")
    classes = [name for name, obj in vars(errors).items() if inspect.isclass(obj) and issubclass(obj, errors.FacekitError)]
    assert classes and all(f"`{name}`" in text for name in classes)
