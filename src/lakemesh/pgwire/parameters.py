"""The types of a prepared statement's parameters, for clients that ask before they bind (asyncpg).

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

from collections.abc import Mapping

import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from lakemesh.pgwire import types

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
