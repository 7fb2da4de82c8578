"""A query's result as the worker writes it, an Arrow IPC stream stopped at the query's row and
result-size limits: kept in memory when small, else written to a file batch by batch, or sent as
the reader takes it (a streamed query), a stream per batch."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa

from lakemesh.query.engines.base import QueryLimits
from lakemesh.query.engines.limits import result_size_exceeded, row_limit_exceeded

STREAM_BATCH_BYTES = 4 << 20
"""A streamed batch larger than this is sent in slices (a chunk stays a few MiB however wide
its rows are)."""


@dataclass(frozen=True)
class WrittenResult:
    """What :func:`write_result` wrote: the rows, the size of the Arrow IPC stream, and the
    stream itself when it was small enough to keep in memory (then no file was written)."""

    rows: int
    size: int
    inline: bytes | None = None


def write_result(
    reader: pa.RecordBatchReader, path: str, limits: QueryLimits, *, inline_bytes: int = 0
) -> WrittenResult:
    """Write ``reader``'s batches as an Arrow IPC stream: kept in memory when the whole stream
    takes at most ``inline_bytes``, else to the file ``path``, one batch at a time.

    Raises:
        LimitExceededError: more rows than ``limits.max_rows``, or more bytes than
            ``limits.max_result_bytes`` (the file is left incomplete; the caller deletes it).
    """
    rows = 0
    held: list[pa.RecordBatch] = []
    held_bytes = 0
    batches = iter(reader)
    for batch in batches:
        rows += batch.num_rows
        if limits.max_rows is not None and rows > limits.max_rows:
            raise row_limit_exceeded(limits.max_rows)
        held.append(batch)
        held_bytes += batch.nbytes
        if held_bytes > inline_bytes:
            break
    else:
        stream = pa.BufferOutputStream()
        with pa.ipc.new_stream(stream, reader.schema) as writer:
            for batch in held:
                writer.write_batch(batch)
        inline = stream.getvalue()
        if limits.max_result_bytes is not None and inline.size > limits.max_result_bytes:
            raise result_size_exceeded(limits.max_result_bytes)
        if inline.size <= inline_bytes:
            return WrittenResult(rows=rows, size=inline.size, inline=inline.to_pybytes())
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_stream(sink, reader.schema) as writer:
        for batch in held:  # counted above
            _write_batch(writer, sink, batch, limits)
        for batch in batches:
            rows += batch.num_rows
            if limits.max_rows is not None and rows > limits.max_rows:
                raise row_limit_exceeded(limits.max_rows)
            _write_batch(writer, sink, batch, limits)
    return WrittenResult(rows=rows, size=os.path.getsize(path))


def stream_result(
    reader: pa.RecordBatchReader, send: Callable[[bytes], None], limits: QueryLimits
) -> WrittenResult:
    """Give ``reader``'s rows to ``send`` as they come: first an Arrow IPC stream of the schema
    alone, then one per batch (sliced to about :data:`STREAM_BATCH_BYTES`). Nothing is kept:
    ``send`` blocking holds the query back.

    The size counted against ``limits.max_result_bytes`` is that of one stream of every batch.

    Raises:
        LimitExceededError: more rows than ``limits.max_rows`` or more bytes than
            ``limits.max_result_bytes`` (the batch that passed it is not sent).
    """
    header = _ipc_stream(reader.schema, ())
    send(header)
    size, rows = len(header), 0
    for batch in reader:
        rows += batch.num_rows
        if limits.max_rows is not None and rows > limits.max_rows:
            raise row_limit_exceeded(limits.max_rows)
        for piece in _slices(batch, STREAM_BATCH_BYTES):
            data = _ipc_stream(reader.schema, (piece,))
            size += len(data) - len(header)
            if limits.max_result_bytes is not None and size > limits.max_result_bytes:
                raise result_size_exceeded(limits.max_result_bytes)
            send(data)
    return WrittenResult(rows=rows, size=size)


def _ipc_stream(schema: pa.Schema, batches: Sequence[pa.RecordBatch]) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
    return bytes(sink.getvalue())


def _slices(batch: pa.RecordBatch, max_bytes: int) -> Iterator[pa.RecordBatch]:
    """``batch`` in slices of at most about ``max_bytes`` (one row at least)."""
    if batch.num_rows == 0:
        return
    rows = max(1, batch.num_rows * max_bytes // max(batch.nbytes, 1))
    for offset in range(0, batch.num_rows, rows):
        yield batch.slice(offset, rows)


def _write_batch(
    writer: pa.ipc.RecordBatchStreamWriter,
    sink: pa.NativeFile,
    batch: pa.RecordBatch,
    limits: QueryLimits,
) -> None:
    writer.write_batch(batch)
    if limits.max_result_bytes is not None and sink.tell() > limits.max_result_bytes:
        raise result_size_exceeded(limits.max_result_bytes)
