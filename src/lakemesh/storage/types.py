"""DuckDB type names for the columns of data files: from Arrow (Parquet), and widened to merge.

lakemesh speaks DuckDB's type names everywhere (``BIGINT``, ``DECIMAL(12,2)``, ``VARCHAR[]``),
so the names here are the ones DuckDB's Parquet reader reports for the same file.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from lakemesh.storage.type_names import quote_field

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
