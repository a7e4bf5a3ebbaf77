"""pandas partitions of the Arrow schemas and the one-row-per-face view.

Every column is a ``pandas.ArrowDtype`` of :data:`~facekit._arrow_schema.ROW_SCHEMA`, so the
``meta`` of the Dask frame, an empty partition and an all-error partition are identical and
Parquet gets the nested types unchanged.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from facekit._arrow_faces import FACE_COLUMNS_FROM_ROW, explode_table
from facekit._arrow_schema import ROW_SCHEMA

__all__ = ["FACE_COLUMNS_FROM_ROW", "explode_partition", "row_frame", "row_meta"]


def row_frame(table: pa.Table, start: int = 0, index: Any = None) -> pd.DataFrame:
    """A partition: ``table`` as ArrowDtype columns, indexed by input position from ``start``."""
    frame = table.to_pandas(types_mapper=pd.ArrowDtype)
    frame.index = pd.RangeIndex(start, start + len(frame)) if index is None else index
    return frame


def row_meta() -> pd.DataFrame:
    """The empty partition (the Dask frame's ``meta``)."""
    return row_frame(ROW_SCHEMA.empty_table())


def explode_partition(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`explode_table` of a pandas partition, as ArrowDtype columns."""
    table = pa.Table.from_pandas(frame, schema=ROW_SCHEMA, preserve_index=False)
    exploded = explode_table(table).to_pandas(types_mapper=pd.ArrowDtype)
    parents = pc.list_parent_indices(table.column("faces").combine_chunks()).to_numpy()
    exploded.index = frame.index.take(parents)  # the input's position, repeated for each of its faces
    return exploded
