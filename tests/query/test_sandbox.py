"""The DuckDB sandbox holds even for statements that slip past the parser; limits stop queries."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from lakemesh.errors import InvalidInputError, LimitExceededError, QueryRejectedError
from lakemesh.query import Cancellation, QueryCancelledError, QueryLimits, load_engine
from lakemesh.query.engines.duckdb import DuckDBEngine
from lakemesh.query.engines.duckdb_sandbox import DuckDBSandbox
from tests.factories.gateway import CUSTOMER_ROWS, FLAT_COLUMNS, Lake, pair

T = "sales.crm.customers"
LIMITS = QueryLimits(timeout_seconds=30, threads=2, memory_limit="256MB")
# Long enough to outlive any timeout below, short of DuckDB's own optimisations.
SLOW = "SELECT count(*) FROM range(100000000) a, range(100000) b WHERE a.range + b.range = -1"


@pytest.fixture
def engine() -> DuckDBEngine:
    return DuckDBEngine()


@pytest.fixture
def connection(lake: Lake) -> duckdb.DuckDBPyConnection:
    """A sandbox (as a worker process opens it) that may read the customers' files only."""
    return DuckDBSandbox().connect(files=lake.tables[T].files, limits=LIMITS)


def other_file(lake: Lake) -> str:
    return lake.tables["sales.crm.orders"].files[0]


RAW_ATTACKS = [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM read_parquet('{other}')",
    "SELECT * FROM '{other}'",
    "SELECT * FROM glob('/*')",
    "SELECT * FROM read_parquet('{root}/**/*.parquet')",
    "SELECT * FROM read_parquet('https://example.com/x.parquet')",
    "COPY (SELECT 1) TO '{root}/leak.csv'",
    "ATTACH '{root}/other.db' AS other",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "SET allowed_paths = ['/etc/passwd']",
    "RESET allowed_directories",
    "SET lock_configuration = false",
]


@pytest.mark.parametrize("attack", RAW_ATTACKS)
def test_raw_statements_on_the_sandbox_fail(
    connection: duckdb.DuckDBPyConnection, lake: Lake, attack: str
) -> None:
    sql = attack.format(other=other_file(lake), root=lake.root)
    with pytest.raises(duckdb.Error, match="disabled|locked|Permission"):
        connection.execute(sql).fetchall()


def test_sandbox_reads_the_authorized_files(
    connection: duckdb.DuckDBPyConnection, lake: Lake
) -> None:
    files = list(lake.tables[T].files)
    assert connection.execute("SELECT count(*) FROM read_parquet($f)", {"f": files}).fetchone() == (
        len(CUSTOMER_ROWS),
    )
    settings = connection.execute(
        "SELECT current_setting('enable_external_access'), current_setting('lock_configuration'),"
        " current_setting('threads'), current_setting('autoload_known_extensions')"
    ).fetchone()
    assert settings == (False, True, 2, False)


def test_engine_refuses_what_slipped_past_the_parser(engine: DuckDBEngine, lake: Lake) -> None:
    files = lake.tables[T].files
    for sql in (
        f"SELECT * FROM read_parquet('{other_file(lake)}')",
        "SELECT * FROM read_csv('/etc/passwd')",
    ):
        with pytest.raises(QueryRejectedError, match="outside its authorized files"):
            engine.execute(sql=sql, files=files, parameters={}, limits=LIMITS)
    for sql, message in [
        ("SELECT 1; SELECT 2", "exactly one SELECT"),
        (f"COPY (SELECT 1) TO '{lake.root}/x.csv'", "exactly one SELECT"),
        ("PRAGMA version", "exactly one SELECT"),
        ("SHOW TABLES", "outside its authorized data"),
        ("SELECT * FROM duckdb_settings()", "Table function not allowed: duckdb_settings"),
        ("SELECT * FROM glob('/*')", "Table function not allowed: glob"),
        ("SELECT * FROM duckdb_tables", "outside its authorized data: duckdb_tables"),
        ("SELECT * FROM information_schema.tables", "outside its authorized data"),
        ("WITH t AS (SELECT 1) SELECT * FROM t, pg_catalog.pg_class", "outside its authorized"),
    ]:
        with pytest.raises(QueryRejectedError, match=message):
            engine.execute(sql=sql, files=files, parameters={}, limits=LIMITS)
    rows = engine.execute(
        sql="WITH t AS (SELECT 1 AS a) SELECT * FROM t, range(2)",
        files=files,
        parameters={},
        limits=LIMITS,
    )
    assert rows.rows == 2
    assert not (lake.root / "x.csv").exists()


