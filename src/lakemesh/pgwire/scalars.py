"""Each PostgreSQL scalar type's text and binary encoding, a column's values at a time (the slow
path: :mod:`lakemesh.pgwire.values` encodes the common types with Arrow at once), and the binary
``numeric`` both ways.

>>> TEXT_ENCODERS[FLOAT8.oid](pa.array([1.5, float("nan"), None]))
[b'1.5', b'NaN', None]
"""

from __future__ import annotations

import decimal
import math
import struct
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lakemesh.pgwire.types import (
    BOOL,
    BYTEA,
    DATE,
    FLOAT4,
    FLOAT8,
    INT2,
    INT4,
    INT8,
    INTERVAL,
    NUMERIC,
    POSTGRES_EPOCH_DAYS,
    POSTGRES_EPOCH_MICROS,
    TEXT_TYPE,
    TIME,
    TIMESTAMP,
    TIMESTAMPTZ,
)

Values = list[bytes | None]


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


def zoned_timestamps_text(array: pa.Array, time_zone: str) -> Values:
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


TEXT_ENCODERS: dict[int, Callable[[pa.Array], Values]] = {
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


FIXED_WIDTH = {INT2.oid: "h", INT4.oid: "i", INT8.oid: "q", FLOAT4.oid: "f", FLOAT8.oid: "d"}
"""The ``struct`` code of each fixed-width number type; the wire writes them big-endian."""


def _packer(code: str) -> Callable[[pa.Array], Values]:
    pack = struct.Struct("!" + code).pack
    return _each(lambda v: pack(v))


def numeric_binary(value: decimal.Decimal | int) -> bytes:
    """A number in PostgreSQL's binary ``numeric``: base-10000 digits, weight, sign, scale.

    >>> numeric_binary(decimal.Decimal("-12345.678")).hex()
    '0003000140000003000109291a7c'
    >>> numeric_from_binary(numeric_binary(decimal.Decimal("0.0001")))
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


BINARY_ENCODERS: dict[int, Callable[[pa.Array], Values]] = {
    BOOL.oid: _each(lambda v: b"\x01" if v else b"\x00"),
    **{oid: _packer(code) for oid, code in FIXED_WIDTH.items()},
    NUMERIC.oid: _each(numeric_binary),
    TEXT_TYPE.oid: _each(lambda v: str(v).encode()),
    BYTEA.oid: _each(bytes),
    DATE.oid: _date_binary,
    TIMESTAMP.oid: _timestamps_binary,
    TIMESTAMPTZ.oid: _timestamps_binary,
    TIME.oid: lambda a: [None if m is None else struct.pack("!q", m) for m in _time_micros(a)],
    INTERVAL.oid: _intervals_binary,
}


def numeric_from_binary(value: bytes) -> decimal.Decimal:
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
