"""Tables on S3 queried through the hub: a real S3-compatible server on loopback (SeaweedFS), real
objects, a real crawl, real grants and the real DuckDB sandbox with httpfs, and the real local
Spark reading the same objects through lakemesh's Python data source.

The sales mesh of :mod:`.governed` is uploaded to ``s3://lake/sales`` and crawled from there.
Expected results come from pyarrow over the local copy of the same files. The sandbox tests
prove that a query reads exactly the objects it was authorized for and never the credentials.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from pyspark.sql.types import LongType, StructField, StructType

from lakemesh.api.schemas.queries import QueryPublic
from lakemesh.catalog import crawler, locations, tables
from lakemesh.catalog.columns import ColumnSpec
from lakemesh.errors import (
    AccessDeniedError,
    InvalidInputError,
    LakemeshError,
    LimitExceededError,
    QueryRejectedError,
    StorageError,
)
from lakemesh.governance import filters
from lakemesh.model.access import CellPair, ColumnAccess
from lakemesh.model.names import parse_resource
from lakemesh.query import QueryLimits, service
from lakemesh.query.engines.duckdb import DuckDBEngine
from lakemesh.query.engines.duckdb_pool import SANDBOX_CONFIG
from lakemesh.query.engines.duckdb_s3 import create_secret, httpfs_extension
from lakemesh.query.engines.duckdb_sandbox import DuckDBSandbox
from lakemesh.query.engines.spark import SparkEngine
from lakemesh.query.engines.spark import _read as spark_read
from lakemesh.query.engines.spark_objects import (
    ObjectPartition,
    ObjectReader,
    _may_match,
    object_scan,
    scan_files,
)
from lakemesh.query.engines.spark_sql import view_name
from lakemesh.query.history import list_history
from lakemesh.query.table import TableAccess, s3_credentials
from lakemesh.query.workgroups import create_workgroup
from lakemesh.sdk import Client
from lakemesh.storage import S3Options
from lakemesh.storage.s3 import S3Storage
from lakemesh.storage.types import duckdb_type
from tests.conftest import make_hub_env, s3_environment
from tests.factories.query import (
    CARL,
    CUSTOMER_ROWS,
    CUSTOMERS,
    EMMA,
    MIA,
    NOBODY,
    ORDERS,
    SAM,
    STORES,
    UNA,
    GovernedMesh,
    build_governed_mesh,
    grant_on,
)
from tests.query.spark_support import spark_engines
from tests.seaweedfs import ACCESS_KEY, SCOPED_KEY, SCOPED_SECRET, SECRET_KEY, S3Server

BUCKET = "lake"
OTHER_BUCKET = "elsewhere"
LOCATION = f"s3://{BUCKET}/sales"
LIMITS = QueryLimits(timeout_seconds=30, threads=2, memory_limit="512MB")
SPARK_LIMITS = QueryLimits(
    timeout_seconds=600
)  # Spark's Python workers start slowly on a busy machine


@pytest.fixture(scope="module")
def s3(seaweedfs: S3Server) -> Iterator[S3Server]:
    """The session's server, with the hub configured for it through the environment."""
    with s3_environment(seaweedfs):
        seaweedfs.create_bucket(BUCKET)
        seaweedfs.create_bucket(OTHER_BUCKET)
        yield seaweedfs


@pytest.fixture(scope="module")
def mesh(s3: S3Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GovernedMesh]:
    root = tmp_path_factory.mktemp("s3mesh")
    env = make_hub_env(root / "home")
    yield build_governed_mesh(
        env, root / "lake", publish=lambda folder: s3.upload(folder, LOCATION)
    )
    env.hub.close()


def run(mesh: GovernedMesh, principal: str, sql: str, **options: Any) -> service.QueryOutcome:
    return service.run(mesh.hub, actor=mesh.actor(principal), sql=sql, **options)


def rows(mesh: GovernedMesh, principal: str, sql: str, key: str) -> list[dict[str, Any]]:
    table = run(mesh, principal, sql).result.table
    return sorted(table.to_pylist(), key=lambda row: row[key])


def expected(table: pa.Table, key: str) -> list[dict[str, Any]]:
    return sorted(table.to_pylist(), key=lambda row: row[key])


def message_of(error: BaseException) -> str:
    return error.message if isinstance(error, LakemeshError) else str(error)


# -- the crawl and the catalog -----------------------------------------------------------------


