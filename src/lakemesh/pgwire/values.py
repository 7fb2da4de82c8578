"""Arrow columns as PostgreSQL values: each column of a batch encoded at once into a list of
values (bytes, or ``None`` for NULL) in the format the client asked for, with Arrow and NumPy
where they encode the type, else value by value (:mod:`lakemesh.pgwire.scalars`). Structs and
maps travel as ``json``, lists of scalars as PostgreSQL arrays.

>>> encode_column(pa.array([1, None, 3]), TEXT)
[b'1', None, b'3']
>>> encode_column(pa.array([True, False]), BINARY)
[b'\\x01', b'\\x00']
"""

from __future__ import annotations

import decimal
import json
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lakemesh.pgwire import types
from lakemesh.pgwire.messages import BINARY, TEXT
from lakemesh.pgwire.scalars import (
    BINARY_ENCODERS,
    FIXED_WIDTH,
    TEXT_ENCODERS,
    Values,
    zoned_timestamps_text,
)
from lakemesh.pgwire.types import PgType, pg_type


def encode_array(
    array: pa.Array | pa.ChunkedArray, format: int, time_zone: str | None = None
) -> pa.Array | Values:
    """Every value of ``array`` in ``format``: a binary Arrow array (NULL for NULL) where Arrow
    encodes the type at once, else a list of values (``None`` for NULL).

    ``time_zone`` (the session's ``TimeZone``, an IANA name; None or UTC: UTC) is the zone in
    which timestamps with a zone are written as text, with their offset, as PostgreSQL does.
    """
    array = _plain_array(array)
    if time_zone and format == TEXT and pg_type(array.type).type is types.TIMESTAMPTZ:
        return zoned_timestamps_text(array, time_zone)
    fast = _vectorized(array, format)
    return fast if fast is not None else encode_column(array, format)


