"""facekit's SigV4 signature for DetectFaces equals botocore's for the same request and time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from facekit.backends._aws_sigv4 import sign_json_post
from facekit.backends.aws_async import detect_faces_body

BODY = detect_faces_body(b"\xff\xd8\xff\xe0 not really a jpeg", ["DEFAULT", "FACE_OCCLUDED"])


@pytest.mark.parametrize("token", [None, "FwoGZXIvYXdzEJr//session-token=="])
@pytest.mark.parametrize(
    "url", ["https://rekognition.eu-west-1.amazonaws.com", "http://127.0.0.1:8123", "https://vpce-1.example:443"]
)
def test_signature_matches_botocore(url: str, token: str | None) -> None:
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    request = AWSRequest(
        method="POST", url=url + "/", data=BODY,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "RekognitionService.DetectFaces"},
    )
    SigV4Auth(credentials.get_frozen_credentials(), "rekognition", "eu-west-1").add_auth(request)
    when = datetime.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    ours = sign_json_post(
        url + "/", BODY, target="RekognitionService.DetectFaces", content_type="application/x-amz-json-1.1",
        credentials=credentials.get_frozen_credentials(), region="eu-west-1", service="rekognition", now=when,
    )
    assert ours["Authorization"] == request.headers["Authorization"]
    assert ours.get("X-Amz-Security-Token") == request.headers.get("X-Amz-Security-Token")


def test_the_body_is_what_botocore_serialises() -> None:
    import json

    import boto3

    client = boto3.client(
        "rekognition", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b",
    )
    model = client.meta.service_model.operation_model("DetectFaces")
    serialised = client._serializer.serialize_to_request(
        {"Image": {"Bytes": b"\xff\xd8\xff\xe0 not really a jpeg"}, "Attributes": ["DEFAULT", "FACE_OCCLUDED"]}, model
    )
    assert json.loads(BODY) == json.loads(serialised["body"])


def test_the_body_is_the_same_with_either_base64_codec(monkeypatch: pytest.MonkeyPatch) -> None:
    """pybase64 (the ``async`` extra) and the standard library give the same body."""
    import importlib
    import sys

    import facekit._base64 as codec

    photo = bytes(range(256)) * 300 + b"\x00\xff"  # every byte value, a length that needs padding
    assert codec.CODEC == "pybase64"  # installed by the extra this suite runs with
    fast = codec.b64encode(photo)
    monkeypatch.setitem(sys.modules, "pybase64", None)  # as if the extra were not installed
    try:
        importlib.reload(codec)
        assert codec.CODEC == "base64"
        assert codec.b64encode(photo) == fast
    finally:
        monkeypatch.delitem(sys.modules, "pybase64")
        importlib.reload(codec)
    assert codec.CODEC == "pybase64"
