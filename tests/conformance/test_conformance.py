"""The behaviour every backend must share; runs over every harness in this folder."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from facekit import (
    DetectionResult,
    FacekitWarning,
    InvalidRequestError,
    RatioBox,
    UnsupportedFeatureError,
)
from tests.conformance.harness import Harness, Scenario

TWO_FACES = Scenario(
    faces=(
        RatioBox(left=0.10, top=0.20, width=0.20, height=0.30),
        RatioBox(left=0.55, top=0.25, width=0.30, height=0.45),
    )
)


def _assert_boxes(harness: Harness, result: DetectionResult, scenario: Scenario, size: tuple[int, int]) -> None:
    width, height = size
    expected = sorted(scenario.faces, key=lambda b: -(b.width * width) * (b.height * height))
    assert len(result.faces) == len(expected)
    for face, box in zip(result.faces, expected, strict=True):
        tol = harness.info.box_tolerance
        assert face.box.left == pytest.approx(box.left * width, abs=max(1.0, tol * box.width * width))
        assert face.box.top == pytest.approx(box.top * height, abs=max(1.0, tol * box.height * height))
        assert face.box.width == pytest.approx(box.width * width, abs=max(1.5, tol * box.width * width))
        assert face.box.height == pytest.approx(box.height * height, abs=max(1.5, tol * box.height * height))
        assert (face.box.image_width, face.box.image_height) == size


def _jpeg(image: Image.Image, **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90, **kwargs)
    return buffer.getvalue()


def test_two_faces_largest_first_in_original_pixels(harness: Harness) -> None:
    size = (640, 480)
    with harness.client(TWO_FACES) as client:
        result = client.detect(_jpeg(harness.image(TWO_FACES, size)))
    assert isinstance(result, DetectionResult)
    assert result.provider == harness.info.name
    assert [face.index for face in result.faces] == list(range(len(result.faces)))
    areas = [face.box.area for face in result.faces]
    assert areas == sorted(areas, reverse=True)
    _assert_boxes(harness, result, TWO_FACES, size)
    assert (result.image.width, result.image.height) == size
    assert result.raw is not None
    for face in result.faces:
        assert face.attributes.returned() == []
        assert face.landmarks is None
        assert face.confidence is None or 0.0 <= face.confidence <= 1.0


def test_json_round_trip_is_lossless(harness: Harness) -> None:
    scenario = Scenario(faces=TWO_FACES.faces, attributes=(harness.info.supported_attribute or "",))
    with harness.client(scenario) as client:
        attrs = [harness.info.supported_attribute] if harness.info.supported_attribute else None
        result = client.detect(
            _jpeg(harness.image(scenario, (640, 480))), attributes=attrs, landmarks=harness.info.landmarks
        )
    again = DetectionResult.model_validate_json(result.model_dump_json())
    assert again == result


def test_no_face_is_an_empty_result(harness: Harness) -> None:
    scenario = Scenario(faces=())
    with harness.client(scenario) as client:
        result = client.detect(_jpeg(harness.image(scenario, (320, 240))))
    assert result.faces == []
    assert (result.image.width, result.image.height) == (320, 240)


def test_exif_rotated_jpeg_gives_upright_coordinates(harness: Harness) -> None:
    upright_size = (640, 480)  # stored 480x640, rotated by EXIF to 640x480
    upright = harness.image(TWO_FACES, upright_size)
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what a camera stores for Orientation=6
    exif = Image.Exif()
    exif[0x0112] = 6
    data = _jpeg(stored, exif=exif.tobytes())
    with harness.client(TWO_FACES) as client:
        result = client.detect(data)
    assert result.image.exif_orientation == 6
    assert result.image.orientation_applied is True
    assert (result.image.width, result.image.height) == upright_size
    _assert_boxes(harness, result, TWO_FACES, upright_size)


def test_oversized_upload_is_fitted_and_mapped_back(harness: Harness) -> None:
    limit = harness.info.max_upload_bytes
    if limit is None:
        pytest.skip("this backend has no upload byte limit")
    size = (2400, 1800)
    data = _jpeg(harness.image(TWO_FACES, size))
    while len(data) <= 3 * limit:  # too big even after lowering the JPEG quality
        size = (int(size[0] * 1.3), int(size[1] * 1.3))
        data = _jpeg(harness.image(TWO_FACES, size))
    with harness.client(TWO_FACES) as client:
        result = client.detect(data)
    assert result.image.reencoded is True
    assert result.image.scale is not None and result.image.scale < 1
    _assert_boxes(harness, result, TWO_FACES, size)


def test_requested_attribute_is_returned(harness: Harness) -> None:
    name = harness.info.supported_attribute
    if name is None:
        pytest.skip("no attribute to test")
    scenario = Scenario(faces=TWO_FACES.faces, attributes=(name,))
    with harness.client(scenario) as client:
        result = client.detect(_jpeg(harness.image(scenario, (640, 480))), attributes=[name])
    assert result.request.attributes == (name,)
    for face in result.faces:
        assert face.attributes.returned(), f"{name} missing"


def test_unsupported_attribute_raises_or_warns(harness: Harness) -> None:
    name = harness.info.unsupported_attribute
    if name is None:
        pytest.skip("the backend supports every attribute")
    image = _jpeg(harness.image(TWO_FACES, (640, 480)))
    with harness.client(TWO_FACES) as client:
        with pytest.raises(UnsupportedFeatureError) as info:
            client.detect(image, attributes=[name])
        assert info.value.feature == name
        with pytest.warns(FacekitWarning):
            result = client.detect(image, attributes=[name], strict=False)
    assert all(getattr(face.attributes, name, None) is None for face in result.faces)
    assert any(name in warning for warning in result.warnings)


def test_landmarks_are_canonical_and_inside_faces(harness: Harness) -> None:
    if not harness.info.landmarks:
        pytest.skip("the backend returns no landmarks")
    from facekit import LANDMARKS

    scenario = Scenario(faces=TWO_FACES.faces, landmarks=True)
    with harness.client(scenario) as client:
        result = client.detect(_jpeg(harness.image(scenario, (640, 480))), landmarks=True)
    for face in result.faces:
        assert face.landmarks
        assert set(face.landmarks) <= set(LANDMARKS)
        for point in face.landmarks.values():
            assert face.box.left - face.box.width * 0.25 <= point.x <= face.box.right + face.box.width * 0.25


@pytest.mark.parametrize(
    ("options", "named", "near"),
    [
        ({"colour_order": "bgr"}, "'colour_order'", "'color_order'"),  # a typo of a detect() keyword
        ({"landmark": True}, "'landmark'", "'landmarks'"),
        ({"no_such_knob_at_all": 1}, "'no_such_knob_at_all'", None),
    ],
)
def test_unknown_per_call_option_is_refused_before_anything_is_sent(
    harness: Harness, options: dict[str, object], named: str, near: str | None
) -> None:
    with harness.client(TWO_FACES) as client:
        backend = client.backend
        sent: list[object] = []
        original = backend.detect

        def recording(*args: object, **kwargs: object) -> object:
            sent.append(args)
            return original(*args, **kwargs)  # type: ignore[arg-type]

        backend.detect = recording  # type: ignore[method-assign]
        with pytest.raises(InvalidRequestError) as info:
            client.detect(_jpeg(harness.image(TWO_FACES, (320, 240))), **options)  # type: ignore[arg-type]
        with pytest.raises(InvalidRequestError):
            list(client.detect_many([_jpeg(harness.image(TWO_FACES, (320, 240)))], **options))
        assert sent == []  # refused before the backend was called
        assert len(client.detect(_jpeg(harness.image(TWO_FACES, (320, 240)))).faces) == 2  # the client still works
    message = str(info.value)
    assert named in message
    assert "per-call options" in message
    for valid in backend.accepted_options():
        assert repr(valid) in message or valid in message
    if near is not None:
        assert f"did you mean {near}" in message
    else:
        assert "did you mean" not in message