def test_crawled_tables_live_on_s3(mesh: GovernedMesh) -> None:
    with mesh.hub.read() as session:
        customers = tables.get_table_row(session, parse_resource(CUSTOMERS))
        orders = tables.get_table_row(session, parse_resource(ORDERS))
    assert customers.location == f"{LOCATION}/crm/customers"
    assert orders.location == f"{LOCATION}/crm/orders"
    assert [c.name for c in customers.columns if c.is_partition] == ["region"]


# -- what each principal sees, as for local tables ---------------------------------------------


def test_full_access_reads_every_object(mesh: GovernedMesh) -> None:
    got = rows(mesh, SAM, f"SELECT * FROM {CUSTOMERS}", "customer_id")
    assert got == expected(mesh.raw(CUSTOMERS), "customer_id")
    assert len(got) == len(CUSTOMER_ROWS)


def test_row_filter_reads_the_callers_region(mesh: GovernedMesh) -> None:
    raw = mesh.raw(ORDERS)
    got = rows(mesh, EMMA, f"SELECT * FROM {ORDERS}", "order_id")
    eu = raw.filter(pc.equal(raw["region"], "EU"))
    assert got == expected(eu, "order_id")
    assert 0 < eu.num_rows < raw.num_rows


def test_excluded_columns_are_neither_listed_nor_readable(mesh: GovernedMesh) -> None:
    got = rows(mesh, MIA, f"SELECT * FROM {CUSTOMERS}", "customer_id")
    columns = ["customer_id", "name", "segment", "lifetime_value", "region"]
    assert got == expected(mesh.raw(CUSTOMERS).select(columns), "customer_id")
    with pytest.raises(AccessDeniedError, match=f"{MIA} lacks SELECT on {CUSTOMERS}.email"):
        run(mesh, MIA, f"SELECT email FROM {CUSTOMERS}")


def test_masks_apply_and_unmask_lifts_them(mesh: GovernedMesh) -> None:
    raw = {row["customer_id"]: row for row in mesh.raw(CUSTOMERS).to_pylist()}
    sql = f"SELECT customer_id, email, phone FROM {CUSTOMERS}"
    for principal in (CARL, UNA):
        for row in run(mesh, principal, sql).result.table.to_pylist():
            source = raw[row["customer_id"]]
            email = source["email"] if principal == UNA else source["email"].split("@")[1]
            assert (row["email"], row["phone"]) == (email, "****" + source["phone"][-4:])


def test_csv_tables_on_s3_read_too(mesh: GovernedMesh) -> None:
    got = rows(mesh, EMMA, f"SELECT * FROM {STORES}", "store_id")
    assert got == expected(mesh.raw(STORES), "store_id")


def test_a_principal_without_grants_is_denied(mesh: GovernedMesh) -> None:
    with pytest.raises(AccessDeniedError, match=f"{NOBODY} lacks SELECT on {CUSTOMERS}"):
        run(mesh, NOBODY, f"SELECT customer_id FROM {CUSTOMERS}")


def test_a_query_is_recorded_with_the_objects_sizes(s3: S3Server, mesh: GovernedMesh) -> None:
    outcome = run(mesh, EMMA, f"SELECT order_id FROM {ORDERS}")
    objects = s3.sizes(f"{LOCATION}/crm/orders")
    assert outcome.result.bytes_scanned == sum(objects.values()) > 0
    with mesh.hub.read() as session:
        records = [
            QueryPublic.from_row(r).model_dump()
            for r in list_history(session, actor=mesh.actor(EMMA))
        ]
    record = next(r for r in records if r["query_id"] == outcome.query_id)
    assert record["outcome"] == "succeeded"
    assert record["tables"] == [ORDERS]
    assert record["filters"] == {ORDERS: ["\"region\" = 'EU'"]}
    assert record["bytes_scanned"] == sum(objects.values())


def test_the_bytes_limit_counts_object_sizes(s3: S3Server, mesh: GovernedMesh) -> None:
    size = sum(s3.sizes(f"{LOCATION}/crm/orders").values())
    with mesh.hub.transaction() as session:
        create_workgroup(session, actor=mesh.admin, name="small", max_bytes_per_query=size - 1)
    with pytest.raises(LimitExceededError, match=f"scan {size} bytes, over the limit"):
        run(mesh, SAM, f"SELECT count(*) FROM {ORDERS}", workgroup="small")


