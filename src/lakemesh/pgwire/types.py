"""PostgreSQL's types as the wire names them, and the type each Arrow type is sent as.

Structs and maps travel as ``json``, lists of scalars as PostgreSQL arrays, intervals as
``interval``; a type with no closer match is sent as text. The values themselves:
:mod:`lakemesh.pgwire.values` (columns) and :mod:`lakemesh.pgwire.scalars` (one value of each
type, in text and binary format).

>>> pg_type(pa.int64()).oid, pg_type(pa.decimal128(10, 2)).type.name
(20, 'numeric')
>>> pg_type(pa.list_(pa.string())).oid
1009
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

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
