"""``detect_to_parquet``: a resumable Parquet data set of detections that retries never duplicate.

The output is a directory of Parquet files, one per partition, all of
:data:`~facekit.dask.ROW_SCHEMA`. A partition's file name is a digest of its inputs, and a
task writes its file under a hidden temporary name, then renames it into place (atomic on
POSIX file systems). So:

* a task that Dask retries (its worker died) writes the same file again: no duplicated row,
  and a half-written file is never visible;
* a file that exists is complete: re-running with the same output reads the ``input`` column
  of the files present and only schedules the inputs that are not there yet (resume); a rerun
  over a finished output schedules nothing.

Read the result with ``pandas.read_parquet(path)``, ``dask.dataframe.read_parquet(path)``,
DuckDB or Spark (hidden ``.*`` temporary files are ignored by all of them).
"""

from __future__ import annotations

import glob
import hashlib
import os
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import dask
import pyarrow as pa
import pyarrow.parquet as pq

from facekit._errors import ConfigurationError, InvalidRequestError
from facekit._ratelimit import RateLimiter
from facekit.dask._detect import DEFAULT_PARTITION_SIZE, _as_input, chunked, make_task, register_worker_plugin
from facekit.dask._run import DetectTask, detect_table

__all__ = ["ParquetSummary", "detect_to_parquet", "finished_inputs"]

_PREFIX = "part-"
_SUFFIX = ".parquet"


@dataclass
class ParquetSummary:
    """What a :func:`detect_to_parquet` run did.

    Attributes:
        path: The output directory.
        inputs: Distinct inputs given.
        skipped: Inputs already in the output (not run again).
        processed: Inputs run by this call.
        ok: Processed inputs with a result.
        failed: Processed inputs with an error row.
        faces: Faces found in the processed inputs.
        files: Parquet files written by this call.
        seconds: Wall time of the call, seconds.
        error_types: Error class name -> number of processed inputs that failed with it.
    """

    path: str
    inputs: int = 0
    skipped: int = 0
    processed: int = 0
    ok: int = 0
    failed: int = 0
    faces: int = 0
    files: int = 0
    seconds: float = 0.0
    error_types: dict[str, int] = field(default_factory=dict)

    def add(self, stats: dict[str, Any]) -> None:
        """Count one partition's statistics (from :func:`write_partition`)."""
        self.processed += stats["rows"]
        self.ok += stats["ok"]
        self.failed += stats["rows"] - stats["ok"]
        self.faces += stats["faces"]
        self.files += 1
        for name, count in stats["error_types"].items():
            self.error_types[name] = self.error_types.get(name, 0) + count


