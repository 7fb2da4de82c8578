"""Rows out, a batch at a time: DataRows, or COPY data for a COPY TO STDOUT. The next batch is
read (in a worker thread) and encoded only once the client has taken the previous one, and a
CancelRequest stops the rows' query while they are sent."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from lakemesh.pgwire import messages
from lakemesh.pgwire.connection import Connection
from lakemesh.pgwire.encoding import encode_batch, encode_copy_binary, encode_copy_text
from lakemesh.pgwire.rows import Rows


async def send_rows(
    connection: Connection, rows: Rows, formats: Sequence[int], limit: int = 0
) -> None:
    """DataRows of ``rows`` (at most ``limit``, 0: all), a batch at a time: the next batch
    is read only once the client has taken the previous one."""
    left = limit
    time_zone = connection.client_session.time_zone
    with connection.sending(rows):
        while limit <= 0 or left > 0:
            data = await connection.pull(rows, partial(_encoded, rows, left, formats, time_zone))
            if data is None:
                return
            payload, count = data
            await connection.send(payload)
            left -= count


async def send_copy(connection: Connection, rows: Rows, format: str) -> None:
    """``rows`` as COPY data: a CopyData message per row, a batch at a time, then CopyDone."""
    binary = format == "binary"
    await connection.send(messages.copy_out_response(binary, len(rows.schema)))
    # One CopyData per tuple, as PostgreSQL sends them (ADBC's reader reads one record per
    # message); the binary header travels in the first one.
    first = binary
    time_zone = connection.client_session.time_zone
    with connection.sending(rows):
        while True:
            data = await connection.pull(
                rows, partial(_copy_encoded, rows, binary, first, time_zone)
            )
            if data is None:
                break
            await connection.send(data)
            first = False
    if first:
        await connection.send(messages.copy_data(messages.COPY_BINARY_HEADER))
    if binary:
        await connection.send(messages.copy_data(messages.COPY_BINARY_TRAILER))
    await connection.send(messages.copy_done())


def _encoded(
    rows: Rows, limit: int, formats: Sequence[int], time_zone: str | None
) -> tuple[bytes, int] | None:
    """The DataRows of the next batch of ``rows`` and how many they are; None at the end."""
    batch = rows.take(limit)
    if batch is None:
        return None
    return encode_batch(batch, formats, time_zone), batch.num_rows


def _copy_encoded(rows: Rows, binary: bool, first: bool, time_zone: str | None) -> bytes | None:
    """The CopyData messages of the next batch of ``rows``; None at the end."""
    batch = rows.take()
    if batch is None:
        return None
    if binary:
        return encode_copy_binary(batch, first=first)
    return encode_copy_text(batch, time_zone)
