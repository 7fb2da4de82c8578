"""The Spark engine: the same governed queries give DuckDB's results; the sandbox holds on Spark.

One Spark runs for the whole test run (see ``spark_support``): the local session, which also
serves Spark Connect on a loopback port, so the remote path is tested against a real server.
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from lakemesh.errors import InvalidInputError, LakemeshError, LimitExceededError, QueryRejectedError
from lakemesh.model.access import CellPair
from lakemesh.query import (
    Cancellation,
    QueryCancelledError,
    QueryEngine,
    QueryLimits,
    load_engine,
)
from lakemesh.query.engines.spark_sql import spark_schema, verify_statement, view_name
from lakemesh.query.secure import SALT_PARAMETER
from tests.factories.gateway import CUSTOMER_COLUMNS, CUSTOMER_ROWS, FLAT_COLUMNS, SALT, Lake, pair

from .spark_support import SparkEngines, spark_engines
from .test_guards import PROBES, VISIBLE_IDS
from .test_security import FILTERED_ROW_PROBES, assert_no_hidden_data

pytestmark = pytest.mark.slow

T = "sales.crm.customers"
EVERY = [c[0] for c in CUSTOMER_COLUMNS]
FLAT = [c[0] for c in FLAT_COLUMNS]
LIMITS = QueryLimits(timeout_seconds=120)
# Bob's grants in the security suite: EU cells, US ids and regions, no APAC row, no PII.
CELLS = (
    pair("region = 'EU'", "id", "name", "region", "amount", "signup", "profile", "tags"),
    pair("region = 'US'", "id", "region"),
)
MASKED = (pair("region <> 'APAC'", "id", "name", "email", "phone", "secret", "amount", "signup"),)
MASKS = {
    "email": "email_domain",
    "phone": "last4",
    "secret": "hash",
    "name": "redact",
    "signup": "null",
}


@pytest.fixture(scope="session")
def spark() -> SparkEngines:
    return spark_engines()


GOVERNED: list[tuple[str, tuple[CellPair, ...], dict[str, str], str]] = [
    ("everything", (pair(None, *EVERY),), {}, f"SELECT * FROM {T} ORDER BY id"),
    ("column grant", (pair(None, "id", "name", "region"),), {}, f"SELECT * FROM {T} ORDER BY id"),
    ("row filter", (pair("amount > 100", *EVERY),), {}, f"SELECT * FROM {T} ORDER BY id"),
    ("cell semantics", CELLS, {}, f"SELECT * FROM {T} ORDER BY id"),
    (
        "cells under a user filter",
        CELLS,
        {},
        f"SELECT id, name, amount FROM {T} WHERE region <> 'APAC' AND id > 1 ORDER BY id",
    ),
    ("masks after filters", MASKED, MASKS, f"SELECT * FROM {T} ORDER BY id"),
    (
        "masked values are what filters see",
        MASKED,
        MASKS,
        f"SELECT id, email FROM {T} WHERE email = 'eu.example.com' ORDER BY id",
    ),
    (
        "aggregates over cells",
        CELLS,
        {},
        f"SELECT region, count(*) AS n, count(name) AS named, min(signup) AS first"
        f" FROM {T} GROUP BY region ORDER BY region",
    ),
    (
        "struct and map access",
        CELLS,
        {},
        f"SELECT id, profile.city AS city, tags['tier'] AS tier FROM {T} ORDER BY id",
    ),
    (
        "window over cells",
        CELLS,
        {},
        # Spark's row_number() is an INT where DuckDB's is a BIGINT: the cast makes them agree.
        f"SELECT id, CAST(row_number() OVER (PARTITION BY region ORDER BY id DESC) AS BIGINT)"
        f" AS r, max(amount) OVER (PARTITION BY region) AS top FROM {T} ORDER BY id",
    ),
    (
        "join, CTE and set operation",
        CELLS,
        {},
        f"WITH eu AS (SELECT id, name FROM {T} WHERE name IS NOT NULL)"
        " SELECT eu.id, eu.name, o.order_id FROM eu JOIN sales.crm.orders o"
        " ON o.customer_id = eu.id"
        " UNION ALL SELECT customer_id, NULL, order_id FROM sales.crm.orders WHERE total > 50"
        " ORDER BY order_id, id, name NULLS FIRST",
    ),
    (
        "null ordering as DuckDB's",
        CELLS,
        {},
        f"SELECT id, name FROM {T} ORDER BY name, id DESC",
    ),
    (
        "partition filter from a bound principal attribute",
        (pair("region = 'US'", "id", "region", "name"),),
        {},
        f"SELECT id, region FROM {T} WHERE id > 2 ORDER BY id",
    ),
]


def both(lake: Lake, sql: str, engine: QueryEngine) -> tuple[pa.Table, pa.Table]:
    """``sql``'s governed result on DuckDB and on ``engine``."""
    return lake.query(sql).table, lake.query(sql, engine=engine, limits=LIMITS).table


