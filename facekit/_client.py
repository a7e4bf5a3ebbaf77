"""``FaceClient``: one call, any provider, the same typed answer."""

from __future__ import annotations

import inspect
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Literal

from facekit._batch import check_batch, check_workers, run_batch
from facekit._config import (
    DEFAULT_PROVIDER,
    ENV_CONFIG,
    ENV_PROFILE,
    ENV_PROVIDER,
    load_profile,
    merge_options,
    options_from_env,
)
from facekit._errors import ConfigurationError, InvalidRequestError
from facekit._image import DEFAULT_MAX_PIXELS, ColorOrder, ImageInput, SourceImage
from facekit._limits import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RESPONSE_FACES,
    parse_deadline,
    parse_positive_int,
)
from facekit._models import DetectionResult, DetectRequest, Face
from facekit._pipeline import (
    Pipeline,
    build_request,
    check_call,
    detect_one,
    limits,
    map_face,
    prepare_image,
)
from facekit._registry import get_backend_class, resolve_name
from facekit._warnings import FacekitWarning
from facekit.backends._base import Backend, Capabilities, CompareResult

if TYPE_CHECKING:
    from facekit._batch import BatchItem
    from facekit._identity import SimilarFaces, Verification
    from facekit._ratelimit import RateLimiter

__all__ = ["FaceClient", "FacekitWarning"]

_CLIENT_OPTIONS = ("strict", "max_pixels", "fit", "deadline", "max_response_bytes", "max_response_faces")