def test_an_s3_table_joins_a_local_one(mesh: GovernedMesh, tmp_path: Path) -> None:
    """One query reads objects from SeaweedFS and a local Parquet file, both governed."""
    folder = tmp_path / "reference"
    (folder / "regions").mkdir(parents=True)
    names = pa.table(
        {"region": ["EU", "US", "APAC"], "region_name": ["Europe", "Americas", "Asia"]}
    )
    pq.write_table(names, folder / "regions" / "part-0.parquet")
    with mesh.hub.transaction() as session:
        locations.register_location(session, actor=mesh.admin, uri=str(folder), domain="sales")
    crawler.crawl(mesh.hub, actor=mesh.admin, uri=str(folder), domain="sales", database="ref")
    sql = (
        f"SELECT r.region_name, count(*) AS n FROM {ORDERS} o "
        "JOIN sales.ref.regions r ON o.region = r.region GROUP BY r.region_name"
    )
    raw = mesh.raw(ORDERS)
    counts = {row["region_name"]: 0 for row in names.to_pylist()}
    by_region = dict(
        zip(names["region"].to_pylist(), names["region_name"].to_pylist(), strict=True)
    )
    for region in raw["region"].to_pylist():
        counts[by_region[region]] += 1
    got = rows(mesh, SAM, sql, "region_name")
    assert got == sorted(
        ({"region_name": k, "n": v} for k, v in counts.items() if v), key=lambda r: r["region_name"]
    )
    # Emma's row filter still applies to the S3 side of the join.
    with mesh.hub.transaction() as session:
        grant_on(session, mesh.admin, grantee=EMMA, table="sales.ref.regions")
    assert rows(mesh, EMMA, sql, "region_name") == [
        {"region_name": "Europe", "n": counts["Europe"]}
    ]


def test_the_sdk_queries_s3_tables(mesh: GovernedMesh) -> None:
    token = mesh.token(EMMA)
    with Client.open(mesh.hub.home.path, token=token) as client:
        table = client.query(f"SELECT region, count(*) AS n FROM {ORDERS} GROUP BY region")
    eu = [row for row in mesh.raw(ORDERS).to_pylist() if row["region"] == "EU"]
    assert table.to_pylist() == [{"region": "EU", "n": len(eu)}]


def test_hidden_and_pattern_named_objects_are_not_read(s3: S3Server, mesh: GovernedMesh) -> None:
    extra = io.BytesIO()
    pq.write_table(pa.table({"order_id": [99999]}), extra)
    for key in ("_staging/part-9.parquet", ".tmp.parquet", "part-*.parquet", "x[1].parquet"):
        s3.put(f"{LOCATION}/crm/orders/{key}", extra.getvalue())
    assert run(mesh, SAM, f"SELECT count(*) AS n FROM {ORDERS}").result.table.to_pylist() == [
        {"n": mesh.raw(ORDERS).num_rows}
    ]


# -- partition pruning ---------------------------------------------------------------------------


def test_partition_filters_prune_objects(s3: S3Server, mesh: GovernedMesh) -> None:
    """US's object is corrupt: a query that opens it fails, so success proves it was pruned."""
    visits = "sales.web.visits"
    prefix = f"{LOCATION}/web/visits"
    for region, ids in (("APAC", [1, 2]), ("EU", [3, 4, 5]), ("US", [6])):
        body = io.BytesIO()
        pq.write_table(pa.table({"visit_id": pa.array(ids, pa.int64())}), body)
        s3.put(f"{prefix}/region={region}/part-0.parquet", body.getvalue())
    crawler.crawl(mesh.hub, actor=mesh.admin, uri=f"{LOCATION}/web", domain="sales", database="web")
    s3.put(f"{prefix}/region=US/part-0.parquet", b"TOPSECRET garbage")
    with mesh.hub.transaction() as session:
        filters.create_filter(
            session,
            actor=mesh.admin,
            name="visits_own_region",
            table=visits,
            rows="region = principal_attribute('region')",
        )
        grant_on(session, mesh.admin, grantee=EMMA, table=visits, data_filter="visits_own_region")
    with pytest.raises(LakemeshError) as info:
        run(mesh, SAM, f"SELECT count(visit_id) FROM {visits}")  # opens the corrupt object
    assert "TOPSECRET" not in message_of(info.value)
    # a filter in the query
    sql = f"SELECT count(visit_id) AS n FROM {visits} WHERE region IN ('EU', 'APAC')"
    assert run(mesh, SAM, sql).result.table.to_pylist() == [{"n": 5}]
    # a row predicate on the partition column
    assert run(
        mesh, EMMA, f"SELECT count(visit_id) AS n FROM {visits}"
    ).result.table.to_pylist() == [{"n": 3}]