def test_python_variables_are_not_tables(engine: DuckDBEngine) -> None:
    secret_table = pa.table({"s": ["TOPSECRET"]})  # DuckDB's Python replacement scan would see it
    assert secret_table.num_rows == 1
    with pytest.raises(QueryRejectedError, match="secret_table") as info:
        engine.execute(sql="SELECT * FROM secret_table", files=[], parameters={}, limits=LIMITS)
    assert "TOPSECRET" not in info.value.message


def test_timeout_interrupts_the_query(engine: DuckDBEngine) -> None:
    started = time.perf_counter()
    limits = QueryLimits(timeout_seconds=0.3, threads=2)
    with pytest.raises(LimitExceededError, match="time limit of 0.3s") as info:
        engine.execute(sql=SLOW, files=[], parameters={}, limits=limits)
    assert info.value.details["limit"] == "timeout_seconds"
    assert time.perf_counter() - started < 10


def test_cancellation_stops_a_running_query(engine: DuckDBEngine) -> None:
    cancellation = Cancellation()
    threading.Timer(0.3, cancellation.cancel).start()
    with pytest.raises(QueryCancelledError, match="cancelled"):
        engine.execute(sql=SLOW, files=[], parameters={}, limits=LIMITS, cancellation=cancellation)


def test_cancellation_before_start(engine: DuckDBEngine) -> None:
    cancellation = Cancellation()
    cancellation.cancel()
    with pytest.raises(QueryCancelledError):
        engine.execute(sql=SLOW, files=[], parameters={}, limits=LIMITS, cancellation=cancellation)


def test_memory_limit(engine: DuckDBEngine) -> None:
    limits = QueryLimits(memory_limit="20MB", threads=1)
    with pytest.raises(LimitExceededError, match="memory limit of 20MB"):
        engine.execute(
            sql="SELECT list(range) FROM range(20000000)", files=[], parameters={}, limits=limits
        )


def test_row_limit(lake: Lake) -> None:
    with pytest.raises(LimitExceededError, match="row limit of 3"):
        lake.query(f"SELECT * FROM {T}", limits=QueryLimits(max_rows=3))
    assert lake.query(f"SELECT * FROM {T} LIMIT 3", limits=QueryLimits(max_rows=3)).rows == 3


def test_bytes_scanned_limit_stops_the_query_before_it_runs(lake: Lake) -> None:
    size = sum(Path(f).stat().st_size for f in lake.tables[T].files)
    with pytest.raises(LimitExceededError, match=f"scan {size} bytes, over the limit of 100"):
        lake.query(f"SELECT id FROM {T}", limits=QueryLimits(max_bytes_scanned=100))
    assert lake.query(f"SELECT id FROM {T}", limits=QueryLimits(max_bytes_scanned=size)).rows


@pytest.mark.parametrize("format", ["parquet", "csv", "json"])
def test_partition_filters_prune_partitions(tmp_path: Path, format: str) -> None:
    """US's file is corrupt: any query that opens it fails, so success proves it was pruned.

    (The engine binds the schema from the first file, APAC's, which stays valid.)
    """
    lake = Lake(root=tmp_path / "lake")
    rows = [{c[0]: row[c[0]] for c in FLAT_COLUMNS} for row in CUSTOMER_ROWS]
    table = lake.add(T, rows, FLAT_COLUMNS, format=format, partition_by=("region",))
    corrupt = next(f for f in table.files if "region=US" in f)
    header = ",".join(c[0] for c in FLAT_COLUMNS if c[0] != "region")
    Path(corrupt).write_text(
        {"csv": f"{header}\nnot-a-number,TOPSECRET\n", "json": '{"id": "TOPSECRET"\n'}.get(
            format, "TOPSECRET garbage"
        )
    )
    with pytest.raises(InvalidInputError) as info:
        lake.query(f"SELECT count(id) FROM {T}")  # reading everything does open the corrupt file
    assert "TOPSECRET" not in info.value.message  # engine errors never echo raw file content
    # a filter in the query
    assert lake.rows(f"SELECT count(id) AS n FROM {T} WHERE region = 'EU'") == [{"n": 4}]
    assert lake.rows(f"SELECT count(id) AS n FROM {T} WHERE region IN ('EU', 'APAC')") == [{"n": 6}]
    # a row predicate on the partition column
    lake.grant(T, pair("region <> 'US'", "id", "name", "region"))
    assert lake.rows(f"SELECT count(id) AS n FROM {T}") == [{"n": 6}]
    # both, with a cell-level pair
    lake.grant(T, pair("region = 'EU'", "id", "name", "region"), pair("region = 'APAC'", "id"))
    assert lake.rows(f"SELECT count(name) AS n, count(id) AS m FROM {T}") == [{"n": 4, "m": 6}]
    assert lake.rows(f"SELECT count(id) AS n FROM {T} WHERE region = 'EU'") == [{"n": 4}]


