"""Arrow columns as PostgreSQL values: each Arrow type's OID, and its text and binary encodings.

The engine returns Arrow; each column of a batch is encoded at once into a list of values (bytes,
or ``None`` for NULL) in the format the client asked for. Structs and maps travel as ``json``,
lists of scalars as PostgreSQL arrays, intervals as ``interval``; a type with no closer match is
sent as text.

>>> pg_type(pa.int64()).oid, pg_type(pa.decimal128(10, 2)).type.name
(20, 'numeric')
>>> pg_type(pa.list_(pa.string())).oid
1009
>>> encode_column(pa.array([1, None, 3]), TEXT)
[b'1', None, b'3']
>>> encode_column(pa.array([True, False]), BINARY)
[b'\\x01', b'\\x00']
"""

from __future__ import annotations

import datetime
import decimal
import json
import math
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lakemesh.pgwire.messages import BINARY, TEXT

POSTGRES_EPOCH_DAYS = 10957  # 2000-01-01 - 1970-01-01
POSTGRES_EPOCH_MICROS = POSTGRES_EPOCH_DAYS * 86_400_000_000


@dataclass(frozen=True)
class PgType:
    """A PostgreSQL type as the wire names it."""

    name: str
    oid: int
    size: int
    array_oid: int = 0


BOOL = PgType("bool", 16, 1, 1000)
BYTEA = PgType("bytea", 17, -1, 1001)
INT8 = PgType("int8", 20, 8, 1016)
INT2 = PgType("int2", 21, 2, 1005)
INT4 = PgType("int4", 23, 4, 1007)
TEXT_TYPE = PgType("text", 25, -1, 1009)
OID = PgType("oid", 26, 4, 1028)
JSON = PgType("json", 114, -1, 199)
FLOAT4 = PgType("float4", 700, 4, 1021)
FLOAT8 = PgType("float8", 701, 8, 1022)
UNKNOWN = PgType("unknown", 705, -2)
VARCHAR = PgType("varchar", 1043, -1, 1015)
DATE = PgType("date", 1082, 4, 1182)
TIME = PgType("time", 1083, 8, 1183)
TIMESTAMP = PgType("timestamp", 1114, 8, 1115)
TIMESTAMPTZ = PgType("timestamptz", 1184, 8, 1185)
INTERVAL = PgType("interval", 1186, 16, 1187)
NUMERIC = PgType("numeric", 1700, -1, 1231)
UUID = PgType("uuid", 2950, 16, 2951)

SCALAR_TYPES = (
    BOOL,
    BYTEA,
    INT8,
    INT2,
    INT4,
    TEXT_TYPE,
    OID,
    JSON,
    FLOAT4,
    FLOAT8,
    VARCHAR,
    DATE,
    TIME,
    TIMESTAMP,
    TIMESTAMPTZ,
    INTERVAL,
    NUMERIC,
    UUID,
)
BY_OID = {t.oid: t for t in SCALAR_TYPES}
ARRAY_ELEMENTS = {t.array_oid: t for t in SCALAR_TYPES if t.array_oid}


@dataclass(frozen=True)
class ColumnType:
    """What the wire says about a column: its type, and its element type when it is an array."""

    type: PgType
    oid: int
    element: PgType | None = None


def pg_type(arrow: pa.DataType) -> ColumnType:
    """The PostgreSQL type a column of Arrow type ``arrow`` is sent as."""
    if (
        pa.types.is_list(arrow)
        or pa.types.is_large_list(arrow)
        or pa.types.is_fixed_size_list(arrow)
    ):
        element = _scalar_type(arrow.value_type)
        if element is None or element is JSON:
            return ColumnType(JSON, JSON.oid)
        return ColumnType(element, element.array_oid, element)
    scalar = _scalar_type(arrow)
    if scalar is None:
        return ColumnType(JSON, JSON.oid)
    return ColumnType(scalar, scalar.oid)


