"""Arrow batches on the wire: the RowDescription of a schema, DataRows, and COPY data in text and
binary format (the values themselves: :mod:`lakemesh.pgwire.types`)."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from lakemesh.pgwire import messages
from lakemesh.pgwire.messages import BINARY, TEXT, Field
from lakemesh.pgwire.types import pg_type
from lakemesh.pgwire.values import encode_array


def fields(schema: pa.Schema, formats: Sequence[int] | None) -> list[Field]:
    """The RowDescription of ``schema`` in ``formats`` (text when ``None``)."""
    result = []
    for index, column in enumerate(schema):
        wire = pg_type(column.type)
        result.append(
            Field(
                column.name,
                wire.oid,
                wire.type.size if wire.element is None else -1,
                format=formats[index] if formats else TEXT,
            )
        )
    return result


def encode_batch(
    batch: pa.RecordBatch, formats: Sequence[int], time_zone: str | None = None
) -> bytes:
    """The DataRows of one batch (text timestamps with a zone in ``time_zone``)."""
    columns = [
        encode_array(batch.column(i), BINARY if formats[i] == BINARY else TEXT, time_zone)
        for i in range(batch.num_columns)
    ]
    return messages.data_rows(columns, batch.num_rows)


def encode_copy_binary(batch: pa.RecordBatch, *, first: bool = False) -> bytes:
    """The CopyData messages of one batch's tuples in binary COPY format."""
    columns = [encode_array(batch.column(i), BINARY) for i in range(batch.num_columns)]
    return messages.copy_tuples(columns, batch.num_rows, first=first)


_COPY_ESCAPES = ((b"\\", b"\\\\"), (b"\t", b"\\t"), (b"\n", b"\\n"), (b"\r", b"\\r"))


def encode_copy_text(batch: pa.RecordBatch, time_zone: str | None = None) -> bytes:
    """The CopyData messages of one batch's lines in text COPY format: tab-separated,
    ``\\N`` for NULL."""
    columns = []
    for i in range(batch.num_columns):
        values = encode_array(batch.column(i), TEXT, time_zone)
        array = values if isinstance(values, pa.Array) else pa.array(values, pa.binary())
        for raw, escaped in _COPY_ESCAPES:
            array = pc.replace_substring(array, raw, escaped)
        columns.append(array)
    lines = pc.binary_join_element_wise(
        *columns, b"\t", null_handling="replace", null_replacement=b"\\N"
    )
    return messages.copy_lines(lines)