# -- storage errors --------------------------------------------------------------------------


def test_a_missing_bucket_is_a_storage_error(mesh: GovernedMesh) -> None:
    with mesh.hub.transaction() as session:
        locations.register_location(
            session, actor=mesh.admin, uri="s3://no-such-bucket/crm", domain="sales"
        )
        tables.create_table(
            session,
            actor=mesh.admin,
            name=parse_resource("sales.crm.lost"),
            location="s3://no-such-bucket/crm/lost",
            format="parquet",
            columns=[ColumnSpec("customer_id", "BIGINT")],
        )
    with pytest.raises(StorageError, match="Cannot list the files of table sales.crm.lost"):
        run(mesh, SAM, "SELECT * FROM sales.crm.lost")


def test_an_empty_prefix_is_an_empty_table(mesh: GovernedMesh) -> None:
    with mesh.hub.transaction() as session:
        tables.create_table(
            session,
            actor=mesh.admin,
            name=parse_resource("sales.crm.upcoming"),
            location=f"{LOCATION}/crm/upcoming",
            format="parquet",
            columns=[ColumnSpec("customer_id", "BIGINT")],
        )
    sql = "SELECT count(*) AS n FROM sales.crm.upcoming"
    assert run(mesh, SAM, sql).result.table.to_pylist() == [{"n": 0}]


# -- what a query may not reach: refused by the gateway ----------------------------------------


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            f"SELECT * FROM read_parquet('{LOCATION}/crm/orders/part-0.parquet')",
            "Table function not allowed: read_parquet",
        ),
        (
            f"SELECT * FROM read_parquet('s3://{OTHER_BUCKET}/x.parquet')",
            "Table function not allowed: read_parquet",
        ),
        (
            "SELECT * FROM read_csv('https://example.com/data.csv')",
            "Table function not allowed: read_csv",
        ),
        ("SELECT * FROM duckdb_secrets()", "Table function not allowed: duckdb_secrets"),
        (
            "SELECT * FROM which_secret('s3://lake/x', 's3')",
            "Table function not allowed: which_secret",
        ),
        ("SELECT * FROM duckdb_settings()", "Table function not allowed: duckdb_settings"),
        (
            "SELECT current_setting('s3_secret_access_key')",
            "Function not allowed: current_setting",
        ),
        (
            f"SELECT o.order_id FROM {ORDERS} o WHERE current_setting('s3_endpoint') IS NULL",
            "Function not allowed: current_setting",
        ),
    ],
)
def test_the_gateway_refuses_reaching_around_the_catalog(
    mesh: GovernedMesh, sql: str, message: str
) -> None:
    with pytest.raises(QueryRejectedError, match=message):
        run(mesh, SAM, sql)


# -- what a query may not reach: refused by the sandbox itself ----------------------------------


@pytest.fixture
def authorized(s3: S3Server, mesh: GovernedMesh) -> tuple[str, ...]:
    """The one object the sandbox is opened for (the orders table's data file)."""
    return (f"{LOCATION}/crm/orders/part-0.parquet",)


def execute(sql: str, files: tuple[str, ...]) -> pa.Table:
    return DuckDBEngine().execute(sql=sql, files=files, parameters={}, limits=LIMITS).table


def test_the_sandbox_reads_its_authorized_object(authorized: tuple[str, ...]) -> None:
    table = execute(f"SELECT count(*) AS n FROM read_parquet('{authorized[0]}')", authorized)
    assert table.to_pylist() == [{"n": 30}]


def test_the_sandbox_refuses_every_other_path(
    s3: S3Server, mesh: GovernedMesh, authorized: tuple[str, ...]
) -> None:
    other = io.BytesIO()
    pq.write_table(pa.table({"x": [1]}), other)
    s3.put(f"s3://{OTHER_BUCKET}/x.parquet", other.getvalue())
    path_style = f"{s3.endpoint}/{authorized[0].removeprefix('s3://')}"
    for path in (
        f"{LOCATION}/crm/customers/region=EU/part-0.parquet",  # another key, same bucket
        f"{LOCATION}/crm/orders/*.parquet",  # a pattern over the authorized folder
        f"{LOCATION}/crm/orders/part-0.parquet/../part-0.parquet",
        f"s3a://{BUCKET}/sales/crm/orders/part-0.parquet",  # another spelling of the same object
        f"s3://{OTHER_BUCKET}/x.parquet",  # another bucket
        path_style,  # the same object over plain HTTP
        path_style.replace("http://", "https://"),
        "https://example.com/data.parquet",
        str(Path(__file__)),  # a local file
    ):
        with pytest.raises(QueryRejectedError, match="outside its authorized files"):
            execute(f"SELECT * FROM read_parquet('{path}')", authorized)