def _scalar_type(arrow: pa.DataType) -> PgType | None:
    """The type of a scalar Arrow type; ``None`` for nested ones."""
    types = pa.types
    if types.is_boolean(arrow):
        return BOOL
    if types.is_int8(arrow) or types.is_int16(arrow) or types.is_uint8(arrow):
        return INT2
    if types.is_int32(arrow) or types.is_uint16(arrow):
        return INT4
    if types.is_int64(arrow) or types.is_uint32(arrow):
        return INT8
    if types.is_uint64(arrow) or types.is_decimal(arrow):
        return NUMERIC
    if types.is_float16(arrow) or types.is_float32(arrow):
        return FLOAT4
    if types.is_float64(arrow):
        return FLOAT8
    if types.is_string(arrow) or types.is_large_string(arrow) or types.is_null(arrow):
        return TEXT_TYPE
    if types.is_binary(arrow) or types.is_large_binary(arrow) or types.is_fixed_size_binary(arrow):
        return BYTEA
    if types.is_date(arrow):
        return DATE
    if types.is_timestamp(arrow):
        return TIMESTAMPTZ if arrow.tz else TIMESTAMP
    if types.is_time(arrow):
        return TIME
    if types.is_duration(arrow) or arrow == pa.month_day_nano_interval():
        return INTERVAL
    if types.is_struct(arrow) or types.is_map(arrow) or types.is_nested(arrow):
        return None
    if types.is_dictionary(arrow):
        return _scalar_type(arrow.value_type)
    return TEXT_TYPE


# -- encoding a column --------------------------------------------------------------------------


Values = list[bytes | None]


def encode_array(
    array: pa.Array | pa.ChunkedArray, format: int, time_zone: str | None = None
) -> pa.Array | Values:
    """Every value of ``array`` in ``format``: a binary Arrow array (NULL for NULL) where Arrow
    encodes the type at once, else a list of values (``None`` for NULL).

    ``time_zone`` (the session's ``TimeZone``, an IANA name; None or UTC: UTC) is the zone in
    which timestamps with a zone are written as text, with their offset, as PostgreSQL does.
    """
    array = _plain_array(array)
    if time_zone and format == TEXT and pg_type(array.type).type is TIMESTAMPTZ:
        return _zoned_timestamps_text(array, time_zone)
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
_BIG_ENDIAN = {INT2.oid: ">i2", INT4.oid: ">i4", INT8.oid: ">i8", FLOAT4.oid: ">f4",
               FLOAT8.oid: ">f8"}  # fmt: skip


def _vectorized(array: pa.Array, format: int) -> pa.Array | None:
    """The encoding of ``array`` computed by Arrow and NumPy, or ``None`` for the slower path."""
    column = pg_type(array.type)
    oid = column.type.oid
    if column.element is not None or column.type is JSON:
        return None
    if oid == TEXT_TYPE.oid and (pa.types.is_string(array.type) or pa.types.is_large_string(
        array.type
    )):  # fmt: skip
        return array.cast(pa.binary())
    if format == TEXT:
        if oid in (INT2.oid, INT4.oid, INT8.oid) or (
            oid == NUMERIC.oid and pa.types.is_decimal(array.type)
        ):
            return pc.cast(array, pa.string()).cast(pa.binary())
        if oid == BOOL.oid:
            return pc.if_else(array, b"t", b"f")
        if oid in (FLOAT4.oid, FLOAT8.oid):
            text = pc.cast(pc.cast(array, pa.float64()), pa.string())
            for arrow, postgres in (("inf", "Infinity"), ("-inf", "-Infinity"), ("nan", "NaN")):
                text = pc.replace_substring_regex(text, f"^{arrow}$", postgres)
            return text.cast(pa.binary())
        if oid == DATE.oid and _within(pc.cast(pc.cast(array, pa.date32()), pa.int32()),
                                       _FIRST_DAY, _LAST_DAY):  # fmt: skip
            return pc.cast(pc.cast(array, pa.date32()), pa.string()).cast(pa.binary())
        if oid in (TIMESTAMP.oid, TIMESTAMPTZ.oid):
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
    if oid in _BIG_ENDIAN:
        values = pc.fill_null(array, 0).to_numpy(zero_copy_only=False)
        return _fixed_width(values.astype(_BIG_ENDIAN[oid]), array)
    if oid == DATE.oid:
        days = pc.fill_null(pc.cast(pc.cast(array, pa.date32()), pa.int32()), 0)
        shifted = days.to_numpy(zero_copy_only=False).astype(np.int64) - POSTGRES_EPOCH_DAYS
        return _fixed_width(shifted.astype(">i4"), array)
    if oid in (TIMESTAMP.oid, TIMESTAMPTZ.oid):
        micros = pc.cast(pc.cast(array, pa.timestamp("us", array.type.tz)), pa.int64())
        values = pc.fill_null(micros, 0).to_numpy(zero_copy_only=False) - POSTGRES_EPOCH_MICROS
        return _fixed_width(values.astype(">i8"), array)
    if oid == BOOL.oid:
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
    if column.type is JSON:
        return [None if v is None else _json(v).encode() for v in _python(array)]
    encoder = (_BINARY if format == BINARY else _TEXT)[column.type.oid]
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