@pytest.mark.parametrize(("case", "pairs", "masks", "sql"), GOVERNED, ids=[c[0] for c in GOVERNED])
def test_spark_returns_duckdbs_governed_result(
    spark: SparkEngines,
    lake: Lake,
    case: str,
    pairs: tuple[CellPair, ...],
    masks: dict[str, str],
    sql: str,
) -> None:
    lake.grant(T, *pairs, masks=masks)
    duck, result = both(lake, sql, spark.local)
    assert result.schema == duck.schema
    assert result.to_pylist() == duck.to_pylist()
    assert duck.num_rows > 0


@pytest.mark.parametrize("format", ["csv", "json"])
def test_spark_reads_csv_and_json_tables_like_duckdb(
    spark: SparkEngines, tmp_path: Path, format: str
) -> None:
    lake = Lake(root=tmp_path / "flat")
    rows = [{c: row[c] for c in FLAT} for row in CUSTOMER_ROWS]
    lake.add(T, rows, FLAT_COLUMNS, format=format, partition_by=("region",))
    lake.grant(T, pair("region = 'EU'", *FLAT), pair("amount > 100", "id", "amount"))
    duck, result = both(lake, f"SELECT * FROM {T} ORDER BY id", spark.local)
    assert result.schema == duck.schema
    assert result.to_pylist() == duck.to_pylist()


def test_hash_mask_uses_the_salt_on_spark(spark: SparkEngines, lake: Lake) -> None:
    lake.grant(T, pair(None, "id", "secret"), masks={"secret": "hash"})
    result = lake.query(f"SELECT id, secret FROM {T} ORDER BY id", engine=spark.local)
    expected = [
        {"id": row["id"], "secret": hashlib.sha256((SALT + row["secret"]).encode()).hexdigest()}
        for row in sorted(CUSTOMER_ROWS, key=lambda row: row["id"])
    ]
    assert result.table.to_pylist() == expected
    assert SALT not in result.rewritten_sql
    assert ":lakemesh_hash_salt" in result.rewritten_sql


@pytest.mark.parametrize("engine", ["local", "connect"])
def test_the_salt_never_appears_in_errors(spark: SparkEngines, engine: str) -> None:
    salt = "pepper-4f1c9a"
    with pytest.raises(LakemeshError, match="Query failed") as info:
        getattr(spark, engine).execute(
            sql=f"SELECT CAST(:{SALT_PARAMETER} AS INT) AS x",
            files=[],
            parameters={SALT_PARAMETER: salt},
            limits=LIMITS,
        )
    assert salt not in info.value.message
    assert salt not in repr(info.value.details)


CONNECT_CASES = [case for case in GOVERNED if case[0] in ("masks after filters", "cell semantics")]


@pytest.mark.parametrize(
    ("case", "pairs", "masks", "sql"), CONNECT_CASES, ids=[c[0] for c in CONNECT_CASES]
)
def test_spark_connect_returns_duckdbs_governed_result(
    spark: SparkEngines,
    lake: Lake,
    case: str,
    pairs: tuple[CellPair, ...],
    masks: dict[str, str],
    sql: str,
) -> None:
    lake.grant(T, *pairs, masks=masks)
    duck, result = both(lake, sql, spark.connect)
    assert result.schema == duck.schema
    assert result.to_pylist() == duck.to_pylist()


# Spark's own syntax for SQL on files does not even parse as the gateway's SQL; the quoted
# spelling parses and is refused by name.
PATH_READS = [
    ("SELECT * FROM parquet.`{other}`", "Could not parse the query"),
    ("SELECT * FROM csv.`/etc/passwd`", "Could not parse the query"),
    ("SELECT * FROM text.`/etc/hostname`", "Could not parse the query"),
    ('SELECT * FROM parquet."{other}"', "Reading a file by its path is not allowed"),
    ('SELECT * FROM "parquet"."file:///etc/passwd"', "Reading a file by its path is not allowed"),
    ('SELECT * FROM json."/etc"', "Reading a file by its path is not allowed"),
    ("SELECT * FROM read_parquet('{other}')", "Table function not allowed: read_parquet"),
    (f"SELECT input_file_name() AS f FROM {T}", "Function not allowed: input_file_name"),
    ("SELECT reflect('java.lang.System', 'getenv', 'HOME') AS h", "Function not allowed: reflect"),
    ("SELECT java_method('java.lang.System', 'getenv') AS h", "Function not allowed: java_method"),
    ("SET spark.sql.runSQLOnFiles = true", "Statement not allowed: SET"),
]