def test_engine_registry() -> None:
    assert isinstance(load_engine("duckdb"), DuckDBEngine)
    with pytest.raises(InvalidInputError, match="Unknown query engine: presto"):
        load_engine("presto")


def test_a_database_serves_again_only_queries_over_exactly_its_files(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A narrowed database is kept for the next query over the same files (no new database),
    stays locked to them, and is never given to a query over other files."""
    sandbox = DuckDBSandbox()
    opened: list[tuple[str, ...]] = []
    connect = sandbox.connect

    def counting_connect(**arguments: object) -> duckdb.DuckDBPyConnection:
        opened.append(tuple(arguments["files"]))  # type: ignore[arg-type]
        return connect(**arguments)  # type: ignore[arg-type]

    monkeypatch.setattr(sandbox, "connect", counting_connect)
    customers, orders = list(lake.tables[T].files), [other_file(lake)]

    def run(sql: str, files: list[str]) -> pa.Table:
        written = sandbox.run(
            sql=sql, files=files, parameters={}, limits=LIMITS, result_path="", inline_bytes=1 << 20
        )
        assert written.inline is not None
        return pa.ipc.open_stream(pa.py_buffer(written.inline)).read_all()

    count = "SELECT count(*) AS n FROM read_parquet($files)"
    for _ in range(3):
        assert run(count.replace("$files", repr(customers)), customers).num_rows == 1
    assert opened == [tuple(customers)]  # one database for the three queries
    # The kept database still reads only its files, and its configuration stays locked.
    for sql in (
        f"SELECT * FROM read_parquet('{orders[0]}')",
        "SELECT * FROM read_csv('/etc/passwd')",
    ):
        with pytest.raises(QueryRejectedError, match="outside its authorized files"):
            run(sql, customers)
    settings = run(
        "SELECT current_setting('lock_configuration') AS locked,"
        " current_setting('enable_external_access') AS external",
        customers,
    )
    assert settings.to_pylist() == [{"locked": True, "external": False}]
    # A query over other files (even a superset) gets a database of its own.
    run(f"SELECT count(*) AS n FROM read_parquet('{orders[0]}')", orders)
    run(count.replace("$files", repr(customers + orders)), customers + orders)
    assert opened[-2:] == [tuple(orders), tuple(customers + orders)]
    # Different limits: another database (threads and memory are locked in it).
    run(count.replace("$files", repr(customers)), customers)
    # A failed query gives its database up: the one kept since the settings query serves this.
    assert len(opened) == 5
    sandbox.run(
        sql=count.replace("$files", repr(customers)),
        files=customers,
        parameters={},
        limits=QueryLimits(timeout_seconds=30, threads=1, memory_limit="256MB"),
        result_path="",
        inline_bytes=1 << 20,
    )
    assert len(opened) == 6
    sandbox.close()


def test_a_query_that_set_something_leaves_nothing_to_the_next(lake: Lake) -> None:
    """Each query runs on a connection of its own: a seed set by one does not reach the next."""
    sandbox = DuckDBSandbox()

    def run(sql: str) -> list[dict[str, object]]:
        written = sandbox.run(
            sql=sql, files=[], parameters={}, limits=LIMITS, result_path="", inline_bytes=1 << 20
        )
        assert written.inline is not None
        return pa.ipc.open_stream(pa.py_buffer(written.inline)).read_all().to_pylist()

    run("SELECT setseed(0.25) AS s")
    seeded = run("SELECT setseed(0.25) AS s, random() AS r")[0]["r"]
    assert all(run("SELECT random() AS r")[0]["r"] != seeded for _ in range(3))
    sandbox.close()
