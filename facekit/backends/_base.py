"""The backend interface every provider implements.

A backend receives a prepared :class:`~facekit._image.Payload` (already within its declared
:class:`~facekit._image.InputSpec`) and a validated :class:`~facekit.DetectRequest`, and returns
a :class:`BackendResult` whose coordinates are pixels **of the payload it received**. The
client maps them back to the caller's upright image, sorts faces largest first and numbers
them, so no backend repeats that work.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from facekit._errors import UnsupportedFeatureError
from facekit._image import InputSpec, Payload
from facekit._models import DetectRequest, Face
from facekit._vocabulary import ATTRIBUTES

__all__ = ["Backend", "BackendResult", "Capabilities", "CompareResult", "check_request"]


@dataclass(frozen=True)
class Capabilities:
    """What a backend, as configured, can return.

    Attributes:
        attributes: Canonical attribute names it can return (see ``facekit.ATTRIBUTES``).
        landmarks: Canonical landmark names it returns; empty when it returns none.
        mesh_landmarks: Canonical landmark names it returns with ``landmarks="mesh"`` (a face
            mesh, ``Face.mesh``); empty when it has no mesh.
        face_id: Whether it can return provider face ids.
        inputs: Payload kinds it takes directly (``bytes``, ``url``, ``s3``, ``pixels``).
        max_faces: Most faces returned per image, None for no limit.
        embeddings: Whether it returns face descriptors (``detect(..., embeddings=True)``).
        verify: How ``FaceClient.verify`` works with it: ``"embedding"`` (descriptor
            distance, computed by facekit), ``"compare"`` (the provider compares two images,
            e.g. AWS CompareFaces), ``"face_id"`` (the provider compares face ids, e.g.
            Azure /verify), or None when it cannot verify.
        find_similar: The same for ``FaceClient.find_similar`` (``"face_id"``: Azure
            /findsimilars; ``"compare"``: one CompareFaces call per candidate image).
        identity_note: Why verify / find_similar are unavailable or restricted, if they are.
        notes: Canonical attribute name -> why it is unavailable (e.g. retired by the provider).
    """

    attributes: frozenset[str]
    landmarks: frozenset[str] = frozenset()
    mesh_landmarks: frozenset[str] = frozenset()
    face_id: bool = False
    inputs: frozenset[str] = frozenset({"bytes"})
    max_faces: int | None = None
    notes: Mapping[str, str] = field(default_factory=dict)
    embeddings: bool = False
    verify: str | None = None
    find_similar: str | None = None
    identity_note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly description (used by ``facekit providers`` and the docs)."""
        return {
            "attributes": sorted(self.attributes),
            "landmarks": len(self.landmarks),
            "face_id": self.face_id,
            "inputs": sorted(self.inputs),
            "max_faces": self.max_faces,
            "embeddings": self.embeddings,
            "verify": self.verify,
            "find_similar": self.find_similar,
        }


@dataclass
class BackendResult:
    """What a backend returns for one image.

    Attributes:
        faces: Faces in pixels of the payload received (order and index are set by the client).
        raw: The provider's response, unchanged and JSON-compatible.
        models: Model names used.
        warnings: Anything the caller should know.
        runtime: Runtime facts (execution providers, versions).
        image_size: ``(width, height)`` of the image, pixels, when the backend learned it
            (e.g. by probing an S3 object's header); None otherwise.
    """

    faces: list[Face]
    raw: Any = None
    models: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    runtime: dict[str, Any] = field(default_factory=dict)
    image_size: tuple[int, int] | None = None


@dataclass
class CompareResult:
    """What a backend's image comparison (``compare_faces``) returns.

    Attributes:
        source_face: The face of the first image that was compared, pixels of its payload.
        matches: Faces of the second image with their similarity 0..1, best first, pixels
            of the second payload.
        unmatched: Faces of the second image below the similarity threshold.
        raw: The provider's response, unchanged and JSON-compatible.
        warnings: Anything the caller should know.
        image_sizes: ``(width, height)`` of each image when the backend learned it (S3), else None.
    """

    source_face: Face | None
    matches: list[tuple[Face, float]]
    unmatched: list[Face]
    raw: Any = None
    warnings: list[str] = field(default_factory=list)
    image_sizes: tuple[tuple[int, int] | None, tuple[int, int] | None] = (None, None)