@pytest.mark.parametrize(("attack", "message"), PATH_READS)
def test_spark_sql_cannot_read_other_paths(
    spark: SparkEngines, lake: Lake, attack: str, message: str
) -> None:
    sql = attack.format(other=lake.tables["sales.crm.orders"].files[0])
    with pytest.raises(QueryRejectedError, match=message):
        lake.query(sql, engine=spark.local)


@pytest.mark.parametrize("engine", ["local", "connect"])
def test_spark_sessions_refuse_sql_on_files(spark: SparkEngines, lake: Lake, engine: str) -> None:
    """Beyond the validator: the session itself has SQL over file paths switched off."""
    other = lake.tables["sales.crm.orders"].files[0]
    session = getattr(spark, engine).session
    with pytest.raises(Exception, match="TABLE_OR_VIEW_NOT_FOUND"):
        session.sql(f"SELECT * FROM parquet.`{other}`").collect()
    assert session.conf.get("spark.sql.runSQLOnFiles") == "false"


ENGINE_SIDE = [
    ("SELECT * FROM parquet.`/etc/passwd`", "outside its authorized data"),
    ("SELECT * FROM spark_catalog.default.customers", "outside its authorized data"),
    ("SELECT * FROM lakemesh_scan_0123456789abcdef01234567", "outside its authorized data"),
    ("SELECT * FROM read_files('/etc')", "Table function not allowed"),
    ("SELECT 1; SELECT 2", "exactly one SELECT"),
    ("CREATE TABLE x AS SELECT 1", "exactly one SELECT"),
]


@pytest.mark.parametrize(("sql", "message"), ENGINE_SIDE)
def test_engine_refuses_statements_that_name_anything_else(sql: str, message: str) -> None:
    with pytest.raises(QueryRejectedError, match=message):
        verify_statement(sql, views=[])


def test_engine_accepts_its_views_ctes_and_generators(lake: Lake) -> None:
    name = view_name(lake.tables[T])
    verify_statement(
        f"WITH x AS (SELECT * FROM {name}) SELECT * FROM x, range(3), {name} AS t", views=[name]
    )


def test_catalog_types_become_a_spark_schema(lake: Lake) -> None:
    assert spark_schema(lake.tables[T]) == (
        "`id` BIGINT, `name` STRING, `email` STRING, `phone` STRING, `amount` DECIMAL(10, 2),"
        " `signup` DATE, `secret` STRING, `profile` STRUCT<age: INT, city: STRING>,"
        " `tags` MAP<STRING, STRING>, `region` STRING"
    )


@pytest.mark.parametrize("sql", FILTERED_ROW_PROBES)
def test_filtered_out_rows_never_reach_user_expressions_on_spark(
    spark: SparkEngines, lake: Lake, sql: str
) -> None:
    lake.grant(T, pair("region = 'EU'", "id", "name", "region"), pair("region = 'US'", "id"))
    rows = lake.query(sql, engine=spark.local, limits=LIMITS).table.to_pylist()
    assert {row["id"] for row in rows} <= {1, 3, 6, 9}
    assert_no_hidden_data(rows)


# Spark reads no select alias in WHERE (DuckDB does).
SPARK_PROBES = [sql for sql in PROBES if "WHERE n > 0" not in sql]


@pytest.mark.parametrize("sql", SPARK_PROBES)
def test_filtered_out_rows_never_fail_a_user_expression_on_spark(
    spark: SparkEngines, accounts: Lake, sql: str
) -> None:
    """Spark raises on a division by zero and on a failed cast (ANSI): never on a hidden row."""
    rows = accounts.query(sql, engine=spark.local, limits=LIMITS).table.to_pylist()
    assert rows
    assert {row["id"] for row in rows} <= VISIBLE_IDS


def test_partition_filters_prune_files_on_spark(spark: SparkEngines, tmp_path: Path) -> None:
    """US's file is corrupt: a query that opens it fails, so success proves it was pruned."""
    lake = Lake(root=tmp_path / "lake")
    rows = [{c: row[c] for c in FLAT} for row in CUSTOMER_ROWS]
    table = lake.add(T, rows, FLAT_COLUMNS, partition_by=("region",))
    Path(next(f for f in table.files if "region=US" in f)).write_text("TOPSECRET garbage")
    with pytest.raises(LakemeshError) as info:
        lake.query(f"SELECT count(id) AS n FROM {T}", engine=spark.local)
    assert "TOPSECRET" not in info.value.message
    query = f"SELECT count(id) AS n FROM {T} WHERE region = 'EU'"
    assert lake.query(query, engine=spark.local).table.to_pylist() == [{"n": 4}]
    lake.grant(T, pair("region <> 'US'", "id", "region"))
    assert lake.query(f"SELECT count(id) AS n FROM {T}", engine=spark.local).table.to_pylist() == [
        {"n": 6}
    ]