def part_name(inputs: Sequence[str]) -> str:
    """The file name of the partition holding ``inputs`` (a digest: the same inputs, the same file)."""
    digest = hashlib.sha256("\n".join(inputs).encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return f"{_PREFIX}{digest}{_SUFFIX}"


def _part_files(path: str) -> list[str]:
    return sorted(glob.glob(os.path.join(glob.escape(path), f"{_PREFIX}*{_SUFFIX}")))


def finished_inputs(path: str | os.PathLike[str]) -> set[str]:
    """Inputs that have a row in the output directory (empty when it does not exist)."""
    directory = os.fspath(path)
    done: set[str] = set()
    for name in _part_files(directory):
        done.update(pq.read_table(name, columns=["input"]).column("input").to_pylist())
    return done


def _stats(table: pa.Table) -> dict[str, Any]:
    rows = table.to_pydict()
    error_types: dict[str, int] = {}
    for ok, error_type in zip(rows["ok"], rows["error_type"], strict=True):
        if not ok:
            key = str(error_type)
            error_types[key] = error_types.get(key, 0) + 1
    return {
        "rows": table.num_rows,
        "ok": sum(1 for ok in rows["ok"] if ok),
        "faces": sum(count or 0 for count in rows["face_count"]),
        "error_types": error_types,
    }


def write_partition(inputs: list[str], directory: str, task: DetectTask) -> dict[str, Any]:
    """Detect ``inputs`` and write their file; a file already there is kept (a retried task).

    Returns:
        ``{"rows", "ok", "faces", "error_types", "file", "reused"}``.
    """
    target = os.path.join(directory, part_name(inputs))
    if os.path.exists(target):
        return {**_stats(pq.read_table(target, columns=["ok", "error_type", "face_count"])), "file": target,
                "reused": True}
    table = detect_table(inputs, task)
    temporary = os.path.join(directory, f".{os.path.basename(target)}.{uuid.uuid4().hex}.tmp")
    try:
        pq.write_table(table, temporary)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return {**_stats(table), "file": target, "reused": False}


def _remove_stale_temporaries(directory: str) -> None:
    """Remove the temporary files of partitions whose writer died (killed worker, lost node)."""
    for name in glob.glob(os.path.join(glob.escape(directory), f".{_PREFIX}*.tmp")):
        os.remove(name)


def detect_to_parquet(
    inputs: Iterable[Any],
    path: str | os.PathLike[str],
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
    retries: int = 2,
    progress: Callable[[int, int, int], None] | None = None,
    **options: Any,
) -> ParquetSummary:
    """Detect faces in many images on Dask and write a resumable Parquet data set at ``path``.

    Inputs already in ``path`` are skipped; each remaining partition becomes one file, written
    atomically and named after its inputs, so a task Dask retries never duplicates rows. Runs
    on the active ``distributed`` client, else on Dask's default scheduler.

    Args:
        inputs: Paths, ``http(s)://`` URLs and ``s3://`` URIs (strings); duplicates are run once.
        path: Output directory on a file system every worker can write (local for a
            ``LocalCluster``, a shared mount for a real cluster).
        provider, attributes, landmarks, config, profile, detect_options, rate_limit,
            rate_limiter, workers, partition_size, keep_json, validate, **options: As for
            :func:`facekit.dask.detect`.
        retries: Extra attempts Dask makes for a task that raised (a worker dying is retried
            by the scheduler anyway; per-input errors are rows, not task failures).
        progress: Called as ``progress(done, failed, total)`` (inputs of this run) after every
            finished partition.

    Returns:
        A :class:`ParquetSummary` of the run.
    """
    start = time.monotonic()
    directory = os.fspath(path)
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise ConfigurationError(f"output {directory!r} exists and is not a directory (a Parquet data set is one)")
    if isinstance(inputs, (str, bytes)):
        raise InvalidRequestError("inputs must be a list of paths, URLs or s3:// URIs, not one string")
    values = list(dict.fromkeys(_as_input(value) for value in inputs))
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
    os.makedirs(directory, exist_ok=True)
    _remove_stale_temporaries(directory)
    done = finished_inputs(directory)
    todo = [value for value in values if value not in done]
    summary = ParquetSummary(directory, inputs=len(values), skipped=len(values) - len(todo))
    chunks = [inputs_ for _, inputs_ in chunked(todo, partition_size)]
    if chunks:
        if progress is not None:
            progress(0, 0, len(todo))
        _run(chunks, directory, task, retries, summary, progress, len(todo))
        # every partition is written and no task runs any more: what is left is a worker's
        # that died while writing (its task was rerun elsewhere)
        _remove_stale_temporaries(directory)
    summary.seconds = time.monotonic() - start
    return summary


def _run(
    chunks: list[list[str]],
    directory: str,
    task: DetectTask,
    retries: int,
    summary: ParquetSummary,
    progress: Callable[[int, int, int], None] | None,
    total: int,
) -> None:
    try:
        from distributed import as_completed, default_client

        client = default_client()
    except (ImportError, ValueError):
        client = None
    if client is None:
        for stats in dask.compute(*[dask.delayed(write_partition)(chunk, directory, task) for chunk in chunks])[0:]:
            summary.add(stats)
            if progress is not None:
                progress(summary.processed, summary.failed, total)
        return
    register_worker_plugin()
    keys = [f"facekit-parquet-{part_name(chunk)[len(_PREFIX) : -len(_SUFFIX)]}" for chunk in chunks]
    futures = client.map(write_partition, chunks, directory=directory, task=task, key=keys, retries=retries, pure=False)
    try:
        for future in as_completed(futures):
            summary.add(future.result())
            if progress is not None:
                progress(summary.processed, summary.failed, total)
    finally:
        client.cancel([future for future in futures if not future.done()])
