"""Fixtures for saved results: a loopback face service and a small tree of images."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.loopback import LoopbackServer
from tests.usage.loopback_backend import ENV_ENDPOINT, face_service

#: The loopback backend of the CLI tests (answers one box; 500 for red-cornered images).
LOOPBACK = "tests.usage.loopback_backend:LoopbackBackend"
DATA = Path(__file__).resolve().parents[1] / "data"
PHOTO = DATA / "grace_hopper.jpg"  # 512x600, one face


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        server.route("POST", "/detect", face_service())
        monkeypatch.setenv(ENV_ENDPOINT, server.url("/detect"))
        yield server


@pytest.fixture
def images(tmp_path: Path) -> list[Path]:
    """a.png (a face box), b.png (the service answers 500), a missing file."""
    good = tmp_path / "a.png"
    Image.new("RGB", (100, 90), (70, 120, 70)).save(good)
    bad = tmp_path / "b.png"
    picture = Image.new("RGB", (110, 90), (70, 120, 70))
    picture.putpixel((0, 0), (255, 0, 0))
    picture.save(bad)
    return [good, bad, tmp_path / "missing.jpg"]


@pytest.fixture
def blank(tmp_path: Path) -> Path:
    """A grey picture without a face."""
    path = tmp_path / "blank.png"
    Image.new("RGB", (320, 240), (128, 128, 128)).save(path)
    return path
