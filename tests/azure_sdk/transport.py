"""A stand-in for the network under the real azure-ai-vision-face client.

:class:`StubTransport` is an azure-core ``HttpTransport`` that answers each request from a
handler with a real ``RestRequestsTransportResponse`` built on a ``requests.Response`` whose
``.raw`` is a ``BytesIO``, so the SDK's whole pipeline (policies, deserialisation, errors) runs.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest._requests_basic import RestRequestsTransportResponse


@dataclass
class Answer:
    """What the stand-in answers: status, body (JSON-able, or bytes as is) and headers."""

    status: int = 200
    body: Any = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Sent:
    """One request the SDK sent."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    options: dict[str, Any]


class StubTransport(HttpTransport):  # type: ignore[misc]
    """Answers every request with ``handler(sent)``; records what was sent in ``sent``."""

    def __init__(self, handler: Callable[[Sent], Answer] | Answer | list[Answer]) -> None:
        if isinstance(handler, Answer):
            answer = handler
            handler = lambda sent: answer  # noqa: E731
        elif isinstance(handler, list):
            queue = list(handler)
            handler = lambda sent: queue.pop(0) if len(queue) > 1 else queue[0]  # noqa: E731
        self.handler = handler
        self.sent: list[Sent] = []
        self.closed = False

    def __enter__(self) -> StubTransport:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()

    def open(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def send(self, request: Any, **kwargs: Any) -> RestRequestsTransportResponse:
        parts = urlsplit(request.url)
        body = request.content if isinstance(request.content, bytes) else (request.content or b"")
        if isinstance(body, str):
            body = body.encode()
        sent = Sent(request.method, parts.path, dict(parse_qsl(parts.query)), dict(request.headers), body, kwargs)
        self.sent.append(sent)
        answer = self.handler(sent)
        payload = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
        response = requests.Response()
        response.status_code = answer.status
        response.headers.update({"Content-Type": "application/json; charset=utf-8", "apim-request-id": "stub-req-1",
                                 **answer.headers})
        response.raw = io.BytesIO(payload)
        response.url = request.url
        response.request = requests.Request(request.method, request.url).prepare()
        return RestRequestsTransportResponse(request=request, internal_response=response)
