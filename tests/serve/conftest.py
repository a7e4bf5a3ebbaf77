"""A real uvicorn server on 127.0.0.1 answering with the real local engine, shared by the module's tests.

The engine is module-scoped so that its memory is released before the rest of the suite.

Skipped when the ``serve`` extra or the model weights are missing, unless FACEKIT_REQUIRE_MODELS
is set (CI fetches the weights), in which case missing weights fail.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

DATA = Path(__file__).resolve().parent.parent / "data"
LOCAL_DATA = Path(__file__).resolve().parent.parent / "local" / "data"
AZURE_KEY = "serve-t3st-subscription-k3y"
AWS_KEY_ID = "AKIAFACEKITSERVETEST"
AWS_SECRET = "s3rve/SeCrEt+KeY/DoNoTlEaK0123456789abcd"


def _require_models() -> None:
    from facekit.local.store import ModelStore

    missing = [name for name, _, ok in ModelStore(allow_fetch=False).verify() if not ok]
    if missing:
        message = f"model files missing: {', '.join(missing)} (run `facekit models fetch`)"
        if os.environ.get("FACEKIT_REQUIRE_MODELS"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def grace_jpeg() -> bytes:
    """Grace Hopper, 512 x 600 (public domain; see tests/data)."""
    return (DATA / "grace_hopper.jpg").read_bytes()


@pytest.fixture(scope="session")
def pair_jpeg() -> bytes:
    """Grace Hopper and Eileen Collins side by side: two faces of different sizes."""
    with Image.open(DATA / "grace_hopper.jpg") as grace, Image.open(LOCAL_DATA / "astronaut.jpg") as astronaut:
        small = astronaut.convert("RGB").resize((320, 320))
        canvas = Image.new("RGB", (512 + 340, 600), (200, 200, 200))
        canvas.paste(grace.convert("RGB"), (0, 0))
        canvas.paste(small, (522, 140))
    buffer = io.BytesIO()
    canvas.save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def local_client() -> Iterator[object]:
    """facekit's local engine, called directly (the reference the server must match)."""
    _require_models()
    from facekit import FaceClient

    with FaceClient("local") as client:
        yield client


@pytest.fixture(scope="module")
def server(local_client: Any) -> Iterator[str]:
    """The base URL of a server on the local engine, with an Azure key and AWS credentials set.

    It answers with ``local_client``'s engine: one engine in memory per module, freed after it.
    """
    from facekit.serve import create_app, running

    app = create_app(client=local_client, key=AZURE_KEY, aws_credentials={AWS_KEY_ID: AWS_SECRET})
    with running(app) as url:
        yield url
