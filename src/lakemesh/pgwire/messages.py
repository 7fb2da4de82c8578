"""The bytes of the PostgreSQL v3 protocol: frontend messages read, backend messages written.

Pure functions over bytes (rows assembled with Arrow), no sockets: every backend message is
``type byte, int32 length (itself included), body``; the startup packet alone has no type byte.

>>> command_complete("SELECT 3")
b'C\\x00\\x00\\x00\\rSELECT 3\\x00'
>>> ready_for_query("I")
b'Z\\x00\\x00\\x00\\x05I'
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

PROTOCOL_VERSION = 196608  # 3.0
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
"""The longest frontend message read; a longer one ends the connection (a query's own size limit,
``max_sql_bytes``, is far smaller)."""

TEXT, BINARY = 0, 1

_INT16 = struct.Struct("!h")
_INT32 = struct.Struct("!i")
_HEADER = struct.Struct("!ci")


class ProtocolViolationError(Exception):
    """The client sent something the protocol does not allow (SQLSTATE 08P01)."""


def message(kind: bytes, body: bytes = b"") -> bytes:
    """One backend message of type ``kind``."""
    return _HEADER.pack(kind, len(body) + 4) + body


def cstring(text: str) -> bytes:
    """A NUL-terminated UTF-8 string."""
    return text.encode() + b"\x00"


# -- backend messages ---------------------------------------------------------------------------


def authentication_ok() -> bytes:
    return message(b"R", _INT32.pack(0))


def authentication_cleartext_password() -> bytes:
    return message(b"R", _INT32.pack(3))


def authentication_sasl(mechanisms: list[str]) -> bytes:
    return message(b"R", _INT32.pack(10) + b"".join(cstring(m) for m in mechanisms) + b"\x00")


def authentication_sasl_continue(data: str) -> bytes:
    return message(b"R", _INT32.pack(11) + data.encode())


def authentication_sasl_final(data: str) -> bytes:
    return message(b"R", _INT32.pack(12) + data.encode())


def read_sasl_initial_response(body: bytes) -> tuple[str, str]:
    """The mechanism and the client-first-message of a SASLInitialResponse."""
    reader = Reader(body)
    mechanism = reader.cstring()
    length = reader.int32()
    data = reader.bytes(length) if length >= 0 else b""
    return mechanism, data.decode(errors="replace")


def parameter_status(name: str, value: str) -> bytes:
    return message(b"S", cstring(name) + cstring(value))


def backend_key_data(process_id: int, secret: int) -> bytes:
    return message(b"K", struct.pack("!ii", process_id, secret))


def ready_for_query(status: str) -> bytes:
    """``I`` idle, ``T`` in a transaction block, ``E`` in a failed one."""
    return message(b"Z", status.encode())


def command_complete(tag: str) -> bytes:
    return message(b"C", cstring(tag))


def empty_query_response() -> bytes:
    return message(b"I")


def parse_complete() -> bytes:
    return message(b"1")


def bind_complete() -> bytes:
    return message(b"2")


def close_complete() -> bytes:
    return message(b"3")


def no_data() -> bytes:
    return message(b"n")


def portal_suspended() -> bytes:
    return message(b"s")


def parameter_description(type_oids: Sequence[int]) -> bytes:
    body = _INT16.pack(len(type_oids)) + b"".join(_INT32.pack(oid) for oid in type_oids)
    return message(b"t", body)


@dataclass(frozen=True)
class Field:
    """One column of a RowDescription."""

    name: str
    type_oid: int
    type_size: int = -1
    type_modifier: int = -1
    format: int = TEXT


def row_description(fields: Sequence[Field]) -> bytes:
    parts = [_INT16.pack(len(fields))]
    for field in fields:
        parts.append(cstring(field.name))
        parts.append(
            struct.pack(
                "!ihihih", 0, 0, field.type_oid, field.type_size, field.type_modifier, field.format
            )
        )
    return message(b"T", b"".join(parts))


_NULL = _INT32.pack(-1)


def data_row(values: Sequence[bytes | None]) -> bytes:
    """One DataRow of already encoded values (``None`` is SQL NULL)."""
    parts = [_INT16.pack(len(values))]
    for value in values:
        if value is None:
            parts.append(_NULL)
        else:
            parts.append(_INT32.pack(len(value)))
            parts.append(value)
    body = b"".join(parts)
    return _HEADER.pack(b"D", len(body) + 4) + body


_ROW_HEADER = np.dtype([("kind", "S1"), ("length", ">i4"), ("count", ">i2")])
COPY_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
COPY_BINARY_TRAILER = struct.pack("!h", -1)


def data_rows(columns: Sequence[pa.Array | Sequence[bytes | None]], count: int) -> bytes:
    """The DataRows of ``count`` rows from encoded columns (each holds ``count`` values).

    Assembled column-wise in Arrow (length prefixes, then one element-wise join), not row by row:

    >>> data_rows([[b"1", None]], 2) == data_row([b"1"]) + data_row([None])
    True
    """
    if not columns:
        return data_row(()) * count
    return _assemble(columns, count, kind=b"D")


def copy_tuples(
    columns: Sequence[pa.Array | Sequence[bytes | None]], count: int, *, first: bool = False
) -> bytes:
    """CopyData messages of ``count`` binary COPY tuples, one each (as PostgreSQL sends them,
    and as ADBC's reader needs them); ``first`` puts the COPY header in the first one.

    >>> copy_tuples([[b"ab", None]], 2).hex()
    '640000000c0001000000026162640000000a0001ffffffff'
    """
    data = _assemble(columns, count, kind=b"d")
    if not first:
        return data
    length = struct.unpack_from("!i", data, 1)[0] + len(COPY_BINARY_HEADER)
    return b"d" + struct.pack("!i", length) + COPY_BINARY_HEADER + data[5:]


def _assemble(
    columns: Sequence[pa.Array | Sequence[bytes | None]], count: int, *, kind: bytes
) -> bytes:
    """Messages of type ``kind`` (DataRow, or CopyData of binary tuples: the same layout) of
    ``count`` rows, each a field count and its length-prefixed fields."""
    lengths_total = np.full(count, 6, dtype=np.int64)  # the length field itself and the count
    pieces = []
    for values in columns:
        array = values if isinstance(values, pa.Array) else pa.array(values, pa.binary())
        valid = array.is_valid().to_numpy(zero_copy_only=False)
        filled = pc.fill_null(array, b"")
        lengths = pc.binary_length(filled).to_numpy(zero_copy_only=False).astype(np.int64)
        prefixes = np.where(valid, lengths, -1).astype(">i4")
        pieces.append(_fixed(prefixes.tobytes(), 4, count))
        pieces.append(filled)
        lengths_total += 4 + lengths
    headers = np.empty(count, dtype=_ROW_HEADER)
    headers["kind"] = kind
    headers["length"] = lengths_total
    headers["count"] = len(columns)
    width = headers.dtype.itemsize
    joined = pc.binary_join_element_wise(_fixed(headers.tobytes(), width, count), *pieces, b"")
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int32, count=count + 1)
    data: bytes = joined.buffers()[2].to_pybytes()
    return data[offsets[0] : offsets[-1]]


def copy_out_response(binary: bool, columns: int) -> bytes:
    format = BINARY if binary else TEXT
    return message(b"H", struct.pack("!bh", format, columns) + _INT16.pack(format) * columns)


def copy_data(data: bytes) -> bytes:
    return message(b"d", data)


def copy_lines(lines: pa.Array) -> bytes:
    """A CopyData message per line of text COPY (each line gets its newline)."""
    lengths = pc.binary_length(lines).to_numpy(zero_copy_only=False).astype(np.int64)
    headers = np.empty(len(lines), dtype=_LINE_HEADER)
    headers["kind"] = b"d"
    headers["length"] = lengths + 5
    joined = pc.binary_join_element_wise(
        _fixed(headers.tobytes(), 5, len(lines)), lines, pa.scalar(b"\n"), b""
    )
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int32, count=len(lines) + 1)
    data: bytes = joined.buffers()[2].to_pybytes()
    return data[offsets[0] : offsets[-1]]


_LINE_HEADER = np.dtype([("kind", "S1"), ("length", ">i4")])


def copy_done() -> bytes:
    return message(b"c")


def _fixed(data: bytes, width: int, count: int) -> pa.Array:
    """``count`` values of ``width`` bytes each, as a binary array."""
    array = pa.Array.from_buffers(pa.binary(width), count, [None, pa.py_buffer(data)])
    return array.cast(pa.binary())


def error_response(fields: dict[str, str]) -> bytes:
    """An ErrorResponse of ``{field code: text}``."""
    return message(b"E", _fields(fields))


def notice_response(fields: dict[str, str]) -> bytes:
    return message(b"N", _fields(fields))


def _fields(fields: dict[str, str]) -> bytes:
    return b"".join(code.encode() + cstring(text) for code, text in fields.items()) + b"\x00"


# -- frontend messages --------------------------------------------------------------------------


class Reader:
    """Reads the fields of one frontend message's body."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.offset = 0

    def int16(self) -> int:
        value: int = _INT16.unpack_from(self.body, self._take(2))[0]
        return value

    def int32(self) -> int:
        value: int = _INT32.unpack_from(self.body, self._take(4))[0]
        return value

    def bytes(self, count: int) -> bytes:
        start = self._take(count)
        return self.body[start : start + count]

    def cstring(self) -> str:
        end = self.body.find(b"\x00", self.offset)
        if end < 0:
            raise ProtocolViolationError("A string in the message is not terminated")
        text = self.body[self.offset : end]
        self.offset = end + 1
        try:
            return text.decode()
        except UnicodeDecodeError as e:
            raise ProtocolViolationError("A string in the message is not valid UTF-8") from e

    def _take(self, count: int) -> int:
        start = self.offset
        if count < 0 or start + count > len(self.body):
            raise ProtocolViolationError("The message is shorter than its fields")
        self.offset += count
        return start


def startup_parameters(body: bytes) -> dict[str, str]:
    """The ``name=value`` pairs after the protocol version of a StartupMessage.

    >>> startup_parameters(b"user\\x00mia@marketing\\x00database\\x00sales\\x00\\x00")
    {'user': 'mia@marketing', 'database': 'sales'}
    """
    reader = Reader(body)
    parameters: dict[str, str] = {}
    while reader.offset < len(body) and body[reader.offset] != 0:
        name = reader.cstring()
        parameters[name] = reader.cstring()
    return parameters


@dataclass(frozen=True)
class ParseMessage:
    statement: str
    query: str
    parameter_types: tuple[int, ...]


def read_parse(body: bytes) -> ParseMessage:
    reader = Reader(body)
    statement, query = reader.cstring(), reader.cstring()
    types = tuple(reader.int32() for _ in range(reader.int16()))
    return ParseMessage(statement, query, types)


@dataclass(frozen=True)
class BindMessage:
    portal: str
    statement: str
    parameter_formats: tuple[int, ...]
    parameters: tuple[bytes | None, ...]
    result_formats: tuple[int, ...]


def read_bind(body: bytes) -> BindMessage:
    reader = Reader(body)
    portal, statement = reader.cstring(), reader.cstring()
    formats = tuple(reader.int16() for _ in range(reader.int16()))
    values: list[bytes | None] = []
    for _ in range(reader.int16()):
        length = reader.int32()
        values.append(None if length == -1 else reader.bytes(length))
    results = tuple(reader.int16() for _ in range(reader.int16()))
    return BindMessage(portal, statement, formats, tuple(values), results)


def read_target(body: bytes) -> tuple[str, str]:
    """Describe and Close: ``("S" | "P", name)``."""
    reader = Reader(body)
    kind = reader.bytes(1).decode(errors="replace")
    if kind not in ("S", "P"):
        raise ProtocolViolationError(f"Describe or Close of an unknown kind: {kind!r}")
    return kind, reader.cstring()


def read_execute(body: bytes) -> tuple[str, int]:
    reader = Reader(body)
    return reader.cstring(), reader.int32()


def formats_for(formats: Sequence[int], count: int) -> list[int]:
    """The format of each of ``count`` values: none given means text, one applies to all.

    >>> formats_for([], 2), formats_for([1], 3), formats_for([0, 1], 2)
    ([0, 0], [1, 1, 1], [0, 1])
    """
    if not formats:
        return [TEXT] * count
    if len(formats) == 1:
        return [formats[0]] * count
    if len(formats) != count:
        raise ProtocolViolationError(
            f"{len(formats)} formats were given for {count} values (expected 0, 1 or {count})"
        )
    if any(f not in (TEXT, BINARY) for f in formats):
        raise ProtocolViolationError(f"Unknown format codes: {list(formats)}")
    return list(formats)
