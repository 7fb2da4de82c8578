"""Result serialisers: Arrow IPC stream, JSON (a list of row objects) and CSV."""

from __future__ import annotations

import base64
import datetime
import decimal
import io
import json
import math
import uuid
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv

FORMATS = ("arrow", "json", "csv")
CHUNK_ROWS = 10_000
"""Rows serialised at a time when a result is streamed."""


def to_arrow_ipc(table: pa.Table) -> bytes:
    """The table as an Arrow IPC stream."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def to_json(table: pa.Table) -> str:
    """The table as a JSON list of row objects; values that JSON cannot hold exactly become text.

    Decimals, dates, times and timestamps become strings (ISO 8601 for time), bytes become base64,
    NaN and infinities become ``"NaN"``, ``"Infinity"``, ``"-Infinity"``.

    >>> to_json(pa.table({"a": [1], "d": [decimal.Decimal("1.10")]}))
    '[{"a": 1, "d": "1.10"}]'
    """
    return json.dumps([json_row(row) for row in table.to_pylist()], ensure_ascii=False)


def json_row(row: dict[str, Any]) -> dict[str, Any]:
    """One row with every value made JSON-safe."""
    return {name: json_value(value) for name, value in row.items()}


def json_value(value: Any) -> Any:
    """A JSON-safe rendering of one Arrow value (as ``to_pylist`` returns it)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        # A MAP with text keys: Arrow hands it over as a list of (key, value) pairs.
        if value and all(
            isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
            for item in value
        ):
            return {key: json_value(item) for key, item in value}
        return [json_value(item) for item in value]
    return str(value)


def to_csv(table: pa.Table) -> str:
    """The table as CSV with a header row; nested values are written as JSON text."""
    return b"".join(csv_chunks(table)).decode("utf-8")


def csv_chunks(table: pa.Table, *, rows: int = CHUNK_ROWS) -> Iterator[bytes]:
    """The table as CSV, ``rows`` rows at a time (the header with the first chunk)."""
    sink = io.BytesIO()
    schema = pa.schema([_flat_field(field) for field in table.schema])
    with pa_csv.CSVWriter(sink, schema) as writer:
        for batch in _batches(table, rows):
            writer.write_batch(pa.record_batch(_flat_columns(batch), schema=schema))
            yield _drain(sink)
    if sink.tell():
        yield _drain(sink)


def arrow_chunks(table: pa.Table, *, rows: int = CHUNK_ROWS) -> Iterator[bytes]:
    """The table as an Arrow IPC stream, ``rows`` rows at a time."""
    sink = io.BytesIO()
    with pa.ipc.new_stream(pa.PythonFile(sink, mode="w"), table.schema) as writer:
        for batch in _batches(table, rows):
            writer.write_batch(batch)
            yield _drain(sink)
    yield _drain(sink)


def _batches(table: pa.Table, rows: int) -> Iterator[pa.RecordBatch]:
    for batch in table.to_batches(max_chunksize=rows):
        if batch.num_rows:
            yield batch


def _drain(sink: io.BytesIO) -> bytes:
    data = sink.getvalue()
    sink.seek(0)
    sink.truncate()
    return data


def _is_flattened(type_: pa.DataType) -> bool:
    return bool(pa.types.is_nested(type_) or pa.types.is_dictionary(type_))


def _flat_field(field: pa.Field) -> pa.Field:
    return pa.field(field.name, pa.string()) if _is_flattened(field.type) else field


def _flat_columns(batch: pa.RecordBatch) -> list[pa.Array]:
    """The batch's columns with nested values as JSON text (CSV has no nesting)."""
    columns = []
    for field, column in zip(batch.schema, batch.columns, strict=True):
        if _is_flattened(field.type):
            values = [
                None if value is None else json.dumps(json_value(value), ensure_ascii=False)
                for value in column.to_pylist()
            ]
            columns.append(pa.array(values, type=pa.string()))
        else:
            columns.append(column)
    return columns
