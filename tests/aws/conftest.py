"""Fixtures for the aws backend tests: fake credentials, no instance-metadata probing, no user config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

try:
    import boto3  # noqa: F401
except ImportError:  # the 'aws' extra is not installed: skip this folder
    collect_ignore_glob = ["test_*.py"]

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "aws"
ACCESS_KEY = "AKIAFACEKITTESTKEY01"
SECRET_KEY = "fAcEkIt/SeCrEt+KeY/DoNoTlEaK0123456789ab"
REGION = "us-east-1"


def load(name: str) -> dict[str, Any]:
    """A fixture response from tests/fixtures/aws."""
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials in the environment; the user's ~/.aws and instance metadata never used."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_REGION",
                 "FACEKIT_AWS_REGION", "FACEKIT_AWS_ENDPOINT_URL", "FACEKIT_AWS_S3_ENDPOINT_URL", "FACEKIT_PROVIDER",
                 "FACEKIT_CONFIG", "FACEKIT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
                 "AWS_ENDPOINT_URL_REKOGNITION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    return


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Make botocore's standard-mode backoff instant; returns the list of delays it asked for."""
    from botocore.retries import standard

    asked: list[float] = []
    original = standard.ExponentialBackoff.delay_amount

    def instant(self: Any, context: Any) -> float:
        asked.append(original(self, context))
        return 0.0

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", instant)
    return asked
