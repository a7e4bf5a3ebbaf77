"""``aws`` on aiohttp: Rekognition ``DetectFaces`` signed with botocore's SigV4, sent without botocore.

Why not aiobotocore: it pins botocore to a window of three releases (aiobotocore 3.10.0:
``botocore>=1.43.115,<1.43.118``), which would pin the boto3 of every facekit user, and it
runs botocore's per-call serialiser, event hooks and parser, which cost 1.7 ms of CPU per
call in one interpreter (measured: 200 sequential calls to a loopback stand-in). A thread
per call (the first design) is GIL-bound on that cost: 64 concurrent calls to a 100 ms
stand-in took 2.1x the ideal time and blocked the event loop for 114 ms. ``DetectFaces`` is
one awsJson1_1 POST, so this backend builds and signs it itself
(:mod:`facekit.backends._aws_sigv4`, checked against botocore's signature) and sends it on
aiohttp.

Everything else is the sync backend's: its boto3 client gives the endpoint, region,
credentials (botocore's whole chain: environment, profiles, SSO, roles) and timeouts; its
:func:`~facekit.backends._aws_errors.map_client_error` maps error answers and its
:meth:`~facekit.backends.aws.RekognitionBackend.detect_result` normalises the answer. Retries
are facekit's (:class:`~facekit.RetryPolicy`, ``max_attempts - 1`` retries of throttling,
5xx, timeouts and network errors), within the call's deadline. ``s3://`` inputs, which need
S3 reads first, go to the sync backend on the client's threads.
"""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Final

from facekit._aiohttp import LoopSession
from facekit._async_retry import call_with_retries_async
from facekit._base64 import b64encode
from facekit._errors import AuthenticationError, ProviderError
from facekit._http import parse_json
from facekit._retry import RetryPolicy
from facekit.backends._async_base import AsyncBackend, ThreadOffloadBackend, run_in_thread
from facekit.backends._aws_errors import CREDENTIAL_HINT, map_client_error
from facekit.backends._aws_sigv4 import sign_json_post
from facekit.backends._aws_wire import aws_attributes_for

if TYPE_CHECKING:
    from facekit._image import Payload
    from facekit._models import DetectRequest
    from facekit.backends._base import BackendResult
    from facekit.backends.aws import RekognitionBackend

__all__ = ["AsyncRekognitionBackend", "detect_faces_body"]

logger = logging.getLogger("facekit.aws")

_TARGET: Final = "RekognitionService.DetectFaces"
_CONTENT_TYPE: Final = "application/x-amz-json-1.1"


def detect_faces_body(data: bytes, attributes: list[str]) -> bytes:
    """The awsJson1_1 body of ``DetectFaces`` for image bytes (what botocore's serialiser sends)."""
    # one copy of the 80 KB body, not one per concatenation
    parts = (b'{"Image": {"Bytes": "', b64encode(data), b'"}, "Attributes": ', json.dumps(attributes).encode(), b"}")
    return b"".join(parts)


class AsyncRekognitionBackend(AsyncBackend):
    """Amazon Rekognition ``DetectFaces`` over aiohttp (pip extra ``async``).

    Args:
        backend: The configured sync backend.
        threads: Threads for ``s3://`` inputs (run by the sync backend).
    """

    sync: RekognitionBackend

    def __init__(self, backend: RekognitionBackend, *, threads: int) -> None:
        self.sync = backend
        client = backend.client
        config = client.meta.config
        self._url: str = client.meta.endpoint_url.rstrip("/") + "/"  # what botocore posts to
        self._region: str = client.meta.region_name
        self._signing_name: str = client.meta.service_model.signing_name or "rekognition"
        self._credentials = backend.credentials  # botocore's resolved chain, as the client signs with it
        attempts = int((config.retries or {}).get("total_max_attempts") or 3)
        self._retry = RetryPolicy(max_retries=max(0, attempts - 1))
        self._session = LoopSession(
            connect=float(config.connect_timeout), read=float(config.read_timeout), feature="AsyncFaceClient with aws"
        )
        self._s3 = ThreadOffloadBackend(backend, threads=threads)

    async def aclose(self) -> None:
        try:
            await self._session.close()
        finally:
            await self._s3.aclose()

    def __repr__(self) -> str:
        return f"AsyncRekognitionBackend({self.sync!r})"

    async def detect(self, payload: Payload, request: DetectRequest) -> BackendResult:
        if payload.kind != "bytes" or payload.data is None or not payload.width or not payload.height:
            return await self._s3.detect(payload, request)  # s3:// (S3 reads first) and refusals
        attributes = aws_attributes_for(request.attributes, landmarks=bool(request.landmarks))
        body = detect_faces_body(payload.data, attributes)
        response = await call_with_retries_async(lambda: self._post(body), self._retry)
        return self.sync.detect_result(response, request, attributes, payload.width, payload.height)

    async def _signed_headers(self, body: bytes) -> dict[str, str]:
        if self._credentials is None:
            raise AuthenticationError(f"no AWS credentials were found; {CREDENTIAL_HINT}", provider="aws")
        refresh = getattr(self._credentials, "refresh_needed", None)
        if callable(refresh) and refresh():  # refreshing may call STS or SSO: not on the loop
            frozen = await run_in_thread(None, self._credentials.get_frozen_credentials)
        else:
            frozen = self._credentials.get_frozen_credentials()
        return sign_json_post(  # about 0.1 ms: cheaper on the loop than a thread hand-off
            self._url, body, target=_TARGET, content_type=_CONTENT_TYPE, credentials=frozen,
            region=self._region, service=self._signing_name,
        )

    async def _post(self, body: bytes) -> dict[str, Any]:
        """One attempt: sign, POST, read (bounded), map failures to the tree."""
        status, headers, content = await self._session.post(
            self._url, data=body, headers=await self._signed_headers(body), service="Rekognition", provider="aws",
            timeout_hint=f"in time at {self._url}; raise read_timeout or try again",
            network_hint="check endpoint_url and the network",
        )
        return _answer(status, {name.lower(): value for name, value in headers.items()}, content)

def _answer(status: int, headers: dict[str, str], content: bytes) -> dict[str, Any]:
    """A ``DetectFaces`` answer as boto3 gives it (with ``ResponseMetadata``), or the mapped error.

    Raises:
        FacekitError: An error answer (mapped like boto3's ``ClientError``), or a 2xx body
            that is not a JSON object.
    """
    request_id = headers.get("x-amzn-requestid")
    metadata = {"RequestId": request_id, "HTTPStatusCode": status, "HTTPHeaders": headers, "RetryAttempts": 0}
    try:
        body: Any = parse_json(content) if content else None
    except (ValueError, UnicodeDecodeError):
        body = None
    if status >= 400:
        error = body if isinstance(body, dict) else {}
        code = str(error.get("__type") or error.get("code") or headers.get("x-amzn-errortype") or "").split("#")[-1]
        code = code.split(":")[0]
        message = error.get("message") or error.get("Message") or ""
        response = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": metadata}
        raise map_client_error(SimpleNamespace(response=response))
    if not isinstance(body, dict):
        text = content[:200].decode("utf-8", "replace")
        raise ProviderError(
            f"AWS answered DetectFaces with HTTP {status} and a body that is not a JSON object; this is not an "
            "answer from the service (a proxy's page, or a cut body): check endpoint_url and the network",
            provider="aws",
            status=status,
            body=text,
        )
    body["ResponseMetadata"] = metadata
    return body
