"""`import facekit` stays light: no SDK, no onnxruntime, no numpy."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("boto3", "botocore", "azure", "aiohttp", "httpx", "onnxruntime", "onnx", "numpy", "pandas", "matplotlib", "h5py", "supervision", "scipy", "tqdm",
         "dask", "distributed", "pyarrow", "pybase64", "simplejpeg")


def test_import_facekit_imports_no_heavy_module() -> None:
    code = (
        "import json, sys, facekit\n"
        "from facekit import FaceClient\n"
        "FaceClient('fake')\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_cli_help_works() -> None:
    out = subprocess.run([sys.executable, "-m", "facekit", "--help"], capture_output=True, text=True, check=True)
    assert "detect" in out.stdout
    assert "providers" in out.stdout
