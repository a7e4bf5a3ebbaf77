"""Unmodified real clients against a real ``facekit serve`` (uvicorn on 127.0.0.1, local engine):
the 2018 quickstart's requests code, the azure-ai-vision-face SDK, boto3's rekognition client,
and facekit's own azure-rest, azure-sdk and aws backends (which must give the local engine's faces)."""

from __future__ import annotations

import math
from typing import Any

import pytest
import requests

from facekit import DetectionResult, FaceClient
from tests.loopback import LoopbackServer, serve_bytes
from tests.serve.conftest import AWS_KEY_ID, AWS_SECRET, AZURE_KEY

# The seed 000 quickstart (Microsoft Docs, 2018), unchanged but for its two settings and the image URL.
QUICKSTART = '''
import requests
import matplotlib.pyplot as plt
from PIL import Image
from matplotlib import patches
from io import BytesIO

subscription_key = SUBSCRIPTION_KEY
assert subscription_key
face_api_url = FACE_API_URL

image_url = IMAGE_URL

headers = {'Ocp-Apim-Subscription-Key': subscription_key}
params = {
    'returnFaceId': 'true',
    'returnFaceLandmarks': 'false',
    'returnFaceAttributes': 'age,gender,headPose,smile,facialHair,glasses,' +
    'emotion,hair,makeup,occlusion,accessories,blur,exposure,noise'
}
data = {'url': image_url}
response = requests.post(face_api_url, params=params, headers=headers, json=data)
faces = response.json()

image = Image.open(BytesIO(requests.get(image_url).content))
plt.figure(figsize=(8, 8))
ax = plt.imshow(image, alpha=0.6)
for face in faces:
    fr = face["faceRectangle"]
    fa = face["faceAttributes"]
    origin = (fr["left"], fr["top"])
    p = patches.Rectangle(
        origin, fr["width"], fr["height"], fill=False, linewidth=2, color='b')
    ax.axes.add_patch(p)
    plt.text(origin[0], origin[1], "%s, %d"%(fa["gender"].capitalize(), fa["age"]),
             fontsize=20, weight="bold", va="bottom")
_ = plt.axis("off")
'''

pytestmark = pytest.mark.filterwarnings("ignore::facekit.FacekitWarning")

ATTRIBUTES = ["age", "gender", "head_pose"]


def _close(a: float, b: float, tolerance: float = 1e-3) -> bool:
    return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)


def test_seed_quickstart_draws_gender_and_age(server: str, pair_jpeg: bytes, local_client: Any) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with LoopbackServer() as images:
        images.route("GET", "/main007.jpg", serve_bytes(pair_jpeg))
        namespace: dict[str, Any] = {
            "SUBSCRIPTION_KEY": AZURE_KEY,
            "FACE_API_URL": f"{server}/face/v1.0/detect",
            "IMAGE_URL": images.url("/main007.jpg"),
        }
        exec(compile(QUICKSTART, "seed-000-quickstart.py", "exec"), namespace)
    faces = namespace["faces"]
    assert namespace["response"].status_code == 200
    direct = local_client.detect(pair_jpeg, attributes=["age", "gender"])
    assert len(faces) == len(direct.faces) == 2
    for wire, face in zip(faces, direct.faces, strict=True):
        assert "faceId" not in wire  # the local engine has no face ids: none are made up
        assert set(wire["faceAttributes"]) <= {"age", "gender", "headPose", "smile", "emotion", "blur", "exposure",
                                               "noise"}
        assert wire["faceAttributes"]["gender"] == face.attributes.gender.value
        assert _close(wire["faceAttributes"]["age"], face.attributes.age)
        assert abs(wire["faceRectangle"]["left"] - face.box.left) <= 0.5
    texts = [text.get_text() for text in plt.gca().texts]
    assert texts == [f"{f.attributes.gender.value.capitalize()}, {int(f.attributes.age)}" for f in direct.faces]
    assert len(plt.gca().patches) == 2
    plt.close("all")


