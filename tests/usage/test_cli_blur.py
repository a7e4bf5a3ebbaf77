"""``facekit blur INPUTS --output DIR`` on the real local engine and the shipped photo."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facekit import FaceClient
from facekit.cli import EXIT_OK, EXIT_PARTIAL, EXIT_PROVIDER, EXIT_USAGE, main
from tests.local.conftest import models
from tests.loopback import LoopbackServer
from tests.usage.loopback_backend import ENV_ENDPOINT, face_service
from tests.usage.test_cli import write_image

__all__ = ["models"]  # the real local engine's weights fixture

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "examples" / "images" / "grace_hopper.jpg"
pytestmark = pytest.mark.filterwarnings("ignore:OpenCV")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB")).astype(np.int16)


@pytest.fixture
def photos(tmp_path: Path, models: object) -> Path:
    """A folder: the JPEG photo, a PNG copy in a subfolder, an unreadable .jpg."""
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(PHOTO, folder / "hopper.jpg")
    with Image.open(PHOTO) as image:
        image.save(folder / "sub" / "hopper.png")
    (folder / "broken.jpg").write_bytes(b"not an image at all")
    return folder


@pytest.fixture(scope="module")
def face_box() -> tuple[int, int, int, int]:
    """The face the real engine finds in the photo, as integer x1, y1, x2, y2."""
    with FaceClient("local") as client:
        [face] = client.detect(str(PHOTO)).faces
    x1, y1, x2, y2 = face.box.to_int()
    return x1, y1, x2, y2


def test_blur_writes_every_input_in_its_format_and_reports_failures(
    photos: Path, tmp_path: Path, face_box: tuple[int, int, int, int], capsys: pytest.CaptureFixture[str]
) -> None:
    before = {path: digest(path) for path in photos.rglob("*") if path.is_file()}
    out = tmp_path / "out"
    code = main(["blur", str(photos), "-r", str(tmp_path / "missing.jpg"), "--output", str(out)])
    err = capsys.readouterr().err
    assert code == EXIT_PARTIAL
    assert "broken.jpg: InvalidImageError" in err and "missing.jpg: InvalidImageError" in err
    assert "4 input(s), 2 face(s) hidden, 2 failed; 2 file(s)" in err
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == ["hopper.jpg", "sub/hopper.png"]
    for name, fmt in (("hopper.jpg", "JPEG"), ("sub/hopper.png", "PNG")):
        with Image.open(out / name) as written:
            assert (written.format, written.size) == (fmt, (512, 600))
    assert {path: digest(path) for path in photos.rglob("*") if path.is_file()} == before  # inputs untouched
    x1, y1, x2, y2 = face_box
    original, hidden = pixels(PHOTO), pixels(out / "sub" / "hopper.png")
    inner = (slice(y1 + (y2 - y1) // 4, y2 - (y2 - y1) // 4), slice(x1 + (x2 - x1) // 4, x2 - (x2 - x1) // 4))
    assert np.abs(hidden[inner] - original[inner]).mean() > 8  # the face changed
    assert hidden[inner].std() < original[inner].std() * 0.6  # and lost its detail
    assert np.array_equal(hidden[: y1 - 40], original[: y1 - 40])  # far above the face: the same pixels (PNG)


@pytest.mark.parametrize("method", ["fill", "pixelate"])
def test_methods_and_shapes(method: str, photos: Path, tmp_path: Path, face_box: tuple[int, int, int, int]) -> None:
    x1, y1, x2, y2 = face_box
    centre = ((y1 + y2) // 2, (x1 + x2) // 2)
    corner = (y1 + 2, x1 + 2)  # inside the box, outside the ellipse
    png = photos / "sub" / "hopper.png"
    original = pixels(png)
    results = {}
    for shape in ("box", "ellipse"):
        out = tmp_path / shape
        assert main(["blur", str(png), "-o", str(out), "--method", method, "--shape", shape, "-q"]) == EXIT_OK
        results[shape] = pixels(out / "hopper.png")
    if method == "fill":
        assert results["box"][centre].tolist() == [0, 0, 0] and results["ellipse"][centre].tolist() == [0, 0, 0]
        assert results["box"][corner].tolist() == [0, 0, 0]
        assert results["ellipse"][corner].tolist() == original[corner].tolist()
    else:
        block = results["box"][y1 + 5 : y2 - 5, x1 + 5 : x2 - 5].reshape(-1, 3)
        assert len(np.unique(block, axis=0)) <= 100  # about 8x8 blocks, not the face's thousands of colours
        assert len(np.unique(original[y1 + 5 : y2 - 5, x1 + 5 : x2 - 5].reshape(-1, 3), axis=0)) > 1000


def test_blur_never_overwrites_an_input(photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = digest(photos / "hopper.jpg")
    assert main(["blur", str(photos / "hopper.jpg"), "--output", str(photos)]) == EXIT_USAGE
    assert "would overwrite the input" in capsys.readouterr().err
    assert digest(photos / "hopper.jpg") == before
    assert sorted(p.name for p in photos.iterdir()) == ["broken.jpg", "hopper.jpg", "sub"]  # nothing written
    (photos / "file").write_text("x")
    assert main(["blur", str(photos / "hopper.jpg"), "--output", str(photos / "file")]) == EXIT_USAGE


def test_bad_arguments_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["blur", str(PHOTO), "-o", str(tmp_path), "--method", "smudge"])
    assert stop.value.code == EXIT_USAGE
    with pytest.raises(SystemExit) as stop:
        main(["blur", str(PHOTO)])  # --output is required
    assert stop.value.code == EXIT_USAGE
    assert main(["blur", str(PHOTO), "-o", str(tmp_path / "o"), "--margin", "-1"]) == EXIT_USAGE
    assert main(["blur", str(PHOTO), "-o", str(tmp_path / "o"), "--option", "min_face_sise=3"]) == EXIT_USAGE
    assert "did you mean 'min_face_size'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_every_input_failing_at_the_provider_exits_4(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_image(tmp_path / "a.png", 100, red_corner=True)  # the loopback service answers 500
    write_image(tmp_path / "b.png", 120, red_corner=True)
    with LoopbackServer() as server:
        server.route("POST", "/detect", face_service())
        monkeypatch.setenv(ENV_ENDPOINT, server.url("/detect"))
        provider = "tests.usage.loopback_backend:LoopbackBackend"
        code = main(["blur", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(tmp_path / "o"), "-p", provider])
        assert code == EXIT_PROVIDER
        write_image(tmp_path / "c.png", 140)
        code = main(["blur", str(tmp_path / "*.png"), "-o", str(tmp_path / "o"), "-p", provider, "--shape", "box"])
    assert code == EXIT_PARTIAL
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["c.png"]


def test_transparency_and_exif_orientation_survive(tmp_path: Path, models: object) -> None:
    with Image.open(PHOTO) as photo:
        rgba = photo.convert("RGBA")
    alpha = Image.new("L", rgba.size, 255)
    alpha.paste(0, (0, 0, 512, 40))  # a transparent strip along the top
    rgba.putalpha(alpha)
    rgba.save(tmp_path / "clear.png")
    with Image.open(PHOTO) as photo:  # stored rotated, EXIF Orientation 6 says how to show it
        exif = Image.Exif()
        exif[0x0112] = 6
        photo.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "turned.jpg", exif=exif.tobytes(), quality=95)
    out = tmp_path / "out"
    assert main(["blur", str(tmp_path / "clear.png"), str(tmp_path / "turned.jpg"), "-o", str(out), "-q"]) == EXIT_OK
    with Image.open(out / "clear.png") as written:
        assert written.mode == "RGBA" and written.getchannel("A").tobytes() == alpha.tobytes()
    with Image.open(out / "turned.jpg") as written:
        assert written.size == (512, 600) and written.getexif().get(0x0112) is None  # upright pixels, no tag