class FaceClient:
    """Detect faces with any backend and get one typed :class:`~facekit.DetectionResult`.

    Settings come from, in priority order: keyword arguments, environment variables
    (``FACEKIT_PROVIDER`` and each backend's documented variables), then a TOML config file
    profile (``config=`` or ``FACEKIT_CONFIG``, profile ``profile=`` or ``FACEKIT_PROFILE``).

    Args:
        provider: ``"local"`` (default, alias ``"onnx"``), ``"azure-rest"``, ``"azure-sdk"``,
            ``"aws"`` (alias ``"rekognition"``), ``"fake"`` or a registered name.
        config: Path of a TOML config file.
        profile: Profile name in the config file.
        backend: A ready backend instance (then ``provider`` and options are ignored).
        strict: Default for ``detect(strict=...)``: raise on unsupported requests (True) or warn.
        max_pixels: Decompression-bomb guard, pixels.
        fit: Default for ``detect(fit=...)``: re-encode or rescale to meet provider limits.
        **options: Backend options (e.g. ``endpoint``, ``key``, ``region``).

    Example:
        >>> client = FaceClient("local")
        >>> result = client.detect("photo.jpg", attributes=["age", "emotion"])
        >>> [(f.box.xywh, f.attributes.age) for f in result.faces]
    """

    def __init__(
        self,
        provider: str | None = None,
        *,
        config: str | os.PathLike[str] | None = None,
        profile: str | None = None,
        backend: Backend | None = None,
        **options: Any,
    ) -> None:
        if backend is not None:
            self._backend = backend
            self.provider = backend.name
            client_options = {key: options.pop(key) for key in _CLIENT_OPTIONS if key in options}
        else:
            config_path = config if config is not None else os.environ.get(ENV_CONFIG) or None
            profile_name = profile if profile is not None else os.environ.get(ENV_PROFILE) or None
            file_options = load_profile(config_path, profile_name) if config_path else {}
            if profile_name and not config_path:
                wanted = provider or os.environ.get(ENV_PROVIDER) or ""
                aws_hint = (
                    f"; to use the AWS profile {profile_name!r} from ~/.aws/config, pass aws_profile={profile_name!r} "
                    "(or set AWS_PROFILE)"
                    if wanted and "aws_profile" in get_backend_class(resolve_name(wanted)).env_vars
                    else ""
                )
                raise ConfigurationError(
                    f"profile {profile_name!r} names a profile of a facekit config file, but there is no config file; "
                    f"pass config= or set {ENV_CONFIG}{aws_hint}"
                )
            name = provider or os.environ.get(ENV_PROVIDER) or file_options.pop("provider", None) or DEFAULT_PROVIDER
            file_options.pop("provider", None)
            self.provider = resolve_name(name)
            backend_class = get_backend_class(self.provider)
            merged = merge_options(file_options, options_from_env(backend_class.env_vars), options)
            client_options = {key: merged.pop(key) for key in _CLIENT_OPTIONS if key in merged}
            self._backend = _construct(backend_class, merged)
        self.strict: bool = bool(client_options.get("strict", True))
        self.fit: bool = bool(client_options.get("fit", True))
        self.max_pixels: int = int(client_options.get("max_pixels", DEFAULT_MAX_PIXELS))
        try:
            self.deadline: float | None = parse_deadline(client_options.get("deadline", DEFAULT_DEADLINE))
        except InvalidRequestError as exc:
            raise ConfigurationError(exc.message) from exc
        self.max_response_bytes: int = parse_positive_int(
            client_options.get("max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES), name="max_response_bytes"
        )
        self.max_response_faces: int = parse_positive_int(
            client_options.get("max_response_faces", DEFAULT_MAX_RESPONSE_FACES), name="max_response_faces"
        )

    @classmethod
    def from_env(cls, **overrides: Any) -> FaceClient:
        """Build a client from environment variables only (``FACEKIT_PROVIDER`` + the backend's).

        Keyword arguments still win over the environment.
        """
        return cls(None, **overrides)

    @classmethod
    def from_config(cls, path: str | os.PathLike[str], profile: str | None = None, **overrides: Any) -> FaceClient:
        """Build a client from a TOML config file profile; environment and ``overrides`` win over it."""
        return cls(overrides.pop("provider", None), config=path, profile=profile, **overrides)

    # -- introspection -----------------------------------------------------------
    @property
    def backend(self) -> Backend:
        """The backend instance."""
        return self._backend

    @property
    def capabilities(self) -> Capabilities:
        """What the configured backend can return."""
        return self._backend.capabilities

    def __repr__(self) -> str:
        details = "".join(f", {key}={value!r}" for key, value in self._backend.info().items())
        return f"FaceClient(provider={self.provider!r}{details})"

    def close(self) -> None:
        """Release the backend's sessions and connections."""
        self._backend.close()

    def __enter__(self) -> FaceClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def pipeline(self) -> Pipeline:
        """The pipeline every call of this client runs (backend and the client's defaults)."""
        return Pipeline(
            provider=self.provider,
            backend=self._backend,
            strict=self.strict,
            fit=self.fit,
            max_pixels=self.max_pixels,
            deadline=self.deadline,
            max_response_bytes=self.max_response_bytes,
            max_response_faces=self.max_response_faces,
        )

    # -- detection -----------------------------------------------------------------
    def build_request(
        self,
        *,
        attributes: str | Iterable[str] | None = None,
        landmarks: bool | Literal["mesh"] = False,
        face_id: bool = False,
        strict: bool | None = None,
        embeddings: bool = False,
        **options: Any,
    ) -> DetectRequest:
        """Build and normalise a :class:`DetectRequest` (attribute names made canonical)."""
        return build_request(
            attributes=attributes,
            landmarks=landmarks,
            face_id=face_id,
            strict=self.strict if strict is None else strict,
            embeddings=embeddings,
            options=options,
        )

    def detect(
        self,
        image: ImageInput | SourceImage,
        *,
        attributes: str | Iterable[str] | None = None,
        landmarks: bool | Literal["mesh"] = False,
        face_id: bool = False,
        strict: bool | None = None,
        fit: bool | None = None,
        probe_size: bool = False,
        color_order: ColorOrder = "rgb",
        deadline: float | object | None = ...,
        embeddings: bool = False,
        **options: Any,
    ) -> DetectionResult:
        """Detect faces in one image.

        Args:
            image: Path, bytes, binary file, ``http(s)://`` URL, ``s3://`` URI, PIL image or
                numpy ``uint8`` array.
            attributes: Canonical attribute names (``facekit.ATTRIBUTES``), provider spellings,
                or ``"all"``. None: boxes only.
            landmarks: Return landmarks (canonical names, pixels); ``"mesh"`` for the local
                engine's 468-point mesh (``Face.mesh``) and every name derived from it.
            face_id: Return provider face ids (Azure Limited Access; off by default).
            strict: Raise :class:`~facekit.UnsupportedFeatureError` for what the backend cannot
                return (default), or warn and leave it None.
            fit: Re-encode or rescale the image to meet the provider's limits (default), or
                raise :class:`~facekit.InvalidImageError`.
            probe_size: For URL inputs sent as URLs, read the image header (a bounded ranged
                request) so that the result knows the image size.
            color_order: Channel order of numpy inputs, ``"rgb"`` or ``"bgr"``.
            deadline: Total seconds for this call, downloads and retries included (default: the
                client's ``deadline``, 120 s); None for none. Past it:
                :class:`~facekit.DeadlineExceededError`.
            embeddings: Fill ``Face.embedding`` with the face's descriptor (local engine:
                dlib's 128-D vector). Descriptors are provider- and model-specific: never
                compare them across providers or models. See ``docs/identity.md``.
            **options: Backend-specific per-call options (``backend.call_options``); any
                other name raises :class:`~facekit.InvalidRequestError`.

        Returns:
            A :class:`~facekit.DetectionResult`; ``faces`` is empty when there is no face.
        """
        pipeline = self.pipeline
        call = check_call(
            pipeline,
            attributes=attributes,
            landmarks=landmarks,
            face_id=face_id,
            strict=strict,
            fit=fit,
            probe_size=probe_size,
            color_order=color_order,
            deadline=deadline,
            embeddings=embeddings,
            **options,
        )
        for note in call.notes:
            warnings.warn(note, FacekitWarning, stacklevel=2)
        return detect_one(pipeline, call, image)

    def detect_many(
        self,
        images: Iterable[Any] | str | os.PathLike[str],
        *,
        workers: int | None = None,
        rate_limiter: RateLimiter | None = None,
        progress: bool | Callable[[int, int | None], None] = False,
        **detect_kwargs: Any,
    ) -> Iterator[BatchItem]:
        """Detect faces in many images; yields one ``BatchItem`` per input, in input order.

        The request is checked once, before the first input: a bad attribute or option, an
        unsupported feature (``strict``) or a backend that cannot serve it (local weights
        missing offline) raises here, not once per input. After that, an input that fails
        gets an item with ``error`` set (any exception) and the batch goes on. Inputs are read
        lazily: at most ``2 * workers`` are in flight, so a generator of a million paths is fine.

        Args:
            images: Any iterable of inputs ``detect`` accepts; or one string or path naming a
                directory (its image files, by name), a glob pattern (``"photos/*.jpg"``,
                ``"photos/**/*.png"``), a file, a URL or an ``s3://`` URI, expanded as
                ``facekit detect`` expands its arguments.
            workers: Threads calling the backend at once (default 4). Backends with batched
                inference (a ``detect_batch`` method, e.g. the local engine) run chunks of
                ``backend.batch_size`` inputs in one call when ``workers`` is None.
            rate_limiter: A :class:`~facekit.RateLimiter` acquired before every backend call
                (share one across clients and threads to respect an account-wide quota).
            progress: True draws a progress bar on stderr; a callable gets ``(done, total)``
                (``total`` None for iterables without a length). Off by default.
            **detect_kwargs: Passed to :meth:`detect` for every input (``attributes=`` ...);
                ``deadline`` applies to each input.

        Yields:
            ``facekit.BatchItem`` with ``index``, ``input``, ``result`` or ``error``,
            ``seconds``.

        Raises:
            InvalidRequestError: A bad request or ``workers``; a directory without images or a
                glob without matches.
            ModelNotAvailableError: The local engine's weights are missing and cannot be fetched.
            TypeError: ``images`` is ``bytes`` (one image: use :meth:`detect`, or pass ``[data]``).

        Example:
            >>> limiter = RateLimiter.per_minute(20)            # Azure free tier
            >>> for item in client.detect_many("photos/", workers=4, rate_limiter=limiter):
            ...     print(item.input, len(item.result.faces) if item.ok else item.error)
        """
        if not isinstance(images, (bytes, bytearray, memoryview)):
            check_workers(workers)
        pipeline = self.pipeline
        call, inputs = check_batch(pipeline, images, detect_kwargs)
        for note in call.notes:
            warnings.warn(note, FacekitWarning, stacklevel=2)
        return run_batch(pipeline, call, inputs, workers=workers, rate_limiter=rate_limiter, progress=progress)

    # -- identity ------------------------------------------------------------------------
    def verify(
        self, a: Any, b: Any, *, threshold: float | None = None, quality_filter: str | None = None
    ) -> Verification:
        """Tell whether two faces are the same person.

        Args:
            a: An image (anything ``detect`` takes: its largest face is used), a
                :class:`~facekit.Face` from ``detect`` (with ``embedding`` for the local
                engine, ``face_id`` for Azure), a :class:`~facekit.FaceEmbedding` or vector
                (local), or an Azure face id string. AWS compares images only.
            b: The same kinds as ``a``.
            threshold: Same-person threshold on the provider's scale (local: Euclidean
                distance, default 0.6, same when <=; aws: similarity 0..1, default 0.8;
                azure: confidence 0..1, default Azure's ``isIdentical``).
            quality_filter: AWS CompareFaces ``QualityFilter`` (``NONE``, ``AUTO``, ``LOW``,
                ``MEDIUM``, ``HIGH``); other providers refuse it.

        Returns:
            A :class:`~facekit.Verification` (``same``, ``distance`` or ``similarity``,
            ``threshold``, the faces compared).

        Raises:
            UnsupportedFeatureError: The backend cannot verify (raised before any request).
            InvalidRequestError: No face in an image, or a face without embedding / face id.
        """
        from facekit._identity import verify

        return verify(self, a, b, threshold=threshold, quality_filter=quality_filter)

    def find_similar(
        self,
        query: Any,
        candidates: Any,
        *,
        top_k: int = 10,
        threshold: float | None = None,
        quality_filter: str | None = None,
    ) -> SimilarFaces:
        """Rank candidate faces by likeness to the query face.

        Args:
            query: An image (its largest face), a face, an embedding / vector (local) or an
                Azure face id.
            candidates: A sequence of images (every face of each is a candidate), faces,
                embeddings or face ids; or a :class:`~facekit.FaceIndex` (local).
            top_k: Most matches returned.
            threshold: Keep matches at least this alike (local: distance <= threshold,
                default 0.6; aws: similarity >= threshold, default 0.8; azure: confidence >=
                threshold, default none).
            quality_filter: AWS CompareFaces ``QualityFilter``.

        Returns:
            :class:`~facekit.SimilarFaces` with ``matches`` best first.

        Raises:
            UnsupportedFeatureError: The backend cannot find similar faces (before any request).
        """
        from facekit._identity import find_similar

        return find_similar(
            self, query, candidates, top_k=top_k, threshold=threshold, quality_filter=quality_filter
        )

    def _call_limits(self) -> AbstractContextManager[Any]:
        """The scope of one identity request: this client's total deadline and answer bounds."""
        pipeline = self.pipeline
        return limits(pipeline, check_call(pipeline))

    def _compare_images(
        self, a: Any, b: Any, *, threshold: float, quality_filter: str | None
    ) -> CompareResult:
        """Run the backend's image comparison; faces mapped to each caller image's pixels."""
        pipeline = self.pipeline
        call = check_call(pipeline)
        with limits(pipeline, call):
            prepared = [prepare_image(pipeline, call, x) for x in (a, b)]
            out = self._backend.compare_faces(
                prepared[0].payload, prepared[1].payload, similarity_threshold=threshold, quality_filter=quality_filter
            )

        def mapped(face: Face, which: int) -> Face:
            src, pay = prepared[which].source, prepared[which].payload
            size = out.image_sizes[which]
            width = src.width if src.width is not None else (size[0] if size else None)
            height = src.height if src.height is not None else (size[1] if size else None)
            return map_face(face, 1.0 / pay.scale_x, 1.0 / pay.scale_y, width, height)

        return CompareResult(
            source_face=None if out.source_face is None else mapped(out.source_face, 0),
            matches=[(mapped(face, 1), similarity) for face, similarity in out.matches],
            unmatched=[mapped(face, 1) for face in out.unmatched],
            raw=out.raw,
            warnings=out.warnings,
            image_sizes=out.image_sizes,
        )


def _construct(backend_class: type[Backend], options: dict[str, Any]) -> Backend:
    try:
        parameters: Mapping[str, inspect.Parameter] = inspect.signature(backend_class.__init__).parameters
    except (TypeError, ValueError):
        parameters = {}
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    unknown = [key for key in options if key not in parameters]
    if unknown and not accepts_any:
        allowed = ", ".join(name for name in parameters if name != "self")
        raise ConfigurationError(
            f"unknown option(s) {', '.join(sorted(unknown))} for the {backend_class.name!r} backend; "
            f"it accepts: {allowed}"
        )
    return backend_class(**options)