def _strings(array: pa.Array) -> Values:
    return [None if v is None else v.encode() for v in pc.cast(array, pa.string()).to_pylist()]


def _each(function: Callable[[Any], bytes]) -> Callable[[pa.Array], Values]:
    def encode(array: pa.Array) -> Values:
        return [None if v is None else function(v) for v in array.to_pylist()]

    return encode


def _float_text(value: float) -> bytes:
    if math.isnan(value):
        return b"NaN"
    if math.isinf(value):
        return b"Infinity" if value > 0 else b"-Infinity"
    return repr(value).encode()


def _decimal_text(value: decimal.Decimal | int) -> bytes:
    return (
        format(value, "f").encode() if isinstance(value, decimal.Decimal) else str(value).encode()
    )


def _days(array: pa.Array) -> list[int | None]:
    return pc.cast(pc.cast(array, pa.date32()), pa.int32()).to_pylist()  # type: ignore[no-any-return]


def _micros(array: pa.Array) -> list[int | None]:
    """Microseconds since 1970 of a timestamp (or time) column."""
    unit = array.type.unit
    as_int = pc.cast(array, pa.int64())
    if unit == "s":
        as_int = pc.multiply(as_int, 1_000_000)
    elif unit == "ms":
        as_int = pc.multiply(as_int, 1000)
    elif unit == "ns":
        as_int = pc.divide(as_int, 1000)
    return as_int.to_pylist()  # type: ignore[no-any-return]


def civil_date(days: int) -> str:
    """The ISO date ``days`` after 1970-01-01, for any year (Python's dates stop at 9999).

    >>> civil_date(0), civil_date(-1), civil_date(400_000_000)
    ('1970-01-01', '1969-12-31', '1097132-10-21')
    """
    # Howard Hinnant's days_from_civil inverse, over 400-year eras.
    shifted = days + 719468
    era = shifted // 146097
    day_of_era = shifted - era * 146097
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_index = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * month_index + 2) // 5 + 1
    month = month_index + 3 if month_index < 10 else month_index - 9
    year = year_of_era + era * 400 + (1 if month <= 2 else 0)
    if year <= 0:
        return f"{1 - year:04d}-{month:02d}-{day:02d} BC"
    return f"{year:04d}-{month:02d}-{day:02d}"


