"""What the int8 calibration scripts share: MinMax ranges over real inputs, and writing them.

Used by calibrate_age.py and calibrate_centerface.py (run as scripts from this folder).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod
from onnxruntime.quantization.calibrate import create_calibrator


class _Feeds(CalibrationDataReader):  # type: ignore[misc]
    def __init__(self, feeds: Iterable[dict[str, np.ndarray]]) -> None:
        self._items = iter(feeds)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._items, None)


def minmax_ranges(model_path: str | Path, feeds: Iterable[dict[str, np.ndarray]]) -> dict[str, tuple[float, float]]:
    """MinMax range (min, max) of every float activation of the model over ``feeds``, by tensor name."""
    with tempfile.TemporaryDirectory() as tmp:
        calibrator = create_calibrator(
            model_path, [], augmented_model_path=os.path.join(tmp, "augmented.onnx"),
            calibrate_method=CalibrationMethod.MinMax,
        )  # fmt: skip
        calibrator.collect_data(_Feeds(feeds))
        data = calibrator.compute_data()
    return {
        name: (float(np.asarray(v.range_value[0]).reshape(-1)[0]), float(np.asarray(v.range_value[1]).reshape(-1)[0]))
        for name, v in sorted(data.data.items())
    }


def write_ranges(module: Path, docstring: list[str], ranges: dict[str, tuple[float, float]]) -> None:
    """Write ``ranges`` as the ``RANGES`` mapping of the Python module ``module``.

    Args:
        module: The ranges module's path in the package.
        docstring: The module docstring's lines, without the quotes.
        ranges: The ranges by tensor name.
    """
    lines = [
        '"""' + docstring[0],
        *docstring[1:],
        '"""',
        "",
        "from typing import Final",
        "",
        "RANGES: Final[dict[str, tuple[float, float]]] = {",
        *(f'    "{name}": ({low!r}, {high!r}),' for name, (low, high) in ranges.items()),
        "}",
        "",
    ]
    module.write_text("\n".join(lines))
