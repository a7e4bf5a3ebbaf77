"""The ``fake`` backend: answers come from a handler you pass, for tests (like httpx's
``MockTransport``). It runs through the same client path as every real backend: image
preparation, request validation, coordinate mapping, ordering.

Example:
    >>> from facekit import FaceClient, Face, BoundingBox
    >>> from facekit.backends import BackendResult
    >>> def handler(payload, request):
    ...     return BackendResult(faces=[Face(box=BoundingBox(left=1, top=2, width=30, height=30))])
    >>> client = FaceClient("fake", handler=handler)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import ClassVar

from facekit._image import InputSpec, Payload
from facekit._models import DetectRequest, Face
from facekit._vocabulary import ATTRIBUTES, LANDMARKS
from facekit.backends._base import Backend, BackendResult, Capabilities

__all__ = ["FakeBackend", "Handler"]

#: A handler receives the prepared payload and the validated request.
Handler = Callable[[Payload, DetectRequest], "BackendResult | list[Face]"]


class FakeBackend(Backend):
    """A backend whose answers come from ``handler``.

    Args:
        handler: Called with ``(payload, request)``; returns a :class:`BackendResult` or a list
            of faces in pixels of the payload. Default: no faces.
        attributes: Attributes it claims to support (default: all).
        landmarks: Whether it claims landmarks (default True).
        face_id: Whether it claims face ids (default True).
        input_spec: Its declared input limits (default: JPEG/PNG bytes, any size).
        call_options: Per-call options it accepts (default none), found by the handler in
            ``request.options``.
    """

    name: ClassVar[str] = "fake"

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        attributes: Iterable[str] = ATTRIBUTES,
        landmarks: bool = True,
        face_id: bool = True,
        input_spec: InputSpec | None = None,
        call_options: Iterable[str] = (),
    ) -> None:
        self.handler = handler
        self._call_options = tuple(call_options)
        self.calls: list[tuple[Payload, DetectRequest]] = []
        self._capabilities = Capabilities(
            attributes=frozenset(attributes),
            landmarks=frozenset(LANDMARKS) if landmarks else frozenset(),
            face_id=face_id,
            inputs=(input_spec or InputSpec()).kinds,
        )
        self._input_spec = input_spec or InputSpec()

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    def accepted_options(self) -> tuple[str, ...]:
        return (*self.call_options, *self._call_options)

    @property
    def input_spec(self) -> InputSpec:
        return self._input_spec

    def detect(self, payload: Payload, request: DetectRequest) -> BackendResult:
        self.calls.append((payload, request))
        answer = self.handler(payload, request) if self.handler is not None else []
        if isinstance(answer, BackendResult):
            return answer
        return BackendResult(faces=list(answer), raw={"faces": len(answer)}, models={"detector": "fake"})
