"""numpy views, integer boxes, supervision objects, aligned chips and anonymising, on real detections."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import supervision as sv
from PIL import Image

from facekit import BoundingBox, DetectionResult, FaceClient, InvalidRequestError
from facekit._arrays import five_points
from facekit._chips import ARCFACE_112, template_points
from facekit.backends._azure_wire import normalize_azure_faces
from facekit.local.align import similarity_transform

DATA = Path(__file__).resolve().parents[1] / "data"
AZURE = Path(__file__).resolve().parents[1] / "fixtures" / "azure"
PHOTO = DATA / "grace_hopper.jpg"

pytestmark = pytest.mark.filterwarnings("ignore:OpenCV")


@pytest.fixture(scope="module")
def local_result(models: object) -> DetectionResult:
    return FaceClient("local").detect(str(PHOTO), attributes=["age", "gender", "emotion"], landmarks=True)


def azure_result() -> DetectionResult:
    """Azure's quickstart answer (two faces, 27 landmarks each) on a grey image of a size that holds them."""
    body = json.loads((AZURE / "seed-001-reference-v1.0-response.json").read_text(encoding="utf-8"))
    faces = normalize_azure_faces(body, width=800, height=800)
    return DetectionResult(provider="azure-rest", faces=faces)


def test_numpy_views_and_integer_boxes(local_result: DetectionResult) -> None:
    xyxy = local_result.xyxy
    assert xyxy.shape == (len(local_result.faces), 4) and xyxy.dtype == np.float64
    assert xyxy[0].tolist() == list(local_result.faces[0].box.xyxy)
    assert local_result.confidence.tolist() == [face.confidence for face in local_result.faces]
    no_confidence = azure_result()
    assert np.isnan(no_confidence.confidence).all()  # Azure gives none: NaN, not a made-up value
    box = BoundingBox(left=10.4, top=-3.6, width=20.2, height=300.0, image_width=100, image_height=100)
    assert box.to_int() == (10, -4, 31, 296)
    assert box.to_int(clip=True) == (10, 0, 31, 100)
    assert DetectionResult(provider="x").xyxy.shape == (0, 4)


def test_supervision_annotators_draw_on_facekit_results(local_result: DetectionResult) -> None:
    detections, keypoints, names = local_result.to_supervision()
    assert isinstance(detections, sv.Detections) and len(detections) == len(local_result.faces)
    assert np.allclose(detections.xyxy, local_result.xyxy)
    assert detections.data["gender"][0] == local_result.faces[0].attributes.gender.value  # type: ignore[union-attr]
    assert detections.data["age"][0] == pytest.approx(local_result.faces[0].attributes.age)
    assert names == ("nose_tip", "mouth_left", "mouth_right", "left_eye", "right_eye") or set(names) == {
        "left_eye", "right_eye", "nose_tip", "mouth_left", "mouth_right"}
    assert isinstance(keypoints, sv.KeyPoints) and keypoints.xy.shape == (len(detections), 5, 2)
    frame = np.asarray(Image.open(PHOTO).convert("RGB")).copy()
    x1, y1, x2, y2 = local_result.faces[0].box.to_int(clip=True)
    boxed = sv.BoxAnnotator(thickness=3).annotate(frame.copy(), detections)
    assert (boxed[y1:y2, x1] != frame[y1:y2, x1]).any()
    assert (boxed[5:20, 5:20] == frame[5:20, 5:20]).all()
    labelled = sv.LabelAnnotator().annotate(frame.copy(), detections, labels=list(detections.data["label"]))
    assert (labelled != frame).any()
    blurred = sv.BlurAnnotator().annotate(frame.copy(), detections)
    inside = slice(y1 + 5, y2 - 5), slice(x1 + 5, x2 - 5)
    assert np.abs(blurred[inside].astype(int) - frame[inside]).mean() > 2
    assert (blurred[5:20, 5:20] == frame[5:20, 5:20]).all()
    pixelated = sv.PixelateAnnotator().annotate(frame.copy(), detections)
    assert (pixelated[inside] != frame[inside]).any()
    vertices = sv.VertexAnnotator(radius=3).annotate(frame.copy(), keypoints)
    eye = local_result.faces[0].landmarks["left_eye"]  # type: ignore[index]
    assert (vertices[round(eye.y), round(eye.x)] != frame[round(eye.y), round(eye.x)]).any()


