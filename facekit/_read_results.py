"""Saved results back in: :func:`read_results` reads what ``facekit detect`` and ``write_parquet`` wrote.

Formats, recognised from the content (not the file name):

* JSONL (``facekit detect --format jsonl``): one record per line (:func:`facekit._export.item_record`);
* JSON (``--format json``, the default): an array of those records;
* one JSON object: a record, or a bare ``DetectionResult`` (``result.to_json()``);
* Parquet (``--format parquet``, :func:`facekit.write_parquet`, a ``facekit.dask.detect_to_parquet``
  directory): rows of :data:`~facekit._arrow_schema.ROW_SCHEMA`, results from ``result_json``.

CSV is refused: it is a flat view without the landmarks' and attributes' full form.
"""

from __future__ import annotations

import glob
import json
import os
from typing import Any

import facekit._errors as _errors
from facekit._batch import BatchItem
from facekit._errors import ConfigurationError, FacekitError, RecordedError
from facekit._export import error_record
from facekit._models import DetectionResult

__all__ = ["read_results", "restore_error"]

_PARQUET_MAGIC = b"PAR1"


def restore_error(record: dict[str, Any], *, exact: bool = True) -> Exception:
    """The exception a saved error record stands for.

    A facekit error comes back as its own class (``RateLimitError`` ...) with the recorded
    ``provider``, ``status``, ``code`` and ``request_id``; the provider's raw body is not
    saved, so ``body`` is None. Any other error becomes a :class:`~facekit.RecordedError`.

    Args:
        record: ``{"type", "message", ...}`` as :func:`facekit._export.error_record` wrote it.
        exact: Use the facekit class only when writing it again gives exactly ``record``
            (JSON records); False for Parquet rows, which keep only the type and message.
    """
    type_name = str(record.get("type") or "Exception")
    message = str(record.get("message") or "")
    details = {name: record.get(name) for name in ("provider", "status", "code", "request_id")}
    kind = getattr(_errors, type_name, None) if type_name in _errors.__all__ else None
    if isinstance(kind, type) and issubclass(kind, FacekitError) and kind is not RecordedError:
        error = kind.__new__(kind)
        FacekitError.__init__(error, message, **details)
        for attribute in ("retry_after", "feature", "extra", "module", "command"):
            if not hasattr(error, attribute):
                setattr(error, attribute, None)  # recorded errors do not keep these: unknown
        if not exact or error_record(error) == record:
            return error
    return RecordedError(message, type_name=type_name, record=record, **details)


def _record_item(position: int, record: Any, where: str) -> BatchItem:
    if not isinstance(record, dict):
        raise ConfigurationError(f"{where} is not a facekit result record (a JSON object was expected)")
    if "status" not in record and "provider" in record and "faces" in record:
        return BatchItem(position, None, result=DetectionResult.model_validate(record))
    try:
        status, name = record["status"], record["input"]
    except KeyError as exc:
        raise ConfigurationError(
            f"{where} has no {exc.args[0]!r}: is it the output of `facekit detect --format json/jsonl`?"
        ) from exc
    index = record.get("index", position)
    result = record.get("result")
    error = record.get("error")
    if status == "ok" and result is not None:
        return BatchItem(index, name, result=DetectionResult.model_validate(result))
    restored = restore_error(error) if isinstance(error, dict) else RecordedError("no error recorded", type_name="")
    return BatchItem(index, name, error=restored)


def _json_items(text: str, path: str) -> list[BatchItem]:
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            records = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(
                f"{path!r} is not complete JSON ({exc.msg}, line {exc.lineno}): was the run stopped before "
                "it finished? `--format jsonl` output can be read up to the last finished input"
            ) from exc
        return [_record_item(number, record, f"item {number} of {path!r}") for number, record in enumerate(records)]
    if stripped.startswith("{"):
        try:
            return [_record_item(0, json.loads(stripped), repr(path))]
        except json.JSONDecodeError:
            pass  # more than one object: JSON Lines
    items: list[BatchItem] = []
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            if number == len(lines):  # the last line of a killed run, cut short (no newline)
                continue
            hint = " (a CSV file? read JSON, JSONL or Parquet output instead)" if "," in line[:200] else ""
            raise ConfigurationError(
                f"line {number} of {path!r} is not JSON{hint}; read_results reads what "
                "`facekit detect --format json/jsonl/parquet` writes"
            ) from exc
        items.append(_record_item(len(items), record, f"line {number} of {path!r}"))
    return items


def _parquet_items(path: str) -> list[BatchItem]:
    from facekit._deps import require

    parquet = require("pyarrow.parquet", extra="dataframe", feature="read_results() of Parquet files")
    files = sorted(glob.glob(os.path.join(glob.escape(path), "part-*.parquet"))) if os.path.isdir(path) else [path]
    columns = ["input", "ok", "error_type", "error_message", "provider", "seconds", "result_json"]
    items: list[BatchItem] = []
    for name in files:
        for row in parquet.read_table(name, columns=columns).to_pylist():
            seconds = row["seconds"] or 0.0
            if row["ok"]:
                if row["result_json"] is None:
                    raise ConfigurationError(
                        f"{name!r} was written without result JSON (keep_json=False); results cannot be read back"
                    )
                result = DetectionResult.model_validate_json(row["result_json"])
                items.append(BatchItem(len(items), row["input"], result=result, seconds=seconds))
            else:
                record = {"type": row["error_type"], "message": row["error_message"], "provider": row["provider"]}
                error = restore_error(record, exact=False)
                items.append(BatchItem(len(items), row["input"], error=error, seconds=seconds))
    return items


def read_results(path: str | os.PathLike[str]) -> list[BatchItem]:
    """Read saved detections back into :class:`~facekit.BatchItem` objects, one per input, in file order.

    Reads ``facekit detect`` output (``--format json``, ``jsonl`` or ``parquet``), a saved
    ``result.to_json()``, files of :func:`facekit.write_parquet` and directories of
    ``facekit.dask.detect_to_parquet``. Writing the items again (``facekit detect``'s writers,
    ``write_parquet``) gives back what was read.

    * An input that succeeded has ``item.result`` (a full ``DetectionResult``; the image
      itself is not saved, so pass it to ``draw()``/``crop_faces()``).
    * A failed input has ``item.error``: a facekit error comes back as its own class (e.g.
      ``ServiceUnavailableError`` with its ``status``), any other as :class:`~facekit.RecordedError`.
    * ``item.input`` is the input's name as written (a path or URL); ``item.seconds`` is 0
      for JSON files (they do not record it).

    Args:
        path: A file, or a Parquet data set directory.

    Raises:
        ConfigurationError: The file is missing or is not facekit output (e.g. CSV).
        MissingDependencyError: A Parquet file without pyarrow (``pip install 'facekit-detect[dataframe]'``).
    """
    name = os.fspath(path)
    if os.path.isdir(name):
        return _parquet_items(name)
    try:
        with open(name, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ConfigurationError(f"cannot read results from {name!r}: {exc.strerror or exc}") from exc
    if data.startswith(_PARQUET_MAGIC):
        return _parquet_items(name)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigurationError(f"{name!r} is neither JSON, JSONL nor Parquet results") from exc
    return _json_items(text, name)