def test_the_sandbox_never_shows_the_credentials(
    s3: S3Server, mesh: GovernedMesh, authorized: tuple[str, ...]
) -> None:
    for sql in (
        "SELECT * FROM duckdb_secrets()",
        "SELECT (SELECT secret_string FROM duckdb_secrets()) AS s",
        "SELECT * FROM duckdb_settings()",
        "SELECT * FROM which_secret('s3://lake/x', 's3')",
    ):
        with pytest.raises(QueryRejectedError, match="Table function not allowed"):
            execute(sql, authorized)
    table = execute(
        "SELECT current_setting('s3_secret_access_key') AS secret, "
        "current_setting('s3_access_key_id') AS key",
        authorized,
    )
    # httpfs copies AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (set here) into these settings
    assert table.to_pylist() == [{"secret": "", "key": ""}]


def test_even_the_raw_sandbox_keeps_the_secret(authorized: tuple[str, ...]) -> None:
    """Below the statement checks: the open sandbox shows the secret nowhere, and is locked."""
    engine = DuckDBSandbox()
    connection = engine.connect(files=authorized, limits=LIMITS)
    try:
        secrets = connection.execute("SELECT secret_string FROM duckdb_secrets()").fetchall()
        assert "secret=redacted" in secrets[0][0]
        settings = connection.execute("SELECT name, value FROM duckdb_settings()").fetchall()
        for text in (str(secrets), str(settings)):
            assert SECRET_KEY not in text
            assert SECRET_KEY.replace("'", "''") not in text
        for statement in ("SET s3_endpoint = 'evil.example:443'", "SET allowed_paths = []"):
            with pytest.raises(duckdb.Error, match="locked"):
                connection.execute(statement)
    finally:
        engine.release(connection, LIMITS)


def test_engine_errors_never_show_the_credentials(
    s3: S3Server, mesh: GovernedMesh, tmp_path: Path
) -> None:
    gone = f"s3://{BUCKET}/sales/crm/orders/vanished.parquet"
    with pytest.raises(StorageError) as info:
        execute(f"SELECT * FROM read_parquet('{gone}')", (gone,))
    message = message_of(info.value)
    assert SECRET_KEY not in message
    assert ACCESS_KEY not in message
    assert info.value.__cause__ is None  # DuckDB's own text stays out of the chain


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        (None, "region=eu-central-1;secret=redacted;url_style=vhost"),
        ("https://minio.example:9000", "endpoint=minio.example:9000;"),
        ("https://minio.example:9000", "use_ssl=true"),
        ("http://127.0.0.1:9000/", "url_style=path;use_ssl=false"),
    ],
)
def test_the_secret_follows_the_hub_configuration(endpoint: str | None, expected: str) -> None:
    options = S3Options(endpoint_url=endpoint, key="k", secret="s'cret", region="eu-central-1")
    connection = duckdb.connect(":memory:", config=dict(SANDBOX_CONFIG))
    try:
        connection.execute(f"LOAD '{httpfs_extension()}'")
        create_secret(connection, options)
        (described,) = connection.execute("SELECT secret_string FROM duckdb_secrets()").fetchone()
    finally:
        connection.close()
    assert expected in described
    assert "key_id=k;" in described


def test_an_endpoint_that_is_not_a_url_is_named() -> None:
    connection = duckdb.connect(":memory:", config=dict(SANDBOX_CONFIG))
    with pytest.raises(InvalidInputError, match="Invalid S3 endpoint URL: minio:9000"):
        create_secret(connection, S3Options(endpoint_url="minio:9000"))
    connection.close()


# -- Spark ---------------------------------------------------------------------------------------
# Spark reads S3 objects through lakemesh's Python data source (no S3A connector on disk); the
# governance above the scan is the same SQL as for local files.


