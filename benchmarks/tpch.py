"""TPC-H benchmark: the 22 queries on raw DuckDB, through the lakemesh gateway, and on Spark.

TPC-H at ``--scale`` is generated once as Parquet in a producer domain's folder
(``benchmarks/.data/tpch-sf<scale>/supply/tpch/<table>/``, git-ignored) with DuckDB's tpch
extension, loaded by file path from the installed ``duckdb_extension_tpch`` package. Each query
runs (a) on raw DuckDB over views of the same files, (b) through the gateway for a principal with
full SELECT, (c) through the gateway for a principal with a row filter on lineitem and without
``l_comment`` (no query reads it), (r) on raw DuckDB with (c)'s row filter and column written
into the lineitem view by hand (what (c) costs without the gateway), (d) through the gateway on
the Spark engine. Prints each query's best time of ``--runs``, the ratios to (a) and their
geometric means, and checks that (b), (c) and (r) return exactly (a)'s results. Targets: (b)/(a)
geometric mean <= 1.05, no query above 1.25.

    .venv/bin/python benchmarks/tpch.py [--scale 1] [--runs 5] [--skip-spark]
"""

from __future__ import annotations

import argparse
import decimal
import math
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from lakemesh.catalog.crawl import discover_tables
from lakemesh.errors import NotFoundError
from lakemesh.model.access import CellPair, ColumnAccess
from lakemesh.query import (
    QueryEngine,
    QueryLimits,
    TableAccess,
    load_engine,
    plan_query,
    run_query,
)
from lakemesh.query.engines.duckdb_pool import settle
from lakemesh.query.engines.duckdb_process import worker_pool
from lakemesh.query.gateway import clear_plan_cache

DATA = Path(__file__).resolve().parent / ".data"
DOMAIN = "supply"
DATABASE = "tpch"
TABLES = ("customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier")
TARGET_GEOMEAN = 1.05
TARGET_MAX = 1.25
# Holds for every generated row (ship dates run 1992-01-02 .. 1998-12-01), so (c) returns (a)'s
# results. The gateway proves that from the Parquet statistics and applies no filter
# (query/statistics.py); (r) shows what the filter costs DuckDB when it is applied.
ROW_FILTER = "l_shipdate >= DATE '1992-01-01'"
EXCLUDED = "l_comment"
THREADS = os.cpu_count() or 2
MEMORY_LIMIT = "8GB"
PAUSE_SECONDS = 0.02


