"""Configuration precedence: argument > environment > config file profile."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

import pytest

from facekit import ConfigurationError, FaceClient, register_backend
from facekit.backends.fake import FakeBackend


class ConfiguredBackend(FakeBackend):
    """A fake backend with options, to observe what the client resolved."""

    name = "configured"
    env_vars: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "endpoint": ("FACEKIT_TEST_ENDPOINT", "FALLBACK_ENDPOINT"),
        "region": ("FACEKIT_TEST_REGION",),
    }

    def __init__(self, endpoint: str | None = None, region: str | None = None, model: str = "m1") -> None:
        super().__init__()
        self.endpoint, self.region, self.model = endpoint, region, model


class OtherConfiguredBackend(ConfiguredBackend):
    name = "configured-other"


register_backend("configured", ConfiguredBackend, replace=True)
register_backend("configured-other", OtherConfiguredBackend, replace=True)

TOML = """
[default]
provider = "configured"
model = "from-default"

[profiles.prod]
endpoint = "https://file.example"
region = "file-region"

[profiles.other]
provider = "fake"
"""


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in (
        "FACEKIT_PROVIDER",
        "FACEKIT_CONFIG",
        "FACEKIT_PROFILE",
        "FACEKIT_TEST_ENDPOINT",
        "FALLBACK_ENDPOINT",
        "FACEKIT_TEST_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "facekit.toml"
    path.write_text(TOML)
    return path


def _backend(client: FaceClient) -> ConfiguredBackend:
    assert isinstance(client.backend, ConfiguredBackend)
    return client.backend


def test_file_profile_alone(config_file: Path) -> None:
    backend = _backend(FaceClient.from_config(config_file, profile="prod"))
    assert (backend.endpoint, backend.region, backend.model) == ("https://file.example", "file-region", "from-default")


def test_env_beats_file_and_argument_beats_env(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEKIT_TEST_ENDPOINT", "https://env.example")
    backend = _backend(FaceClient.from_config(config_file, profile="prod"))
    assert backend.endpoint == "https://env.example"
    assert backend.region == "file-region"
    backend = _backend(FaceClient.from_config(config_file, profile="prod", endpoint="https://arg.example"))
    assert backend.endpoint == "https://arg.example"


def test_env_var_priority_order(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FALLBACK_ENDPOINT", "https://fallback.example")
    assert _backend(FaceClient("configured")).endpoint == "https://fallback.example"
    monkeypatch.setenv("FACEKIT_TEST_ENDPOINT", "https://first.example")
    assert _backend(FaceClient("configured")).endpoint == "https://first.example"


def test_provider_precedence(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert FaceClient.from_config(config_file, profile="prod").provider == "configured"
    monkeypatch.setenv("FACEKIT_PROVIDER", "configured-other")
    assert FaceClient.from_config(config_file, profile="prod").provider == "configured-other"
    assert FaceClient.from_config(config_file, profile="prod", provider="configured").provider == "configured"


def test_from_env_with_config_and_profile_variables(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEKIT_CONFIG", str(config_file))
    monkeypatch.setenv("FACEKIT_PROFILE", "prod")
    backend = _backend(FaceClient.from_env())
    assert backend.region == "file-region"
    monkeypatch.delenv("FACEKIT_CONFIG")
    monkeypatch.delenv("FACEKIT_PROFILE")
    monkeypatch.setenv("FACEKIT_PROVIDER", "configured")
    monkeypatch.setenv("FACEKIT_TEST_REGION", "env-region")
    assert _backend(FaceClient.from_env()).region == "env-region"


def test_config_errors_are_clear(config_file: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no profile 'nope'.*prod"):
        FaceClient.from_config(config_file, profile="nope")
    with pytest.raises(ConfigurationError, match="not found"):
        FaceClient.from_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[default\n")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        FaceClient.from_config(bad)
    with pytest.raises(ConfigurationError, match="unknown option.*colour.*accepts: endpoint, region, model"):
        FaceClient("configured", colour="blue")


def test_default_provider_is_local(config_file: Path) -> None:
    from facekit._config import DEFAULT_PROVIDER

    assert DEFAULT_PROVIDER == "local"
