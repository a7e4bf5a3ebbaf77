"""FaceClient's detect path with the fake backend: requests, validation, mapping, ordering, URLs."""

from __future__ import annotations

import pytest

from facekit import (
    BoundingBox,
    DetectRequest,
    Face,
    FaceClient,
    FacekitWarning,
    ImageSizeUnknownError,
    InputSpec,
    InvalidRequestError,
    Payload,
    Point,
    UnsupportedFeatureError,
)
from facekit.backends import BackendResult
from tests.conftest import encode, exif_rotated_jpeg, marked_image
from tests.loopback import LoopbackServer, serve_bytes


def _echo_faces(payload: Payload, request: DetectRequest) -> list[Face]:
    """Two faces at fixed fractions of whatever was sent, the smaller one first."""
    w, h = payload.width or 1000, payload.height or 1000
    return [
        Face(
            box=BoundingBox(left=0.1 * w, top=0.1 * h, width=0.1 * w, height=0.1 * h),
            landmarks={"nose_tip": Point(x=0.15 * w, y=0.15 * h)},
        ),
        Face(box=BoundingBox(left=0.5 * w, top=0.5 * h, width=0.4 * w, height=0.4 * h)),
    ]


def test_faces_are_ordered_largest_first_and_indexed() -> None:
    client = FaceClient("fake", handler=_echo_faces)
    result = client.detect(marked_image((400, 300)))
    assert [face.index for face in result.faces] == [0, 1]
    assert result.faces[0].box.width == pytest.approx(160)
    assert result.faces[1].box.width == pytest.approx(40)


def test_coordinates_map_back_from_a_rescaled_payload() -> None:
    spec = InputSpec(kinds=frozenset({"bytes"}), formats=frozenset({"JPEG"}), max_side=200)
    backend_calls: list[Payload] = []

    def handler(payload: Payload, request: DetectRequest) -> list[Face]:
        backend_calls.append(payload)
        return _echo_faces(payload, request)

    client = FaceClient("fake", handler=handler, input_spec=spec)
    result = client.detect(encode(marked_image((800, 600))), landmarks=True)
    assert (backend_calls[0].width, backend_calls[0].height) == (200, 150)
    big = result.faces[0]
    assert big.box.xywh == pytest.approx((400, 300, 320, 240))
    small = result.faces[1]
    assert small.landmarks is not None
    assert (small.landmarks["nose_tip"].x, small.landmarks["nose_tip"].y) == pytest.approx((120, 90))
    assert result.image.scale == pytest.approx(0.25)
    assert (result.image.width, result.image.height, result.image.sent_width) == (800, 600, 200)


def test_exif_rotated_input_is_reported() -> None:
    client = FaceClient("fake", handler=_echo_faces)
    result = client.detect(exif_rotated_jpeg(marked_image((300, 200)), 6))
    assert (result.image.width, result.image.height) == (300, 200)
    assert result.image.exif_orientation == 6
    assert result.image.orientation_applied
    assert result.faces[0].box.left == pytest.approx(150)


def test_attribute_names_are_canonical_and_all_expands() -> None:
    client = FaceClient("fake", handler=_echo_faces, attributes=["head_pose", "age", "blur"])
    result = client.detect(marked_image(), attributes="headPose,AGE_RANGE")
    assert result.request.attributes == ("head_pose", "age")
    seen: list[DetectRequest] = []
    client = FaceClient("fake", handler=lambda p, r: seen.append(r) or [], attributes=["blur", "age"])
    client.detect(marked_image(), attributes="all")
    assert seen[0].attributes == ("age", "blur")
    with pytest.raises(InvalidRequestError, match="unknown attribute 'colour'"):
        client.detect(marked_image(), attributes=["colour"])


def test_strictness() -> None:
    client = FaceClient("fake", handler=_echo_faces, attributes=["age"], landmarks=False, face_id=False)
    with pytest.raises(UnsupportedFeatureError) as info:
        client.detect(marked_image(), attributes=["emotion"])
    assert info.value.feature == "emotion"
    with pytest.raises(UnsupportedFeatureError, match="landmarks"):
        client.detect(marked_image(), landmarks=True)
    with pytest.raises(UnsupportedFeatureError, match="face ids"):
        client.detect(marked_image(), face_id=True)
    with pytest.warns(FacekitWarning, match="emotion"):
        result = client.detect(marked_image(), attributes=["emotion", "age"], landmarks=True, strict=False)
    assert result.request.attributes == ("emotion", "age")  # what was asked is kept on the result
    assert len(result.warnings) == 2
    lenient = FaceClient("fake", handler=_echo_faces, attributes=["age"], strict=False)
    with pytest.warns(FacekitWarning):
        lenient.detect(marked_image(), attributes=["emotion"])


def test_url_sent_as_url_has_unknown_size_unless_probed(loopback: LoopbackServer) -> None:
    data = encode(marked_image((320, 240)))
    loopback.route("GET", "/a.jpg", serve_bytes(data))
    spec = InputSpec(kinds=frozenset({"bytes", "url"}), formats=frozenset({"JPEG"}))
    seen: list[Payload] = []
    client = FaceClient("fake", handler=lambda p, r: seen.append(p) or _echo_faces(p, r), input_spec=spec)
    result = client.detect(loopback.url("/a.jpg"))
    assert seen[0].kind == "url" and seen[0].url == loopback.url("/a.jpg")
    assert loopback.received == []  # nothing downloaded
    assert result.image.width is None
    assert any("probe_size" in warning for warning in result.warnings)
    with pytest.raises(ImageSizeUnknownError):
        result.faces[0].box.to_ratio()
    probed = client.detect(loopback.url("/a.jpg"), probe_size=True)
    assert (probed.image.width, probed.image.height) == (320, 240)
    assert loopback.received[-1].headers.get("Range") == "bytes=0-65535"


def test_url_is_downloaded_for_backends_that_cannot_take_urls(loopback: LoopbackServer) -> None:
    loopback.route("GET", "/b.jpg", serve_bytes(encode(marked_image((320, 240)))))
    seen: list[Payload] = []
    client = FaceClient("fake", handler=lambda p, r: seen.append(p) or [])
    result = client.detect(loopback.url("/b.jpg"))
    assert seen[0].kind == "bytes"
    assert (result.image.width, result.image.source) == (320, "url")


def test_backend_result_is_passed_through() -> None:
    def handler(payload: Payload, request: DetectRequest) -> BackendResult:
        return BackendResult(faces=[], raw={"x": 1}, models={"m": "v"}, warnings=["w"], runtime={"r": 1})

    result = FaceClient("fake", handler=handler).detect(marked_image())
    assert (result.raw, result.models, result.warnings, result.runtime) == ({"x": 1}, {"m": "v"}, ["w"], {"r": 1})
    assert len(result) == 0
