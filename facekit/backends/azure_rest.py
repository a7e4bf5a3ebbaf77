"""The ``azure-rest`` backend: Azure Face ``POST {endpoint}/face/{api_version}/detect`` through
``requests``.

Bytes go as ``application/octet-stream``; a URL input goes as ``{"url": ...}`` without being
downloaded. Requests are validated per model before sending (see
:mod:`facekit.backends._azure_wire`), retried on 408/429/5xx/network errors with backoff that
honours ``Retry-After`` (up to ``RetryPolicy.max_retry_after``), and every request has a timeout.
The key is kept in a :class:`pydantic.SecretStr` and never appears in repr, logs or errors.

Example:
    >>> from facekit import FaceClient
    >>> client = FaceClient("azure-rest", endpoint="https://myface.cognitiveservices.azure.com", key="...")
    >>> result = client.detect("photo.jpg", attributes=["head_pose", "blur"], landmarks=True)
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Final

import requests
from pydantic import SecretStr

from facekit._errors import (
    ConfigurationError,
    FacekitError,
    InvalidRequestError,
    NetworkError,
    ProviderError,
    RequestTimeoutError,
)
from facekit._http import guarded, install_adapter, parse_json, redact_secrets, transport_failure
from facekit._image import InputSpec, Payload
from facekit._models import DetectRequest
from facekit._ratelimit import RateLimiter
from facekit._retry import DEFAULT_TIMEOUT, RetryPolicy, call_with_retries
from facekit.backends._azure_wire import (
    DEFAULT_API_VERSION,
    PER_CALL_OPTIONS,
    AzureOptions,
    build_query,
    capabilities_for,
    capability_variants,
    check_azure_request,
    map_azure_error,
    normalize_azure_faces,
    recognition_model_of,
    request_id_of,
)
from facekit.backends._base import Backend, BackendResult, Capabilities

__all__ = [
    "AZURE_INPUT_SPEC",
    "TOKEN_SCOPE",
    "AzureBackendBase",
    "AzureRestBackend",
    "parse_endpoint",
    "parse_timeout",
    "read_answer",
]

logger = logging.getLogger("facekit.azure_rest")

#: What Azure Face takes: JPEG, PNG, GIF (first frame), BMP; 1 KB to 6 MB; bytes or a URL.
AZURE_INPUT_SPEC: Final = InputSpec(
    kinds=frozenset({"bytes", "url"}),
    formats=frozenset({"JPEG", "PNG", "GIF", "BMP"}),
    min_bytes=1024,
    max_bytes=6 * 1024 * 1024,
)
#: Entra ID scope asked of a ``token_provider`` that has ``get_token`` (an azure-identity credential).
TOKEN_SCOPE: Final = "https://cognitiveservices.azure.com/.default"

_URL_RE: Final = re.compile(r"^https?://[^/?#\s]+(/[^?#\s]*)?$")
_FACE_PATH_RE: Final = re.compile(r"/face/(?P<version>v[^/]+)$")

Timeout = float | tuple[float, float]


def parse_timeout(value: Any) -> Timeout:
    """``30``, ``"30"``, ``(5, 30)``, ``[5, 30]`` or ``"5,30"`` -> seconds (connect, read)."""
    try:
        if isinstance(value, str):
            parts = [float(part) for part in value.split(",")]
            value = parts[0] if len(parts) == 1 else tuple(parts)
        if isinstance(value, (list, tuple)):
            connect, read = (float(part) for part in value)
            if connect > 0 and read > 0:
                return (connect, read)
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            return float(value)
    except (TypeError, ValueError):
        pass
    raise ConfigurationError(f"timeout must be seconds > 0 or a (connect, read) pair, got {value!r}")


def parse_endpoint(endpoint: str) -> tuple[str, str | None]:
    """Split ``https://host[/path][/face/v1.0[/detect]]`` into the base URL and the version in it."""
    text = endpoint.strip().rstrip("/")
    if not _URL_RE.match(text):
        raise ConfigurationError(
            f"endpoint {endpoint!r} is not an http(s) URL; use your resource's endpoint, "
            "e.g. https://<name>.cognitiveservices.azure.com"
        )
    text = text.removesuffix("/detect")
    match = _FACE_PATH_RE.search(text)
    if match is None:
        return text, None
    return text[: match.start()], match.group("version")