def test_azure_sdk_detect_and_detect_from_url(server: str, grace_jpeg: bytes, local_client: Any) -> None:
    pytest.importorskip("azure.ai.vision.face")
    from azure.ai.vision.face import FaceClient as AzureFaceClient
    from azure.ai.vision.face.models import FaceAttributeTypeDetection01, FaceDetectionModel, FaceRecognitionModel
    from azure.core.credentials import AzureKeyCredential

    direct = local_client.detect(grace_jpeg, attributes=["head_pose", "blur", "exposure", "noise"], landmarks=True)
    [expected] = direct.faces
    with AzureFaceClient(endpoint=server, credential=AzureKeyCredential(AZURE_KEY)) as sdk, LoopbackServer() as images:
        images.route("GET", "/grace.jpg", serve_bytes(grace_jpeg))
        kwargs: dict[str, Any] = {
            "detection_model": FaceDetectionModel.DETECTION01,
            "recognition_model": FaceRecognitionModel.RECOGNITION04,
            "return_face_id": False,
            "return_face_landmarks": True,
            "return_face_attributes": [
                FaceAttributeTypeDetection01.HEAD_POSE, FaceAttributeTypeDetection01.BLUR,
                FaceAttributeTypeDetection01.EXPOSURE, FaceAttributeTypeDetection01.NOISE,
            ],
        }
        from_bytes = sdk.detect(grace_jpeg, **kwargs)
        from_url = sdk.detect_from_url(url=images.url("/grace.jpg"), **kwargs)
    for faces in (from_bytes, from_url):
        [face] = faces
        rect = face.face_rectangle
        assert (rect.left, rect.top, rect.width, rect.height) == tuple(round(v) for v in expected.box.xywh)
        assert face.face_id is None
        pose = face.face_attributes.head_pose
        assert _close(pose.yaw, expected.attributes.head_pose.yaw)
        assert _close(pose.roll, expected.attributes.head_pose.roll)
        assert face.face_attributes.blur.blur_level == expected.attributes.blur.level
        assert _close(face.face_attributes.blur.value, expected.attributes.blur.value)
        assert face.face_attributes.exposure.exposure_level == "goodExposure" or expected.attributes.exposure.level != "good"
        assert face.face_attributes.noise.noise_level == expected.attributes.noise.level
        nose = expected.landmarks["nose_tip"]
        assert _close(face.face_landmarks.nose_tip.x, nose.x) and _close(face.face_landmarks.nose_tip.y, nose.y)
        assert face.face_landmarks.pupil_left is None  # eye centres are not pupils: not filled


def test_azure_sdk_wrong_key_is_refused(server: str, grace_jpeg: bytes) -> None:
    pytest.importorskip("azure.ai.vision.face")
    from azure.ai.vision.face import FaceClient as AzureFaceClient
    from azure.core.credentials import AzureKeyCredential
    from azure.core.exceptions import ClientAuthenticationError

    with AzureFaceClient(endpoint=server, credential=AzureKeyCredential("wrong")) as sdk, pytest.raises(
        ClientAuthenticationError
    ):
        sdk.detect(grace_jpeg, detection_model="detection_01", recognition_model="recognition_04",
                   return_face_id=False)


def _rekognition(server: str, secret: str = AWS_SECRET) -> Any:
    boto3 = pytest.importorskip("boto3")
    from botocore.config import Config

    return boto3.client(
        "rekognition", endpoint_url=server, region_name="us-east-1", aws_access_key_id=AWS_KEY_ID,
        aws_secret_access_key=secret, config=Config(retries={"total_max_attempts": 1}),
    )


def test_boto3_detect_faces_bytes_default_and_all(server: str, pair_jpeg: bytes, local_client: Any) -> None:
    client = _rekognition(server)
    default = client.detect_faces(Image={"Bytes": pair_jpeg})
    everything = client.detect_faces(Image={"Bytes": pair_jpeg}, Attributes=["ALL"])
    direct = local_client.detect(pair_jpeg, attributes="all", landmarks=True)
    width, height = direct.image.width, direct.image.height
    assert (width, height) == (852, 600)
    assert len(default["FaceDetails"]) == len(everything["FaceDetails"]) == len(direct.faces) == 2
    assert default["ResponseMetadata"]["HTTPStatusCode"] == 200
    for detail, face in zip(default["FaceDetails"], direct.faces, strict=True):
        assert set(detail) == {"BoundingBox", "Landmarks", "Pose", "Confidence"}  # no Quality: not computed
        assert _close(detail["BoundingBox"]["Left"] * width, face.box.left)
        assert _close(detail["BoundingBox"]["Height"] * height, face.box.height)
        assert _close(detail["Confidence"], face.confidence * 100)
        assert {item["Type"] for item in detail["Landmarks"]} == {"eyeLeft", "eyeRight", "nose", "mouthLeft", "mouthRight"}
    for detail, face in zip(everything["FaceDetails"], direct.faces, strict=True):
        assert {"AgeRange", "Gender", "Smile", "Emotions", "Pose", "Landmarks"} <= set(detail)
        assert detail["AgeRange"]["Low"] <= face.attributes.age <= detail["AgeRange"]["High"]
        assert detail["Gender"]["Value"] == face.attributes.gender.value.capitalize()
        assert _close(detail["Gender"]["Confidence"], face.attributes.gender.confidence * 100)
        happy = next(e for e in detail["Emotions"] if e["Type"] == "HAPPY")
        assert _close(happy["Confidence"], face.attributes.emotion.happiness * 100)
        assert "NEUTRAL" not in {e["Type"] for e in detail["Emotions"]}  # CALM is not neutral: left out
        assert detail["Smile"]["Value"] is (face.attributes.smile.intensity >= 0.5)


