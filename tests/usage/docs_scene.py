"""The offline world the documentation's Python blocks run in (tests/usage/test_doc_blocks.py).

A working directory with the photos the docs name (``photo.jpg``, ``team.jpg``, ``passport.jpg``
...: the shipped public-domain portrait and the identity photos of ``tests/data``), a
``facekit.toml``, and loopback stand-ins started on first use: the Azure Face stand-in of
``tests/azure_rest/fake_service.py`` answering a recorded Azure response, the Rekognition
stand-in of ``tests/aws/standin.py`` answering the AWS developer guide's DetectFaces example,
a moto S3 server holding ``photo.jpg`` (versioned), and a Dask ``LocalCluster``. No other
network: :func:`loopback_only` makes any connection or name lookup beyond 127.0.0.1 fail.

The docs use placeholders for what only a user has (``https://<name>.cognitiveservices.azure.com``,
``s3://my-bucket/...``, ``tcp://scheduler:8786``); :data:`PLACEHOLDERS` maps each to the stand-in
that replaces it in the block's text before it runs, and the test reports the replacements.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
PORTRAIT = ROOT / "examples" / "images" / "grace_hopper.jpg"
IDENTITY = ROOT / "tests" / "data" / "identity"
AZURE_ANSWER = ROOT / "tests/fixtures/azure/v1.0-westus2-2021-recording-queryface-detect01-all-attributes.json"
AWS_ANSWER = ROOT / "tests/fixtures/aws/devguide-detectfaces-all-attributes-2023.json"

#: File names the docs use -> the real photo standing in for it.
PHOTOS: dict[str, Path] = {
    "photo.jpg": PORTRAIT,
    "group.jpg": PORTRAIT,
    "crowd.jpg": PORTRAIT,
    "stadium.jpg": PORTRAIT,
    "passport.jpg": IDENTITY / "obama_1.jpg",
    "selfie.jpg": IDENTITY / "obama_2.jpg",
    "query.jpg": IDENTITY / "obama_3.jpg",
    "probe.jpg": IDENTITY / "obama_3.jpg",
    "team1.jpg": IDENTITY / "biden_1.jpg",
    "team2.jpg": IDENTITY / "obama_2.jpg",
    "photos/a.jpg": PORTRAIT,
    "photos/b.jpg": IDENTITY / "biden_1.jpg",
}
#: Group photos the docs name, made of the identity photos side by side.
GROUPS: dict[str, list[Path]] = {
    "team.jpg": [IDENTITY / "obama_1.jpg", IDENTITY / "biden_1.jpg", IDENTITY / "obama_2.jpg"],
}

_LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost", "0.0.0.0", ""}


def _is_local(host: Any) -> bool:
    return not isinstance(host, str) or host in _LOCAL_HOSTS or host.startswith("127.")


@contextlib.contextmanager
def loopback_only() -> Iterator[None]:
    """Refuse every connection and name lookup that is not on this machine's loopback."""
    real_connect, real_lookup = socket.socket.connect, socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> Any:
        stream = self.type == socket.SOCK_STREAM  # UDP "connects" send nothing (distributed probes its IP so)
        if stream and self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            raise OSError(f"docs test: no network beyond loopback (connect to {address!r})")
        return real_connect(self, address)

    def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_local(host if not isinstance(host, bytes) else host.decode()):
            raise socket.gaierror(f"docs test: no network beyond loopback (lookup of {host!r})")
        return real_lookup(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.getaddrinfo = lookup
    try:
        yield
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.getaddrinfo = real_lookup


def _group(paths: list[Path], target: Path) -> None:
    images = [Image.open(path).convert("RGB") for path in paths]
    height = max(image.height for image in images)
    canvas = Image.new("RGB", (sum(image.width for image in images), height), (128, 128, 128))
    left = 0
    for image in images:
        canvas.paste(image, (left, 0))
        left += image.width
    canvas.save(target, quality=95)


class Scene:
    """The working directory and the stand-ins; each stand-in starts on first use, once.

    Args:
        directory: An empty directory that becomes the blocks' working directory.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._stack = contextlib.ExitStack()
        self._started: dict[str, Any] = {}
        for name, source in PHOTOS.items():
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, directory / name)
        for name, parts in GROUPS.items():
            _group(parts, directory / name)
        for folder in ("examples", "tests"):  # "examples/images/grace_hopper.jpg", tests' stand-ins
            (directory / folder).symlink_to(ROOT / folder)

    def close(self) -> None:
        """Stop every stand-in that was started."""
        self._stack.close()

    def _once(self, name: str, start: Callable[[], Any]) -> Any:
        if name not in self._started:
            self._started[name] = start()
        return self._started[name]

    # -- the stand-ins ---------------------------------------------------------------------
    def azure(self) -> str:
        """The Azure Face stand-in's endpoint (``http://127.0.0.1:PORT``)."""
        from tests.azure_rest.fake_service import Reply, scripted, serve

        answer = json.loads(AZURE_ANSWER.read_text(encoding="utf-8"))
        return str(self._once("azure", lambda: self._stack.enter_context(serve(scripted(Reply(body=answer)))).endpoint))

    def rekognition(self) -> str:
        """The Rekognition stand-in's URL."""
        from tests.aws.standin import RekognitionStandIn

        answer = (200, json.loads(AWS_ANSWER.read_text(encoding="utf-8")))
        return str(self._once("aws", lambda: self._stack.enter_context(RekognitionStandIn(answers=[answer])).url))

    def s3(self) -> tuple[str, str]:
        """``(endpoint, "s3://bucket/people/photo.jpg?versionId=...")`` of a moto S3 server."""

        def start() -> tuple[str, str]:
            import boto3
            from moto.server import ThreadedMotoServer

            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
            self._stack.callback(server.stop)
            host, port = server.get_host_and_port()
            url = f"http://{host}:{port}"
            s3 = boto3.client("s3", endpoint_url=url, region_name="eu-west-1")
            s3.create_bucket(Bucket="my-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
            s3.put_bucket_versioning(Bucket="my-bucket", VersioningConfiguration={"Status": "Enabled"})
            put = s3.put_object(Bucket="my-bucket", Key="people/photo.jpg", Body=PORTRAIT.read_bytes())
            return url, f"s3://my-bucket/people/photo.jpg?versionId={put['VersionId']}"

        found: tuple[str, str] = self._once("s3", start)
        return found

    def dask(self) -> str:
        """The scheduler address of an in-process Dask ``LocalCluster`` (threads, no processes)."""

        def start() -> str:
            from distributed import LocalCluster

            cluster = self._stack.enter_context(
                LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None)
            )
            return str(cluster.scheduler_address)

        return str(self._once("dask", start))

    def environment(self) -> dict[str, str]:
        """Variables every block sees: fake AWS credentials, the AWS stand-ins, no user config."""
        environ = {
            "AWS_ACCESS_KEY_ID": "AKIAFACEKITDOCSTEST1",
            "AWS_SECRET_ACCESS_KEY": "docs/test/secret/key/not/a/real/one/000",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(self.directory / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.directory / "no-aws-credentials"),
        }
        return environ


def _azure(scene: Scene) -> str:
    return scene.azure()


#: Text in the docs -> what replaces it when the block runs (a function of the scene).
PLACEHOLDERS: dict[str, Callable[[Scene], str]] = {
    "https://<name>.cognitiveservices.azure.com": _azure,
    "s3://my-bucket/people/photo.jpg?versionId=3HL4kqtJ": lambda scene: scene.s3()[1],
    "tcp://scheduler:8786": lambda scene: scene.dask(),
    "/shared/faces.parquet": lambda scene: str(scene.directory / "shared" / "faces.parquet"),
}

#: Environment a page needs, from the stand-ins it talks to (a function of the scene).
PAGE_ENVIRONMENT: dict[str, Callable[[Scene], dict[str, str]]] = {
    "docs/aws.md": lambda scene: {
        "FACEKIT_AWS_ENDPOINT_URL": scene.rekognition(),
        "FACEKIT_AWS_S3_ENDPOINT_URL": scene.s3()[0],
    },
    "docs/scale.md": lambda scene: {"FACEKIT_AWS_ENDPOINT_URL": scene.rekognition()},
    "README.md": lambda scene: write_config(scene),
}


def write_config(scene: Scene) -> dict[str, str]:
    """Write ``facekit.toml`` as facekit/_config.py describes it (its Azure profile on the stand-in)."""
    (scene.directory / "facekit.toml").write_text(
        '[default]\nprovider = "local"\n\n'
        f'[profiles.prod]\nprovider = "azure-rest"\nendpoint = "{scene.azure()}"\nkey = "docs-test-key"\n',
        encoding="utf-8",
    )
    return {}