def tpch_extension() -> str:
    """Path of the tpch extension shipped by the ``duckdb_extension_tpch`` package."""
    import duckdb_extension_tpch

    folder = Path(duckdb_extension_tpch.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    path = folder / "tpch.duckdb_extension"
    if not path.is_file():
        sys.exit(f"tpch extension not found at {path}: pip install 'lakemesh[tpch]'")
    return str(path)


def offline_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that never downloads an extension, with the tpch extension loaded."""
    connection = duckdb.connect(
        ":memory:",
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )
    connection.execute(f"LOAD '{tpch_extension()}'")
    return connection


def build(scale: float, data: Path = DATA) -> Path:
    """The domain folder ``<data>/tpch-sf<scale>/supply`` with one Parquet file per table."""
    root = data / f"tpch-sf{scale:g}" / DOMAIN
    if (root / DATABASE / "lineitem").is_dir():
        return root
    staging = data / f".tpch-sf{scale:g}.building"
    shutil.rmtree(staging, ignore_errors=True)
    started = time.perf_counter()
    connection = offline_connection()
    connection.execute(f"CALL dbgen(sf = {scale})")
    for table in TABLES:
        folder = staging / DATABASE / table
        folder.mkdir(parents=True)
        connection.execute(f"COPY {table} TO '{folder / 'part-0.parquet'}' (FORMAT parquet)")
    connection.close()
    root.parent.mkdir(parents=True, exist_ok=True)
    staging.rename(root)
    print(f"built TPC-H sf{scale:g} in {time.perf_counter() - started:.1f} s: {root}")
    return root


def queries() -> list[tuple[int, str]]:
    """The 22 TPC-H queries as the tpch extension writes them."""
    connection = offline_connection()
    rows = connection.execute("SELECT query_nr, query FROM tpch_queries() ORDER BY 1").fetchall()
    connection.close()
    return [(int(number), str(sql)) for number, sql in rows]


def catalog(root: Path) -> dict[str, TableAccess]:
    """The domain's tables as the crawler sees them, readable in full."""
    result = {}
    for found in discover_tables(str(root / DATABASE)):
        columns = tuple((c.name, c.type) for c in (*found.columns, *found.partition_columns))
        files = tuple(str(p) for p in sorted((root / DATABASE / found.name).rglob("*.parquet")))
        result[found.name] = TableAccess(
            name=f"{DOMAIN}.{DATABASE}.{found.name}",
            format=found.format,
            location=str(root / DATABASE / found.name),
            files=files,
            columns=columns,
            partition_columns=tuple(c.name for c in found.partition_columns),
            access=ColumnAccess(pairs=(CellPair(None, frozenset(name for name, _ in columns)),)),
        )
    return result


def restricted(tables: dict[str, TableAccess]) -> dict[str, TableAccess]:
    """(c)'s view: lineitem through a row filter, without ``l_comment``."""
    lineitem = tables["lineitem"]
    columns = frozenset(name for name in lineitem.column_names if name != EXCLUDED)
    access = ColumnAccess(pairs=(CellPair(ROW_FILTER, columns),))
    return {**tables, "lineitem": _with_access(lineitem, access)}


def _with_access(table: TableAccess, access: ColumnAccess) -> TableAccess:
    from dataclasses import replace

    return replace(table, access=access)


def resolver(tables: dict[str, TableAccess]) -> Callable[[tuple[str, ...]], TableAccess]:
    """Names as the queries write them (``lineitem``) or in full (``supply.tpch.lineitem``)."""

    def resolve(parts: tuple[str, ...]) -> TableAccess:
        if parts[:-1] in ((), (DATABASE,), (DOMAIN, DATABASE)) and parts[-1] in tables:
            return tables[parts[-1]]
        raise NotFoundError(f"Table does not exist: {'.'.join(parts)}")

    return resolve


@dataclass
class Timing:
    """Best wall-clock time of a query on one path, its best CPU time (every thread of this
    process and of the gateway's query workers: steadier than wall time when other programs load
    the machine), its last result."""

    seconds: float = math.inf
    cpu_seconds: float = math.inf
    result: pa.Table | None = None


def best_of(runs: int, paths: dict[str, Callable[[str], pa.Table]], sql: str) -> dict[str, Timing]:
    """Each path's best of ``runs``, the paths taking turns so that a load change on the machine
    hits them alike. After each run, background work (the gateway's pool opening the next
    sandbox while no query runs) finishes and a short pause follows, outside every measurement:
    this times one query on an otherwise idle hub."""
    timings = {path: Timing() for path in paths}
    for _ in range(runs):
        for path, run in paths.items():
            started, cpu = time.perf_counter(), cpu_seconds()
            result = run(sql)
            elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu
            timing = timings[path]
            timing.seconds = min(timing.seconds, elapsed)
            timing.cpu_seconds = min(timing.cpu_seconds, cpu)
            timing.result = result
            settle()
            worker_pool().wait_ready()
            time.sleep(PAUSE_SECONDS)
    return timings


def cpu_seconds() -> float:
    """CPU time of this process and of the gateway's query workers (each worker reports its own
    with every reply)."""
    return time.process_time() + worker_pool().cpu_seconds


def raw(tables: dict[str, TableAccess], *, filtered: bool = False) -> duckdb.DuckDBPyConnection:
    """(a): a plain DuckDB with one view per table over ``read_parquet`` of its files; (r) with
    ``filtered``: (c)'s row filter and column exclusion written into the lineitem view."""
    connection = duckdb.connect(":memory:")
    connection.execute(f"SET threads = {THREADS}")
    connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    for name, table in tables.items():
        files = ", ".join(f"'{path}'" for path in table.files)
        view = f"SELECT * FROM read_parquet([{files}])"
        if filtered and name == "lineitem":
            view = f"SELECT * EXCLUDE ({EXCLUDED}) FROM read_parquet([{files}]) WHERE {ROW_FILTER}"
        connection.execute(f"CREATE VIEW {name} AS {view}")
    return connection


def gateway(
    tables: dict[str, TableAccess], engine: QueryEngine, principal: str
) -> Callable[[str], pa.Table]:
    """(b), (c), (d): :func:`run_query` as the service calls it."""
    resolve = resolver(tables)
    limits = QueryLimits(timeout_seconds=None, threads=THREADS, memory_limit=MEMORY_LIMIT)

    def run(sql: str) -> pa.Table:
        result = run_query(
            sql, principal=principal, resolve=resolve, engine=engine, limits=limits, hash_salt="x"
        )
        return result.table

    return run


def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else math.nan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="TPC-H scale factor")
    parser.add_argument("--runs", type=int, default=5, help="runs per query; the best counts")
    parser.add_argument("--skip-spark", action="store_true", help="leave out (d), the Spark engine")
    parser.add_argument("--queries", default="", help="comma-separated query numbers (default all)")
    arguments = parser.parse_args()
    root = build(arguments.scale)
    tables = catalog(root)
    selected = {int(n) for n in arguments.queries.split(",") if n}
    workload = [(n, sql) for n, sql in queries() if not selected or n in selected]
    print(
        f"TPC-H sf{arguments.scale:g}, {len(workload)} queries, best of {arguments.runs} runs, "
        f"{THREADS} threads, DuckDB {duckdb.__version__}, load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    duck = load_engine("duckdb")
    expected = duckdb_paths(tables, duck, workload, arguments.runs)
    cold, cached = planning(tables, duck, workload)
    print(
        f"gateway planning per query (parse, validate, resolve, rewrite): first time "
        f"{cold * 1000:.1f} ms median, then from the plan cache {cached * 1000:.2f} ms median"
    )
    if not arguments.skip_spark:
        spark_path(tables, workload, max(1, arguments.runs // 2), expected)


def duckdb_paths(
    tables: dict[str, TableAccess],
    engine: QueryEngine,
    workload: list[tuple[int, str]],
    runs: int,
) -> dict[int, Timing]:
    """(a), (b), (c) and (r), taking turns; prints the table and returns (a)'s timings."""
    connection = raw(tables)
    filtered = raw(tables, filtered=True)
    paths: dict[str, Callable[[str], pa.Table]] = {
        "a": lambda sql: connection.execute(sql).to_arrow_table(),
        "b": gateway(tables, engine, "user:analyst@supply"),
        "c": gateway(restricted(tables), engine, "user:regional@supply"),
        "r": lambda sql: filtered.execute(sql).to_arrow_table(),
    }
    print(
        f"{'query':>5} {'(a) ms':>9} {'(b) ms':>9} {'b/a':>6} {'(c) ms':>9} {'c/a':>6}"
        f" {'(r) ms':>9} {'r/a':>6} {'c/r':>6}"
    )
    ratios: dict[str, list[float]] = {"b": [], "c": [], "r": []}
    cpu_ratios: dict[str, list[float]] = {"b": [], "c": [], "r": []}
    mismatches: dict[str, list[int]] = {"b": [], "c": [], "r": []}
    c_over_r: list[float] = []
    expected = {}
    for number, sql in workload:
        timings = best_of(runs, paths, sql)
        expected[number] = timings["a"]
        line = f"{f'Q{number:02d}':>5} {timings['a'].seconds * 1000:9.1f}"
        for path, ratio_list in ratios.items():
            ratio = timings[path].seconds / timings["a"].seconds
            ratio_list.append(ratio)
            cpu_ratios[path].append(timings[path].cpu_seconds / timings["a"].cpu_seconds)
            line += f" {timings[path].seconds * 1000:9.1f} {ratio:6.2f}"
            if not _same(path, _result(timings[path]), _result(timings["a"])):
                mismatches[path].append(number)
        c_over_r.append(timings["c"].seconds / timings["r"].seconds)
        print(f"{line} {c_over_r[-1]:6.2f}", flush=True)
    for label, summary in (("geo", geomean), ("max", max)):
        print(
            f"{label:>5} {'':>9}"
            + "".join(f" {'':>9} {summary(r):6.2f}" for r in ratios.values())
            + f" {summary(c_over_r):6.2f}"
        )
    print(
        "CPU time (all threads, with the query workers') ratios, geometric mean / max: "
        + ", ".join(f"{path}/a {geomean(r):.2f} / {max(r):.2f}" for path, r in cpu_ratios.items())
    )
    b_geo, b_max = geomean(ratios["b"]), max(ratios["b"])
    verdict = "ok" if b_geo <= TARGET_GEOMEAN and b_max <= TARGET_MAX else "MISSED"
    print(
        f"(b)/(a): geometric mean {b_geo:.3f} (target <= {TARGET_GEOMEAN}), "
        f"max {b_max:.3f} (target <= {TARGET_MAX}): {verdict}"
    )
    for path, failed in mismatches.items():
        print(
            f"({path}) results identical to (a): "
            + ("yes, all queries" if not failed else f"NO for {_names(failed)}")
        )
    connection.close()
    filtered.close()
    return expected


def spark_path(
    tables: dict[str, TableAccess],
    workload: list[tuple[int, str]],
    runs: int,
    expected: dict[int, Timing],
) -> None:
    """(d): the gateway on local Spark, after the DuckDB paths (its JVM would disturb them)."""
    started = time.perf_counter()
    run = gateway(tables, load_engine("spark"), "user:analyst@supply")
    run("SELECT count(*) FROM region")  # starts the session (not timed below)
    print(f"(d) Spark {_spark_version()} local[2] started in {time.perf_counter() - started:.1f} s")
    print(f"{'query':>5} {'(d) ms':>9} {'d/a':>7}")
    ratios, failed = [], []
    for number, sql in workload:
        timing = best_of(runs, {"d": run}, sql)["d"]
        ratio = timing.seconds / expected[number].seconds
        ratios.append(ratio)
        if not _same("d", _result(timing), _result(expected[number])):
            failed.append(number)
        print(f"{f'Q{number:02d}':>5} {timing.seconds * 1000:9.1f} {ratio:7.1f}", flush=True)
    print(f"{'geo':>5} {'':>9} {geomean(ratios):7.1f}")
    print(
        "(d) results the same rows as (a): "
        + ("yes, all queries" if not failed else f"NO for {_names(failed)}")
    )


def _spark_version() -> str:
    import pyspark

    return str(pyspark.__version__)


def planning(
    tables: dict[str, TableAccess], engine: QueryEngine, workload: list[tuple[int, str]]
) -> tuple[float, float]:
    """Median seconds to plan a query the first time, and again (from the plan cache)."""
    resolve = resolver(tables)

    def seconds(sql: str) -> float:
        started = time.perf_counter()
        planned = plan_query(sql, principal="user:analyst@supply", resolve=resolve, engine=engine)
        assert planned.sql  # the engine's SQL text is part of planning
        return time.perf_counter() - started

    cold, cached = [], []
    for _, sql in workload:
        for _ in range(3):
            clear_plan_cache()
            cold.append(seconds(sql))
        cached.extend(seconds(sql) for _ in range(3))
    return statistics.median(cold), statistics.median(cached)


def _result(timing: Timing) -> pa.Table:
    assert timing.result is not None
    return timing.result


def _same(path: str, result: pa.Table, expected: pa.Table) -> bool:
    """(b) and (c) must equal (a) exactly. Spark types some results differently (an average of
    decimals is a DECIMAL with 6 decimal places, not a DOUBLE), so (d) must give the same rows with
    numbers equal to 1e-6."""
    if path in "bcr":
        return bool(result.equals(expected))
    rows, wanted = result.to_pylist(), expected.to_pylist()
    return len(rows) == len(wanted) and all(
        len(row) == len(other) and all(map(_close, row.values(), other.values()))
        for row, other in zip(rows, wanted, strict=True)
    )


def _close(value: object, other: object) -> bool:
    numbers = (int, float, decimal.Decimal)
    if isinstance(value, numbers) and isinstance(other, numbers):
        return math.isclose(float(value), float(other), rel_tol=1e-9, abs_tol=1e-6)
    return value == other


def _names(numbers: list[int]) -> str:
    return ", ".join(f"Q{n:02d}" for n in numbers)


if __name__ == "__main__":
    main()
