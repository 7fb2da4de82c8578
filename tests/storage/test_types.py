"""DuckDB type names: Arrow → DuckDB agrees with DuckDB's own Parquet reader; widening rules."""

from __future__ import annotations

import datetime
import decimal
import uuid
from pathlib import Path

import duckdb
import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakemesh.storage.formats import SchemaReader
from lakemesh.storage.type_names import quote_field, widen_type
from lakemesh.storage.types import duckdb_type

ARROW_COLUMNS: dict[str, pa.Array] = {
    "int8": pa.array([1], pa.int8()),
    "int16": pa.array([1], pa.int16()),
    "int32": pa.array([1], pa.int32()),
    "int64": pa.array([1], pa.int64()),
    "uint8": pa.array([1], pa.uint8()),
    "uint16": pa.array([1], pa.uint16()),
    "uint32": pa.array([1], pa.uint32()),
    "uint64": pa.array([1], pa.uint64()),
    "float16": pa.array([1.0], pa.float16()),
    "float32": pa.array([1.0], pa.float32()),
    "float64": pa.array([1.0]),
    "bool": pa.array([True]),
    "string": pa.array(["a"]),
    "large_string": pa.array(["a"], pa.large_string()),
    "string_view": pa.array(["a"], pa.string_view()),
    "binary": pa.array([b"a"]),
    "large_binary": pa.array([b"a"], pa.large_binary()),
    "fixed_binary": pa.array([b"ab"], pa.binary(2)),
    "date32": pa.array([datetime.date(2024, 1, 1)]),
    "date64": pa.array([datetime.date(2024, 1, 1)], pa.date64()),
    "timestamp_s": pa.array([1], pa.timestamp("s")),
    "timestamp_ms": pa.array([1], pa.timestamp("ms")),
    "timestamp_us": pa.array([1], pa.timestamp("us")),
    "timestamp_ns": pa.array([1], pa.timestamp("ns")),
    "timestamp_tz": pa.array([1], pa.timestamp("us", "UTC")),
    "timestamp_ns_tz": pa.array([1], pa.timestamp("ns", "Europe/Paris")),
    "time32": pa.array([1], pa.time32("ms")),
    "time64": pa.array([1], pa.time64("us")),
    "time64_ns": pa.array([1], pa.time64("ns")),
    "decimal": pa.array([decimal.Decimal("1.23")], pa.decimal128(12, 2)),
    "decimal_38": pa.array([decimal.Decimal("1.23")], pa.decimal128(38, 2)),
    "decimal_256": pa.array([1], pa.decimal256(50, 2)),
    "list": pa.array([[1, 2]]),
    "large_list": pa.array([[1]], pa.large_list(pa.int32())),
    "fixed_list": pa.array([[1, 2]], pa.list_(pa.int64(), 2)),
    "list_view": pa.array([[1]], pa.list_view(pa.int64())),
    "struct": pa.array([{"a": 1, "b c": "x", "select": 1.0, "B": 2, "é": 3, 'q"': 4}]),
    "map": pa.array([[("k", 1)]], pa.map_(pa.string(), pa.int64())),
    "map_of_lists": pa.array([[("k", [1])]], pa.map_(pa.string(), pa.list_(pa.int32()))),
    "nested": pa.array([[{"x": [1]}]]),
    "dictionary": pa.array(["a"]).dictionary_encode(),
    "null": pa.array([None], pa.null()),
    "duration": pa.array([1], pa.duration("us")),
    "uuid": pa.array([uuid.uuid4().bytes], pa.uuid()),
    "json": pa.array(["{}"], pa.json_()),
}

DUCKDB_TYPES = [
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
    "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL(4,1)", "DECIMAL(18,2)", "DECIMAL(38,10)",
    "VARCHAR", "BLOB", "BOOLEAN", "DATE", "TIME", "TIMETZ", "TIMESTAMP", "TIMESTAMP_S",
    "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMPTZ", "INTERVAL", "UUID", "JSON", "INTEGER[]",
    "VARCHAR[][]", 'STRUCT(a INTEGER, "B c" VARCHAR, "order" DATE)', "MAP(VARCHAR, INTEGER)",
    "INTEGER[3]", "ENUM('a', 'b')",
]  # fmt: skip


def _duckdb_describe(path: Path) -> list[tuple[str, str]]:
    with duckdb.connect() as connection:
        rows = connection.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    return [(str(row[0]), str(row[1])) for row in rows]


