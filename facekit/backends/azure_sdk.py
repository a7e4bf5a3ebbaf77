"""The ``azure-sdk`` backend: Azure Face Detect through Microsoft's ``azure-ai-vision-face`` SDK.

Bytes go through ``FaceClient.detect``, URL inputs through ``FaceClient.detect_from_url`` (not
downloaded). Everything Azure-specific that does not depend on the transport is shared with
the ``azure-rest`` backend through :mod:`facekit.backends._azure_wire`: per-model validation
(retired attributes included), the query parameters (turned into the SDK's keyword arguments),
the normalisation of the response (the SDK's models are mappings of the wire JSON, so
``face.as_dict()`` is the body as received) and the status/code error mapping. Both backends
therefore give identical results for identical response bodies.

Retries: azure-core keeps its own POST retries of 500/503/504 (a failed connection or a timeout
of a POST is not retried, by azure-core or here); it is
stopped from retrying 4xx answers (it would retry a 429 carrying ``Retry-After`` up to 3 times,
uncapped), and facekit retries 429 itself per :class:`~facekit.RetryPolicy` (Retry-After
honoured up to ``max_retry_after``, at most ``max_retries`` times).

Example:
    >>> from facekit import FaceClient
    >>> client = FaceClient("azure-sdk", endpoint="https://myface.cognitiveservices.azure.com", key="...")
    >>> result = client.detect("photo.jpg", attributes=["head_pose", "blur"], landmarks=True)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Final

from pydantic import SecretStr

from facekit._deps import require
from facekit._errors import ConfigurationError, FacekitError, InvalidRequestError, ProviderError, RateLimitError
from facekit._http import guarded, redact_secrets
from facekit._image import Payload
from facekit._limits import current_limits
from facekit._models import DetectRequest
from facekit._ratelimit import RateLimiter
from facekit._retry import DEFAULT_TIMEOUT, RetryPolicy, fits_deadline, retry_delay, should_retry
from facekit.backends._azure_wire import (
    DEFAULT_API_VERSION,
    AzureOptions,
    build_query,
    normalize_azure_faces,
    recognition_model_of,
    request_id_of,
)
from facekit.backends._base import BackendResult
from facekit.backends.azure_rest import AzureBackendBase, parse_endpoint, parse_timeout

__all__ = ["SDK_KEYWORDS", "AzureSdkBackend", "detect_call", "sdk_keywords"]

logger = logging.getLogger("facekit.azure_sdk")

#: ``/detect`` query parameter (as built by ``_azure_wire.build_query``) -> the SDK's keyword.
SDK_KEYWORDS: Final[dict[str, str]] = {
    "detectionModel": "detection_model",
    "recognitionModel": "recognition_model",
    "returnFaceId": "return_face_id",
    "returnFaceLandmarks": "return_face_landmarks",
    "returnFaceAttributes": "return_face_attributes",
    "returnRecognitionModel": "return_recognition_model",
    "faceIdTimeToLive": "face_id_time_to_live",
}
_BOOLEAN_KEYWORDS: Final = frozenset({"return_face_id", "return_face_landmarks", "return_recognition_model"})


def sdk_keywords(query: Mapping[str, str]) -> dict[str, Any]:
    """Turn the shared ``/detect`` query into keyword arguments of ``FaceClient.detect``.

    The SDK serialises them back into the very same query (a test checks it), so both
    backends send the same parameters.

    Args:
        query: The output of :func:`facekit.backends._azure_wire.build_query`.

    Raises:
        InvalidRequestError: A parameter the SDK has no keyword for.
    """
    keywords: dict[str, Any] = {}
    for name, value in query.items():
        keyword = SDK_KEYWORDS.get(name)
        if keyword is None:
            raise InvalidRequestError(f"the Azure SDK has no keyword for the {name!r} query parameter")
        if keyword in _BOOLEAN_KEYWORDS:
            keywords[keyword] = value == "true"
        elif keyword == "return_face_attributes":
            keywords[keyword] = value.split(",")
        elif keyword == "face_id_time_to_live":
            keywords[keyword] = int(value)
        else:
            keywords[keyword] = value
    return keywords


class AzureSdkBackend(AzureBackendBase):
    """Azure Face Detect through ``azure.ai.vision.face.FaceClient`` (pip extra ``azure-sdk``).

    Every argument may also come from the environment or a config profile (through
    :class:`~facekit.FaceClient`); the variables are the ``azure-rest`` backend's, so one
    environment drives both. See ``docs/azure-sdk.md``.

    Args:
        endpoint: The resource endpoint, ``https://<name>.cognitiveservices.azure.com`` (a full
            ``.../face/v1.2/detect`` URL also works: its version is used when ``api_version`` is
            not given). Env: ``FACEKIT_AZURE_ENDPOINT``, ``FACE_ENDPOINT``, ``AZURE_FACE_ENDPOINT``.
        key: Subscription key, wrapped in ``AzureKeyCredential``.
            Env: ``FACEKIT_AZURE_KEY``, ``FACE_APIKEY``, ``AZURE_FACE_KEY``.
        credential: Any azure-core ``TokenCredential`` (or an ``AzureKeyCredential``); used instead
            of ``key`` when both are given. With neither, ``azure.identity.DefaultAzureCredential()``
            when azure-identity is installed.
        api_version: ``v1.2`` (default, as ``azure-rest``; the SDK's own default is
            ``v1.2-preview.1``), ``v1.2-preview.1``, ``v1.1-preview.1`` or ``v1.0``.
            Env: ``FACEKIT_AZURE_API_VERSION``.
        detection_model: ``detection_01`` (default), ``detection_02`` or ``detection_03``.
            Env: ``FACEKIT_AZURE_DETECTION_MODEL``.
        recognition_model: ``recognition_01`` (default) .. ``recognition_04``.
            Env: ``FACEKIT_AZURE_RECOGNITION_MODEL``.
        face_id_time_to_live: Seconds a face id lives, 60..86400. Env: ``FACEKIT_AZURE_FACE_ID_TTL``.
        return_recognition_model: Ask Azure to echo the recognition model (default False).
        allow_retired_attributes: Allow the attributes retired in 2023 (age, gender, emotion, smile,
            facial_hair, hair, makeup); only old endpoints still return them. Default False.
            Env: ``FACEKIT_AZURE_ALLOW_RETIRED_ATTRIBUTES``.
        timeout: Seconds, or (connect, read) seconds, per HTTP request. Default (5, 30).
            Env: ``FACEKIT_AZURE_TIMEOUT``. Ignored by a custom ``transport``.
        retry: facekit's retry policy for 429 answers (default: 2 retries, Retry-After honoured
            up to 60 s); it also caps azure-core's own 5xx retries (``retry_total``) and backoff.
        rate_limiter: A shared :class:`~facekit.RateLimiter`, acquired before every call.
        sleep: Sleep function between 429 retries (for tests); default ``time.sleep``.
        transport: An azure-core ``HttpTransport`` (for tests, proxies, custom sessions).
        async_transport: An azure-core ``AsyncHttpTransport`` for the async twin (``AsyncFaceClient``);
            it serves one event loop (azure-core cannot reopen a closed transport). Default:
            azure-core's aiohttp transport, one per loop.
        **client_options: Passed to ``FaceClient`` unchanged (e.g. ``logging_enable``,
            ``connection_verify``, ``retry_backoff_factor``). A ``retry_policy`` or ``policies``
            replaces azure-core's retries, and facekit then does not retry 429 itself.
            ``enforce_https=False`` lets a token credential talk to an ``http://`` test server.

    Raises:
        ConfigurationError: No endpoint, no credential, or an invalid setting.
        MissingDependencyError: ``azure-ai-vision-face`` is not installed.
    """

    name: ClassVar[str] = "azure-sdk"
    extra: ClassVar[str | None] = "azure-sdk"
    secret_options: ClassVar[frozenset[str]] = frozenset({"key"})

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        key: str | SecretStr | None = None,
        credential: Any = None,
        api_version: str | None = None,
        detection_model: str | None = None,
        recognition_model: str | None = None,
        face_id_time_to_live: int | str | None = None,
        return_recognition_model: bool | str | None = None,
        allow_retired_attributes: bool | str | None = None,
        timeout: float | tuple[float, float] | str | list[float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        rate_limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] | None = None,
        transport: Any = None,
        async_transport: Any = None,
        **client_options: Any,
    ) -> None:
        if not endpoint:
            raise ConfigurationError(
                "the azure-sdk backend needs an endpoint: pass endpoint='https://<name>.cognitiveservices.azure.com' "
                "or set FACEKIT_AZURE_ENDPOINT (or FACE_ENDPOINT)"
            )
        self._endpoint, url_version = parse_endpoint(endpoint)
        if api_version and url_version and api_version != url_version:
            raise ConfigurationError(
                f"the endpoint names API version {url_version} but api_version={api_version!r}; give one of them"
            )
        self._options = AzureOptions.build(
            api_version=api_version or url_version or DEFAULT_API_VERSION,
            detection_model=detection_model,
            recognition_model=recognition_model,
            face_id_time_to_live=face_id_time_to_live,
            return_recognition_model=return_recognition_model,
            allow_retired_attributes=allow_retired_attributes,
        )
        timeouts = parse_timeout(timeout)
        self._retry = retry or RetryPolicy()
        self._rate_limiter = rate_limiter
        self._sleep = sleep if sleep is not None else time.sleep
        face = require("azure.ai.vision.face", extra="azure-sdk", feature="the 'azure-sdk' backend")
        from facekit.backends._azure_sdk_glue import NoClientErrorRetryPolicy

        sdk_credential, self._auth = _credential(key, credential)
        self._endpoint_url, self._auth_kind = self._endpoint, self._auth
        enforce_https = bool(client_options.pop("enforce_https", True))
        # azure-core reads enforce_https per call, and only its bearer-token policy consumes it.
        self._call_options: dict[str, Any] = {} if enforce_https or self._auth == "key" else {"enforce_https": False}
        if self._auth != "key" and self._endpoint.startswith("http://") and enforce_https:
            raise ConfigurationError(
                "token credentials need an https:// endpoint (azure-core refuses to send a bearer token in clear "
                "text); use the https endpoint, or pass enforce_https=False for a local test server"
            )
        # facekit retries 429 only when azure-core's retries are the ones facekit configured.
        self._retry_429 = "retry_policy" not in client_options and "policies" not in client_options
        self._retry_settings: dict[str, Any] = {}
        if self._retry_429:
            self._retry_settings = {
                "max_retry_after": self._retry.max_retry_after,
                "retry_total": client_options.pop("retry_total", self._retry.max_retries),
                "retry_backoff_factor": client_options.pop("retry_backoff_factor", self._retry.initial_backoff),
                "retry_backoff_max": client_options.pop("retry_backoff_max", self._retry.max_backoff),
            }
            client_options["retry_policy"] = NoClientErrorRetryPolicy(**self._retry_settings)
        connect, read = timeouts if isinstance(timeouts, tuple) else (timeouts, timeouts)
        client_options.setdefault("connection_timeout", connect)
        client_options.setdefault("read_timeout", read)
        # what the async twin (AsyncFaceClient) is built from: the same credential and client settings
        self._sdk_credential = sdk_credential
        self._async_transport = async_transport
        self._async_client_options = {key: value for key, value in client_options.items() if key != "retry_policy"}
        if transport is None:
            from azure.core.pipeline.transport import RequestsTransport

            from facekit._http import guarded_session

            # facekit's own session: each attempt is bounded by the call's deadline and answer size.
            transport = RequestsTransport(
                session=guarded_session(),
                session_owner=True,
                connection_timeout=client_options["connection_timeout"],
                read_timeout=client_options["read_timeout"],
            )
        client_options["transport"] = transport
        self._client = face.FaceClient(
            self._endpoint, sdk_credential, api_version=self._options.api_version, **client_options
        )

    def close(self) -> None:
        self._client.close()


    # -- detection --------------------------------------------------------------------------
    def detect(self, payload: Payload, request: DetectRequest) -> BackendResult:
        options = self._options.with_overrides(request.options)
        keywords = sdk_keywords(build_query(request, options))
        call = detect_call(self._client, payload, keywords)
        answer, headers = self._call_retrying_429(call)
        return self.detect_result(answer, headers, payload, options)

    def detect_result(self, answer: Any, headers: dict[str, str], payload: Payload, options: AzureOptions) -> BackendResult:
        """The SDK's answer normalised from its wire JSON (shared with the async backend).

        Raises:
            ProviderError: A 200 whose body is not faces (with the request id).
        """
        raw = _wire_json(answer)
        try:
            faces = normalize_azure_faces(raw, width=payload.width, height=payload.height)
        except ProviderError as exc:  # a 200 whose body is not faces: say who and which request
            exc.provider, exc.request_id = self.name, request_id_of(headers)
            raise
        models = {
            "detection": options.detection_model,
            "recognition": recognition_model_of(raw) or options.recognition_model,
        }
        runtime = {"api_version": options.api_version, "request_id": request_id_of(headers)}
        return BackendResult(faces=faces, raw=raw, models=models, runtime=runtime)

    # -- identity (Limited Access) -----------------------------------------------------------
    def verify_face_ids(self, face_id_a: str, face_id_b: str) -> dict[str, Any]:
        """``FaceClient.verify_face_to_face`` (Limited Access); the wire JSON, checked."""
        from facekit.backends._azure_identity import parse_verify, verify_body

        body = verify_body(face_id_a, face_id_b)

        def call(hook: Any, per_call: dict[str, Any]) -> Any:
            return self._client.verify_face_to_face(
                face_id1=body["faceId1"], face_id2=body["faceId2"], raw_response_hook=hook, **per_call
            )

        answer, _ = self._call_retrying_429(call)
        return parse_verify(_wire_json(answer), provider=self.name)

    def find_similar_face_ids(self, face_id: str, face_ids: list[str], max_candidates: int) -> list[dict[str, Any]]:
        """``FaceClient.find_similar`` with ``face_ids`` (Limited Access), mode matchPerson."""
        from facekit.backends._azure_identity import find_similar_body, parse_find_similar

        body = find_similar_body(face_id, face_ids, max_candidates)

        def call(hook: Any, per_call: dict[str, Any]) -> Any:
            return self._client.find_similar(
                face_id=body["faceId"],
                face_ids=body["faceIds"],
                max_num_of_candidates_returned=body["maxNumOfCandidatesReturned"],
                mode=body["mode"],
                raw_response_hook=hook,
                **per_call,
            )

        answer, _ = self._call_retrying_429(call)
        return parse_find_similar(_wire_json(answer), provider=self.name)

    def wait_before_429_retry(self, error: RateLimitError, attempt: int) -> float | None:
        """Seconds to wait before retrying a 429 answer, or None to raise it (shared with the async backend).

        Args:
            error: The mapped 429.
            attempt: 1 for the first attempt, 2 for the first retry, ...
        """
        if not self._retry_429 or not should_retry(error, attempt, self._retry):
            return None
        delay = retry_delay(error, attempt, self._retry)
        return delay if fits_deadline(delay) else None

    def _call_retrying_429(self, call: Callable[[Any, dict[str, Any]], Any]) -> tuple[Any, dict[str, str]]:
        """Run ``call`` (one SDK call), retrying 429 answers per ``self._retry`` within the deadline."""
        attempt = 1
        while True:
            try:
                return self._call_once(call)
            except RateLimitError as error:
                delay = self.wait_before_429_retry(error, attempt)
                if delay is None:
                    raise
                logger.debug("Azure answered 429; retry %d in %.2f s", attempt, delay)
                self._sleep(delay)
                attempt += 1

    def _call_once(self, call: Callable[[Any, dict[str, Any]], Any]) -> tuple[Any, dict[str, str]]:
        """One SDK call: the error seam (every azure-core exception mapped here, ``from`` it)."""
        from facekit.backends._azure_sdk_glue import ResponseRecorder

        if self._rate_limiter is not None:
            self._rate_limiter.acquire()
        recorder = ResponseRecorder()
        try:
            with guarded("the request to Azure", provider=self.name):
                answer = call(recorder, self.per_call_options())
        except Exception as exc:
            error = self.seam_error(exc, recorder.response)
            if error is exc:
                raise
            raise error from exc
        response = recorder.response
        headers = dict(response.headers) if response is not None else {}
        return answer, headers

    def per_call_options(self) -> dict[str, Any]:
        """The keyword arguments of every SDK call (shared with the async backend): the client's
        ``enforce_https`` choice and, inside a call with a deadline, azure-core's own ``timeout``
        (its bound on its 5xx retries) set to the time left."""
        per_call = dict(self._call_options)
        deadline = current_limits().deadline
        if deadline is not None:
            per_call["timeout"] = max(deadline.remaining(), 0.001)
        return per_call

    def seam_error(self, exc: Exception, response: Any) -> FacekitError:
        """The error seam of one SDK call (shared with the async backend): a facekit error gets
        this backend's name; anything else (AzureError, the SDK's ValueError on a non-JSON body)
        has its credential headers blanked and is mapped by status and code.

        Returns:
            ``exc`` itself when it is a :class:`FacekitError`, else the error to raise ``from exc``.
        """
        from facekit.backends._azure_sdk_glue import map_sdk_error

        if isinstance(exc, FacekitError):
            exc.provider = exc.provider or self.name
            return exc
        redact_secrets(exc)
        return map_sdk_error(exc, response, provider=self.name)

def detect_call(client: Any, payload: Payload, keywords: dict[str, Any]) -> Callable[[Any, dict[str, Any]], Any]:
    """One SDK detect call on ``client`` (sync or ``aio``): ``call(raw_response_hook, per_call)``.

    Raises:
        InvalidRequestError: A payload that is neither bytes nor a URL.
    """
    if payload.kind == "url" and payload.url:
        url = payload.url

        def from_url(hook: Any, per_call: dict[str, Any]) -> Any:
            return client.detect_from_url(url=url, raw_response_hook=hook, **keywords, **per_call)

        return from_url
    if payload.kind == "bytes" and payload.data is not None:
        data = payload.data

        def from_bytes(hook: Any, per_call: dict[str, Any]) -> Any:
            return client.detect(data, raw_response_hook=hook, **keywords, **per_call)

        return from_bytes
    raise InvalidRequestError(f"azure-sdk takes image bytes or a URL, not a {payload.kind!r} payload")


def _wire_json(answer: Any) -> Any:
    """The SDK's answer back as wire JSON: its models are mappings over the body as received."""
    if not isinstance(answer, list):
        return answer
    return [item.as_dict() if hasattr(item, "as_dict") else item for item in answer]


def _credential(key: str | SecretStr | None, credential: Any) -> tuple[Any, str]:
    """The SDK credential and how it authenticates (``"key"`` or ``"token (ClassName)"``)."""
    from azure.core.credentials import AzureKeyCredential

    if credential is not None:
        if isinstance(credential, AzureKeyCredential):
            return credential, "key"
        if not hasattr(credential, "get_token"):
            raise ConfigurationError(
                "credential must be an azure-core TokenCredential (with get_token) or an AzureKeyCredential, "
                f"got {type(credential).__name__}"
            )
        return credential, f"token ({type(credential).__name__})"
    secret = key.get_secret_value() if isinstance(key, SecretStr) else key
    if secret:
        return AzureKeyCredential(secret), "key"
    try:
        identity = require("azure.identity", extra="azure-sdk", feature="token authentication")
    except ImportError as exc:
        raise ConfigurationError(
            "the azure-sdk backend needs a credential: pass key=... or credential=<a TokenCredential>, "
            "set FACEKIT_AZURE_KEY (or FACE_APIKEY), or `pip install azure-identity` to use DefaultAzureCredential"
        ) from exc
    return identity.DefaultAzureCredential(), "token (DefaultAzureCredential)"