def check_request(
    request: DetectRequest, capabilities: Capabilities, *, backend: str
) -> tuple[DetectRequest, list[str]]:
    """Validate a request against capabilities (shared default for every backend).

    Returns:
        The request with ``"all"`` expanded and, when ``strict`` is False, unsupported
        features removed; plus the warnings to report.

    Raises:
        UnsupportedFeatureError: ``strict`` and something asked for cannot be returned.
    """
    warnings: list[str] = []
    if request.attributes == ("all",):
        wanted = tuple(name for name in ATTRIBUTES if name in capabilities.attributes)
    else:
        wanted = request.attributes
    kept: list[str] = []
    for name in wanted:
        if name in capabilities.attributes:
            kept.append(name)
            continue
        note = capabilities.notes.get(name)
        supported = ", ".join(sorted(capabilities.attributes)) or "none"
        message = (
            f"{backend} cannot return the {name!r} attribute"
            + (f": {note}" if note else "")
            + (f" (it can return: {supported})")
        )
        if request.strict:
            raise UnsupportedFeatureError(message + "; pass strict=False to get None instead", feature=name)
        warnings.append(message + "; left as None")
    landmarks = request.landmarks
    if landmarks == "mesh" and not capabilities.mesh_landmarks:
        message = f"{backend} has no face mesh (landmarks='mesh' is the local engine's)"
        if request.strict:
            raise UnsupportedFeatureError(
                message + "; pass landmarks=True, or strict=False to get its own landmarks instead", feature="landmarks"
            )
        warnings.append(message + "; returning its own landmarks")
        landmarks = True
    if landmarks and not capabilities.landmarks:
        message = capabilities.notes.get("landmarks") or f"{backend} cannot return landmarks"
        if request.strict:
            raise UnsupportedFeatureError(message + "; pass strict=False to get None instead", feature="landmarks")
        warnings.append(message + "; landmarks left as None")
        landmarks = False
    face_id = request.face_id
    if face_id and not capabilities.face_id:
        message = f"{backend} cannot return face ids"
        if request.strict:
            raise UnsupportedFeatureError(message, feature="face_id")
        warnings.append(message + "; face_id left as None")
        face_id = False
    embeddings = request.embeddings
    if embeddings and not capabilities.embeddings:
        message = f"{backend} cannot return face embeddings" + (
            f" ({capabilities.identity_note})" if capabilities.identity_note else ""
        )
        if request.strict:
            raise UnsupportedFeatureError(message + "; pass strict=False to get None instead", feature="embeddings")
        warnings.append(message + "; embedding left as None")
        embeddings = False
    checked = request.model_copy(
        update={"attributes": tuple(kept), "landmarks": landmarks, "face_id": face_id, "embeddings": embeddings}
    )
    return checked, warnings


class Backend(abc.ABC):
    """Base class of every backend.

    Subclasses set :attr:`name`, :attr:`extra` and :attr:`env_vars`, take their settings as
    keyword arguments in ``__init__`` (falling back to nothing hidden: the client resolves
    environment variables and config files before calling it), and implement
    :meth:`detect` and :attr:`capabilities`.
    """

    #: Registry name, e.g. ``"aws"``.
    name: ClassVar[str] = ""
    #: The pip extra that installs the backend's dependencies (None: none needed).
    extra: ClassVar[str | None] = None
    #: Option name -> environment variables read for it, in priority order.
    env_vars: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    #: Option names whose values are secrets (never shown in repr, logs or errors).
    secret_options: ClassVar[frozenset[str]] = frozenset()
    #: Per-call options the backend understands: name -> what it takes
    #: (``client.detect(image, NAME=value)`` -> ``request.options``). Anything else is refused
    #: before the call with :class:`~facekit.InvalidRequestError` (one check for every backend:
    #: :func:`facekit._options.check_call_options`). Extend it in a subclass:
    #: ``call_options = {**Parent.call_options, "max_faces": "an integer >= 1"}``.
    call_options: ClassVar[Mapping[str, str]] = {}

    @property
    @abc.abstractmethod
    def capabilities(self) -> Capabilities:
        """What this backend, as configured, can return."""

    @property
    def input_spec(self) -> InputSpec:
        """What images this backend accepts (formats, bytes, sides, URL/S3 support)."""
        return InputSpec()

    def input_spec_for(self, request: DetectRequest) -> InputSpec:
        """What images this backend accepts for one request (default: :attr:`input_spec`).

        Backends whose needs depend on what is asked (the local engine decodes only the
        resolution detection needs when no attribute is asked) override this.
        """
        return self.input_spec

    def accepted_options(self) -> tuple[str, ...]:
        """The per-call option names this instance understands (default: :attr:`call_options`)."""
        return tuple(self.call_options)

    def check_request(self, request: DetectRequest) -> tuple[DetectRequest, list[str]]:
        """Validate ``request`` before anything is sent; backends may add model-specific rules.

        Per-call options have already been checked against :meth:`accepted_options`.
        """
        return check_request(request, self.capabilities, backend=self.name)

    def ready(self, request: DetectRequest) -> None:  # noqa: B027 - optional hook
        """Raise now what every call of ``request`` would raise (e.g. missing model weights).

        Called once before the first input of a batch (``detect_many``, ``facekit detect``),
        so that a backend that cannot serve the request fails once instead of once per input.
        The default checks nothing.
        """

    @abc.abstractmethod
    def detect(self, payload: Payload, request: DetectRequest) -> BackendResult:
        """Detect faces in ``payload``; coordinates in pixels of the payload."""

    def info(self) -> dict[str, Any]:
        """Non-secret facts about the configured backend (shown in the client's repr)."""
        return {}

    # -- identity (optional; see ``Capabilities.verify`` / ``find_similar``) ---------------
    def compare_faces(
        self, source: Payload, target: Payload, *, similarity_threshold: float, quality_filter: str | None
    ) -> CompareResult:
        """Compare the largest face of ``source`` with every face of ``target`` (``"compare"``)."""
        raise UnsupportedFeatureError(f"{self.name} cannot compare two images", feature="compare_faces")

    def verify_face_ids(self, face_id_a: str, face_id_b: str) -> dict[str, Any]:
        """The provider's answer to face-to-face verification (``"face_id"``), JSON as sent."""
        raise UnsupportedFeatureError(f"{self.name} cannot verify face ids", feature="verify")

    def find_similar_face_ids(self, face_id: str, face_ids: list[str], max_candidates: int) -> list[dict[str, Any]]:
        """The provider's ranked ``[{"faceId", "confidence"}]`` for ``face_id`` among ``face_ids``."""
        raise UnsupportedFeatureError(f"{self.name} cannot find similar faces", feature="find_similar")

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release sessions and connections."""

    #: Threads :class:`~facekit.AsyncFaceClient` runs this backend's blocking calls on, when it
    #: has no native async twin (``facekit.backends._async_registry``).
    async_threads: ClassVar[int] = 64