def _clock(micros: int) -> str:
    seconds, fraction = divmod(micros, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    text = f"{hour:02d}:{minute:02d}:{second:02d}"
    return f"{text}.{fraction:06d}".rstrip("0") if fraction else text


def _timestamp_text(micros: int, zone: bool, offset: int | None = None) -> bytes:
    """A timestamp as text; with ``zone`` in UTC (``+00``), or with ``offset`` seconds (its
    wall-clock time in ``micros``)."""
    days, of_day = divmod(micros, 86_400_000_000)
    date = civil_date(days)
    era = ""
    if date.endswith(" BC"):
        date, era = date[:-3], " BC"
    suffix = _offset_text(offset) if offset is not None else "+00" if zone else ""
    return f"{date} {_clock(of_day)}{suffix}{era}".encode()


def _zoned_timestamps_text(array: pa.Array, time_zone: str) -> Values:
    """Timestamps with a zone as text in ``time_zone``: local time and its offset then
    (``2024-01-02 14:04:05+01``, ``... +05:30``)."""
    utc = pc.cast(array, pa.timestamp("us", "UTC"))
    local = pc.local_timestamp(pc.cast(utc, pa.timestamp("us", time_zone)))
    offsets = pc.subtract(pc.cast(local, pa.int64()), pc.cast(utc, pa.int64())).to_pylist()
    return [
        None if wall is None else _timestamp_text(wall, False, offset // 1_000_000)
        for wall, offset in zip(_micros(local), offsets, strict=True)
    ]


def _offset_text(seconds: int) -> str:
    """A UTC offset as PostgreSQL writes it: ``+01``, ``-03:30``, ``+00:09:21``.

    >>> _offset_text(3600), _offset_text(-12600), _offset_text(561)
    ('+01', '-03:30', '+00:09:21')
    """
    sign = "-" if seconds < 0 else "+"
    minutes, second = divmod(abs(seconds), 60)
    hour, minute = divmod(minutes, 60)
    text = f"{sign}{hour:02d}"
    if minute or second:
        text += f":{minute:02d}"
    if second:
        text += f":{second:02d}"
    return text


def _date_text(array: pa.Array) -> Values:
    return [None if d is None else civil_date(d).encode() for d in _days(array)]


def _timestamps_text(array: pa.Array) -> Values:
    zone = array.type.tz is not None
    return [None if m is None else _timestamp_text(m, zone) for m in _micros(array)]


def _time_micros(array: pa.Array) -> list[int | None]:
    unit = array.type.unit
    factor = {"s": 1_000_000, "ms": 1000, "us": 1, "ns": 1}[unit]
    values = pc.cast(array, pa.int64() if pa.types.is_time64(array.type) else pa.int32())
    result: list[int | None] = []
    for v in values.to_pylist():
        result.append(None if v is None else (v // 1000 if unit == "ns" else v * factor))
    return result


def _interval_parts(array: pa.Array) -> list[tuple[int, int, int] | None]:
    """(months, days, microseconds) of each interval or duration."""
    if pa.types.is_duration(array.type):
        micros = _micros(array)
        return [None if m is None else (0, 0, m) for m in micros]
    return [
        None if v is None else (v.months, v.days, v.nanoseconds // 1000) for v in array.to_pylist()
    ]


def _interval_text(parts: tuple[int, int, int]) -> bytes:
    months, days, micros = parts
    pieces = []
    years, months = divmod(months, 12) if months >= 0 else (-(-months // 12), -(-months % 12))
    if years:
        pieces.append(f"{years} year{'s' if abs(years) != 1 else ''}")
    if months:
        pieces.append(f"{months} mon{'s' if abs(months) != 1 else ''}")
    if days:
        pieces.append(f"{days} day{'s' if abs(days) != 1 else ''}")
    if micros or not pieces:
        sign = "-" if micros < 0 else ""
        pieces.append(sign + _clock(abs(micros)))
    return " ".join(pieces).encode()


def _intervals_text(array: pa.Array) -> Values:
    return [None if p is None else _interval_text(p) for p in _interval_parts(array)]


def _bytea_text(value: bytes) -> bytes:
    return b"\\x" + value.hex().encode()


_TEXT: dict[int, Callable[[pa.Array], Values]] = {
    BOOL.oid: _each(lambda v: b"t" if v else b"f"),
    INT2.oid: _strings,
    INT4.oid: _strings,
    INT8.oid: _strings,
    NUMERIC.oid: _each(_decimal_text),
    FLOAT4.oid: _each(_float_text),
    FLOAT8.oid: _each(_float_text),
    TEXT_TYPE.oid: _each(lambda v: str(v).encode()),
    BYTEA.oid: _each(_bytea_text),
    DATE.oid: _date_text,
    TIMESTAMP.oid: _timestamps_text,
    TIMESTAMPTZ.oid: _timestamps_text,
    TIME.oid: lambda a: [None if m is None else _clock(m).encode() for m in _time_micros(a)],
    INTERVAL.oid: _intervals_text,
}


def _packer(fmt: str) -> Callable[[pa.Array], Values]:
    pack = struct.Struct(fmt).pack
    return _each(lambda v: pack(v))


def numeric_binary(value: decimal.Decimal | int) -> bytes:
    """A number in PostgreSQL's binary ``numeric``: base-10000 digits, weight, sign, scale.

    >>> numeric_binary(decimal.Decimal("-12345.678")).hex()
    '0003000140000003000109291a7c'
    >>> _numeric_from_binary(numeric_binary(decimal.Decimal("0.0001")))
    Decimal('0.0001')
    """
    number = decimal.Decimal(value)
    if number.is_nan():
        return struct.pack("!hhhh", 0, 0, 0xC000 - 0x10000, 0)
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    scale = max(-exponent, 0)
    text = "".join(map(str, digits))
    if exponent > 0:
        text += "0" * exponent
        exponent = 0
    text = text.rjust(-exponent, "0")  # 0.0001: digits "1", four places
    integer_part = text[: len(text) + exponent] if exponent else text
    fraction_part = text[len(text) + exponent :] if exponent else ""
    integer_part = integer_part.lstrip("0")
    pad_integer = (-len(integer_part)) % 4
    integer_part = "0" * pad_integer + integer_part
    fraction_part = fraction_part + "0" * ((-len(fraction_part)) % 4)
    groups = [int(integer_part[i : i + 4]) for i in range(0, len(integer_part), 4)]
    weight = len(groups) - 1
    groups += [int(fraction_part[i : i + 4]) for i in range(0, len(fraction_part), 4)]
    while groups and groups[-1] == 0:
        groups.pop()
    while groups and groups[0] == 0:
        groups.pop(0)
        weight -= 1
    if not groups:
        weight = 0
    header = struct.pack("!hhHh", len(groups), weight, 0x4000 if sign else 0, scale)
    return header + b"".join(struct.pack("!H", g) for g in groups)


def _date_binary(array: pa.Array) -> Values:
    pack = struct.Struct("!i").pack
    return [None if d is None else pack(d - POSTGRES_EPOCH_DAYS) for d in _days(array)]


def _timestamps_binary(array: pa.Array) -> Values:
    pack = struct.Struct("!q").pack
    return [None if m is None else pack(m - POSTGRES_EPOCH_MICROS) for m in _micros(array)]


def _intervals_binary(array: pa.Array) -> Values:
    pack = struct.Struct("!qii").pack
    return [None if p is None else pack(p[2], p[1], p[0]) for p in _interval_parts(array)]


_BINARY: dict[int, Callable[[pa.Array], Values]] = {
    BOOL.oid: _each(lambda v: b"\x01" if v else b"\x00"),
    INT2.oid: _packer("!h"),
    INT4.oid: _packer("!i"),
    INT8.oid: _packer("!q"),
    NUMERIC.oid: _each(numeric_binary),
    FLOAT4.oid: _packer("!f"),
    FLOAT8.oid: _packer("!d"),
    TEXT_TYPE.oid: _each(lambda v: str(v).encode()),
    BYTEA.oid: _each(bytes),
    DATE.oid: _date_binary,
    TIMESTAMP.oid: _timestamps_binary,
    TIMESTAMPTZ.oid: _timestamps_binary,
    TIME.oid: lambda a: [None if m is None else struct.pack("!q", m) for m in _time_micros(a)],
    INTERVAL.oid: _intervals_binary,
}


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
    quoted = element.oid in (TEXT_TYPE.oid, VARCHAR.oid, BYTEA.oid, JSON.oid, INTERVAL.oid)
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


# -- parameters ---------------------------------------------------------------------------------


def decode_parameter(value: bytes | None, type_oid: int, format: int) -> Any:
    """A Bind parameter as a Python value (``str`` for text values of unknown types).

    Raises:
        ValueError: a binary value of a type that is not decoded, or a malformed one.
    """
    if value is None:
        return None
    if format == TEXT:
        text = value.decode()
        if type_oid in (INT2.oid, INT4.oid, INT8.oid, OID.oid):
            return int(text)
        if type_oid in (FLOAT4.oid, FLOAT8.oid):
            return float(text)
        if type_oid == NUMERIC.oid:
            return decimal.Decimal(text)
        if type_oid == BOOL.oid:
            return text.lower() in ("t", "true", "1", "yes", "on", "y")
        if type_oid == DATE.oid:
            return datetime.date.fromisoformat(text)
        return text
    if type_oid == INT2.oid:
        return struct.unpack("!h", value)[0]
    if type_oid in (INT4.oid, OID.oid):
        return struct.unpack("!i", value)[0]
    if type_oid == INT8.oid:
        return struct.unpack("!q", value)[0]
    if type_oid == FLOAT4.oid:
        return struct.unpack("!f", value)[0]
    if type_oid == FLOAT8.oid:
        return struct.unpack("!d", value)[0]
    if type_oid == BOOL.oid:
        return value != b"\x00"
    if type_oid == NUMERIC.oid:
        return _numeric_from_binary(value)
    if type_oid == DATE.oid:
        days = struct.unpack("!i", value)[0]
        return datetime.date(2000, 1, 1) + datetime.timedelta(days=days)
    if type_oid in (TIMESTAMP.oid, TIMESTAMPTZ.oid):
        micros = struct.unpack("!q", value)[0]
        moment = datetime.datetime(2000, 1, 1) + datetime.timedelta(microseconds=micros)
        return moment.replace(tzinfo=datetime.UTC) if type_oid == TIMESTAMPTZ.oid else moment
    if type_oid in (TEXT_TYPE.oid, VARCHAR.oid, UNKNOWN.oid, JSON.oid, 0, 1042):
        return value.decode()
    if type_oid == BYTEA.oid:
        return bytes(value)
    raise ValueError(f"binary parameters of type {BY_OID.get(type_oid, type_oid)} are not read")


def _numeric_from_binary(value: bytes) -> decimal.Decimal:
    count, weight, sign, scale = struct.unpack_from("!hhHh", value)
    if sign == 0xC000:
        return decimal.Decimal("NaN")
    digits = struct.unpack_from(f"!{count}H", value, 8)
    number = decimal.Decimal(0)
    for position, digit in enumerate(digits):
        number += decimal.Decimal(digit).scaleb(4 * (weight - position))
    if sign == 0x4000:
        number = -number
    return number.quantize(decimal.Decimal(1).scaleb(-scale)) if scale else number