# A nested-loop join of 10^14 pairs: far longer than any timeout below.
SLOW = (
    "SELECT count(*) AS n FROM range(100000000) a CROSS JOIN range(1000000) b WHERE a.id + b.id < 0"
)


def test_timeout_interrupts_a_spark_query(spark: SparkEngines) -> None:
    started = time.perf_counter()
    limits = QueryLimits(timeout_seconds=2)
    with pytest.raises(LimitExceededError, match="time limit of 2s"):
        spark.local.execute(sql=SLOW, files=[], parameters={}, limits=limits)
    assert time.perf_counter() - started < 60


def test_cancellation_stops_a_spark_query(spark: SparkEngines) -> None:
    cancellation = Cancellation()
    threading.Timer(2, cancellation.cancel).start()
    with pytest.raises(QueryCancelledError, match="cancelled"):
        spark.connect.execute(
            sql=SLOW, files=[], parameters={}, limits=LIMITS, cancellation=cancellation
        )


def test_row_limit_on_spark(spark: SparkEngines, lake: Lake) -> None:
    limits = QueryLimits(max_rows=3)
    with pytest.raises(LimitExceededError, match="row limit of 3"):
        lake.query(f"SELECT id FROM {T}", engine=spark.local, limits=limits)
    assert lake.query(f"SELECT id FROM {T} LIMIT 3", engine=spark.local, limits=limits).rows == 3


def test_engine_errors_name_the_problem_without_the_sql(spark: SparkEngines, lake: Lake) -> None:
    with pytest.raises(QueryRejectedError, match="Query rejected by the engine: .*no_such") as info:
        lake.query(f"SELECT no_such FROM {T}", engine=spark.local)
    assert "read_parquet" not in info.value.message
    assert lake.tables[T].files[0] not in info.value.message


def test_an_unreachable_spark_connect_cluster_fails_in_seconds(spark: SparkEngines) -> None:
    engine = load_engine("spark", remote="sc://127.0.0.1:9")
    started = time.perf_counter()
    with pytest.raises(
        LakemeshError, match="Spark Connect cluster not reachable: sc://127.0.0.1:9"
    ):
        engine.execute(sql="SELECT 1 AS x", files=[], parameters={}, limits=LIMITS)
    assert time.perf_counter() - started < 60


def test_spark_engine_registry(spark: SparkEngines) -> None:
    assert type(load_engine("spark")) is type(spark.local)
    remote: Any = load_engine("spark", remote="sc://127.0.0.1:15002")
    assert remote.remote == "sc://127.0.0.1:15002"
    with pytest.raises(InvalidInputError, match="Not a Spark Connect URL: http://spark:7077"):
        load_engine("spark", remote="http://spark:7077")


def test_result_size_limit_on_spark(spark: SparkEngines, lake: Lake) -> None:
    """As on DuckDB: a result bigger than max_result_bytes (as an Arrow IPC stream) is refused."""
    wide = "SELECT id, repeat('x', 1000) AS padding FROM range(2000)"
    with pytest.raises(LimitExceededError, match="larger than the limit of 100000 bytes"):
        spark.local.execute(
            sql=wide, files=[], parameters={}, limits=QueryLimits(max_result_bytes=100_000)
        )
    small = QueryLimits(max_result_bytes=100_000)
    assert (
        spark.local.execute(sql="SELECT 1 AS one", files=[], parameters={}, limits=small).rows == 1
    )


def test_a_workgroups_result_limits_hold_on_spark(spark: SparkEngines, lake: Lake) -> None:
    """Through the gateway, a Spark workgroup's max_rows and max_result_bytes stop a query."""
    from lakemesh.query.workgroups import WorkgroupSettings

    limits = WorkgroupSettings(name="w", engine="spark", max_rows=3).limits()
    with pytest.raises(LimitExceededError, match="row limit of 3"):
        lake.query(f"SELECT id FROM {T}", engine=spark.local, limits=limits)
    tight = WorkgroupSettings(name="w", engine="spark", max_result_bytes=200).limits()
    with pytest.raises(LimitExceededError, match="max_result_bytes"):
        lake.query(f"SELECT * FROM {T}", engine=spark.local, limits=tight)


def test_spark_result_size_errors_are_limits() -> None:
    from lakemesh.query.engines.spark import _translate

    error = RuntimeError(
        "Job aborted due to stage failure: Total size of serialized results of 3 tasks "
        "(1100.0 MiB) is bigger than spark.driver.maxResultSize (1024.0 MiB)"
    )
    translated = _translate(error, secrets=[])
    assert isinstance(translated, LimitExceededError)
    assert translated.details["limit"] == "spark.driver.maxResultSize"
