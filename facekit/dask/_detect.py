"""``facekit.dask.detect``: a lazy Dask DataFrame of detections, one row per input."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

import dask
import dask.dataframe as dd
import pandas as pd

from facekit._errors import ConfigurationError, InvalidRequestError, MissingDependencyError
from facekit._ratelimit import RateLimiter
from facekit.dask._frame import explode_partition, row_frame, row_meta
from facekit.dask._ratelimit import ClusterRateLimiter
from facekit.dask._run import DetectTask, detect_table
from facekit.dask._worker import ClientCachePlugin, ClientSpec

__all__ = ["DEFAULT_PARTITION_SIZE", "detect", "explode_faces", "make_task", "register_worker_plugin"]

#: Inputs per partition (one Dask task each) when the input is a plain list.
DEFAULT_PARTITION_SIZE = 32
_DETECT_ARGUMENTS = ("face_id", "strict", "fit", "probe_size")


def make_task(
    provider: str | None,
    *,
    config: str | os.PathLike[str] | None,
    profile: str | None,
    attributes: str | Iterable[str] | None,
    landmarks: bool,
    detect_options: dict[str, Any] | None,
    rate_limit: float | None,
    rate_limiter: RateLimiter | None,
    workers: int | None,
    keep_json: bool,
    validate: bool,
    options: dict[str, Any],
) -> DetectTask:
    """Check the arguments and build the task settings shared by every partition."""
    if rate_limit is not None and rate_limiter is not None:
        raise ConfigurationError("pass rate_limit= (calls per second) or rate_limiter=, not both")
    if rate_limit is not None:
        if rate_limit <= 0:
            raise ConfigurationError(f"rate_limit must be positive (calls per second), got {rate_limit!r}")
        rate_limiter = ClusterRateLimiter(rate_limit)
    if rate_limiter is not None and not isinstance(rate_limiter, ClusterRateLimiter):
        raise ConfigurationError(
            "a RateLimiter only limits one process; pass facekit.dask.ClusterRateLimiter(calls, period) "
            "or rate_limit=CALLS_PER_SECOND for a limit shared by the whole cluster"
        )
    if workers is not None and workers < 1:
        raise InvalidRequestError(f"workers must be at least 1, got {workers}")
    client_options = dict(options)
    detect_kwargs: dict[str, Any] = {"attributes": attributes, "landmarks": landmarks}
    for name in _DETECT_ARGUMENTS:
        if name in client_options:
            detect_kwargs[name] = client_options.pop(name)
    detect_kwargs.update(detect_options or {})
    spec = ClientSpec(
        provider=provider,
        config=os.fspath(config) if config is not None else None,
        profile=profile,
        options=client_options,
    )
    if validate:
        _validate(spec, detect_kwargs)
    return DetectTask(spec, detect_kwargs, rate_limiter, workers, keep_json)


def _validate(spec: ClientSpec, detect_kwargs: dict[str, Any]) -> None:
    """Fail on the driver, before any task runs, for unknown options or impossible requests."""
    try:
        client = spec.build()
    except MissingDependencyError:
        return  # the driver may lack the backend's extra; the workers report it if they do too
    with client:
        request_kwargs = {key: value for key, value in detect_kwargs.items() if key not in ("fit", "probe_size")}
        request_kwargs.pop("color_order", None)
        client.backend.check_request(client.build_request(**request_kwargs))


def _chunk_frame(chunk: tuple[int, list[str]], task: DetectTask) -> pd.DataFrame:
    start, inputs = chunk
    return row_frame(detect_table(inputs, task), start)


def _series_frame(series: pd.Series, task: DetectTask) -> pd.DataFrame:
    return row_frame(detect_table([_as_input(value) for value in series.tolist()], task), index=series.index)


def _bag_frame(partition: Iterable[Any], task: DetectTask) -> pd.DataFrame:
    return row_frame(detect_table([_as_input(value) for value in partition], task))


def _as_input(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, os.PathLike):
        return str(os.fspath(value))
    raise InvalidRequestError(
        f"facekit.dask inputs are paths, http(s):// URLs or s3:// URIs (strings); got {type(value).__name__}"
    )


def chunked(inputs: Sequence[str], size: int) -> list[tuple[int, list[str]]]:
    """``(start, inputs)`` pairs of at most ``size`` inputs, in order."""
    if size < 1:
        raise InvalidRequestError(f"partition_size must be at least 1, got {size}")
    return [(start, list(inputs[start : start + size])) for start in range(0, len(inputs), size)]


def register_worker_plugin() -> None:
    """Register :class:`ClientCachePlugin` with the active ``distributed`` client, if there is one."""
    try:
        from distributed import default_client

        client = default_client()
    except (ImportError, ValueError):
        return
    client.register_plugin(ClientCachePlugin(), name=ClientCachePlugin.name)


def detect(
    inputs: Any,
    provider: str | None = None,
    *,
    attributes: str | Iterable[str] | None = None,
    landmarks: bool = False,
    config: str | os.PathLike[str] | None = None,
    profile: str | None = None,
    detect_options: dict[str, Any] | None = None,
    rate_limit: float | None = None,
    rate_limiter: RateLimiter | None = None,
    workers: int | None = None,
    partition_size: int = DEFAULT_PARTITION_SIZE,
    keep_json: bool = True,
    validate: bool = True,
    **options: Any,
) -> dd.DataFrame:
    """Detect faces in many images on Dask; a lazy DataFrame with one row per input.

    Each worker process builds its :class:`~facekit.FaceClient` (and the local engine loads its
    models) once, on its first task, and reuses it for every later task. The local engine runs
    ``detect_batch`` on each partition; cloud backends make concurrent calls (``workers``
    threads per task), each after a slot of the cluster-wide rate limit.

    Args:
        inputs: A list of paths, ``http(s)://`` URLs and ``s3://`` URIs (strings, as every
            worker can reach them), a pandas or Dask Series of them, or a ``dask.bag.Bag``.
        provider: Backend name (default ``FACEKIT_PROVIDER`` on the workers, then ``local``).
        attributes: Attribute names or ``"all"``, as for ``FaceClient.detect``.
        landmarks: Return landmarks (pixels).
        config: TOML config file, as the workers see it.
        profile: Profile in the config file.
        detect_options: Backend-specific per-call options (``FaceClient.detect(**options)``).
        rate_limit: Calls per second for the whole cluster (a :class:`ClusterRateLimiter`).
        rate_limiter: A :class:`ClusterRateLimiter` (for a period other than a second, a
            burst, or one budget shared by several frames).
        workers: Concurrent provider calls inside one task (default: the local engine batches,
            cloud backends use 4 threads).
        partition_size: Inputs per partition when ``inputs`` is a list or a pandas Series.
        keep_json: Keep the lossless ``DetectionResult`` JSON in ``result_json``.
        validate: Build a client on the driver first to reject unknown options early.
        **options: ``FaceClient`` options: backend options (``endpoint``, ``region``,
            ``model_dir`` ...) and ``face_id``, ``strict``, ``fit``, ``probe_size``.

    Returns:
        A lazy ``dask.dataframe.DataFrame`` of :data:`facekit.dask.ROW_SCHEMA` (ArrowDtype
        columns), indexed by input position for lists; ``.to_parquet(path)`` writes it, and
        :func:`facekit.dask.detect_to_parquet` writes it resumably.

    Raises:
        ConfigurationError: Unknown option, bad rate limit, or a non-cluster ``RateLimiter``.
        InvalidRequestError: Inputs that are not strings, bad ``partition_size`` or ``workers``.

    Example:
        >>> from distributed import Client
        >>> client = Client("tcp://scheduler:8786")
        >>> frame = facekit.dask.detect(paths, attributes=["age", "emotion"])
        >>> frame.to_parquet("faces.parquet")
    """
    task = make_task(
        provider,
        config=config,
        profile=profile,
        attributes=attributes,
        landmarks=landmarks,
        detect_options=detect_options,
        rate_limit=rate_limit,
        rate_limiter=rate_limiter,
        workers=workers,
        keep_json=keep_json,
        validate=validate,
        options=options,
    )
    register_worker_plugin()
    meta = row_meta()
    if isinstance(inputs, dd.Series):
        return inputs.map_partitions(_series_frame, task, meta=meta, enforce_metadata=False)
    try:
        import dask.bag as db

        if isinstance(inputs, db.Bag):
            parts = [dask.delayed(_bag_frame)(part, task) for part in inputs.to_delayed()]
            return dd.from_delayed(parts, meta=meta, verify_meta=False)
    except ImportError:  # dask.bag needs toolz only; kept optional all the same
        pass
    if isinstance(inputs, pd.Series):
        frames = dd.from_pandas(inputs, chunksize=partition_size, sort=False)
        return frames.map_partitions(_series_frame, task, meta=meta, enforce_metadata=False)
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Iterable):
        raise InvalidRequestError("inputs must be a list (or Series, or Bag) of paths, URLs or s3:// URIs")
    values = [_as_input(value) for value in inputs]
    chunks = chunked(values, partition_size)
    if not chunks:
        return dd.from_pandas(meta, npartitions=1)
    divisions = [start for start, _ in chunks] + [len(values) - 1]
    return dd.from_map(
        _chunk_frame, chunks, task=task, meta=meta, divisions=divisions, label="facekit-detect",
        enforce_metadata=False,
    )


def explode_faces(frame: dd.DataFrame) -> dd.DataFrame:
    """One row per face with flat columns, from a frame of :func:`detect`.

    Columns: ``input``, ``provider``, ``image_width``, ``image_height``, ``face_count``,
    ``face_index``, the box in pixels (``left``, ``top``, ``width``, ``height``) and as ratios
    0..1 (``left_ratio`` ...), ``confidence`` 0..1, ``face_id``, ``landmarks`` (name -> x, y
    pixels), then every attribute as a dotted column (``age``, ``gender.value``,
    ``emotion.happiness``, ``head_pose.yaw`` ...; null when not returned). Inputs with no face
    and failed inputs have no row.
    """
    meta = explode_partition(row_meta())
    return frame.map_partitions(explode_partition, meta=meta, enforce_metadata=False)
