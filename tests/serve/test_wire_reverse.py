"""Round trips: real Azure and Rekognition answers -> facekit's canonical faces -> the wire again.

Every field both sides know must come back with its value; fields facekit never guesses at
(misspelt keys in vendor examples) are the only ones allowed to go missing. No server here:
the reverse mappings are pure functions.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from facekit import FaceClient
from facekit._errors import InvalidRequestError
from facekit.backends._aws_wire import parse_detect_faces
from facekit.backends._aws_wire_reverse import detect_faces_response, face_detail_from_face, parse_aws_attributes
from facekit.backends._azure_wire import AZURE_ATTRIBUTE_NAMES, normalize_azure_faces
from facekit.backends._azure_wire_reverse import azure_faces_to_wire, parse_azure_query

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
AZURE = {
    # fixture -> (API version, exact: the answer comes back byte for byte in value)
    "seed-000-quickstart-2018-v1.0-two-faces.json": ("v1.0", True),
    "v1.0-westus2-2021-recording-queryface-detect01-all-attributes.json": ("v1.0", True),
    "seed-001-reference-v1.0-response.json": ("v1.0", False),
    "seed-002-rest-quickstart-2020-detection01-attributes.json": ("v1.0", False),
    "seed-002-rest-quickstart-2020-detection03.json": ("v1.0", False),
    "spec-example-v1.0-DetectWithUrl-body.json": ("v1.0", False),
    "spec-example-v1.2-DetectFromUrl-body.json": ("v1.2", False),
}
#: Keys in vendor examples that are typos; facekit never reads them, so they cannot come back.
TYPO_KEYS = {" confidence"}


def _compare(original: Any, wire: Any, path: str, *, exact: bool, lost: list[str]) -> None:
    if isinstance(original, dict):
        assert isinstance(wire, dict), path
        extra = set(wire) - set(original)
        assert not extra, f"{path}: invented keys {extra}"
        for key, value in original.items():
            if key not in wire:
                lost.append(f"{path}.{key}")
                continue
            _compare(value, wire[key], f"{path}.{key}", exact=exact, lost=lost)
    elif isinstance(original, list):
        assert isinstance(wire, list) and len(wire) == len(original), path
        for i, (a, b) in enumerate(zip(original, wire, strict=True)):
            _compare(a, b, f"{path}[{i}]", exact=exact, lost=lost)
    elif isinstance(original, str) and not exact:
        assert isinstance(wire, str) and wire.lower() == original.lower(), f"{path}: {original!r} -> {wire!r}"
    elif isinstance(original, bool) or original is None or isinstance(original, str):
        assert wire == original and type(wire) is type(original), f"{path}: {original!r} -> {wire!r}"
    else:
        assert isinstance(wire, (int, float)) and math.isclose(wire, original, rel_tol=1e-9, abs_tol=1e-9), path


@pytest.mark.parametrize("name", sorted(AZURE))
def test_azure_round_trip(name: str) -> None:
    api_version, exact = AZURE[name]
    body = json.loads((FIXTURES / "azure" / name).read_text("utf-8"))
    faces = normalize_azure_faces(body)
    first = body[0]
    canonical = {wire: name for name, wire in AZURE_ATTRIBUTE_NAMES.items()}
    attributes = [canonical[key] for key in first.get("faceAttributes", {}) if key in canonical]
    wire = azure_faces_to_wire(
        faces, api_version=api_version, attributes=attributes, landmarks="faceLandmarks" in first,
        face_id="faceId" in first, recognition_model=first.get("recognitionModel"),
    )
    lost: list[str] = []
    _compare(body, wire, "$", exact=exact, lost=lost)
    assert {path.rsplit(".", 1)[-1] for path in lost} <= TYPO_KEYS, lost
    if exact:
        assert wire == body


def test_azure_v1_0_and_v1_2_spelling() -> None:
    body = json.loads((FIXTURES / "azure" / "spec-example-v1.0-DetectWithUrl-body.json").read_text("utf-8"))
    faces = normalize_azure_faces(body)
    wanted = ["glasses", "accessories", "exposure"]
    old = azure_faces_to_wire(faces, api_version="v1.0", attributes=wanted)[0]["faceAttributes"]
    new = azure_faces_to_wire(faces, api_version="v1.2", attributes=wanted)[0]["faceAttributes"]
    assert old["glasses"] == "Sunglasses" and new["glasses"] == "sunglasses"
    assert old["accessories"][0]["type"] == "headWear" and new["accessories"][0]["type"] == "headwear"
    assert old["exposure"]["exposureLevel"] == new["exposure"]["exposureLevel"] == "goodExposure"
    assert set(old) == set(new) == {"glasses", "accessories", "exposure"}  # nothing unasked


def test_azure_wire_leaves_out_what_was_not_returned() -> None:
    from facekit._geometry import BoundingBox
    from facekit._models import Face

    face = Face(box=BoundingBox(left=10.4, top=20.6, width=30.5, height=40.49))
    [wire] = azure_faces_to_wire([face], attributes=["age", "emotion"], landmarks=True, face_id=True)
    assert wire == {"faceRectangle": {"top": 21, "left": 10, "width": 30, "height": 40}, "faceLandmarks": {},
                    "faceAttributes": {}}


def test_parse_azure_query_reads_every_parameter() -> None:
    query = parse_azure_query("v1.2", {
        "returnFaceId": "false", "returnFaceLandmarks": "true", "returnFaceAttributes": "headPose,qualityForRecognition",
        "detectionModel": "detection_03", "recognitionModel": "recognition_04", "returnRecognitionModel": "true",
        "faceIdTimeToLive": "120",
    })
    assert query.attributes == ("head_pose", "quality_for_recognition")
    assert (query.landmarks, query.face_id) == (True, False)
    assert query.backend_options() == {"detection_model": "detection_03", "recognition_model": "recognition_04",
                                       "return_recognition_model": True, "face_id_time_to_live": 120}
    assert parse_azure_query("v1.0", {}).face_id is True  # Azure's default
    for bad in ({"returnFaceAttributes": "wrinkles"}, {"detectionModel": "detection_09"}, {"faceIdTimeToLive": "5"},
                {"returnFaceLandmarks": "maybe"}, {"colour": "red"}):
        with pytest.raises(InvalidRequestError):
            parse_azure_query("v1.2", bad)
    with pytest.raises(InvalidRequestError, match="v1.0 has no faceIdTimeToLive"):
        parse_azure_query("v1.0", {"faceIdTimeToLive": "120"})


def test_the_query_facekit_sends_reads_back_as_its_request() -> None:
    """azure-rest's own build_query, read by the server, is the request that was asked."""
    client = FaceClient("azure-rest", endpoint="http://127.0.0.1:9", key="k", detection_model="detection_03",
                        recognition_model="recognition_04")
    from facekit.backends._azure_wire import build_query

    request = client.build_request(attributes=["head_pose", "mask", "quality_for_recognition"], landmarks=True)
    checked, _ = client.backend.check_request(request)
    query = parse_azure_query("v1.2", build_query(checked, client.backend.options))  # type: ignore[attr-defined]
    assert query.attributes == ("head_pose", "mask", "quality_for_recognition")
    assert query.landmarks is True and query.face_id is False
    assert query.options.detection_model == "detection_03"


