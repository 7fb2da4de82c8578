"""The types of a prepared statement's parameters, for clients that ask before they bind (asyncpg),
and the values a Bind gives them (:func:`decode_parameter`).

A parameter compared with a column (``=``, ``<``, ``IN``, ``BETWEEN``, ``LIKE``) takes the
column's type; one in ``LIMIT`` or ``OFFSET`` is a ``bigint``; a cast names its type; any other
is ``text``. Column types come from the tables the principal may read (the catalog snapshot),
so nothing is inferred from a column it may not see.

>>> import pyarrow as pa
>>> parameter_types("SELECT * FROM t WHERE id = $1 AND name LIKE $2 LIMIT $3", 3,
...                 {"id": pa.int64(), "name": pa.string()})
[20, 25, 20]
"""

from __future__ import annotations

import datetime
import decimal
import struct
from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from lakemesh.pgwire import types
from lakemesh.pgwire.messages import TEXT
from lakemesh.pgwire.scalars import numeric_from_binary
from lakemesh.pgwire.types import (
    BOOL,
    BY_OID,
    BYTEA,
    DATE,
    FLOAT4,
    FLOAT8,
    INT2,
    INT4,
    INT8,
    JSON,
    NUMERIC,
    OID,
    TEXT_TYPE,
    TIMESTAMP,
    TIMESTAMPTZ,
    UNKNOWN,
    VARCHAR,
)

_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like, exp.ILike)


def parameter_types(sql: str, count: int, columns: Mapping[str, pa.DataType]) -> list[int]:
    """The type OID of each of ``count`` parameters of ``sql`` (``columns``: name to type of
    the columns of the tables it may read)."""
    found = [types.TEXT_TYPE.oid] * count
    try:
        statement = sqlglot.parse_one(sql, read="duckdb")
    except SqlglotError:
        return found
    for placeholder in statement.find_all(exp.Placeholder):
        text = str(placeholder.this or "")
        if not text.isdigit() or not 1 <= int(text) <= count:
            continue
        oid = _type_of(placeholder, columns)
        if oid is not None:
            found[int(text) - 1] = oid
    return found


def _type_of(placeholder: exp.Placeholder, columns: Mapping[str, pa.DataType]) -> int | None:
    parent = placeholder.parent
    if isinstance(parent, exp.Limit | exp.Offset | exp.Fetch):
        return types.INT8.oid
    if isinstance(parent, exp.Cast):
        try:
            schema_type = _arrow_of_sql_type(parent.to.sql("duckdb"))
        except (SqlglotError, ValueError):
            return None
        return types.pg_type(schema_type).oid if schema_type is not None else None
    if isinstance(parent, _COMPARISONS):
        other = parent.expression if parent.this is placeholder else parent.this
    elif isinstance(parent, exp.In | exp.Between):
        other = parent.this
    else:
        return None
    if isinstance(other, exp.Column) and other.name.lower() in columns:
        wire = types.pg_type(columns[other.name.lower()])
        return wire.oid if wire.element is None and wire.type is not types.JSON else None
    return None


_SIMPLE_TYPES: dict[str, pa.DataType] = {
    "BIGINT": pa.int64(),
    "INT": pa.int32(),
    "INTEGER": pa.int32(),
    "SMALLINT": pa.int16(),
    "DOUBLE": pa.float64(),
    "FLOAT": pa.float32(),
    "REAL": pa.float32(),
    "VARCHAR": pa.string(),
    "TEXT": pa.string(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us"),
    "TIMESTAMPTZ": pa.timestamp("us", "UTC"),
}


def _arrow_of_sql_type(text: str) -> pa.DataType | None:
    name = text.upper().split("(")[0].strip()
    if name in ("DECIMAL", "NUMERIC"):
        return pa.decimal128(38, 10)
    return _SIMPLE_TYPES.get(name)


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
        return numeric_from_binary(value)
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