@pytest.fixture(scope="module")
def spark_workgroup(mesh: GovernedMesh) -> str:
    spark_engines()  # skips (or fails under CI) without Java and pyspark
    with mesh.hub.transaction() as session:
        create_workgroup(
            session, actor=mesh.admin, name="sparky", engine="spark", timeout_seconds=600
        )
    return "sparky"


SPARK_CASES = [
    (SAM, f"SELECT * FROM {CUSTOMERS}", "customer_id"),  # partitioned Parquet, everything
    (MIA, f"SELECT * FROM {CUSTOMERS}", "customer_id"),  # a column grant (no email, phone)
    (EMMA, f"SELECT * FROM {ORDERS}", "order_id"),  # a row filter
    (CARL, f"SELECT customer_id, email, phone, region FROM {CUSTOMERS}", "customer_id"),  # masks
    (UNA, f"SELECT customer_id, email, phone FROM {CUSTOMERS}", "customer_id"),  # unmasked
    (EMMA, f"SELECT * FROM {STORES}", "store_id"),  # CSV
    (
        EMMA,
        f"SELECT region, count(*) AS n, sum(amount) AS total FROM {ORDERS} GROUP BY region",
        "region",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("principal", "sql", "key"), SPARK_CASES)
def test_spark_reads_s3_tables_as_duckdb_does(
    mesh: GovernedMesh, spark_workgroup: str, principal: str, sql: str, key: str
) -> None:
    duck = run(mesh, principal, sql).result.table
    spark = run(mesh, principal, sql, workgroup=spark_workgroup).result.table
    assert spark.schema == duck.schema
    assert expected(spark, key) == expected(duck, key)
    assert duck.num_rows > 0


@pytest.mark.slow
def test_spark_applies_the_mask_and_filter_values(mesh: GovernedMesh, spark_workgroup: str) -> None:
    """Against the raw data, not only against DuckDB: masks and the row filter hold on Spark."""
    raw = {row["customer_id"]: row for row in mesh.raw(CUSTOMERS).to_pylist()}
    sql = f"SELECT customer_id, email, phone FROM {CUSTOMERS}"
    got = run(mesh, CARL, sql, workgroup=spark_workgroup).result.table.to_pylist()
    assert len(got) == len(raw)
    for row in got:
        source = raw[row["customer_id"]]
        assert row["email"] == source["email"].split("@")[1]
        assert row["phone"] == "****" + source["phone"][-4:]
    regions = run(mesh, EMMA, f"SELECT DISTINCT region FROM {ORDERS}", workgroup=spark_workgroup)
    assert regions.result.table.to_pylist() == [{"region": "EU"}]
    with pytest.raises(AccessDeniedError, match=f"{MIA} lacks SELECT on {CUSTOMERS}.email"):
        run(mesh, MIA, f"SELECT email FROM {CUSTOMERS}", workgroup=spark_workgroup)


@pytest.mark.slow
def test_spark_joins_an_s3_table_with_a_local_one(
    mesh: GovernedMesh, spark_workgroup: str, tmp_path: Path
) -> None:
    folder = tmp_path / "reference"
    (folder / "segments").mkdir(parents=True)
    names = pa.table({"segment": ["retail", "business"], "label": ["Retail", "Business"]})
    pq.write_table(names, folder / "segments" / "part-0.parquet")
    with mesh.hub.transaction() as session:
        locations.register_location(session, actor=mesh.admin, uri=str(folder), domain="sales")
    crawler.crawl(mesh.hub, actor=mesh.admin, uri=str(folder), domain="sales", database="seg")
    with mesh.hub.transaction() as session:
        grant_on(session, mesh.admin, grantee=MIA, table="sales.seg.segments")
    sql = (
        f"SELECT s.label, c.region, count(*) AS n FROM {CUSTOMERS} c "
        "JOIN sales.seg.segments s ON c.segment = s.segment GROUP BY s.label, c.region"
    )
    for principal in (SAM, MIA):
        duck = run(mesh, principal, sql).result.table
        spark = run(mesh, principal, sql, workgroup=spark_workgroup).result.table
        got = sorted(spark.to_pylist(), key=lambda r: (r["label"], r["region"]))
        assert got == sorted(duck.to_pylist(), key=lambda r: (r["label"], r["region"]))
        assert sum(row["n"] for row in got) == len(CUSTOMER_ROWS)


@pytest.mark.slow
def test_spark_prunes_objects_by_partition_filters(
    s3: S3Server, mesh: GovernedMesh, spark_workgroup: str
) -> None:
    """US's object is corrupt: a query that opens it fails, so success proves it was skipped."""
    clicks = "sales.clicks.clicks"
    prefix = f"{LOCATION}/clicks/clicks"
    for region, ids in (("APAC", [1, 2]), ("EU", [3, 4, 5]), ("US", [6])):
        body = io.BytesIO()
        pq.write_table(pa.table({"click_id": pa.array(ids, pa.int64())}), body)
        s3.put(f"{prefix}/region={region}/part-0.parquet", body.getvalue())
    crawler.crawl(
        mesh.hub, actor=mesh.admin, uri=f"{LOCATION}/clicks", domain="sales", database="clicks"
    )
    s3.put(f"{prefix}/region=US/part-0.parquet", b"TOPSECRET garbage")
    for where, count in (("region IN ('EU', 'APAC')", 5), ("region = 'EU'", 3)):
        sql = f"SELECT count(click_id) AS n FROM {clicks} WHERE {where}"
        outcome = run(mesh, SAM, sql, workgroup=spark_workgroup)
        assert outcome.result.table.to_pylist() == [{"n": count}]
    with pytest.raises(StorageError) as info:
        run(mesh, SAM, f"SELECT count(click_id) FROM {clicks}", workgroup=spark_workgroup)
    assert info.value.message == (
        f"Could not read the objects of table {clicks}: {prefix}/region=US/part-0.parquet cannot "
        "be read as parquet (ArrowInvalid)"
    )
    assert info.value.details["reason"] == "unreadable"


@pytest.mark.slow
def test_spark_connect_refuses_s3_tables_by_name(mesh: GovernedMesh) -> None:
    connect = spark_engines().connect
    table = orders_access(mesh)
    with pytest.raises(InvalidInputError) as info:
        spark_execute(connect, table)
    assert info.value.message.startswith(
        f"Tables on s3:// storage cannot be queried on a Spark Connect cluster: {ORDERS} "
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "credentials",
    [{"secret": "wrong"}, {"key": "NOSUCHKEY"}, {"key": SCOPED_KEY, "secret": SCOPED_SECRET}],
    ids=["wrong secret", "unknown key", "key without access"],
)
def test_spark_names_refused_credentials(
    s3: S3Server, mesh: GovernedMesh, credentials: dict[str, str]
) -> None:
    """Where the listing passed and the read is refused. (SeaweedFS answers a GET of an object
    with AccessDenied for a bad signature or unknown key too; a listing, SignatureDoesNotMatch.)"""
    options = S3Options(
        endpoint_url=s3.endpoint, key=ACCESS_KEY, secret=SECRET_KEY, region="us-east-1"
    )
    table = dataclasses.replace(orders_access(mesh), s3=dataclasses.replace(options, **credentials))
    with pytest.raises(StorageError) as info:
        spark_execute(spark_engines().local, table)
    assert info.value.message == (
        f"Could not read the objects of table {ORDERS}: S3 denied the hub access (AccessDenied)"
    )
    assert info.value.details["reason"] == "access_denied"
    for hidden in (SECRET_KEY, SCOPED_SECRET, "wrong", "An error occurred"):
        assert hidden not in info.value.message
    assert info.value.__cause__ is not None  # Spark's error, kept for the hub's own logs
    assert SECRET_KEY not in str(info.value.__cause__)


@pytest.mark.slow
def test_spark_names_missing_credentials(s3: S3Server, mesh: GovernedMesh, tmp_path: Path) -> None:
    table = orders_access(mesh)
    nothing = {
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
    }
    with s3_environment(s3, **nothing), pytest.raises(StorageError) as info:
        spark_execute(spark_engines().local, table)
    assert info.value.message.startswith("No S3 credentials for the hub: set ")
    assert info.value.details["reason"] == "no_credentials"


@pytest.mark.slow
def test_the_spark_plan_holds_no_credentials(s3: S3Server, mesh: GovernedMesh) -> None:
    engine = spark_engines().local
    table = orders_access(mesh)
    options = s3_credentials([table])
    assert options.secret == SECRET_KEY
    scan = object_scan(
        table=table.name,
        format=table.format,
        location=table.location,
        files=table.files,
        partition_columns=table.partition_columns,
        options=options,
    )
    with scan_files([scan]) as (handle,):
        assert os.stat(handle).st_mode & 0o777 == 0o600
        assert os.stat(os.path.dirname(handle)).st_mode & 0o777 == 0o700
        frame = spark_read(engine.session, table, handle)
        plan = frame._jdf.queryExecution().toString()
        assert frame.count() == mesh.raw(ORDERS).num_rows
    assert "lakemesh_objects" in plan
    for hidden in (SECRET_KEY, ACCESS_KEY):
        assert hidden not in plan
    assert not os.path.exists(os.path.dirname(handle))  # removed with the query


def test_objects_are_skipped_only_when_their_partition_values_fail_a_filter() -> None:
    types = {"region": pa.string(), "year": pa.int32(), "day": pa.date32()}
    assert _may_match({"region": "EU"}, [("region", ("EU", "US"))], types)
    assert not _may_match({"Region": "APAC"}, [("region", ("EU", "US"))], types)
    assert not _may_match({"region": None}, [("region", ("EU",))], types)  # NULL equals nothing
    assert _may_match({"year": "2024"}, [("year", (2024,))], types)
    assert not _may_match({"year": "2023"}, [("year", (2024,))], types)
    assert _may_match({"year": "x"}, [("year", (2024,))], types)  # not a number: read it
    assert _may_match({"day": "2024-01-01"}, [("day", (date(2024, 1, 2),))], types)  # not compared
    assert _may_match({}, [("region", ("EU",))], types)  # no value in the path
    assert _may_match({"region": "EU"}, [("region", (1,))], types)  # values of another type


def test_an_object_scan_reads_only_the_tables_objects(mesh: GovernedMesh) -> None:
    table = orders_access(mesh)
    for outside in (
        f"s3://{OTHER_BUCKET}/x.parquet",
        f"{LOCATION}/crm/customers/region=EU/part-0.parquet",
        f"s3a://{BUCKET}/sales/crm/orders/part-0.parquet",
        f"s3://{BUCKET}//sales/crm/orders/part-0.parquet",
        "/etc/passwd",
    ):
        with pytest.raises(QueryRejectedError, match="Table sales.crm.orders reads an object"):
            object_scan(
                table=table.name,
                format="parquet",
                location=table.location,
                files=(*table.files, outside),
                partition_columns=(),
                options=S3Options(),
            )


def test_a_reader_opens_only_its_scans_objects(mesh: GovernedMesh) -> None:
    table = orders_access(mesh)
    scan = object_scan(
        table=table.name,
        format="parquet",
        location=table.location,
        files=table.files,
        partition_columns=(),
        options=S3Options(),
    )
    with scan_files([scan]) as (handle,):
        reader = ObjectReader(handle, schema=StructType([StructField("order_id", LongType())]))
        assert [p.path for p in reader.partitions()] == list(table.files)  # type: ignore[attr-defined]
        with pytest.raises(RuntimeError, match="is not its object"):
            next(reader.read(ObjectPartition(f"{LOCATION}/crm/customers/part-0.parquet")))


def orders_access(mesh: GovernedMesh) -> TableAccess:
    """What the service hands an engine for Sam's read of the orders table."""
    objects = mesh_objects(f"{LOCATION}/crm/orders")
    columns = tuple((f.name, duckdb_type(f.type)) for f in mesh.raw(ORDERS).schema)
    return TableAccess(
        name=ORDERS,
        format="parquet",
        location=f"{LOCATION}/crm/orders",
        files=tuple(objects),
        sizes=tuple(objects.values()),
        columns=columns,
        partition_columns=(),
        access=ColumnAccess((CellPair(None, frozenset(name for name, _ in columns)),)),
    )


def mesh_objects(prefix: str) -> dict[str, int]:
    """The table's Parquet objects under ``prefix`` and their sizes, as the service lists them."""
    filesystem = S3Storage().filesystem()
    root = prefix.removeprefix("s3://")
    found = filesystem.find(root, detail=True)
    return {
        f"s3://{path}": int(info["size"])
        for path, info in sorted(found.items())
        if re.fullmatch(r"part-\d+\.parquet", path.removeprefix(root + "/"))
    }


def spark_execute(engine: SparkEngine, table: TableAccess) -> pa.Table:
    sql = f"SELECT count(*) AS n FROM {view_name(table)}"
    result = engine.execute(
        sql=sql, files=table.files, parameters={}, limits=SPARK_LIMITS, tables=[table]
    )
    return result.table
