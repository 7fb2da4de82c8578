"""DuckDB type names for the columns of data files: from Arrow (Parquet), and widened to merge.

lakemesh speaks DuckDB's type names everywhere (``BIGINT``, ``DECIMAL(12,2)``, ``VARCHAR[]``),
so the names here are the ones DuckDB's Parquet reader reports for the same file.
"""

from __future__ import annotations

import functools
import json
import re

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

_ARROW_SCALARS: dict[pa.DataType, str] = {
    pa.null(): "INTEGER",  # DuckDB reads an all-null Parquet column as INTEGER
    pa.bool_(): "BOOLEAN",
    pa.int8(): "TINYINT",
    pa.int16(): "SMALLINT",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.uint8(): "UTINYINT",
    pa.uint16(): "USMALLINT",
    pa.uint32(): "UINTEGER",
    pa.uint64(): "UBIGINT",
    pa.float16(): "FLOAT",
    pa.float32(): "FLOAT",
    pa.float64(): "DOUBLE",
    pa.string(): "VARCHAR",
    pa.large_string(): "VARCHAR",
    pa.string_view(): "VARCHAR",
    pa.binary(): "BLOB",
    pa.large_binary(): "BLOB",
    pa.binary_view(): "BLOB",
    pa.date32(): "DATE",
    pa.date64(): "DATE",
}
_LIST_CHECKS = (
    pa.types.is_list,
    pa.types.is_large_list,
    pa.types.is_fixed_size_list,
    pa.types.is_list_view,
    pa.types.is_large_list_view,
)
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@functools.cache
def _duckdb_keywords() -> frozenset[str]:
    with duckdb.connect() as connection:
        rows = connection.execute("SELECT keyword_name FROM duckdb_keywords()").fetchall()
    return frozenset(str(row[0]).lower() for row in rows)


def quote_field(name: str) -> str:
    """A struct field name as DuckDB writes it in a type: bare when plain, else double-quoted."""
    if _PLAIN_NAME.match(name) and name.lower() not in _duckdb_keywords():
        return name
    return '"' + name.replace('"', '""') + '"'


def parquet_column_type(column: pq.ColumnSchema) -> str | None:
    """The DuckDB type of a top-level Parquet leaf column when Arrow's reading would mislead.

    Legacy INT96 timestamps (Spark, Impala) are TIMESTAMP, UTC-adjusted times are TIME WITH
    TIME ZONE and INTERVAL columns are INTERVAL; None means: use :func:`duckdb_type`.
    """
    if column.physical_type == "INT96":
        return "TIMESTAMP"
    if column.converted_type == "INTERVAL":
        return "INTERVAL"
    if column.logical_type.type == "TIME" and json.loads(column.logical_type.to_json()).get(
        "isAdjustedToUTC"
    ):
        return "TIME WITH TIME ZONE"
    return None


def duckdb_type(arrow_type: pa.DataType) -> str:
    """The DuckDB type name of a Parquet column that Arrow reads as ``arrow_type``.

    >>> duckdb_type(pa.decimal128(12, 2)), duckdb_type(pa.list_(pa.int32()))
    ('DECIMAL(12,2)', 'INTEGER[]')
    """
    scalar = _ARROW_SCALARS.get(arrow_type)
    if scalar is not None:
        return scalar
    if isinstance(arrow_type, pa.DictionaryType):
        return duckdb_type(arrow_type.value_type)
    if isinstance(arrow_type, pa.BaseExtensionType):
        return _extension_type(arrow_type)
    if pa.types.is_timestamp(arrow_type):
        if arrow_type.tz is not None:
            return "TIMESTAMP WITH TIME ZONE"
        return "TIMESTAMP_NS" if arrow_type.unit == "ns" else "TIMESTAMP"
    if pa.types.is_time(arrow_type):
        return "TIME"
    if pa.types.is_duration(arrow_type):
        return "BIGINT"  # Parquet stores durations as plain INT64
    if pa.types.is_fixed_size_binary(arrow_type):
        return "BLOB"
    if pa.types.is_decimal(arrow_type):
        if arrow_type.precision > 38:
            return "DOUBLE"  # beyond DuckDB's DECIMAL range, its reader falls back to DOUBLE
        return f"DECIMAL({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_map(arrow_type):
        return f"MAP({duckdb_type(arrow_type.key_type)}, {duckdb_type(arrow_type.item_type)})"
    if any(check(arrow_type) for check in _LIST_CHECKS):
        return duckdb_type(arrow_type.value_type) + "[]"
    if pa.types.is_struct(arrow_type):
        fields = (arrow_type.field(i) for i in range(arrow_type.num_fields))
        return (
            "STRUCT("
            + ", ".join(f"{quote_field(f.name)} {duckdb_type(f.type)}" for f in fields)
            + ")"
        )
    raise ValueError(f"Arrow type {arrow_type} has no DuckDB equivalent")


