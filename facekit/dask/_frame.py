"""pandas partitions of the Arrow schemas and the one-row-per-face view.

Every column is a ``pandas.ArrowDtype`` of :data:`~facekit.dask._schema.ROW_SCHEMA`, so the
``meta`` of the Dask frame, an empty partition and an all-error partition are identical and
Parquet gets the nested types unchanged.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from facekit.dask._schema import ROW_SCHEMA

__all__ = ["FACE_COLUMNS_FROM_ROW", "explode_partition", "row_frame", "row_meta"]

#: Columns of the input row repeated on each face row.
FACE_COLUMNS_FROM_ROW = ("input", "provider", "image_width", "image_height", "face_count")


def row_frame(table: pa.Table, start: int = 0, index: Any = None) -> pd.DataFrame:
    """A partition: ``table`` as ArrowDtype columns, indexed by input position from ``start``."""
    frame = table.to_pandas(types_mapper=pd.ArrowDtype)
    frame.index = pd.RangeIndex(start, start + len(frame)) if index is None else index
    return frame


def row_meta() -> pd.DataFrame:
    """The empty partition (the Dask frame's ``meta``)."""
    return row_frame(ROW_SCHEMA.empty_table())


def _flat_fields(prefix: str, array: pa.Array, into: dict[str, pa.Array]) -> None:
    """Struct children become dotted columns; lists and maps stay nested."""
    if pa.types.is_struct(array.type):
        for number in range(array.type.num_fields):
            child = array.type.field(number)
            name = f"{prefix}.{child.name}" if prefix else child.name
            _flat_fields(name, pc.struct_field(array, [number]), into)
    else:
        into[prefix] = array


def explode_table(table: pa.Table) -> pa.Table:
    """One row per face: the input's columns, ``face_index``, box, ratios, confidence, attributes.

    Attribute columns are dotted paths (``age``, ``gender.value``, ``emotion.happiness``,
    ``head_pose.yaw``) and always present (null when not returned). Inputs without faces and
    failed inputs have no row here.
    """
    faces = table.column("faces").combine_chunks()
    parents = pc.list_parent_indices(faces)
    flat = pc.list_flatten(faces)
    columns: dict[str, pa.Array] = {}
    for name in FACE_COLUMNS_FROM_ROW:
        columns[name] = table.column(name).combine_chunks().take(parents)
    for number in range(flat.type.num_fields):
        child = flat.type.field(number)
        values = pc.struct_field(flat, [number])
        if child.name == "attributes":
            _flat_fields("", values, columns)
        else:
            columns["face_index" if child.name == "index" else child.name] = values
    return pa.table(columns)


def explode_partition(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`explode_table` of a pandas partition, as ArrowDtype columns."""
    table = pa.Table.from_pandas(frame, schema=ROW_SCHEMA, preserve_index=False)
    exploded = explode_table(table).to_pandas(types_mapper=pd.ArrowDtype)
    parents = pc.list_parent_indices(table.column("faces").combine_chunks()).to_numpy()
    exploded.index = frame.index.take(parents)  # the input's position, repeated for each of its faces
    return exploded
