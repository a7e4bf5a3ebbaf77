"""The ``aws`` backend (alias ``rekognition``): Amazon Rekognition ``DetectFaces`` through boto3.

Images go as ``Image.Bytes`` (JPEG or PNG, at most 5,242,880 bytes, at least 80 pixels a side;
facekit re-encodes and rescales to fit and maps coordinates back) or, for ``s3://bucket/key``
inputs, as ``Image.S3Object`` without downloading the object: a ranged GET of its first bytes
tells the upright size the ratios refer to.

Throttling and 5xx answers are retried by botocore (``retry_mode``/``max_attempts``); facekit
adds no retry loop of its own.

Example:
    >>> from facekit import FaceClient
    >>> client = FaceClient("aws", region="eu-west-1")
    >>> result = client.detect("s3://my-bucket/photo.jpg", attributes=["age", "emotion"], landmarks=True)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Final

from pydantic import SecretStr

from facekit._deps import require
from facekit._errors import ConfigurationError, FacekitError, InvalidRequestError, ProviderError
from facekit._http import guarded
from facekit._image import InputSpec, Payload, S3Location
from facekit._models import DetectRequest
from facekit._version import __version__
from facekit._vocabulary import AWS_LANDMARKS
from facekit.backends._aws_errors import map_botocore_error, map_client_error
from facekit.backends._aws_guard import guard_client
from facekit.backends._aws_s3 import S3Image, bucket_region, probe_s3_image
from facekit.backends._aws_wire import SUPPORTED_ATTRIBUTES, aws_attributes_for, parse_detect_faces
from facekit.backends._base import Backend, BackendResult, Capabilities, CompareResult

__all__ = ["MAX_BYTES", "MIN_SIDE", "RekognitionBackend"]

#: Largest ``Image.Bytes`` Rekognition takes, bytes.
MAX_BYTES: Final = 5_242_880
#: Smallest width and height Rekognition takes, pixels.
MIN_SIDE: Final = 80
#: Default botocore retry mode and total attempts (first try included).
DEFAULT_RETRY_MODE: Final = "standard"
DEFAULT_MAX_ATTEMPTS: Final = 3
#: Default connect and read timeouts, seconds.
DEFAULT_CONNECT_TIMEOUT: Final = 5.0
DEFAULT_READ_TIMEOUT: Final = 30.0

_UNSUPPORTED_NOTE: Final = "Rekognition DetectFaces does not return it"
_NOTES: Final = {
    name: _UNSUPPORTED_NOTE
    for name in ("accessories", "hair", "makeup", "blur", "exposure", "noise", "mask", "quality_for_recognition")
}


class RekognitionBackend(Backend):
    """Amazon Rekognition ``DetectFaces``.

    Credentials come from boto3's standard chain (environment, shared files, SSO, IAM role)
    unless given. Options (keyword only; environment variables in brackets, read by
    :class:`~facekit.FaceClient`):

    Args:
        region: AWS region, e.g. ``"eu-west-1"`` [``FACEKIT_AWS_REGION``, ``AWS_REGION``,
            ``AWS_DEFAULT_REGION``]; default: the profile's region.
        profile: Named profile in ``~/.aws/config`` (e.g. in a facekit TOML config file).
        aws_profile: The same, winning over ``profile`` [``AWS_PROFILE``]. Use this name in
            ``FaceClient(...)`` keyword arguments, where ``profile=`` names a facekit config-file
            profile.
        endpoint_url: Rekognition endpoint, e.g. a VPC endpoint or a local stand-in
            [``FACEKIT_AWS_ENDPOINT_URL``].
        s3_endpoint_url: S3 endpoint for reading ``s3://`` headers [``FACEKIT_AWS_S3_ENDPOINT_URL``].
        botocore_config: A ``botocore.config.Config``; its settings win over the ones below.
        retry_mode: botocore retry mode: ``"standard"`` (default), ``"adaptive"`` or ``"legacy"``.
        max_attempts: Total attempts per call including the first (default 3; 1 disables retries).
        connect_timeout: Seconds to wait for a connection (default 5).
        read_timeout: Seconds to wait for an answer (default 30).
        client: A ready boto3 Rekognition client (then the options above are not used for it).
        s3_client: A ready boto3 S3 client for ``s3://`` inputs (default: one made like the
            Rekognition client, without its ``endpoint_url``).
        aws_access_key_id: Access key id (prefer the credential chain).
        aws_secret_access_key: Secret access key (kept secret: never shown).
        aws_session_token: Session token for temporary credentials (kept secret).

    Raises:
        ConfigurationError: No region anywhere, an unknown profile, or half a key pair.
        MissingDependencyError: boto3 is not installed (``pip install 'facekit-detect[aws]'``).
    """

    name: ClassVar[str] = "aws"
    extra: ClassVar[str | None] = "aws"
    env_vars: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "region": ("FACEKIT_AWS_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
        "aws_profile": ("AWS_PROFILE",),
        "endpoint_url": ("FACEKIT_AWS_ENDPOINT_URL",),
        "s3_endpoint_url": ("FACEKIT_AWS_S3_ENDPOINT_URL",),
    }
    secret_options: ClassVar[frozenset[str]] = frozenset({"aws_secret_access_key", "aws_session_token"})

    def __init__(
        self,
        *,
        region: str | None = None,
        profile: str | None = None,
        aws_profile: str | None = None,
        endpoint_url: str | None = None,
        s3_endpoint_url: str | None = None,
        botocore_config: Any = None,
        retry_mode: str = DEFAULT_RETRY_MODE,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        client: Any = None,
        s3_client: Any = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | SecretStr | None = None,
        aws_session_token: str | SecretStr | None = None,
    ) -> None:
        require("boto3", extra="aws", feature="the 'aws' backend")
        if retry_mode not in ("standard", "adaptive", "legacy"):
            raise ConfigurationError(f"retry_mode must be 'standard', 'adaptive' or 'legacy', got {retry_mode!r}")
        if int(max_attempts) < 1:
            raise ConfigurationError(f"max_attempts must be at least 1 (the first try), got {max_attempts!r}")
        self._secret = _secret(aws_secret_access_key)
        self._token = _secret(aws_session_token)
        if (aws_access_key_id is None) != (self._secret is None):
            raise ConfigurationError(
                "pass both aws_access_key_id and aws_secret_access_key, or neither (to use AWS_PROFILE, "
                "the environment or an IAM role)"
            )
        self._key_id = aws_access_key_id
        self._profile = aws_profile or profile
        self._endpoint_url = endpoint_url
        self._s3_endpoint_url = s3_endpoint_url
        self._config = self._botocore_config(
            botocore_config, retry_mode, int(max_attempts), connect_timeout, read_timeout
        )
        self._session: Any = None
        self._owned: list[Any] = []
        if client is None:
            self._session = self._make_session(region)
            client = self._make_client("rekognition", region, endpoint_url)
            self._owned.append(client)
        self._client = client
        guard_client(client)
        self._s3 = s3_client
        if s3_client is not None:
            guard_client(s3_client)
        self._region: str | None = getattr(getattr(client, "meta", None), "region_name", None) or region

    # -- construction ----------------------------------------------------------------
    @staticmethod
    def _botocore_config(config: Any, mode: str, attempts: int, connect: float, read: float) -> Any:
        from botocore.config import Config

        ours = Config(
            retries={"mode": mode, "total_max_attempts": attempts},
            connect_timeout=connect,
            read_timeout=read,
            user_agent_extra=f"facekit/{__version__}",
            # as many pooled connections as the async client runs calls at once (urllib3 would
            # otherwise open and discard a connection per call beyond botocore's default of 10)
            max_pool_connections=RekognitionBackend.async_threads,
        )
        return ours.merge(config) if config is not None else ours

    def _make_session(self, region: str | None) -> Any:
        import boto3
        from botocore.exceptions import ProfileNotFound

        try:
            return boto3.session.Session(
                profile_name=self._profile,
                region_name=region,
                aws_access_key_id=self._key_id,
                aws_secret_access_key=self._secret.get_secret_value() if self._secret else None,
                aws_session_token=self._token.get_secret_value() if self._token else None,
            )
        except ProfileNotFound as exc:
            raise ConfigurationError(
                f"AWS profile {self._profile!r} not found in ~/.aws/config or ~/.aws/credentials; check aws_profile= "
                "or AWS_PROFILE"
            ) from exc

    def _make_client(self, service: str, region: str | None, endpoint_url: str | None) -> Any:
        from botocore.exceptions import BotoCoreError, NoRegionError

        try:
            return self._session.client(service, region_name=region, endpoint_url=endpoint_url, config=self._config)
        except NoRegionError as exc:
            raise ConfigurationError(
                "no AWS region: pass region= or set FACEKIT_AWS_REGION, AWS_REGION or AWS_DEFAULT_REGION "
                "(or a region in your AWS profile)"
            ) from exc
        except ValueError as exc:  # botocore: invalid endpoint URL
            raise ConfigurationError(f"invalid endpoint_url for {service}: {endpoint_url!r}") from exc
        except BotoCoreError as exc:
            raise ConfigurationError(f"cannot create the {service} client ({type(exc).__name__})") from exc

    @property
    def client(self) -> Any:
        """The boto3 Rekognition client."""
        return self._client

    @property
    def credentials(self) -> Any:
        """The botocore credentials the Rekognition client signs with (None when none were found).

        From facekit's own boto3 session (public API, ``Session.get_credentials``: the object its
        client was made with); for a client passed in, read from that client's signer.
        """
        if self._session is not None and self._client in self._owned:
            return self._session.get_credentials()
        return getattr(getattr(self._client, "_request_signer", None), "_credentials", None)

    @property
    def s3_client(self) -> Any:
        """The boto3 S3 client used to read ``s3://`` headers (made on first use)."""
        if self._s3 is None:
            if self._session is None:
                import boto3

                self._session = boto3.session.Session(region_name=self._region)
            self._s3 = self._make_client("s3", self._region, self._s3_endpoint_url)
            guard_client(self._s3)
            self._owned.append(self._s3)
        return self._s3

    # -- interface -----------------------------------------------------------------------
    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            attributes=SUPPORTED_ATTRIBUTES,
            landmarks=frozenset(AWS_LANDMARKS.values()),
            face_id=False,
            inputs=frozenset({"bytes", "s3"}),
            max_faces=100,
            notes=_NOTES,
            verify="compare",
            find_similar="compare",
        )

    @property
    def input_spec(self) -> InputSpec:
        return InputSpec(
            kinds=frozenset({"bytes", "s3"}),
            formats=frozenset({"JPEG", "PNG"}),
            min_bytes=1,
            max_bytes=MAX_BYTES,
            min_side=MIN_SIDE,
        )

    def info(self) -> dict[str, Any]:
        facts: dict[str, Any] = {"region": self._region}
        if self._profile:
            facts["profile"] = self._profile
        if self._endpoint_url:
            facts["endpoint_url"] = self._endpoint_url
        return facts

    def __repr__(self) -> str:
        details = ", ".join(f"{key}={value!r}" for key, value in self.info().items())
        return f"RekognitionBackend({details})"

    def detect(self, payload: Payload, request: DetectRequest) -> BackendResult:
        """Call ``DetectFaces``; faces in pixels of what was sent (the upright object for S3).

        Raises:
            InvalidRequestError: Bad S3 location, or an S3 object Rekognition cannot read.
            InvalidImageError: Image format or size rejected.
            AuthenticationError: Missing or rejected credentials, or access denied.
            RateLimitError: Throttled even after botocore's retries.
            ServiceUnavailableError: Rekognition failed (after botocore's retries).
            RequestTimeoutError / NetworkError: No answer.
        """
        s3_image: S3Image | None = None
        if payload.kind == "s3" and payload.s3 is not None:
            s3_image = probe_s3_image(self.s3_client, payload.s3)
            image: dict[str, Any] = {"S3Object": _s3_object(payload.s3)}
            width, height = s3_image.width, s3_image.height
        elif payload.kind == "bytes" and payload.data is not None and payload.width and payload.height:
            image = {"Bytes": payload.data}
            width, height = payload.width, payload.height
        else:
            raise InvalidRequestError(f"the aws backend cannot send a {payload.kind!r} payload", provider=self.name)
        attributes = aws_attributes_for(request.attributes, landmarks=bool(request.landmarks))
        response = self._call(image, attributes, payload.s3)
        return self.detect_result(response, request, attributes, width, height, s3_image=s3_image, payload=payload)

    def detect_result(
        self,
        response: dict[str, Any],
        request: DetectRequest,
        attributes: list[str],
        width: int,
        height: int,
        *,
        s3_image: S3Image | None = None,
        payload: Payload | None = None,
    ) -> BackendResult:
        """A ``DetectFaces`` answer normalised (shared with the async backend).

        Args:
            response: The answer (boto3's, or the wire JSON with ``ResponseMetadata``).
            request: The checked request.
            attributes: The ``Attributes`` sent.
            width, height: Size of the image Rekognition analysed, pixels.
            s3_image: The S3 object's facts, for ``s3://`` inputs.
            payload: The payload sent (for the S3 location in warnings).

        Raises:
            ProviderError: Not a ``DetectFaces`` answer.
        """
        faces, warnings = parse_detect_faces(
            response, width, height, attributes=request.attributes, landmarks=bool(request.landmarks)
        )
        runtime: dict[str, Any] = {"region": self._region, "requested_attributes": attributes}
        if s3_image is not None:
            runtime["s3_object"] = s3_image.facts()
            if s3_image.header.format == "PNG" and s3_image.header.orientation not in (None, 1):
                location = payload.s3 if payload is not None else None
                warnings.append(
                    f"{location.uri if location else 'the PNG'} has EXIF orientation {s3_image.header.orientation}, "
                    "which Rekognition ignores for PNG: coordinates refer to the stored (not rotated) pixels"
                )
        return BackendResult(
            faces=faces,
            raw=response,
            models={"detection": "rekognition-detect-faces"},
            warnings=warnings,
            runtime=runtime,
            image_size=(width, height) if s3_image is not None else None,
        )

    def _call(self, image: dict[str, Any], attributes: list[str], location: S3Location | None) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            with guarded("the request to Rekognition", provider=self.name):
                response: dict[str, Any] = self._client.detect_faces(Image=image, Attributes=attributes)
        except FacekitError:
            raise
        except ClientError as exc:
            code = (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")
            hint = self._region_hint(location) if code == "InvalidS3ObjectException" and location else None
            raise map_client_error(exc, s3_hint=hint) from exc
        except BotoCoreError as exc:
            raise map_botocore_error(exc) from exc
        except Exception as exc:  # botocore's parser on a body of the wrong shape (AttributeError ...)
            raise ProviderError(
                f"Rekognition's answer could not be read ({type(exc).__name__}); it is not a DetectFaces answer: "
                "check endpoint_url and the network",
                provider=self.name,
            ) from exc
        return response

    def _region_hint(self, location: S3Location) -> str | None:
        region = bucket_region(self.s3_client, location.bucket)
        if region and self._region and region != self._region:
            return (
                f"the bucket {location.bucket!r} is in {region} but Rekognition was called in {self._region}, and "
                f"Rekognition reads S3 objects only in its own region: pass region={region!r} (or set "
                "FACEKIT_AWS_REGION), or copy the object to a bucket in that region"
            )
        return None

    def compare_faces(
        self, source: Payload, target: Payload, *, similarity_threshold: float, quality_filter: str | None
    ) -> CompareResult:
        """Rekognition ``CompareFaces`` (see :mod:`facekit.backends._aws_compare`)."""
        from facekit.backends._aws_compare import compare_faces

        return compare_faces(
            self, source, target, similarity_threshold=similarity_threshold, quality_filter=quality_filter
        )

    def close(self) -> None:
        """Close the clients this backend made (clients passed in are left open)."""
        while self._owned:
            closer = getattr(self._owned.pop(), "close", None)
            if callable(closer):
                closer()


def _secret(value: str | SecretStr | None) -> SecretStr | None:
    if value is None or isinstance(value, SecretStr):
        return value
    return SecretStr(value)


def _s3_object(location: S3Location) -> dict[str, str]:
    s3_object = {"Bucket": location.bucket, "Name": location.key}
    if location.version:
        s3_object["Version"] = location.version
    return s3_object
