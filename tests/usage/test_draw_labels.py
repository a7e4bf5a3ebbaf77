"""Labels on drawings cover no face and no other label (a crowded real photo, synthetic boxes);
a result is embedded once in Jupyter (IPython's real display formatter)."""

from __future__ import annotations

import base64
import io
import random
from pathlib import Path

import pytest
from PIL import Image

from facekit import BoundingBox, DetectionResult, Face, FaceClient
from facekit._draw import PALETTE, label_layout
from facekit._labels import Rect, intersection, place_labels
from tests.local.conftest import models

__all__ = ["models"]  # the real local engine's weights fixture

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "examples" / "images" / "grace_hopper.jpg"


def overlaps(rects: list[Rect], boxes: list[Rect]) -> list[str]:
    """Every label rectangle that meets a face box or another label, described."""
    found = [f"label {i} covers face {j}" for i, r in enumerate(rects) for j, b in enumerate(boxes) if intersection(r, b)]
    found += [f"labels {i} and {j} meet" for i, r in enumerate(rects) for j, s in enumerate(rects) if i < j and intersection(r, s)]
    return found


def inside(rect: Rect, size: tuple[float, float]) -> bool:
    return rect[0] >= 0 and rect[1] >= 0 and rect[2] <= size[0] and rect[3] <= size[1]


@pytest.fixture(scope="module")
def crowd(models: object) -> tuple[Image.Image, DetectionResult]:
    """A 4x4 crowd of the real portrait, heads cut close above the hair line, detected by the real engine."""
    photo = Image.open(PHOTO).convert("RGB")
    with FaceClient("local") as client:
        [face] = client.detect(photo).faces
        x1, y1, x2, y2 = face.box.to_int()
        w, h = x2 - x1, y2 - y1
        head = photo.crop((round(x1 - w * 0.5), round(y1 - h * 0.05), round(x2 + w * 0.5), round(y2 + h * 0.05)))
        head = head.resize((round(head.width * 0.45), round(head.height * 0.45)))
        mosaic = Image.new("RGB", (4 * head.width, 4 * head.height))
        for row in range(4):
            for column in range(4):
                mosaic.paste(head, (column * head.width, row * head.height))
        return mosaic, client.detect(mosaic, attributes=["age", "gender"])


def test_labels_on_a_crowded_photo_cover_no_face_and_no_label(crowd: tuple[Image.Image, DetectionResult]) -> None:
    mosaic, result = crowd
    assert len(result.faces) >= 12  # 16 heads pasted
    boxes = [face.box.with_image_size(*mosaic.size).clipped().xyxy for face in result.faces]
    layout = label_layout(mosaic.size, result.faces)
    assert [face.index for face, _, _ in layout] == [face.index for face in result.faces]  # every face labelled
    rects = [rect for _, _, rect in layout]
    # the photo is crowded: a label right above each box, as drawn before, would cover a neighbour
    naive = [(b[0], b[1] - (r[3] - r[1]) - 1, b[0] + (r[2] - r[0]), b[1] - 1) for b, r in zip(boxes, rects, strict=True)]
    assert len(overlaps(naive, boxes)) >= 4
    assert overlaps(rects, boxes) == []
    assert all(inside(rect, mosaic.size) for rect in rects)
    drawn = result.draw()
    for face, _, rect in layout:  # the label's background is drawn where the layout says
        corner = (int(rect[0]) + 1, int(rect[1]) + 1)
        assert drawn.getpixel(corner) == PALETTE[face.index % len(PALETTE)]


def test_random_scenes_with_room_get_labels_clear_of_every_face() -> None:
    rng = random.Random(7)
    for _ in range(40):
        size = (640.0, 480.0)
        boxes: list[Rect] = []
        while len(boxes) < 12:  # faces 30-70 px, at least 25 px apart: room for 50x15 labels somewhere
            w = rng.uniform(30, 70)
            x, y = rng.uniform(0, size[0] - w), rng.uniform(0, size[1] - w)
            box = (x, y, x + w, y + w)
            grown = (x - 25, y - 25, x + w + 25, y + w + 25)
            if not any(intersection(grown, other) for other in boxes):
                boxes.append(box)
        sizes: list[tuple[float, float] | None] = [(rng.uniform(30, 60), 15.0) for _ in boxes]
        rects = place_labels(boxes, sizes, size)
        placed = [rect for rect in rects if rect is not None]
        assert len(placed) == len(boxes)
        assert overlaps(placed, boxes) == []
        assert all(inside(rect, size) for rect in placed)
        assert all(abs((r[2] - r[0]) - s[0]) < 1e-9 for r, s in zip(placed, sizes, strict=True) if s)  # sizes kept


def test_edges_and_a_scene_with_no_room() -> None:
    size = (200.0, 100.0)
    [top_left] = place_labels([(0, 0, 50, 40)], [(40, 12)], size)
    assert top_left == (0, 41, 40, 53)  # no room above: right below the box
    [right] = place_labels([(170, 30, 200, 60)], [(40, 12)], size)
    assert right is not None and inside(right, size) and not intersection(right, (170, 30, 200, 60))
    assert place_labels([(0, 0, 10, 10)], [None], size) == [None]
    # four faces fill the image: no free place, so each label goes inside its own face, never a neighbour's
    quarters: list[Rect] = [(0, 0, 100, 50), (100, 0, 200, 50), (0, 50, 100, 100), (100, 50, 200, 100)]
    rects = place_labels(quarters, [(40, 12)] * 4, size)
    for number, rect in enumerate(rects):
        assert rect is not None
        assert [j for j, box in enumerate(quarters) if intersection(rect, box)] == [number]
    assert overlaps([r for r in rects if r], []) == []


def test_a_result_is_embedded_once_in_jupyter(models: object) -> None:
    formatters = pytest.importorskip("IPython.core.formatters")
    with FaceClient("local") as client:
        result = client.detect(str(PHOTO), attributes=["age", "gender"])
    data, _ = formatters.DisplayFormatter().format(result)
    assert set(data) == {"text/plain", "text/html"}  # no image/png beside the HTML
    html = data["text/html"]
    assert html.count("data:image/png;base64,") == 1 and "<table>" in html
    encoded = html.split("data:image/png;base64,")[1].split('"')[0]
    with Image.open(io.BytesIO(base64.b64decode(encoded))) as shown:
        assert shown.size == (512, 600)  # the drawn photo, at most 800 px a side
    loaded = DetectionResult.model_validate_json(result.model_dump_json())  # no image attached: the table alone
    data, _ = formatters.DisplayFormatter().format(loaded)
    assert set(data) == {"text/plain", "text/html"} and "data:image" not in data["text/html"]


def test_labels_keep_their_face_colour_and_readable_ink() -> None:
    faces = [Face(index=i, box=BoundingBox(left=10 + 60 * i, top=40, width=40, height=40)) for i in range(3)]
    result = FaceClient("fake", handler=lambda payload, request: faces).detect(Image.new("RGB", (200, 120), (128, 128, 128)))
    drawn = result.draw()
    for face, _, rect in label_layout(drawn.size, result.faces):
        crop = drawn.crop(tuple(int(v) for v in rect))
        colours = {colour for _, colour in crop.getcolors(10_000)}
        background = PALETTE[face.index]
        assert background in colours
        def luma(colour: tuple[int, int, int]) -> float:
            return 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]

        if luma(background) > 150:  # text ink contrasts with its box: dark on light, light on dark
            assert min(luma(colour) for colour in colours) < 60
        else:
            assert max(luma(colour) for colour in colours) > 200