def _close_tree(original: Any, wire: Any, path: str = "$") -> None:
    if isinstance(original, dict):
        assert isinstance(wire, dict) and set(wire) == set(original), f"{path}: {set(original) ^ set(wire)}"
        for key in original:
            _close_tree(original[key], wire[key], f"{path}.{key}")
    elif isinstance(original, list):
        assert isinstance(wire, list) and len(wire) == len(original), path
        for i, (a, b) in enumerate(zip(original, wire, strict=True)):
            _close_tree(a, b, f"{path}[{i}]")
    elif isinstance(original, (bool, str)):
        assert wire == original, f"{path}: {original!r} -> {wire!r}"
    else:
        assert math.isclose(wire, original, rel_tol=1e-9, abs_tol=1e-9), f"{path}: {original!r} -> {wire!r}"


@pytest.mark.parametrize("name", ["devguide-detectfaces-all-attributes-2023.json",
                                  "botocore-examples-1-detectfaces-output.json"])
def test_aws_round_trip(name: str) -> None:
    response = json.loads((FIXTURES / "aws" / name).read_text("utf-8"))
    width, height = 1280, 720  # any size: ratios -> pixels -> ratios
    faces, warnings = parse_detect_faces(response, width, height)
    assert all("appears more than once; kept the first point" in warning for warning in warnings)
    back = detect_faces_response(faces, width, height)
    for original, detail in zip(response["FaceDetails"], back["FaceDetails"], strict=True):
        if "Landmarks" in original:  # the botocore example repeats eyeRight: the first point is kept
            seen: set[str] = set()
            firsts = [p for p in original["Landmarks"] if not (p["Type"] in seen or seen.add(p["Type"]))]
            assert len(firsts) == len(original["Landmarks"]) - len(warnings)
            original = {**original, "Landmarks": firsts}
        if "Emotions" in original:  # a set of scores: Rekognition's order is not meaningful
            original = {**original, "Emotions": sorted(original["Emotions"], key=lambda e: e["Type"])}
            detail = {**detail, "Emotions": sorted(detail["Emotions"], key=lambda e: e["Type"])}
        _close_tree(original, detail)


def test_aws_derived_age_range_and_smile() -> None:
    from facekit._attributes import FaceAttributes, Smile
    from facekit._geometry import BoundingBox
    from facekit._models import Face

    face = Face(box=BoundingBox(left=10, top=20, width=30, height=40), confidence=0.9,
                attributes=FaceAttributes(age=27.4, smile=Smile(intensity=0.25)))
    detail = face_detail_from_face(face, 100, 200)
    assert detail["AgeRange"] == {"Low": 27, "High": 28}
    assert detail["Smile"] == {"Value": False, "Confidence": 75.0}
    assert detail["BoundingBox"] == {"Width": 0.3, "Height": 0.2, "Left": 0.1, "Top": 0.1}
    assert detail["Confidence"] == pytest.approx(90.0)
    assert "Gender" not in detail and "Quality" not in detail  # not returned: not made up


def test_parse_aws_attributes() -> None:
    assert parse_aws_attributes(None) == (("head_pose", "quality"), True)
    assert parse_aws_attributes(["DEFAULT"]) == (("head_pose", "quality"), True)
    names, defaults = parse_aws_attributes(["ALL"])
    assert defaults and {"age", "emotion", "eye_direction", "occlusion"} <= set(names)
    assert parse_aws_attributes(["AGE_RANGE", "BEARD"]) == (("age", "facial_hair"), False)
    with pytest.raises(InvalidRequestError):
        parse_aws_attributes(["WRINKLES"])