def _extension_type(arrow_type: pa.BaseExtensionType) -> str:
    name = arrow_type.extension_name
    if name == "arrow.uuid":
        return "UUID"
    if name == "arrow.json":
        return "JSON"
    return duckdb_type(arrow_type.storage_type)


_SIGNED = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")
_UNSIGNED = ("UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT")
_INTEGER_DIGITS = {"TINYINT": 3, "SMALLINT": 5, "INTEGER": 10, "BIGINT": 19, "HUGEINT": 39}
_INTEGER_DIGITS |= {"UTINYINT": 3, "USMALLINT": 5, "UINTEGER": 10, "UBIGINT": 20, "UHUGEINT": 39}
_FLOATS = ("FLOAT", "DOUBLE")
_TEMPORAL = ("DATE", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP", "TIMESTAMP_NS")
_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")


def widen_type(first: str, second: str) -> str | None:
    """The narrowest type that holds values of both types, or None when they are incompatible.

    Integers widen to an integer (signed when one side is), integers and floats to DOUBLE,
    decimals to a decimal wide enough (DOUBLE past 38 digits), DATE and timestamps to the finest
    timestamp; JSON absorbs anything. Other types (VARCHAR, BOOLEAN, nested types) only match
    themselves.

    >>> widen_type("INTEGER", "BIGINT"), widen_type("UINTEGER", "INTEGER")
    ('BIGINT', 'BIGINT')
    >>> widen_type("DATE", "TIMESTAMP"), widen_type("DATE", "VARCHAR")
    ('TIMESTAMP', None)
    """
    if first == second:
        return first
    if "JSON" in (first, second):
        return "JSON"
    for family in (_integer_widening, _numeric_widening, _decimal_widening, _temporal_widening):
        widened = family(first, second)
        if widened is not None:
            return widened
    return None


def _integer_widening(first: str, second: str) -> str | None:
    if not all(name in _SIGNED or name in _UNSIGNED for name in (first, second)):
        return None
    if first in _UNSIGNED and second in _UNSIGNED:
        return _UNSIGNED[max(_UNSIGNED.index(first), _UNSIGNED.index(second))]
    # An unsigned type of n bits fits the signed type of 2n bits.
    rank = max(
        _SIGNED.index(n) if n in _SIGNED else _UNSIGNED.index(n) + 1 for n in (first, second)
    )
    return _SIGNED[rank] if rank < len(_SIGNED) else None


def _numeric_widening(first: str, second: str) -> str | None:
    def numeric(name: str) -> bool:
        return name in _INTEGER_DIGITS or name in _FLOATS or _DECIMAL.match(name) is not None

    if (first in _FLOATS or second in _FLOATS) and numeric(first) and numeric(second):
        return "DOUBLE"
    return None


def _decimal_widening(first: str, second: str) -> str | None:
    if not (_DECIMAL.match(first) or _DECIMAL.match(second)):
        return None
    shapes = []
    for name in (first, second):
        match = _DECIMAL.match(name)
        if match:
            shapes.append((int(match.group(1)), int(match.group(2))))
        elif name in _INTEGER_DIGITS:
            shapes.append((_INTEGER_DIGITS[name], 0))
        else:
            return None
    scale = max(s for _, s in shapes)
    precision = max(p - s for p, s in shapes) + scale
    return f"DECIMAL({precision},{scale})" if precision <= 38 else "DOUBLE"


def _temporal_widening(first: str, second: str) -> str | None:
    if first in _TEMPORAL and second in _TEMPORAL:
        finest = max(_TEMPORAL.index(first), _TEMPORAL.index(second))
        return _TEMPORAL[finest]
    return None
