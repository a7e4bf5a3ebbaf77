"""Output writers for ``facekit detect`` (JSON, JSONL, CSV, Parquet) and ``--resume`` for JSONL files.

The text writers write and flush one input at a time, so a killed run loses nothing it
finished. Parquet needs a file (``--output``): rows are written in row groups to a hidden
temporary file that is renamed into place when the run ends.
"""

from __future__ import annotations

import csv
import json
import os
from typing import IO, Any, Protocol

from facekit._batch import BatchItem
from facekit._errors import ConfigurationError
from facekit._export import CSV_COLUMNS, csv_rows, item_record

__all__ = ["FORMATS", "Writer", "finished_inputs", "make_writer"]

FORMATS = ("json", "jsonl", "csv", "parquet")


class Writer(Protocol):
    """Writes one batch input at a time."""

    def write(self, item: BatchItem, name: str) -> None:
        """Write the rows of one input and flush."""

    def close(self) -> None:
        """Finish the document (does not close the stream)."""


class JsonlWriter:
    """One JSON record per line (see :func:`facekit._export.item_record`)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, item: BatchItem, name: str) -> None:
        self.stream.write(json.dumps(item_record(item, name=name)) + "\n")
        self.stream.flush()

    def close(self) -> None:
        self.stream.flush()


class JsonWriter:
    """A JSON array of records, streamed (valid JSON once closed)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.count = 0
        stream.write("[")

    def write(self, item: BatchItem, name: str) -> None:
        separator = ",\n" if self.count else "\n"
        self.stream.write(separator + json.dumps(item_record(item, name=name), indent=None))
        self.stream.flush()
        self.count += 1

    def close(self) -> None:
        self.stream.write("\n]\n" if self.count else "]\n")
        self.stream.flush()


class CsvWriter:
    """Flat rows with :data:`facekit._export.CSV_COLUMNS`: one per face, one per no-face or failed input."""

    def __init__(self, stream: IO[str], *, header: bool = True) -> None:
        self.stream = stream
        self.writer = csv.DictWriter(stream, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
        if header:
            self.writer.writeheader()

    def write(self, item: BatchItem, name: str) -> None:
        self.writer.writerows(csv_rows(item, name=name))
        self.stream.flush()

    def close(self) -> None:
        self.stream.flush()


class ParquetFileWriter:
    """One row per input (the schema of :func:`facekit.write_parquet`), :data:`ROW_GROUP` inputs a row group.

    Raises:
        MissingDependencyError: pyarrow is missing (the ``dataframe`` extra).
    """

    #: Inputs buffered before a row group is written.
    ROW_GROUP = 256

    def __init__(self, path: str) -> None:
        from facekit._deps import require

        self.parquet = require("pyarrow.parquet", extra="dataframe", feature="--format parquet")
        self.path = path
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        self.temporary = os.path.join(directory, f".{os.path.basename(path)}.tmp")
        self.pending: list[BatchItem] = []
        self.file: Any = None

    def write(self, item: BatchItem, name: str) -> None:
        self.pending.append(BatchItem(item.index, name, item.result, item.error, item.seconds))
        if len(self.pending) >= self.ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        from facekit._arrow_schema import ROW_SCHEMA
        from facekit._batch_frame import items_table

        if self.file is None:
            self.file = self.parquet.ParquetWriter(self.temporary, ROW_SCHEMA)
        if self.pending:
            self.file.write_table(items_table(self.pending, feature="--format parquet"))
        self.pending = []

    def close(self) -> None:
        self._flush()
        self.file.close()
        os.replace(self.temporary, self.path)


def make_writer(fmt: str, stream: IO[str], *, path: str | None = None) -> Writer:
    """The writer for ``fmt`` (``json``, ``jsonl``, ``csv``; ``parquet`` writes ``path``)."""
    if fmt == "parquet":
        if not path:
            raise ConfigurationError("--format parquet needs --output FILE.parquet (Parquet is not streamed to stdout)")
        return ParquetFileWriter(path)
    if fmt == "jsonl":
        return JsonlWriter(stream)
    if fmt == "csv":
        return CsvWriter(stream)
    return JsonWriter(stream)


def finished_inputs(path: str, *, retry_failed: bool = False) -> set[str]:
    """Read a JSONL file of an earlier run; return the inputs that need no new record.

    A last line cut short by a killed run is removed from the file. With ``retry_failed``,
    error records are removed from the file too (rewritten atomically) and their inputs are
    not in the returned set, so they are done again without leaving duplicates.

    Raises:
        ConfigurationError: A line other than the last is not a facekit JSON record.
    """
    if not os.path.exists(path):
        return set()
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    lines = text.split("\n")
    complete, tail = lines[:-1], lines[-1]  # tail: "" when the file ends with a newline
    kept: list[str] = []
    finished: set[str] = set()
    changed = bool(tail)
    for number, line in enumerate(complete, start=1):
        if not line.strip():
            changed = True
            continue
        try:
            record: Any = json.loads(line)
            name, status = record["input"], record["status"]
        except (ValueError, KeyError, TypeError) as exc:
            if number == len(complete) and not tail:
                changed = True  # a last line cut short
                continue
            raise ConfigurationError(
                f"cannot resume: line {number} of {path!r} is not a facekit JSONL record; "
                "was it written by `facekit detect --format jsonl`?"
            ) from exc
        if status != "ok" and retry_failed:
            changed = True
            continue
        finished.add(str(name))
        kept.append(line)
    if changed:
        temporary = f"{path}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write("".join(line + "\n" for line in kept))
        os.replace(temporary, path)
    return finished
