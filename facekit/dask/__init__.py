"""Face detection at data scale on Dask (the ``dask`` extra: ``pip install 'facekit[dask]'``).

* :func:`detect` -> a lazy ``dask.dataframe.DataFrame``, one row per input, of the explicit
  Arrow schema :data:`ROW_SCHEMA` (``input``, ``ok``, ``error_type``, ``error_message``,
  ``provider``, ``image_width``, ``image_height``, ``face_count``, ``faces`` ...);
  :func:`explode_faces` -> one row per face with flat columns.
* :func:`detect_to_parquet` -> a resumable Parquet data set: a rerun skips the inputs already
  written, and a task Dask retries never duplicates rows.
* :class:`ClusterRateLimiter` -> one calls-per-second budget for every worker (cloud providers).

Each worker process builds its client (and loads the local engine's models) once and reuses
it for every task; see ``docs/scale.md``.
"""

from __future__ import annotations

from facekit._deps import require

for _module in ("dask.dataframe", "distributed", "pyarrow", "pandas"):
    require(_module, extra="dask", feature="facekit.dask")

from facekit._arrow_schema import FACE_TYPE, ROW_SCHEMA  # noqa: E402
from facekit.dask._detect import DEFAULT_PARTITION_SIZE, detect, explode_faces  # noqa: E402
from facekit.dask._parquet import ParquetSummary, detect_to_parquet, finished_inputs  # noqa: E402
from facekit.dask._ratelimit import ClusterRateLimiter  # noqa: E402
from facekit.dask._worker import ClientCachePlugin, cache_stats  # noqa: E402

__all__ = [
    "DEFAULT_PARTITION_SIZE",
    "FACE_TYPE",
    "ROW_SCHEMA",
    "ClientCachePlugin",
    "ClusterRateLimiter",
    "ParquetSummary",
    "cache_stats",
    "detect",
    "detect_to_parquet",
    "explode_faces",
    "finished_inputs",
]