def _lakemesh_describe(path: Path) -> list[tuple[str, str]]:
    with SchemaReader(fsspec.filesystem("file")) as reader:
        columns = reader.read(str(path), file_format="parquet", size=1, uri=str(path))
        return [(name, sql_type) for name, sql_type, _nullable in columns]


def test_arrow_written_parquet_types_match_duckdb(tmp_path: Path) -> None:
    path = tmp_path / "arrow.parquet"
    pq.write_table(pa.table(ARROW_COLUMNS), path)
    assert _lakemesh_describe(path) == _duckdb_describe(path)


def test_int96_timestamps_read_as_timestamp(tmp_path: Path) -> None:
    path = tmp_path / "spark.parquet"
    table = pa.table({"ts": pa.array([1], pa.timestamp("ns"))})
    pq.write_table(table, path, use_deprecated_int96_timestamps=True)
    assert _lakemesh_describe(path) == _duckdb_describe(path) == [("ts", "TIMESTAMP")]


@pytest.mark.parametrize("sql_type", DUCKDB_TYPES)
def test_duckdb_written_parquet_types_match_duckdb(tmp_path: Path, sql_type: str) -> None:
    path = tmp_path / "duckdb.parquet"
    with duckdb.connect() as connection:
        connection.execute(f"COPY (SELECT NULL::{sql_type} AS c) TO '{path}' (FORMAT parquet)")
    assert _lakemesh_describe(path) == _duckdb_describe(path)


def test_duckdb_type_examples() -> None:
    assert duckdb_type(pa.decimal128(12, 2)) == "DECIMAL(12,2)"
    assert duckdb_type(pa.list_(pa.struct([("a b", pa.int32())]))) == 'STRUCT("a b" INTEGER)[]'


def test_an_arrow_type_without_duckdb_equivalent_is_refused() -> None:
    with pytest.raises(ValueError, match="has no DuckDB equivalent"):
        duckdb_type(pa.month_day_nano_interval())


@pytest.mark.parametrize(
    ("name", "quoted"),
    [("a", "a"), ("Ab_1", "Ab_1"), ("_x", "_x"), ("a b", '"a b"'), ("1x", '"1x"'),
     ("select", '"select"'), ("Order", '"Order"'), ('q"', '"q"""'), ("é", '"é"')],
)  # fmt: skip
def test_quote_field(name: str, quoted: str) -> None:
    assert quote_field(name) == quoted


@pytest.mark.parametrize(
    ("first", "second", "widened"),
    [
        ("BIGINT", "BIGINT", "BIGINT"),
        ("INTEGER", "BIGINT", "BIGINT"),
        ("TINYINT", "SMALLINT", "SMALLINT"),
        ("UTINYINT", "UINTEGER", "UINTEGER"),
        ("UINTEGER", "INTEGER", "BIGINT"),
        ("UBIGINT", "BIGINT", "HUGEINT"),
        ("UHUGEINT", "TINYINT", None),
        ("INTEGER", "FLOAT", "DOUBLE"),
        ("FLOAT", "DOUBLE", "DOUBLE"),
        ("BIGINT", "DOUBLE", "DOUBLE"),
        ("DECIMAL(12,2)", "DOUBLE", "DOUBLE"),
        ("DECIMAL(12,2)", "DECIMAL(10,4)", "DECIMAL(14,4)"),
        ("INTEGER", "DECIMAL(12,2)", "DECIMAL(12,2)"),
        ("BIGINT", "DECIMAL(12,2)", "DECIMAL(21,2)"),
        ("DECIMAL(38,0)", "DECIMAL(38,10)", "DOUBLE"),
        ("DATE", "TIMESTAMP", "TIMESTAMP"),
        ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_NS"),
        ("TIMESTAMP_MS", "DATE", "TIMESTAMP_MS"),
        ("VARCHAR", "JSON", "JSON"),
        ("JSON", "STRUCT(a BIGINT)", "JSON"),
        ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE", None),
        ("VARCHAR", "BIGINT", None),
        ("BOOLEAN", "INTEGER", None),
        ("DATE", "VARCHAR", None),
        ("BLOB", "VARCHAR", None),
        ("BIGINT[]", "INTEGER[]", None),
        ("STRUCT(a BIGINT)", "STRUCT(b BIGINT)", None),
    ],
)
def test_widen_type(first: str, second: str, widened: str | None) -> None:
    assert widen_type(first, second) == widened
    assert widen_type(second, first) == widened
