"""One row per face from a table of :data:`~facekit._arrow_schema.ROW_SCHEMA` (one row per input).

The single flattening of batch results: :func:`facekit.dask.explode_faces` and
:func:`facekit.to_dataframe` both use :func:`explode_table`, so their face columns are the same.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["FACE_COLUMNS_FROM_ROW", "explode_table"]

#: Columns of the input row repeated on each face row (:func:`facekit.dask.explode_faces`).
FACE_COLUMNS_FROM_ROW = ("input", "provider", "image_width", "image_height", "face_count")


def _flat_fields(prefix: str, array: pa.Array, into: dict[str, pa.Array]) -> None:
    """Struct children become dotted columns; lists and maps stay nested."""
    if pa.types.is_struct(array.type):
        for number in range(array.type.num_fields):
            child = array.type.field(number)
            name = f"{prefix}.{child.name}" if prefix else child.name
            _flat_fields(name, pc.struct_field(array, [number]), into)
    else:
        into[prefix] = array


def _positions(faces: pa.ListArray, keep_empty: bool) -> tuple[pa.Array, pa.Array]:
    """(row of each output row, position in the flattened faces or null for a face-less row)."""
    lengths = pc.fill_null(pc.list_value_length(faces), 0).to_pylist()
    parents: list[int] = []
    positions: list[int | None] = []
    cursor = 0
    for row, length in enumerate(lengths):
        if length:
            parents.extend([row] * length)
            positions.extend(range(cursor, cursor + length))
            cursor += length
        elif keep_empty:
            parents.append(row)
            positions.append(None)
    return pa.array(parents, pa.int64()), pa.array(positions, pa.int64())


def explode_table(
    table: pa.Table, *, keep_empty: bool = False, row_columns: Sequence[str] = FACE_COLUMNS_FROM_ROW
) -> pa.Table:
    """One row per face: ``row_columns`` of its input, ``face_index``, box, ratios, confidence, attributes.

    Attribute columns are dotted paths (``age``, ``gender.value``, ``emotion.happiness``,
    ``head_pose.yaw``) and always present (null when not returned); boxes are pixels, ratios
    0..1, landmarks a map of name -> ``{x, y}`` in pixels.

    Args:
        table: Rows of :data:`~facekit._arrow_schema.ROW_SCHEMA`.
        keep_empty: Also give one row (face columns null) for each input without a face and
            each failed input, so no input is lost; else those inputs have no row.
        row_columns: Columns of the input row repeated on its face rows.
    """
    faces = table.column("faces").combine_chunks()
    parents, positions = _positions(faces, keep_empty)
    flat = pc.list_flatten(faces).take(positions)
    columns: dict[str, pa.Array] = {}
    for name in row_columns:
        columns[name] = table.column(name).combine_chunks().take(parents)
    for number in range(flat.type.num_fields):
        child = flat.type.field(number)
        values = pc.struct_field(flat, [number])
        if child.name == "attributes":
            _flat_fields("", values, columns)
        else:
            columns["face_index" if child.name == "index" else child.name] = values
    return pa.table(columns)
