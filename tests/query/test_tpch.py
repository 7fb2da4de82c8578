"""TPC-H at a small scale: the governed paths of ``benchmarks/tpch.py`` return raw DuckDB's answers.

The benchmark's own code builds the data (DuckDB's tpch extension, loaded by file path), the
catalog, the principals and the raw views, so what the benchmark times is what is checked here.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import duckdb
import pyarrow as pa
import pytest

from lakemesh.errors import NotFoundError
from lakemesh.model.access import CellPair, ColumnAccess
from lakemesh.query import QueryLimits, TableAccess, load_engine, run_query

from .spark_support import SparkEngines, spark_engines

SCALE = 0.01
BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "tpch.py"


def _load_benchmark() -> ModuleType:
    """``benchmarks/tpch.py`` as a module."""
    spec = importlib.util.spec_from_file_location("lakemesh_benchmark_tpch", BENCHMARK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


tpch = _load_benchmark()
QUERIES: list[tuple[int, str]] = tpch.queries()
IDS = [f"Q{number:02d}" for number, _ in QUERIES]


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TableAccess]:
    root = tpch.build(SCALE, tmp_path_factory.mktemp("tpch"))
    catalog: dict[str, TableAccess] = tpch.catalog(root)
    return catalog


@pytest.fixture(scope="module")
def raw(tables: dict[str, TableAccess]) -> Iterator[duckdb.DuckDBPyConnection]:
    connection: duckdb.DuckDBPyConnection = tpch.raw(tables)
    yield connection
    connection.close()


def test_the_extension_gives_the_22_queries() -> None:
    assert [number for number, _ in QUERIES] == list(range(1, 23))


@pytest.mark.parametrize(("number", "sql"), QUERIES, ids=IDS)
def test_full_select_returns_raw_duckdbs_result(
    tables: dict[str, TableAccess],
    raw: duckdb.DuckDBPyConnection,
    number: int,
    sql: str,
) -> None:
    expected = raw.execute(sql).to_arrow_table()
    result = tpch.gateway(tables, load_engine("duckdb"), "user:analyst@supply")(sql)
    assert result.equals(expected)
    assert expected.num_rows > 0


@pytest.mark.parametrize(("number", "sql"), QUERIES, ids=IDS)
def test_row_filter_and_excluded_column_keep_raw_results(
    tables: dict[str, TableAccess],
    raw: duckdb.DuckDBPyConnection,
    number: int,
    sql: str,
) -> None:
    """The benchmark's (c): a filter every row passes, and ``l_comment`` (no query reads it)."""
    expected = raw.execute(sql).to_arrow_table()
    result = tpch.gateway(tpch.restricted(tables), load_engine("duckdb"), "user:regional@supply")(
        sql
    )
    assert result.equals(expected)


# Filters that drop rows: the governed answer is raw DuckDB's over the filtered tables.
SHIP_MODE = "l_shipmode <> 'MAIL'"
SEGMENT = "c_mktsegment IN ('BUILDING', 'MACHINERY')"


@pytest.mark.parametrize(("number", "sql"), QUERIES, ids=IDS)
def test_filters_that_drop_rows_answer_as_over_filtered_tables(
    tables: dict[str, TableAccess], number: int, sql: str
) -> None:
    filtered = {
        **tables,
        "lineitem": _filtered(tables["lineitem"], SHIP_MODE, exclude="l_comment"),
        "customer": _filtered(tables["customer"], SEGMENT),
    }
    expected = _raw_over(tables, {"lineitem": SHIP_MODE, "customer": SEGMENT}).execute(sql)
    result = run_query(
        sql,
        principal="user:regional@supply",
        resolve=lambda parts: _resolve(filtered, parts),
        limits=QueryLimits(timeout_seconds=120),
    )
    assert result.table.equals(expected.to_arrow_table())
    assert set(result.filters_applied) <= {"supply.tpch.lineitem", "supply.tpch.customer"}


@pytest.mark.slow
@pytest.mark.parametrize(("number", "sql"), QUERIES, ids=IDS)
def test_spark_answers_as_raw_duckdb(
    tables: dict[str, TableAccess],
    raw: duckdb.DuckDBPyConnection,
    number: int,
    sql: str,
) -> None:
    engines: SparkEngines = spark_engines()
    expected = raw.execute(sql).to_arrow_table()
    result = tpch.gateway(tables, engines.local, "user:analyst@supply")(sql)
    assert result.column_names == expected.column_names
    assert tpch._same("d", result, expected), _first_rows(result, expected)


def _filtered(table: TableAccess, predicate: str, exclude: str | None = None) -> TableAccess:
    columns = frozenset(name for name in table.column_names if name != exclude)
    return TableAccess(
        name=table.name,
        format=table.format,
        location=table.location,
        files=table.files,
        columns=table.columns,
        partition_columns=table.partition_columns,
        access=ColumnAccess(pairs=(CellPair(predicate, columns),)),
    )


def _raw_over(tables: dict[str, TableAccess], filters: dict[str, str]) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(":memory:")
    for name, table in tables.items():
        files = ", ".join(f"'{path}'" for path in table.files)
        where = f" WHERE {filters[name]}" if name in filters else ""
        connection.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet([{files}]){where}")
    return connection


def _resolve(tables: dict[str, TableAccess], parts: tuple[str, ...]) -> TableAccess:
    if len(parts) == 1 and parts[0] in tables:
        return tables[parts[0]]
    raise NotFoundError(f"Table does not exist: {'.'.join(parts)}")


def _first_rows(result: pa.Table, expected: pa.Table) -> str:
    return f"spark: {result.slice(0, 3).to_pylist()}\nduckdb: {expected.slice(0, 3).to_pylist()}"