def test_boto3_wrong_signature_is_refused(server: str, grace_jpeg: bytes) -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as caught:
        _rekognition(server, secret="not-the-secret").detect_faces(Image={"Bytes": grace_jpeg})
    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_boto3_errors_in_rekognition_shape(server: str) -> None:
    from botocore.exceptions import ClientError

    client = _rekognition(server)
    gif = b"GIF89a" + bytes(2000)
    with pytest.raises(ClientError) as caught:
        client.detect_faces(Image={"Bytes": gif})
    assert caught.value.response["Error"]["Code"] == "InvalidImageFormatException"
    with pytest.raises(ClientError) as caught:
        client.detect_faces(Image={"Bytes": b"\xff\xd8\xff" + bytes(100)}, Attributes=["WRINKLES"])
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"


def _same_faces(result: DetectionResult, direct: DetectionResult, *, pixels: float) -> None:
    assert len(result.faces) == len(direct.faces) > 0
    for face, reference in zip(result.faces, direct.faces, strict=True):
        for got, want in zip(face.box.xywh, reference.box.xywh, strict=True):
            assert abs(got - want) <= pixels
        for name, point in (face.landmarks or {}).items():
            assert _close(point.x, reference.landmarks[name].x) and _close(point.y, reference.landmarks[name].y)


def test_facekit_backends_through_the_server_match_local(server: str, pair_jpeg: bytes, local_client: Any) -> None:
    direct = local_client.detect(pair_jpeg, attributes=ATTRIBUTES, landmarks=True)
    azure = {"endpoint": server, "key": AZURE_KEY, "allow_retired_attributes": True}
    for provider, options in (("azure-rest", {"api_version": "v1.0"}), ("azure-sdk", {})):
        with FaceClient(provider, **azure, **options) as client:
            result = client.detect(pair_jpeg, attributes=ATTRIBUTES, landmarks=True)
        _same_faces(result, direct, pixels=0.5)  # Azure's integer faceRectangle
        assert {name for face in result.faces for name in face.landmarks or {}} == {"nose_tip", "mouth_left",
                                                                                    "mouth_right"}
        for face, reference in zip(result.faces, direct.faces, strict=True):
            assert _close(face.attributes.age, reference.attributes.age)
            assert face.attributes.gender.value == reference.attributes.gender.value
            assert _close(face.attributes.head_pose.yaw, reference.attributes.head_pose.yaw)
    pytest.importorskip("boto3")
    with FaceClient("aws", endpoint_url=server, region="us-east-1", aws_access_key_id=AWS_KEY_ID,
                    aws_secret_access_key=AWS_SECRET) as client:
        result = client.detect(pair_jpeg, attributes=["age", "gender", "head_pose"], landmarks=True)
    _same_faces(result, direct, pixels=1e-3)
    for face, reference in zip(result.faces, direct.faces, strict=True):
        assert face.attributes.age_range.low <= reference.attributes.age <= face.attributes.age_range.high
        assert face.attributes.gender.value == reference.attributes.gender.value
        assert set(face.landmarks or {}) == {"left_eye", "right_eye", "nose_tip", "mouth_left", "mouth_right"}


def test_facekit_json_and_openapi(server: str, grace_jpeg: bytes, local_client: Any) -> None:
    answer = requests.post(f"{server}/v1/detect", params={"attributes": "age,emotion", "landmarks": "true"},
                           data=grace_jpeg, headers={"Content-Type": "application/octet-stream",
                                                     "Authorization": f"Bearer {AZURE_KEY}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    result = DetectionResult.model_validate_json(answer.content)
    direct = local_client.detect(grace_jpeg, attributes=["age", "emotion"], landmarks=True)
    assert result.faces == direct.faces
    refused = requests.post(f"{server}/v1/detect", params={"attributes": "mask"}, data=grace_jpeg,
                            headers={"Ocp-Apim-Subscription-Key": AZURE_KEY}, timeout=30)
    assert refused.status_code == 400 and refused.json()["error"]["type"] == "UnsupportedFeatureError"
    assert requests.post(f"{server}/v1/detect", data=grace_jpeg, timeout=30).status_code == 401
    health = requests.get(f"{server}/healthz", timeout=10).json()
    assert health["status"] == "ok" and health["provider"] == "local"
    spec = requests.get(f"{server}/openapi.json", timeout=10).json()
    assert {"/face/{api_version}/detect", "/", "/v1/detect", "/healthz"} <= set(spec["paths"])
