"""Box and point conversions: ratio <-> pixels, xyxy/xywh, clipping, scaling."""

from __future__ import annotations

import pytest

from facekit import BoundingBox, ImageSizeUnknownError, Point, RatioBox


def test_ratio_to_pixels_and_back_is_exact_for_rekognition_values() -> None:
    # Values from botocore's DetectFaces example, in a 1280x886 image.
    ratio = RatioBox(
        left=0.5555555820465088, top=0.33666667342185974, width=0.23999999463558197, height=0.18000000715255737
    )
    box = ratio.to_pixels(1280, 886)
    assert box.left == pytest.approx(711.1111450195312)
    assert box.top == pytest.approx(298.28667265176773)
    assert box.width == pytest.approx(307.19999313354492)
    assert box.height == pytest.approx(159.48000633716583)
    back = box.to_ratio()
    assert back.left == pytest.approx(ratio.left, rel=1e-15)
    assert back.top == pytest.approx(ratio.top, rel=1e-15)
    assert back.width == pytest.approx(ratio.width, rel=1e-15)
    assert back.height == pytest.approx(ratio.height, rel=1e-15)


def test_from_ratio_matches_to_pixels() -> None:
    box = BoundingBox.from_ratio(0.25, 0.5, 0.5, 0.25, image_width=400, image_height=200)
    assert box.xywh == (100.0, 100.0, 200.0, 50.0)
    assert (box.image_width, box.image_height) == (400, 200)


def test_xyxy_and_xywh() -> None:
    box = BoundingBox.from_xyxy(10, 20, 50, 80)
    assert box.xywh == (10, 20, 40, 60)
    assert box.xyxy == (10, 20, 50, 80)
    assert (box.right, box.bottom) == (50, 80)
    assert box.area == 2400
    assert box.center == Point(x=30, y=50)


def test_clipped_keeps_only_the_part_inside_the_image() -> None:
    box = BoundingBox(left=-10, top=-5, width=50, height=30, image_width=100, image_height=20)
    clipped = box.clipped()
    assert clipped.xyxy == (0.0, 0.0, 40.0, 20.0)
    # the original keeps the provider's values
    assert box.left == -10
    outside = BoundingBox(left=150, top=0, width=10, height=10, image_width=100, image_height=100).clipped()
    assert outside.area == 0


def test_negative_and_overflowing_ratios_are_kept() -> None:
    box = RatioBox(left=-0.1, top=0.9, width=0.3, height=0.3).to_pixels(200, 100)
    assert box.left == pytest.approx(-20)
    assert box.bottom == pytest.approx(120)
    assert box.clipped().xyxy == pytest.approx((0, 90, 40, 100))


def test_unknown_image_size_raises_a_clear_error() -> None:
    box = BoundingBox(left=1, top=2, width=3, height=4)
    with pytest.raises(ImageSizeUnknownError, match="probe_size=True"):
        box.to_ratio()
    with pytest.raises(ImageSizeUnknownError):
        box.clipped()
    assert box.with_image_size(10, 10).to_ratio().left == pytest.approx(0.1)


def test_scaled_and_iou() -> None:
    box = BoundingBox(left=10, top=10, width=20, height=20)
    scaled = box.scaled(2, 0.5, image_width=100, image_height=50)
    assert scaled.xywh == (20, 5, 40, 10)
    assert box.iou(box) == 1.0
    other = BoundingBox(left=20, top=10, width=20, height=20)
    assert box.iou(other) == pytest.approx(200 / 600)
    assert Point(x=10, y=20).to_ratio(100, 200) == (0.1, 0.1)
