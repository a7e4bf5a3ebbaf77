"""What one Dask task does: detect faces in a partition of inputs and return an Arrow table.

The task takes the worker's cached client (:mod:`facekit.dask._worker`) and runs
:meth:`FaceClient.detect_many` over the partition: the local engine's batched inference
(``detect_batch``), or concurrent calls for cloud backends under the cluster-wide rate limit.
Every input gets a row; an input's failure is its row's data, never the task's end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from facekit._arrow_schema import ROW_SCHEMA, error_row, result_row
from facekit._export import input_name
from facekit.dask._worker import ClientSpec, client_for

__all__ = ["DetectTask", "detect_table"]


@dataclass(frozen=True)
class DetectTask:
    """Everything a task needs besides its inputs (pickled into the graph once).

    Attributes:
        client: How to build the worker's client.
        detect_kwargs: Arguments of ``FaceClient.detect`` (``attributes``, ``landmarks`` ...).
        rate_limiter: Acquired before every provider call (a ``ClusterRateLimiter`` for a
            cluster-wide limit), or None.
        workers: Concurrent calls inside one task (None: the local engine batches, cloud
            backends use ``detect_many``'s default of 4 threads).
        keep_json: Keep the lossless result JSON (``result_json`` column).
    """

    client: ClientSpec
    detect_kwargs: dict[str, Any] = field(default_factory=dict)
    rate_limiter: Any = None
    workers: int | None = None
    keep_json: bool = True


def detect_rows(inputs: Sequence[Any], task: DetectTask) -> list[dict[str, Any]]:
    """One row per input, in input order."""
    if not inputs:
        return []
    client = client_for(task.client)
    limiter = task.rate_limiter
    if limiter is not None and hasattr(limiter, "bind"):
        limiter = limiter.bind()
    rows: list[dict[str, Any]] = []
    items = client.detect_many(list(inputs), workers=task.workers, rate_limiter=limiter, **task.detect_kwargs)
    for item in items:
        name = input_name(item.input)
        if item.result is not None and item.error is None:
            rows.append(result_row(name, item.result, item.seconds, keep_json=task.keep_json))
        else:
            error = item.error if item.error is not None else RuntimeError("no result")
            rows.append(error_row(name, error, item.seconds, provider=client.provider))
    return rows


def detect_table(inputs: Sequence[Any], task: DetectTask) -> pa.Table:
    """The rows of :func:`detect_rows` as a table of :data:`ROW_SCHEMA`."""
    return pa.Table.from_pylist(detect_rows(inputs, task), schema=ROW_SCHEMA)
