"""``s3://`` inputs against a real S3 API (moto in server mode on loopback) and the loopback
Rekognition stand-in: ranged header reads, EXIF-rotated objects, versions, missing objects,
region mismatches."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from facekit import AuthenticationError, FaceClient, InvalidImageError, InvalidRequestError
from tests.aws.standin import RekognitionStandIn, error

pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")

import boto3  # noqa: E402

PHOTO = Path(__file__).resolve().parent.parent / "data" / "grace_hopper.jpg"  # 512x600
BOX = {"Width": 0.25, "Height": 0.5, "Left": 0.5, "Top": -0.1}
FACE_ANSWER = (200, {"FaceDetails": [{"BoundingBox": BOX, "Confidence": 98.0,
                                      "Landmarks": [{"Type": "nose", "X": 0.6, "Y": 0.1}]}]})


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_url: str) -> Any:
    return boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1")


def _bucket(s3: Any, region: str | None = None) -> str:
    name = f"facekit-{uuid.uuid4().hex[:12]}"
    if region and region != "us-east-1":
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    else:
        s3.create_bucket(Bucket=name)
    return name


def _jpeg(size: tuple[int, int], *, orientation: int | None = None, noise: bool = False) -> bytes:
    image = Image.effect_noise(size, 80).convert("RGB") if noise else Image.new("RGB", size, (90, 140, 200))
    buffer = io.BytesIO()
    kwargs: dict[str, Any] = {}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kwargs["exif"] = exif.tobytes()
    image.save(buffer, format="JPEG", quality=95, **kwargs)
    return buffer.getvalue()


def _client(service: RekognitionStandIn, s3_url: str, **options: Any) -> FaceClient:
    return FaceClient("aws", endpoint_url=service.url, s3_endpoint_url=s3_url, **options)


def test_s3_object_is_sent_by_reference_and_only_its_header_read(s3: Any, s3_url: str) -> None:
    bucket = _bucket(s3)
    data = _jpeg((1200, 900), noise=True)
    assert len(data) > 4 * 65536
    s3.put_object(Bucket=bucket, Key="big/photo.jpg", Body=data)
    reads: list[dict[str, Any]] = []
    with RekognitionStandIn(answers=[FACE_ANSWER]) as service:
        client = _client(service, s3_url)
        s3_client = client.backend.s3_client  # type: ignore[attr-defined]
        s3_client.meta.events.register(
            "after-call.s3.GetObject", lambda parsed, **_: reads.append({"length": parsed["ContentLength"],
                                                                          "range": parsed.get("ContentRange")})
        )
        result = client.detect(f"s3://{bucket}/big/photo.jpg", landmarks=True)
    assert service.requests[0]["body"]["Image"] == {"S3Object": {"Bucket": bucket, "Name": "big/photo.jpg"}}
    assert service.requests[0]["body"]["Attributes"] == ["DEFAULT"]
    assert reads == [{"length": 65536, "range": f"bytes 0-65535/{len(data)}"}]
    assert (result.image.width, result.image.height) == (1200, 900)
    face = result.faces[0]
    assert face.box.xywh == pytest.approx((600.0, -90.0, 300.0, 450.0))
    assert (face.box.image_width, face.box.image_height) == (1200, 900)
    assert face.box.clipped().xywh == pytest.approx((600.0, 0.0, 300.0, 360.0))
    assert face.landmarks is not None and (face.landmarks["nose_tip"].x, face.landmarks["nose_tip"].y) == (
        pytest.approx(720.0), pytest.approx(90.0))
    assert result.runtime["s3_object"]["object_bytes"] == len(data)


def test_exif_rotated_jpeg_uses_the_upright_size(s3: Any, s3_url: str) -> None:
    bucket = _bucket(s3)
    s3.put_object(Bucket=bucket, Key="phone.jpg", Body=_jpeg((600, 400), orientation=6))  # upright 400x600
    with RekognitionStandIn(answers=[FACE_ANSWER]) as service:
        result = _client(service, s3_url).detect(f"s3://{bucket}/phone.jpg")
    assert (result.image.width, result.image.height) == (400, 600)
    assert result.faces[0].box.xywh == pytest.approx((200.0, -60.0, 100.0, 300.0))
    assert result.runtime["s3_object"]["exif_orientation"] == 6
    assert result.runtime["s3_object"]["stored_size"] == [600, 400]


def test_version_id_is_sent_and_that_version_is_measured(s3: Any, s3_url: str) -> None:
    bucket = _bucket(s3)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=bucket, Key="v.jpg", Body=_jpeg((640, 480)))["VersionId"]
    s3.put_object(Bucket=bucket, Key="v.jpg", Body=_jpeg((320, 240)))
    with RekognitionStandIn(answers=[FACE_ANSWER]) as service:
        result = _client(service, s3_url).detect(f"s3://{bucket}/v.jpg?versionId={first}", attributes=["smile"])
    sent = service.requests[0]["body"]
    assert sent["Image"] == {"S3Object": {"Bucket": bucket, "Name": "v.jpg", "Version": first}}
    assert sent["Attributes"] == ["SMILE"]
    assert (result.image.width, result.image.height) == (640, 480)
    assert result.faces[0].box.width == pytest.approx(160.0)


def test_missing_object_and_bucket_are_explained_before_calling_rekognition(s3: Any, s3_url: str) -> None:
    bucket = _bucket(s3)
    with RekognitionStandIn(answers=[FACE_ANSWER]) as service:
        client = _client(service, s3_url)
        with pytest.raises(InvalidRequestError) as info:
            client.detect(f"s3://{bucket}/nope.jpg")
        assert f"s3://{bucket}/nope.jpg does not exist" in str(info.value)
        assert info.value.code == "NoSuchKey" and info.value.status == 404
        with pytest.raises(InvalidRequestError) as info:
            client.detect("s3://facekit-no-such-bucket-here/x.jpg")
        assert "bucket 'facekit-no-such-bucket-here'" in str(info.value) and info.value.code == "NoSuchBucket"
    assert service.requests == []


def test_region_mismatch_names_the_bucket_region(s3: Any, s3_url: str) -> None:
    bucket = _bucket(s3, region="eu-west-1")
    s3.put_object(Bucket=bucket, Key="p.jpg", Body=PHOTO.read_bytes())
    message = "Unable to get object metadata from S3. Check object key, region and/or access permissions."
    with RekognitionStandIn(answers=[error("InvalidS3ObjectException", message)]) as service:
        client = _client(service, s3_url, region="us-east-1")
        with pytest.raises(InvalidRequestError) as info:
            client.detect(f"s3://{bucket}/p.jpg")
    text = str(info.value)
    assert f"bucket {bucket!r} is in eu-west-1 but Rekognition was called in us-east-1" in text
    assert "region='eu-west-1'" in text
    assert info.value.code == "InvalidS3ObjectException" and info.value.request_id is not None
    assert len(service.requests) == 1


def test_invalid_s3_object_in_the_same_region_gets_the_checklist(s3: Any, s3_url: str) -> None:
    bucket = _bucket(s3)
    s3.put_object(Bucket=bucket, Key="p.jpg", Body=PHOTO.read_bytes())
    with (
        RekognitionStandIn(answers=[error("InvalidS3ObjectException")]) as service,
        pytest.raises(InvalidRequestError) as info,
    ):
        _client(service, s3_url).detect(f"s3://{bucket}/p.jpg")
    assert "s3:GetObject" in str(info.value) and "same region" in str(info.value)
    assert "is in eu-west-1" not in str(info.value)


def test_formats_and_sizes_rekognition_cannot_read_are_refused(s3: Any, s3_url: str) -> None:
    bucket = _bucket(s3)
    webp = io.BytesIO()
    Image.new("RGB", (100, 100)).save(webp, format="WEBP")
    s3.put_object(Bucket=bucket, Key="a.webp", Body=webp.getvalue())
    s3.put_object(Bucket=bucket, Key="huge.jpg", Body=_jpeg((200, 200)) + b"\0" * (15 * 1024 * 1024))
    s3.put_object(Bucket=bucket, Key="empty.jpg", Body=b"")
    with RekognitionStandIn(answers=[FACE_ANSWER]) as service:
        client = _client(service, s3_url)
        with pytest.raises(InvalidImageError, match="WEBP, but Rekognition reads only JPEG and PNG"):
            client.detect(f"s3://{bucket}/a.webp")
        with pytest.raises(InvalidImageError, match=r"more than the 15,728,640 bytes \(15 MB\)"):
            client.detect(f"s3://{bucket}/huge.jpg")
        with pytest.raises(InvalidImageError, match="empty"):
            client.detect(f"s3://{bucket}/empty.jpg")
    assert service.requests == []


def test_s3_access_denied_is_an_authentication_error() -> None:
    from botocore.stub import Stubber

    s3_client = boto3.client("s3", region_name="us-east-1")
    with RekognitionStandIn() as service, Stubber(s3_client) as stub:
        stub.add_client_error("get_object", service_error_code="AccessDenied", http_status_code=403)
        client = FaceClient("aws", endpoint_url=service.url, s3_client=s3_client)
        with pytest.raises(AuthenticationError, match="s3:GetObject"):
            client.detect("s3://b/k.jpg")
    assert service.requests == []


def test_s3_input_is_downloaded_for_a_backend_that_cannot_take_it(s3: Any, s3_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from facekit import DetectRequest, Payload

    bucket = _bucket(s3)
    upright = Image.new("RGB", (300, 200), (10, 20, 30))
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    stored.save(buffer, format="JPEG", exif=exif.tobytes())
    s3.put_object(Bucket=bucket, Key="rotated.jpg", Body=buffer.getvalue())
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_url)  # botocore's standard per-service endpoint variable
    seen: list[Payload] = []

    def handler(payload: Payload, request: DetectRequest) -> list[Any]:
        seen.append(payload)
        return []

    result = FaceClient("fake", handler=handler).detect(f"s3://{bucket}/rotated.jpg")
    assert seen[0].kind == "bytes"
    assert (seen[0].width, seen[0].height) == (300, 200)  # upright pixels were sent
    assert (result.image.source, result.image.width, result.image.exif_orientation) == ("s3", 300, 6)
    with pytest.raises(InvalidRequestError, match="NoSuchKey|404"):
        FaceClient("fake", handler=handler).detect(f"s3://{bucket}/missing.jpg")
