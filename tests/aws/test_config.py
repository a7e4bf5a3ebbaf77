"""Construction: regions, profiles, retries, timeouts, secrets, lazy imports, capabilities."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from facekit import ConfigurationError, FaceClient, MissingDependencyError
from facekit.backends.aws import RekognitionBackend
from tests.aws.conftest import SECRET_KEY


def test_defaults_standard_retries_and_timeouts() -> None:
    backend = RekognitionBackend()
    config = backend.client.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert (config.connect_timeout, config.read_timeout) == (5.0, 30.0)
    assert backend.client.meta.region_name == "us-east-1"  # AWS_DEFAULT_REGION from the fixture
    assert backend.info() == {"region": "us-east-1"}


def test_no_region_anywhere_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(ConfigurationError) as info:
        FaceClient("aws")
    for name in ("region=", "FACEKIT_AWS_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"):
        assert name in str(info.value)


def test_profiles_from_the_shared_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[profile dev]\nregion = eu-central-1\n[profile ops]\nregion = ap-northeast-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert FaceClient("aws", aws_profile="dev").backend.client.meta.region_name == "eu-central-1"
    assert RekognitionBackend(profile="ops").client.meta.region_name == "ap-northeast-1"
    monkeypatch.setenv("AWS_PROFILE", "ops")
    client = FaceClient("aws")
    assert "profile='ops'" in repr(client) and "region='ap-northeast-1'" in repr(client)
    with pytest.raises(ConfigurationError, match="'missing' not found"):
        FaceClient("aws", aws_profile="missing")
    assert FaceClient("aws", aws_profile="dev").backend.info()["profile"] == "dev"  # argument beats AWS_PROFILE
    assert RekognitionBackend(profile="dev", aws_profile="ops").info()["profile"] == "ops"


def test_bad_options_fail_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="both aws_access_key_id and aws_secret_access_key"):
        FaceClient("aws", aws_access_key_id="AKIAONLYHALF")
    with pytest.raises(ConfigurationError, match="retry_mode"):
        FaceClient("aws", retry_mode="eager")
    with pytest.raises(ConfigurationError, match="max_attempts"):
        FaceClient("aws", max_attempts=0)
    with pytest.raises(ConfigurationError, match="unknown option"):
        FaceClient("aws", key="azure-style")


def test_explicit_secret_is_kept_out_of_repr() -> None:
    client = FaceClient("aws", aws_access_key_id="AKIAEXPLICIT0000", aws_secret_access_key=SECRET_KEY,
                        aws_session_token="TOKEN-SECRET-xyz")
    for text in (repr(client), repr(client.backend), str(client.backend.info()), str(vars(client.backend))):
        assert SECRET_KEY not in text and "TOKEN-SECRET-xyz" not in text
    credentials = client.backend.client._request_signer._credentials  # type: ignore[attr-defined]
    assert (credentials.access_key, credentials.secret_key, credentials.token) == (
        "AKIAEXPLICIT0000", SECRET_KEY, "TOKEN-SECRET-xyz")
    assert RekognitionBackend.secret_options == {"aws_secret_access_key", "aws_session_token"}
    assert client.backend.credentials is credentials  # the async backend signs with these


def test_credentials_of_a_client_passed_in_are_that_clients() -> None:
    import boto3

    given = boto3.session.Session(
        aws_access_key_id="AKIAGIVEN0000", aws_secret_access_key=SECRET_KEY, region_name="us-east-1"
    ).client("rekognition")
    backend = RekognitionBackend(client=given)
    assert backend.credentials is given._request_signer._credentials
    assert backend.credentials.access_key == "AKIAGIVEN0000"


def test_capabilities() -> None:
    caps = RekognitionBackend().capabilities
    assert caps.attributes == {"age", "gender", "smile", "emotion", "head_pose", "facial_hair", "glasses",
                               "eyes_open", "mouth_open", "eye_direction", "occlusion", "quality"}
    assert len(caps.landmarks) == 30
    assert caps.face_id is False and caps.max_faces == 100 and caps.inputs == {"bytes", "s3"}
    for name in ("hair", "makeup", "accessories", "blur", "exposure", "noise", "mask", "quality_for_recognition"):
        assert name in caps.notes
    spec = RekognitionBackend().input_spec
    assert (spec.max_bytes, spec.min_side, spec.formats) == (5_242_880, 80, {"JPEG", "PNG"})


def test_passed_in_clients_are_not_closed_but_own_ones_are() -> None:
    import boto3

    mine = boto3.client("rekognition", region_name="us-west-2")
    backend = RekognitionBackend(client=mine)
    assert backend.info() == {"region": "us-west-2"}
    backend.close()
    assert backend.client is mine and backend._owned == []
    own = RekognitionBackend()
    assert len(own._owned) == 1
    own.close()
    assert own._owned == []


def test_missing_boto3_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(MissingDependencyError) as info:
        RekognitionBackend()
    assert "pip install 'facekit-detect[aws]'" in str(info.value)


def test_import_facekit_and_the_backend_module_load_no_boto3() -> None:
    code = ("import sys, facekit, facekit.backends.aws, facekit.backends._aws_wire; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
