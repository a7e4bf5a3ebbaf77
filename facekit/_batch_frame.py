"""Whole batches as tables: :func:`to_dataframe` (one row per face) and :func:`write_parquet`.

Both go through the Arrow schema of :mod:`facekit._arrow_schema` (the one :mod:`facekit.dask`
writes), so a batch run here and one run on Dask give the same columns and the same files.
Needs the ``dataframe`` extra (pandas and pyarrow), imported on first use.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from facekit._batch import BatchItem
from facekit._deps import require
from facekit._errors import FacekitError
from facekit._export import input_name
from facekit._models import DetectionResult

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["items_table", "to_dataframe", "write_parquet"]

#: Columns of the input repeated on each of its rows in :func:`to_dataframe`.
ROW_COLUMNS = ("input", "ok", "error_type", "error_message", "provider", "image_width", "image_height", "face_count")


def _items(items: Iterable[BatchItem | DetectionResult]) -> Iterable[BatchItem]:
    for position, item in enumerate(items):
        if isinstance(item, DetectionResult):
            yield BatchItem(position, None, result=item)
        elif isinstance(item, BatchItem):
            yield item
        else:
            from facekit._errors import InvalidRequestError

            raise InvalidRequestError(
                f"expected BatchItem or DetectionResult items (from detect_many or read_results), "
                f"got {type(item).__name__} at position {position}"
            )


def items_table(items: Iterable[BatchItem | DetectionResult], *, keep_json: bool = True, feature: str) -> pa.Table:
    """One row per input of :data:`~facekit._arrow_schema.ROW_SCHEMA` (failed inputs included).

    Args:
        items: Batch items (``detect_many``, ``read_results``) or bare results.
        keep_json: Keep the lossless result JSON in ``result_json`` (what ``read_results``
            reads back).
        feature: What is asked for, for the missing-extra message.
    """
    pa_module = require("pyarrow", extra="dataframe", feature=feature)
    from facekit._arrow_schema import ROW_SCHEMA, error_row, result_row

    rows: list[dict[str, Any]] = []
    for item in _items(items):
        name = input_name(item.input) if item.input is not None else None
        if item.error is None and item.result is not None:
            rows.append(result_row(name, item.result, item.seconds, keep_json=keep_json))
        else:
            error = item.error if item.error is not None else FacekitError("no result and no error recorded")
            provider = error.provider if isinstance(error, FacekitError) else None
            rows.append(error_row(name, error, item.seconds, provider=provider))
    table: pa.Table = pa_module.Table.from_pylist(rows, schema=ROW_SCHEMA)
    return table


def _pandas_type(pandas: Any, arrow_type: Any) -> Any:
    """Nullable pandas dtypes for integers and booleans (a null stays <NA>, never becomes 0.0)."""
    import pyarrow as pa

    if pa.types.is_integer(arrow_type):
        return pandas.Int64Dtype()
    if pa.types.is_boolean(arrow_type):
        return pandas.BooleanDtype()
    return None


def _spread_maps(table: pa.Table) -> pa.Table:
    """Map columns become one column per key found (``landmarks.left_eye.x``, ``emotion.other.<name>``).

    Keys are taken in the order first seen; a row without the key has null. So the frame has
    flat numeric columns (and ``to_parquet`` works), like ``DetectionResult.to_dataframe()``.
    """
    import pyarrow as pa

    for name in [field.name for field in table.schema if pa.types.is_map(field.type)]:
        position = table.schema.get_field_index(name)
        kind = table.schema.field(name).type
        rows = [dict(value) if value is not None else {} for value in table.column(name).to_pylist()]
        keys = list(dict.fromkeys(key for row in rows for key in row))
        spread: dict[str, pa.Array] = {}
        for key in keys:
            if pa.types.is_struct(kind.item_type):
                for child in kind.item_type:
                    values = [row[key][child.name] if row.get(key) is not None else None for row in rows]
                    spread[f"{name}.{key}.{child.name}"] = pa.array(values, child.type)
            else:
                spread[f"{name}.{key}"] = pa.array([row.get(key) for row in rows], kind.item_type)
        table = table.remove_column(position)
        for offset, (column, values) in enumerate(spread.items()):
            table = table.add_column(position + offset, column, values)
    return table


def to_dataframe(items: Iterable[BatchItem | DetectionResult]) -> Any:
    """One pandas ``DataFrame`` for a whole batch: one row per face, and a row for every input without one.

    Columns: ``input``, ``ok``, ``error_type``, ``error_message``, ``provider``,
    ``image_width`` / ``image_height`` (pixels), ``face_count``, then the face: ``face_index``,
    ``left``, ``top``, ``width``, ``height`` (pixels), ``left_ratio`` ... (0..1, NaN when the
    image size is unknown), ``confidence`` (0..1), ``face_id``, ``landmarks.<name>.x`` / ``.y`` (pixels; one
    pair per landmark name found in the batch) and every attribute as a dotted column (``age``,
    ``gender.value``, ``emotion.happiness``, ``head_pose.yaw`` in degrees ...), present even
    when not returned (then empty).

    An input with no face has one row with ``face_count`` 0 and empty face columns; a failed
    input one row with ``ok`` False, its ``error_type`` and ``error_message``, and
    ``face_count`` <NA>. Integer columns are pandas' nullable ``Int64``, booleans ``boolean``.

    Args:
        items: Batch items (``FaceClient.detect_many``, :func:`facekit.read_results`) or
            ``DetectionResult`` objects (their ``input`` is empty).

    Raises:
        MissingDependencyError: pandas or pyarrow is missing (``pip install 'facekit-detect[dataframe]'``).
    """
    pandas = require("pandas", extra="dataframe", feature="facekit.to_dataframe()")
    from facekit._arrow_faces import explode_table

    table = items_table(items, keep_json=False, feature="facekit.to_dataframe()")
    flat = explode_table(table, keep_empty=True, row_columns=ROW_COLUMNS)
    return _spread_maps(flat).to_pandas(types_mapper=lambda kind: _pandas_type(pandas, kind))


def write_parquet(
    items: Iterable[BatchItem | DetectionResult], path: str | os.PathLike[str], *, keep_json: bool = True
) -> int:
    """Write a batch to one Parquet file, one row per input (the schema ``facekit.dask`` writes).

    Faces are a nested list column (``faces``); ``result_json`` keeps each result losslessly,
    so :func:`facekit.read_results` gives the items back. For one row per face, use
    ``facekit.to_dataframe(facekit.read_results(path))``.

    Args:
        items: Batch items or results.
        path: The ``.parquet`` file to write (replaced if it exists).
        keep_json: Keep the lossless result JSON (raw provider payload included); False
            writes smaller files that ``read_results`` cannot turn back into results.

    Returns:
        The number of rows (inputs) written.

    Raises:
        MissingDependencyError: pyarrow is missing (``pip install 'facekit-detect[dataframe]'``).
    """
    table = items_table(items, keep_json=keep_json, feature="facekit.write_parquet()")
    parquet = require("pyarrow.parquet", extra="dataframe", feature="facekit.write_parquet()")
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    os.makedirs(directory, exist_ok=True)
    parquet.write_table(table, target)
    return int(table.num_rows)