def _plain_array(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    return array


# Days and microseconds (since 1970) that Arrow prints as PostgreSQL does (years 1 to 9999).
_FIRST_DAY, _LAST_DAY = -719162, 2932896
_FIRST_MICRO, _LAST_MICRO = _FIRST_DAY * 86_400_000_000, (_LAST_DAY + 1) * 86_400_000_000 - 1


def _vectorized(array: pa.Array, format: int) -> pa.Array | None:
    """The encoding of ``array`` computed by Arrow and NumPy, or ``None`` for the slower path."""
    column = pg_type(array.type)
    oid = column.type.oid
    if column.element is not None or column.type is types.JSON:
        return None
    if oid == types.TEXT_TYPE.oid and (
        pa.types.is_string(array.type) or pa.types.is_large_string(array.type)
    ):
        return array.cast(pa.binary())
    if format == TEXT:
        if oid in (types.INT2.oid, types.INT4.oid, types.INT8.oid) or (
            oid == types.NUMERIC.oid and pa.types.is_decimal(array.type)
        ):
            return pc.cast(array, pa.string()).cast(pa.binary())
        if oid == types.BOOL.oid:
            return pc.if_else(array, b"t", b"f")
        if oid in (types.FLOAT4.oid, types.FLOAT8.oid):
            text = pc.cast(pc.cast(array, pa.float64()), pa.string())
            for arrow, postgres in (("inf", "Infinity"), ("-inf", "-Infinity"), ("nan", "NaN")):
                text = pc.replace_substring_regex(text, f"^{arrow}$", postgres)
            return text.cast(pa.binary())
        days = pc.cast(pc.cast(array, pa.date32()), pa.int32()) if oid == types.DATE.oid else None
        if days is not None and _within(days, _FIRST_DAY, _LAST_DAY):
            return pc.cast(pc.cast(array, pa.date32()), pa.string()).cast(pa.binary())
        if oid in (types.TIMESTAMP.oid, types.TIMESTAMPTZ.oid):
            micros = pc.cast(array, pa.timestamp("us", array.type.tz))
            if not _within(pc.cast(micros, pa.int64()), _FIRST_MICRO, _LAST_MICRO):
                return None
            # The UTC wall clock, with PostgreSQL's spelling: no trailing zeros, "+00" for UTC.
            text = pc.cast(pc.cast(micros, pa.timestamp("us")), pa.string())
            text = pc.replace_substring_regex(text, r"\.?0+$", "")
            if array.type.tz:
                text = pc.binary_join_element_wise(text, pa.scalar("+00"), "")
            return text.cast(pa.binary())
        return None
    if oid in FIXED_WIDTH:
        values = pc.fill_null(array, 0).to_numpy(zero_copy_only=False)
        return _fixed_width(values.astype(">" + FIXED_WIDTH[oid]), array)
    if oid == types.DATE.oid:
        days = pc.fill_null(pc.cast(pc.cast(array, pa.date32()), pa.int32()), 0)
        shifted = days.to_numpy(zero_copy_only=False).astype(np.int64) - types.POSTGRES_EPOCH_DAYS
        return _fixed_width(shifted.astype(">i4"), array)
    if oid in (types.TIMESTAMP.oid, types.TIMESTAMPTZ.oid):
        micros = pc.cast(pc.cast(array, pa.timestamp("us", array.type.tz)), pa.int64())
        values = (
            pc.fill_null(micros, 0).to_numpy(zero_copy_only=False) - types.POSTGRES_EPOCH_MICROS
        )
        return _fixed_width(values.astype(">i8"), array)
    if oid == types.BOOL.oid:
        return pc.if_else(array, b"\x01", b"\x00")
    return None


def _within(values: pa.Array, first: int, last: int) -> bool:
    bounds = pc.min_max(values)
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    return low is None or (low >= first and high <= last)


def _fixed_width(values: np.ndarray[Any, Any], nulls_of: pa.Array) -> pa.Array:
    """Big-endian ``values`` as a binary array, NULL where ``nulls_of`` is."""
    width = values.dtype.itemsize
    fixed = pa.Array.from_buffers(
        pa.binary(width), len(values), [None, pa.py_buffer(values.tobytes())]
    ).cast(pa.binary())
    if nulls_of.null_count:
        fixed = pc.if_else(nulls_of.is_valid(), fixed, pa.scalar(None, pa.binary()))
    return fixed


def encode_column(array: pa.Array | pa.ChunkedArray, format: int) -> Values:
    """Every value of ``array`` in ``format`` (TEXT or BINARY); ``None`` for NULL."""
    array = _plain_array(array)
    column = pg_type(array.type)
    if column.element is not None:
        return _encode_lists(array, column.element, format)
    if column.type is types.JSON:
        return [None if v is None else _json(v).encode() for v in _python(array)]
    encoder = (BINARY_ENCODERS if format == BINARY else TEXT_ENCODERS)[column.type.oid]
    return encoder(array)


def _python(array: pa.Array) -> list[Any]:
    return array.to_pylist()  # type: ignore[no-any-return]


def _json(value: Any) -> str:
    if isinstance(value, list) and value and all(isinstance(v, tuple) for v in value):
        value = {str(k): v for k, v in value}  # a map's (key, value) pairs
    return json.dumps(value, default=_json_default, separators=(", ", ": "))


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    if isinstance(value, list):
        return dict(value)
    return str(value)


def _encode_lists(array: pa.Array, element: PgType, format: int) -> Values:
    """Lists of scalars as PostgreSQL arrays (one dimension)."""
    if pa.types.is_fixed_size_list(array.type):
        array = pc.cast(array, pa.list_(array.type.value_type))
    offsets = array.offsets.to_pylist()
    start = offsets[0]
    values = encode_column(array.values.slice(start, offsets[-1] - start), format)
    offsets = [offset - start for offset in offsets]
    valid = array.is_valid().to_pylist()
    result: Values = []
    for index, present in enumerate(valid):
        if not present:
            result.append(None)
            continue
        items = values[offsets[index] : offsets[index + 1]]
        result.append(
            _array_binary(items, element) if format == BINARY else _array_text(items, element)
        )
    return result


def _array_text(items: Sequence[bytes | None], element: PgType) -> bytes:
    quoted = element in (types.TEXT_TYPE, types.VARCHAR, types.BYTEA, types.JSON, types.INTERVAL)
    parts = []
    for item in items:
        if item is None:
            parts.append(b"NULL")
        elif quoted or not item or any(c in item for c in b' ,{}"\\') or item.upper() == b"NULL":
            parts.append(b'"' + item.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"')
        else:
            parts.append(item)
    return b"{" + b",".join(parts) + b"}"


def _array_binary(items: Sequence[bytes | None], element: PgType) -> bytes:
    has_null = any(item is None for item in items)
    if not items:
        return struct.pack("!iii", 0, 0, element.oid)
    parts = [struct.pack("!iiiii", 1, 1 if has_null else 0, element.oid, len(items), 1)]
    for item in items:
        parts.append(b"\xff\xff\xff\xff" if item is None else struct.pack("!i", len(item)) + item)
    return b"".join(parts)
