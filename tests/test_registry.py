"""The lazy backend registry: names, aliases, registration, entry points, missing extras."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import facekit._registry as registry
from facekit import ConfigurationError, FaceClient, MissingDependencyError, register_backend
from facekit.backends.fake import FakeBackend


def test_aliases_resolve() -> None:
    assert registry.resolve_name("rekognition") == "aws"
    assert registry.resolve_name("onnx") == "local"
    assert registry.resolve_name("Azure_REST") == "azure-rest"
    with pytest.raises(ConfigurationError, match="known providers: .*aws"):
        registry.resolve_name("gcp")


def test_builtin_names_point_at_lazy_targets() -> None:
    names = {spec.name for spec in registry.available_backends()}
    assert {"azure-rest", "azure-sdk", "aws", "local", "fake"} <= names
    assert registry.get_spec("aws").target == "facekit.backends.aws:RekognitionBackend"
    assert registry.get_spec("aws").extra == "aws"


def test_missing_extra_names_the_exact_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    register_backend(
        "needs-missing",
        "facekit.backends.fake:FakeBackend",
        extra="aws",
        requires=("definitely_not_installed_module_xyz",),
        replace=True,
    )
    with pytest.raises(MissingDependencyError) as info:
        FaceClient("needs-missing")
    assert "pip install 'facekit-detect[aws]'" in str(info.value)
    assert info.value.command == "pip install 'facekit-detect[aws]'"
    assert isinstance(info.value, ImportError)


def test_register_backend_class_and_alias() -> None:
    class MyBackend(FakeBackend):
        name = "mine"

    register_backend("mine", MyBackend, aliases=("my-alias",), replace=True)
    client = FaceClient("my-alias")
    assert isinstance(client.backend, MyBackend)
    assert client.provider == "mine"
    with pytest.raises(ConfigurationError, match="already registered"):
        register_backend("mine", MyBackend)


def test_entry_point_group_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dist = tmp_path / "facekit_plugin_demo-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: facekit-plugin-demo\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[facekit.backends]\nplugin-demo = facekit.backends.fake:FakeBackend\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_entry_points_loaded", False)
    assert registry.resolve_name("plugin-demo") == "plugin-demo"
    assert registry.get_backend_class("plugin-demo") is FakeBackend
    assert "facekit_plugin_demo" not in sys.modules


@pytest.mark.parametrize(
    ("provider", "blocked", "extra"),
    [("aws", "boto3", "aws"), ("local", "onnxruntime", "local"), ("azure-sdk", "azure", "azure-sdk")],
)
def test_real_backends_name_their_extra_when_the_sdk_is_missing(provider: str, blocked: str, extra: str) -> None:
    import subprocess

    code = (
        "import sys\n"
        f"sys.modules[{blocked!r}] = None  # as if not installed\n"
        "from facekit import FaceClient, MissingDependencyError\n"
        "try:\n"
        f"    FaceClient({provider!r}, endpoint='https://x.example', key='k', region='eu-west-1')\n"
        "except MissingDependencyError as exc:\n"
        "    print(exc.command)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == f"pip install 'facekit-detect[{extra}]'", out.stderr