def test_supervision_without_landmarks_and_with_azure_points() -> None:
    detections, keypoints, names = DetectionResult(provider="x").to_supervision()
    assert len(detections) == 0 and keypoints is None and names == ()
    azure = azure_result()
    detections, keypoints, names = azure.to_supervision()
    assert detections.confidence is None  # Azure has no detection confidence
    assert len(names) == 27 and keypoints.xy.shape == (len(azure.faces), 27, 2)


def test_aligned_chips_put_the_five_points_on_the_template(local_result: DetectionResult) -> None:
    chips = local_result.aligned_faces(size=112)
    assert len(chips) == len(local_result.faces)
    assert chips[0].shape == (112, 112, 3) and chips[0].dtype == np.uint8
    # on a tilted copy, the detected points land on the template once aligned (rotation undone)
    tilted = Image.open(PHOTO).convert("RGB").rotate(25, resample=Image.Resampling.BICUBIC, expand=True)
    again = FaceClient("local").detect(tilted, landmarks=True)
    [points] = five_points(again)
    assert points is not None
    matrix = similarity_transform(points, template_points("arcface", 112))
    mapped = points @ matrix[:, :2].T + matrix[:, 2]
    assert np.abs(mapped - template_points("arcface", 112)).max() < 5  # pixels of the chip
    tilted_chip = again.aligned_faces(tilted, size=112)[0]
    plain = np.asarray(tilted.crop(again.faces[0].box.to_int(clip=True)).resize((112, 112)))

    def centre(chip: np.ndarray) -> np.ndarray:  # eyes, nose and mouth, as grey levels
        return chip[40:100, 25:87].mean(axis=2).ravel()  # type: ignore[no-any-return]

    aligned_match = np.corrcoef(centre(chips[0]), centre(tilted_chip))[0, 1]
    unaligned_match = np.corrcoef(centre(chips[0]), centre(plain))[0, 1]
    assert aligned_match > unaligned_match + 0.15
    dlib = local_result.aligned_faces(size=150, template="dlib")
    assert dlib[0].shape == (150, 150, 3)
    assert template_points("arcface", 224)[0].tolist() == pytest.approx([ARCFACE_112[0][0] * 2, ARCFACE_112[0][1] * 2])


def test_aligned_chips_from_azure_pupils_and_clear_errors() -> None:
    azure = azure_result()
    chips = azure.aligned_faces(Image.new("RGB", (800, 800), (90, 120, 30)), size=64)
    assert len(chips) == len(azure.faces) and chips[0].shape == (64, 64, 3)
    assert (chips[0][32, 32] == (90, 120, 30)).all()
    bare = DetectionResult(provider="x", faces=[azure.faces[0].model_copy(update={"landmarks": None})])
    with pytest.raises(InvalidRequestError, match="landmarks=True"):
        bare.aligned_faces(Image.new("RGB", (800, 800)))
    with pytest.raises(InvalidRequestError, match="template"):
        azure.aligned_faces(Image.new("RGB", (800, 800)), template="vgg")


@pytest.mark.parametrize("method", ["blur", "pixelate", "fill"])
@pytest.mark.parametrize("shape", ["ellipse", "box"])
def test_anonymize_hides_faces_and_nothing_else(local_result: DetectionResult, method: str, shape: str) -> None:
    original = np.asarray(Image.open(PHOTO).convert("RGB")).astype(int)
    hidden = np.asarray(local_result.anonymize(method=method, shape=shape)).astype(int)
    assert hidden.shape == original.shape
    face = local_result.faces[0].box
    centre = round(face.center.y), round(face.center.x)
    patch = (slice(centre[0] - 10, centre[0] + 10), slice(centre[1] - 10, centre[1] + 10))
    assert np.abs(hidden[patch] - original[patch]).mean() > 3
    if method == "fill":
        assert (hidden[patch] == 0).all()
    assert (hidden[:5, :5] == original[:5, :5]).all()
    x1, y1, _, _ = face.to_int(clip=True)
    corner = hidden[y1 + 1, x1 + 1] - original[y1 + 1, x1 + 1]
    if shape == "ellipse":
        assert (corner == 0).all()  # the box's corner lies outside the face ellipse


def test_anonymize_rejects_unknown_methods(local_result: DetectionResult) -> None:
    with pytest.raises(InvalidRequestError, match="blur, pixelate, fill"):
        local_result.anonymize(method="smudge")
