"""The face mesh: conversion against LiteRT, named landmarks, attributes, pose and the option.

The conversion is checked against outputs that Google's own TFLite interpreter
(``ai-edge-litert``, run from its own virtualenv by ``benchmarks/local/make_mesh_reference.py``)
produced on real face crops: facekit never imports TensorFlow or LiteRT.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
import pytest
from PIL import Image

from facekit import FaceClient, InvalidRequestError, UnsupportedFeatureError
from facekit._vocabulary import AWS_LANDMARKS, AZURE_LANDMARKS, LOCAL_LANDMARKS, MESH_LANDMARKS
from facekit.local.mesh import MESH_POINTS, FaceMesh, prepared_mesh_model
from facekit.local.mesh_geometry import measure, named_landmarks
from facekit.local.store import ModelStore
from facekit.local.tflite_to_onnx import UnsupportedTFLiteModel, convert_tflite

DATA = Path(__file__).resolve().parent / "data"
U8 = npt.NDArray[np.uint8]


@pytest.fixture(scope="module")
def mesh_model(models: ModelStore) -> FaceMesh:
    return FaceMesh(prepared_mesh_model(models))


@pytest.fixture(scope="module")
def client(models: ModelStore) -> FaceClient:
    return FaceClient("local")


def test_conversion_matches_litert_on_real_crops(models: ModelStore, tmp_path: Path) -> None:
    ref = np.load(DATA / "mesh_reference.npz")
    onnx_bytes = convert_tflite(models.path("face_landmark.tflite")).SerializeToString()
    sess = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    x = ref["chips"].astype(np.float32).transpose(0, 3, 1, 2) / np.float32(255)
    points, flag = sess.run(None, {"input": np.ascontiguousarray(x)})
    # 1404 = 468 points x 3, crop pixels (0..192); LiteRT's own float kernels differ in rounding only.
    assert points.shape == (3, 1404)
    assert np.abs(points - ref["conv2d_21"]).max() < 2e-3
    assert np.abs(flag - ref["conv2d_31"]).max() < 1e-3
    # The two real faces are faces, the noise is not.
    assert (flag[:2, 0] > 0).all() and flag[2, 0] < 0


def test_conversion_is_prepared_once_in_the_cache(models: ModelStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FACEKIT_MODEL_DIR", raising=False)
    (tmp_path / "src").mkdir()  # only the source: the user cache may already hold a prepared graph
    (tmp_path / "src" / "face_landmark.tflite").write_bytes(models.path("face_landmark.tflite").read_bytes())
    store = ModelStore(tmp_path / "src", cache_dir=tmp_path, allow_fetch=False)
    first = prepared_mesh_model(store)
    assert isinstance(first, Path) and first.parent == tmp_path and first.suffix == ".onnx"
    assert first.with_name(first.name + ".sha256").is_file()
    import facekit.local.tflite_to_onnx as conv

    monkeypatch.setattr(conv, "convert_tflite", lambda *a, **k: pytest.fail("converted twice"))
    assert prepared_mesh_model(ModelStore(store.model_dir, cache_dir=tmp_path, allow_fetch=False)) == first


def test_a_file_that_is_not_tflite_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "x.tflite"
    bad.write_bytes(b"\x10\x00\x00\x00NOPE" + bytes(64))
    with pytest.raises(UnsupportedTFLiteModel, match="TFL3"):
        convert_tflite(bad)


def test_named_landmarks_fill_every_provider_name() -> None:
    names = set(AZURE_LANDMARKS.values()) | set(AWS_LANDMARKS.values()) | set(LOCAL_LANDMARKS.values())
    assert names == set(MESH_LANDMARKS)
    assert all(0 <= i < MESH_POINTS for idx in MESH_LANDMARKS.values() for i in idx)


@pytest.mark.parametrize("photo", ["grace", "astronaut"])
def test_mesh_points_land_near_the_detector_points(
    engine: object, photo: str, grace: U8, astronaut: U8, request: pytest.FixtureRequest
) -> None:
    from facekit.local.engine import LocalEngine

    assert isinstance(engine, LocalEngine)
    rgb = grace if photo == "grace" else astronaut
    (face,) = engine.detect(rgb, mesh=True)
    assert face.mesh is not None and len(face.mesh) == MESH_POINTS
    assert face.mesh_score is not None and face.mesh_score > 0.9
    named = named_landmarks(face.mesh)
    five = dict(zip(LOCAL_LANDMARKS.values(), face.landmarks, strict=True))
    iod = float(np.hypot(*np.subtract(five["right_eye"], five["left_eye"])))
    dists = {name: float(np.hypot(named[name][0] - x, named[name][1] - y)) for name, (x, y) in five.items()}
    # "A few pixels": eyes and mouth corners within 15 % of the eye distance (12 px on Grace
    # Hopper's 83 px, 6.6 px on Collins' 44 px), the nose within 20 % (CenterFace puts its
    # nose point above the tip, mesh point 1); on 45 faces the medians are 5-8 %.
    for name, d in dists.items():
        assert d < (0.2 if name == "nose_tip" else 0.15) * iod, (name, d, iod)
    assert float(np.mean(list(dists.values()))) < 0.12 * iod
    # viewer's left is the smaller x
    assert named["left_eye_outer"][0] < named["left_eye_inner"][0] < named["right_eye_inner"][0]
    assert named["right_eye_inner"][0] < named["right_eye_outer"][0]
    assert named["upper_lip_top"][1] < named["under_lip_bottom"][1] < named["chin_bottom"][1]


def test_attributes_on_real_faces(engine: object, grace: U8, astronaut: U8) -> None:
    from facekit.local.engine import LocalEngine

    assert isinstance(engine, LocalEngine)
    asked = frozenset({"eyes_open", "mouth_open", "smile", "head_pose"})
    (hopper,) = engine.detect(grace, attributes=asked)
    (collins,) = engine.detect(astronaut, attributes=asked)
    # Grace Hopper: eyes open, mouth closed, not smiling; Eileen Collins: eyes open, a wide open smile.
    assert hopper.eyes_open is not None and hopper.eyes_open[0]
    assert hopper.mouth_open is not None and not hopper.mouth_open[0]
    assert hopper.mesh_smile is not None and not hopper.mesh_smile[0]
    assert collins.eyes_open is not None and collins.eyes_open[0]
    assert collins.mouth_open is not None and collins.mouth_open[0] and collins.mouth_open[1] > 0.9
    assert collins.mesh_smile is not None and collins.mesh_smile[0] and collins.mesh_smile[1] > 0.9
    for face in (hopper, collins):
        assert face.pose_from == "mesh:468" and face.pose is not None
        roll, yaw, pitch = face.pose
        assert abs(roll) < 8 and abs(yaw) < 10 and abs(pitch) < 15  # both portraits face the camera


def test_pose_follows_rotation_and_mirroring(mesh_model: FaceMesh, engine: object, astronaut: U8) -> None:
    from facekit.local.engine import LocalEngine

    assert isinstance(engine, LocalEngine)

    def pose(rgb: U8) -> tuple[float, float, float]:
        det = engine.detector.detect(rgb)
        pts, _ = mesh_model.detect(rgb, det.landmarks[:1])
        m = measure(pts[0])
        return m.roll, m.yaw, m.pitch

    base = pose(astronaut)
    # PIL rotates counter-clockwise for positive angles: the face turns -20 degrees in our convention.
    turned = pose(np.asarray(Image.fromarray(astronaut).rotate(20, resample=Image.Resampling.BICUBIC)))
    assert abs((turned[0] - base[0]) + 20) < 3
    assert abs(turned[1] - base[1]) < 4 and abs(turned[2] - base[2]) < 4
    mirrored = pose(np.ascontiguousarray(astronaut[:, ::-1]))
    assert abs(mirrored[0] + base[0]) < 2 and abs(mirrored[1] + base[1]) < 3 and abs(mirrored[2] - base[2]) < 3


def test_client_landmarks_mesh(client: FaceClient) -> None:
    photo = Path(__file__).resolve().parents[1] / "data" / "grace_hopper.jpg"
    result = client.detect(photo, landmarks="mesh", attributes=["eyes_open", "mouth_open", "head_pose"])
    (face,) = result.faces
    assert face.mesh is not None and len(face.mesh) == MESH_POINTS
    assert face.landmarks is not None and set(face.landmarks) == set(MESH_LANDMARKS)
    attrs = face.attributes
    assert attrs.eyes_open is not None and attrs.eyes_open.derived_from == "mesh:eye_aspect_ratio"
    assert attrs.mouth_open is not None and attrs.mouth_open.derived_from == "mesh:mouth_aspect_ratio"
    assert attrs.head_pose is not None and attrs.head_pose.derived_from == "mesh:468"
    assert "face_mesh" in result.models
    again = type(result).model_validate_json(result.to_json())
    assert again == result


def test_client_landmarks_true_keeps_five_points_and_runs_no_mesh(models: ModelStore) -> None:
    client = FaceClient("local")
    photo = Path(__file__).resolve().parents[1] / "data" / "grace_hopper.jpg"
    (face,) = client.detect(photo, landmarks=True, attributes=["head_pose"]).faces
    assert face.landmarks is not None and set(face.landmarks) == set(LOCAL_LANDMARKS.values())
    assert face.mesh is None
    assert face.attributes.head_pose is not None and face.attributes.head_pose.derived_from == "landmarks:5"
    backend = client._backend
    assert backend.engine._mesh is None  # type: ignore[attr-defined]


def test_mesh_is_mapped_back_when_the_image_is_decoded_smaller(client: FaceClient) -> None:
    photo = Path(__file__).resolve().parents[1] / "data" / "grace_hopper.jpg"
    small = FaceClient("local", image_max_side=300)
    (full,) = client.detect(photo, landmarks="mesh").faces
    (reduced,) = small.detect(photo, landmarks="mesh").faces
    assert full.landmarks is not None and reduced.landmarks is not None and reduced.mesh is not None
    nose, nose_small = full.landmarks["nose_tip"], reduced.landmarks["nose_tip"]
    assert abs(nose.x - nose_small.x) < 6 and abs(nose.y - nose_small.y) < 6
    assert max(p[0] for p in reduced.mesh) > 300  # upright-image pixels, not the decoded 300 px


@pytest.mark.parametrize("value", ["yes", "Mesh", 1, "468"])
def test_landmarks_option_is_validated(client: FaceClient, value: object) -> None:
    with pytest.raises(InvalidRequestError, match="landmarks must be"):
        client.detect(Path(__file__).resolve().parents[1] / "data" / "grace_hopper.jpg", landmarks=value)  # type: ignore[arg-type]


def test_mesh_on_a_backend_without_one() -> None:
    fake = FaceClient("fake")
    photo = Path(__file__).resolve().parents[1] / "data" / "grace_hopper.jpg"
    with pytest.raises(UnsupportedFeatureError, match="no face mesh"):
        fake.detect(photo, landmarks="mesh")
    with pytest.warns(Warning, match="no face mesh"):
        result = fake.detect(photo, landmarks="mesh", strict=False)
    assert all(face.mesh is None for face in result.faces)