class AzureBackendBase(Backend):
    """What the ``azure-rest`` and ``azure-sdk`` backends share: model options, capabilities,
    validation, input limits and a secret-free description.

    Subclasses set ``_options`` (:class:`AzureOptions`), ``_endpoint_url`` and ``_auth_kind``
    (``"key"`` or ``"token"``) in ``__init__``.
    """

    #: Shared by both Azure backends: one environment drives either (Microsoft's quickstarts
    #: use FACE_ENDPOINT and FACE_APIKEY).
    env_vars: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "endpoint": ("FACEKIT_AZURE_ENDPOINT", "FACE_ENDPOINT", "AZURE_FACE_ENDPOINT"),
        "key": ("FACEKIT_AZURE_KEY", "FACE_APIKEY", "AZURE_FACE_KEY"),
        "api_version": ("FACEKIT_AZURE_API_VERSION",),
        "detection_model": ("FACEKIT_AZURE_DETECTION_MODEL",),
        "recognition_model": ("FACEKIT_AZURE_RECOGNITION_MODEL",),
        "face_id_time_to_live": ("FACEKIT_AZURE_FACE_ID_TTL",),
        "allow_retired_attributes": ("FACEKIT_AZURE_ALLOW_RETIRED_ATTRIBUTES",),
        "timeout": ("FACEKIT_AZURE_TIMEOUT",),
    }

    #: The per-call options of Azure detect (model choices; ``_azure_wire.PER_CALL_OPTIONS``).
    call_options: ClassVar[Mapping[str, str]] = PER_CALL_OPTIONS

    _options: AzureOptions
    _endpoint_url: str
    _auth_kind: str

    @property
    def options(self) -> AzureOptions:
        """The configured model options (per-call options may override them)."""
        return self._options

    @property
    def capabilities(self) -> Capabilities:
        o = self._options
        return capabilities_for(o.detection_model, o.recognition_model, o.allow_retired_attributes)

    @classmethod
    def capability_variants(cls) -> dict[str, Capabilities]:
        """Capabilities per detection model, without credentials (for ``facekit providers``)."""
        return capability_variants()

    @property
    def input_spec(self) -> InputSpec:
        return AZURE_INPUT_SPEC

    def info(self) -> dict[str, Any]:
        return {
            "endpoint": self._endpoint_url,
            "api_version": self._options.api_version,
            "detection_model": self._options.detection_model,
            "recognition_model": self._options.recognition_model,
            "auth": self._auth_kind,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(" + ", ".join(f"{k}={v!r}" for k, v in self.info().items()) + ")"

    def check_request(self, request: DetectRequest) -> tuple[DetectRequest, list[str]]:
        return check_azure_request(request, self._options, backend=self.name)


class AzureRestBackend(AzureBackendBase):
    """Azure Face Detect over REST.

    Every argument may also come from the environment or a config profile (through
    :class:`~facekit.FaceClient`); see ``docs/azure.md``.

    Args:
        endpoint: The resource endpoint, ``https://<name>.cognitiveservices.azure.com`` (a regional
            ``https://westus.api.cognitive.microsoft.com`` or a full ``.../face/v1.0/detect`` URL
            also works; a version in it is used when ``api_version`` is not given).
            Env: ``FACEKIT_AZURE_ENDPOINT``, ``FACE_ENDPOINT``, ``AZURE_FACE_ENDPOINT``.
        key: Subscription key (header ``Ocp-Apim-Subscription-Key``).
            Env: ``FACEKIT_AZURE_KEY``, ``FACE_APIKEY``, ``AZURE_FACE_KEY``.
        token: A Microsoft Entra bearer token (used instead of ``key`` when given).
        token_provider: A callable returning a fresh bearer token, or a credential with
            ``get_token(scope)`` (e.g. ``azure.identity.DefaultAzureCredential()``); called per request.
        api_version: ``v1.0``, ``v1.1-preview.1``, ``v1.2-preview.1`` or ``v1.2`` (default).
            Env: ``FACEKIT_AZURE_API_VERSION``.
        detection_model: ``detection_01`` (default), ``detection_02`` or ``detection_03``.
            Env: ``FACEKIT_AZURE_DETECTION_MODEL``.
        recognition_model: ``recognition_01`` (default) .. ``recognition_04``.
            Env: ``FACEKIT_AZURE_RECOGNITION_MODEL``.
        face_id_time_to_live: Seconds a face id lives, 60..86400 (v1.1+; only with ``face_id=True``
            does it matter). Env: ``FACEKIT_AZURE_FACE_ID_TTL``.
        return_recognition_model: Ask Azure to echo the recognition model (default False).
        allow_retired_attributes: Allow age, gender, emotion, smile, facial_hair, hair and makeup,
            retired in 2023 (only old endpoints still return them). Default False.
            Env: ``FACEKIT_AZURE_ALLOW_RETIRED_ATTRIBUTES``.
        timeout: Seconds, or (connect, read) seconds, for every request. Default (5, 30).
            Env: ``FACEKIT_AZURE_TIMEOUT`` (``"30"`` or ``"5,30"``).
        retry: Retry policy (default: 2 retries, backoff 0.5 s doubling, Retry-After honoured up to 60 s).
        rate_limiter: A shared :class:`~facekit.RateLimiter` (e.g. ``RateLimiter.per_minute(20)``
            for the free tier), acquired before every attempt.
        session: A ``requests.Session`` to use (not closed by :meth:`close`; facekit mounts its
            deadline-aware adapter on it for http and https); default: an own one.
        sleep: The sleep function used between retries (for tests); default ``time.sleep``.

    Raises:
        ConfigurationError: No endpoint, no credential, or an invalid setting.
    """

    name: ClassVar[str] = "azure-rest"
    extra: ClassVar[str | None] = "azure"
    secret_options: ClassVar[frozenset[str]] = frozenset({"key", "token"})

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        key: str | SecretStr | None = None,
        token: str | SecretStr | None = None,
        token_provider: Callable[[], str] | Any | None = None,
        api_version: str | None = None,
        detection_model: str | None = None,
        recognition_model: str | None = None,
        face_id_time_to_live: int | str | None = None,
        return_recognition_model: bool | str | None = None,
        allow_retired_attributes: bool | str | None = None,
        timeout: Timeout | str | list[float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        rate_limiter: RateLimiter | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if not endpoint:
            raise ConfigurationError(
                "the azure-rest backend needs an endpoint: pass endpoint='https://<name>.cognitiveservices.azure.com' "
                "or set FACEKIT_AZURE_ENDPOINT (or FACE_ENDPOINT)"
            )
        self._base, url_version = parse_endpoint(endpoint)
        if api_version and url_version and api_version != url_version:
            raise ConfigurationError(
                f"the endpoint names API version {url_version} but api_version={api_version!r}; give one of them"
            )
        self._key = SecretStr(key) if isinstance(key, str) and key else key if isinstance(key, SecretStr) else None
        self._token = SecretStr(token) if isinstance(token, str) and token else token if isinstance(token, SecretStr) else None
        if token_provider is not None and not callable(token_provider) and not hasattr(token_provider, "get_token"):
            raise ConfigurationError("token_provider must be a callable returning a token or have get_token(scope)")
        self._token_provider = token_provider
        if self._key is None and self._token is None and token_provider is None:
            raise ConfigurationError(
                "the azure-rest backend needs a credential: pass key=... (or token=/token_provider=) "
                "or set FACEKIT_AZURE_KEY (or FACE_APIKEY)"
            )
        self._options = AzureOptions.build(
            api_version=api_version or url_version or DEFAULT_API_VERSION,
            detection_model=detection_model,
            recognition_model=recognition_model,
            face_id_time_to_live=face_id_time_to_live,
            return_recognition_model=return_recognition_model,
            allow_retired_attributes=allow_retired_attributes,
        )
        self._timeout = parse_timeout(timeout)
        self._retry = retry or RetryPolicy()
        self._rate_limiter = rate_limiter
        self._own_session = session is None
        self._session = install_adapter(session or requests.Session())
        self._sleep = sleep if sleep is not None else time.sleep
        self._endpoint_url = self._base
        self._auth_kind = "key" if self._token is None and self._token_provider is None else "token"

    def close(self) -> None:
        if self._own_session:
            self._session.close()

    # -- detection --------------------------------------------------------------------------
    def detect(self, payload: Payload, request: DetectRequest) -> BackendResult:
        options, url, query, data, content_type = self.detect_request(payload, request)

        def attempt() -> tuple[Any, dict[str, str]]:
            if self._rate_limiter is not None:
                self._rate_limiter.acquire()
            return self._post(url, query, data, content_type)

        body, headers = call_with_retries(attempt, self._retry, sleep=self._sleep)
        return self.detect_result(body, headers, payload, options)

    def detect_request(
        self, payload: Payload, request: DetectRequest
    ) -> tuple[AzureOptions, str, dict[str, str], bytes, str]:
        """What one ``/detect`` sends (shared with the async backend): options, URL, query, body, type.

        Raises:
            InvalidRequestError: A payload that is neither bytes nor a URL.
        """
        options = self._options.with_overrides(request.options)
        query = build_query(request, options)
        url = f"{self._base}/face/{options.api_version}/detect"
        if payload.kind == "url" and payload.url:
            return options, url, query, json.dumps({"url": payload.url}).encode(), "application/json"
        if payload.kind == "bytes" and payload.data is not None:
            return options, url, query, payload.data, "application/octet-stream"
        raise InvalidRequestError(f"azure-rest takes image bytes or a URL, not a {payload.kind!r} payload")

    def detect_result(
        self, body: Any, headers: Mapping[str, str], payload: Payload, options: AzureOptions
    ) -> BackendResult:
        """A ``/detect`` answer body normalised (shared with the async backend).

        Raises:
            ProviderError: The body is not a list of faces (with the request id).
        """
        try:
            faces = normalize_azure_faces(body, width=payload.width, height=payload.height)
        except ProviderError as exc:
            exc.provider, exc.request_id = self.name, request_id_of(dict(headers))
            raise
        models = {
            "detection": options.detection_model,
            "recognition": recognition_model_of(body) or options.recognition_model,
        }
        runtime = {"api_version": options.api_version, "request_id": request_id_of(dict(headers))}
        return BackendResult(faces=faces, raw=body, models=models, runtime=runtime)


    # -- identity (Limited Access) -----------------------------------------------------------
    def _post_json(self, operation: str, body: dict[str, Any]) -> Any:
        url = f"{self._base}/face/{self._options.api_version}/{operation}"
        data = json.dumps(body).encode()

        def attempt() -> tuple[Any, dict[str, str]]:
            if self._rate_limiter is not None:
                self._rate_limiter.acquire()
            return self._post(url, {}, data, "application/json")

        answer, _ = call_with_retries(attempt, self._retry, sleep=self._sleep)
        return answer

    def verify_face_ids(self, face_id_a: str, face_id_b: str) -> dict[str, Any]:
        """``POST /face/{version}/verify`` with two face ids (Limited Access)."""
        from facekit.backends._azure_identity import parse_verify, verify_body

        return parse_verify(self._post_json("verify", verify_body(face_id_a, face_id_b)), provider=self.name)

    def find_similar_face_ids(self, face_id: str, face_ids: list[str], max_candidates: int) -> list[dict[str, Any]]:
        """``POST /face/{version}/findsimilars`` with ``faceIds`` (Limited Access), mode matchPerson."""
        from facekit.backends._azure_identity import find_similar_body, parse_find_similar

        body = find_similar_body(face_id, face_ids, max_candidates)
        return parse_find_similar(self._post_json("findsimilars", body), provider=self.name)

    def _auth_headers(self) -> dict[str, str]:
        if self._token_provider is not None:
            provider = self._token_provider
            token = provider.get_token(TOKEN_SCOPE).token if hasattr(provider, "get_token") else provider()
            return {"Authorization": f"Bearer {token}"}
        if self._token is not None:
            return {"Authorization": f"Bearer {self._token.get_secret_value()}"}
        assert self._key is not None
        return {"Ocp-Apim-Subscription-Key": self._key.get_secret_value()}

    def _post(self, url: str, query: dict[str, str], data: bytes, content_type: str) -> tuple[Any, dict[str, str]]:
        """One attempt: POST, read the whole body (bounded in time and size), map failures to the tree."""
        headers = {"Content-Type": content_type, "Accept": "application/json", **self._auth_headers()}
        logger.debug("POST %s %s (%d bytes, %s)", url, query, len(data), content_type)
        try:
            with guarded("the request to Azure", provider=self.name):
                response = self._session.post(url, params=query, data=data, headers=headers, timeout=self._timeout)
                content = response.content  # read (and size-capped) by the guarded adapter
        except FacekitError as exc:
            exc.provider = exc.provider or self.name
            raise
        except Exception as exc:  # the seam: whatever requests, urllib3 or the socket raised
            redact_secrets(exc)
            failure = transport_failure(exc)
            if failure == "timeout":
                raise RequestTimeoutError(
                    f"Azure did not answer, or stopped sending its answer, within the timeout ({self._timeout} s) "
                    f"at {url}; raise timeout= or try again",
                    provider=self.name,
                ) from exc
            if failure is None and not isinstance(exc, requests.RequestException):
                raise ProviderError(
                    f"the request to Azure at {url} failed ({type(exc).__name__})", provider=self.name
                ) from exc
            raise NetworkError(
                f"no usable answer from Azure at {url} ({type(exc).__name__}: connection refused, reset or "
                "body cut short); check the endpoint and the network",
                provider=self.name,
            ) from exc
        return read_answer(response.status_code, dict(response.headers), content, provider=self.name)


def read_answer(status: int, headers: dict[str, str], content: bytes, *, provider: str) -> tuple[Any, dict[str, str]]:
    """One Azure answer read whole: its JSON body and headers, or the mapped error.

    Shared by the sync (requests) and async (aiohttp) backends, so both read answers alike.

    Raises:
        FacekitError: The status mapped (``map_azure_error``), or a 2xx body that is not JSON.
    """
    try:
        body: Any = parse_json(content) if content else None
    except ValueError:
        body = content.decode("utf-8", "replace")[:2000]
    logger.debug("Azure answered %s (request id %s)", status, request_id_of(headers))
    if status >= 400:
        raise map_azure_error(status, body, headers, provider=provider)
    if isinstance(body, str) or body is None:
        raise ProviderError(
            f"Azure answered HTTP {status} with a body that is not JSON",
            provider=provider,
            status=status,
            request_id=request_id_of(headers),
            body=body,
        )
    return body, headers
