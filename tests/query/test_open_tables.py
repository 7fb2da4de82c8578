"""Iceberg and Delta tables: written by pyiceberg (SQL catalog on SQLite) and deltalake, crawled
from their own metadata, queried through the governed gateway with DuckDB's iceberg and delta
extensions, with time travel to a snapshot or version the query names.

Expected rows come from the writers' own readers (pyiceberg's scan, deltalake's ``to_pyarrow``).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.table import Table as IcebergTable
from pyiceberg.types import StringType

from lakemesh.api.routes.tables import table_public
from lakemesh.catalog import crawler, locations, tables
from lakemesh.catalog.columns import schema_history
from lakemesh.errors import InvalidInputError, QueryRejectedError
from lakemesh.governance import filters
from lakemesh.identity import principals
from lakemesh.identity.actors import load_actor
from lakemesh.model.names import parse_resource
from lakemesh.portal.views.tables import table_page
from lakemesh.query import service
from lakemesh.query.workgroups import create_workgroup
from tests.cli.conftest import Cli
from tests.conftest import HubEnv, make_hub_env, s3_environment
from tests.factories.query import grant_on
from tests.query.spark_support import missing_reason
from tests.seaweedfs import ACCESS_KEY, REGION, SECRET_KEY, S3Server

ORDERS = "governance.shop.orders"
EVENTS = "governance.shop.events"
READER = "user:rita@governance"

ORDER_ROWS = [
    pa.table({"id": [1, 2], "region": ["EU", "US"], "amount": [10.0, 20.0]}),
    pa.table({"id": [3, 4], "region": ["EU", "APAC"], "amount": [30.0, 40.0]}),
]
ORDER_SCHEMA = pa.schema([("id", pa.int64()), ("region", pa.string()), ("amount", pa.float64())])
EVENT_ROWS = [
    pa.table({"id": [1, 2], "day": ["2024-01-01", "2024-01-02"], "value": [1.5, 2.5]}),
    pa.table({"id": [3], "day": ["2024-01-02"], "value": [3.5]}),
]


def write_orders(warehouse: Path, database: Path) -> IcebergTable:
    """An Iceberg table partitioned by region, with two appends (two snapshots)."""
    catalog = SqlCatalog("test", uri=f"sqlite:///{database}", warehouse=f"file://{warehouse}")
    catalog.create_namespace("shop")
    table = catalog.create_table("shop.orders", schema=ORDER_SCHEMA)
    with table.update_spec() as spec:
        spec.add_identity("region")
    for rows in ORDER_ROWS:
        table.append(rows)
    return catalog.load_table("shop.orders")


def write_events(folder: Path) -> None:
    """A Delta table partitioned by day, versions 0 and 1."""
    write_deltalake(str(folder), EVENT_ROWS[0], partition_by=["day"])
    write_deltalake(str(folder), EVENT_ROWS[1], mode="append")


@dataclass
class Lake:
    env: HubEnv
    warehouse: Path
    orders: IcebergTable

    def crawl(self) -> dict[str, str]:
        results = crawler.crawl(
            self.env.hub,
            actor=self.env.admin,
            uri=str(self.warehouse / "shop"),
            domain="governance",
            database="shop",
        )
        return {result.name: result.status for result in results}

    def show(self, name: str) -> dict[str, Any]:
        with self.env.hub.read() as session:
            row = tables.get_table_row(session, parse_resource(name))
            return table_public(session, row).model_dump(mode="json", by_alias=True)

    def rows(self, sql: str, principal: str | None = None) -> list[dict[str, Any]]:
        actor = self.env.admin
        if principal is not None:
            with self.env.hub.read() as session:
                actor = load_actor(session, principals.get_principal(session, principal))
        return service.run(self.env.hub, actor=actor, sql=sql).result.table.to_pylist()


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    warehouse = tmp_path / "lake"
    warehouse.mkdir()
    orders = write_orders(warehouse, tmp_path / "catalog.db")
    write_events(warehouse / "shop" / "events")
    env = make_hub_env(tmp_path / "home")
    with env.hub.transaction() as session:
        locations.register_location(
            session, actor=env.admin, uri=str(warehouse), domain="governance"
        )
        principals.create_principal(session, actor=env.admin, principal=READER)
    found = Lake(env, warehouse, orders)
    yield found
    env.hub.close()


def by_id(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: row["id"])


# -- the crawl -------------------------------------------------------------------------------


def test_the_crawl_registers_iceberg_and_delta_tables(lake: Lake) -> None:
    assert lake.crawl() == {ORDERS: "created", EVENTS: "created"}
    orders = lake.show(ORDERS)
    assert orders["format"] == "iceberg"
    assert [(c["name"], c["type"]) for c in orders["columns"]] == [
        ("id", "BIGINT"),
        ("region", "VARCHAR"),
        ("amount", "DOUBLE"),
    ]
    assert orders["partition_columns"] == []  # Iceberg partitions are hidden
    assert orders["properties"]["iceberg.partition-spec"] == "region"
    snapshots = lake.orders.metadata.snapshots
    assert orders["current_snapshot"] == str(lake.orders.metadata.current_snapshot_id)
    assert [s["id"] for s in orders["snapshots"]] == [str(s.snapshot_id) for s in snapshots]
    assert [s["operation"] for s in orders["snapshots"]] == ["append", "append"]
    events = lake.show(EVENTS)
    assert events["format"] == "delta"
    assert [(c["name"], c["type"], c["partition"]) for c in events["columns"]] == [
        ("id", "BIGINT", False),
        ("value", "DOUBLE", False),
        ("day", "VARCHAR", True),
    ]
    assert events["partition_columns"] == ["day"]
    assert events["current_snapshot"] == "1"
    assert [s["id"] for s in events["snapshots"]] == ["0", "1"]


def test_the_portal_lists_the_snapshots_the_api_shows(lake: Lake) -> None:
    lake.crawl()
    with lake.env.hub.read() as session:
        page = table_page(session, viewer=lake.env.admin, name=ORDERS)
    assert len(page.snapshots) == 2
    assert page.snapshots == lake.show(ORDERS)["snapshots"]


def test_a_recrawl_follows_new_snapshots_and_schema_changes(lake: Lake) -> None:
    lake.crawl()
    assert lake.crawl() == {ORDERS: "unchanged", EVENTS: "unchanged"}
    with lake.orders.update_schema() as update:
        update.add_column("note", StringType())
    lake.orders.refresh()
    lake.orders.append(
        pa.table(
            {"id": [5], "region": ["EU"], "amount": [50.0], "note": ["late"]},
            schema=lake.orders.schema().as_arrow(),
        )
    )
    write_deltalake(str(lake.warehouse / "shop" / "events"), EVENT_ROWS[1], mode="append")
    assert lake.crawl() == {ORDERS: "updated", EVENTS: "updated"}
    orders = lake.show(ORDERS)
    assert orders["schema_version"] == 2
    assert [c["name"] for c in orders["columns"]] == ["id", "region", "amount", "note"]
    assert len(orders["snapshots"]) == 3
    assert orders["snapshots"][-1]["schema_version"] == 2
    assert orders["current_snapshot"] == orders["snapshots"][-1]["id"]
    with lake.env.hub.read() as session:
        history = schema_history(session, tables.get_table_row(session, parse_resource(ORDERS)))
    assert [c["name"] for c in history[-1]["changes"]["added"]] == ["note"]
    events = lake.show(EVENTS)
    assert (events["schema_version"], events["current_snapshot"]) == (1, "2")
    assert [s["id"] for s in events["snapshots"]] == ["0", "1", "2"]
    assert lake.rows(f"SELECT count(*) AS n, count(note) AS notes FROM {ORDERS}") == [
        {"n": 5, "notes": 1}
    ]


def test_a_table_too_deep_is_named(lake: Lake) -> None:
    """Crawling the warehouse root: each namespace folder holds the tables, one level down."""
    with pytest.raises(InvalidInputError) as info:
        crawler.crawl(
            lake.env.hub,
            actor=lake.env.admin,
            uri=str(lake.warehouse),
            domain="governance",
            database="shop",
        )
    base = f"file://{lake.warehouse}"
    assert info.value.message == (
        f"Iceberg table {base}/shop/orders lies more than one folder below {base}: "
        f"crawl {base}/shop (one table per folder)"
    )


# -- queries ------------------------------------------------------------------------------------


def test_whole_tables_read_as_their_writers_read_them(lake: Lake) -> None:
    lake.crawl()
    assert by_id(lake.rows(f"SELECT * FROM {ORDERS}")) == by_id(
        lake.orders.scan().to_arrow().to_pylist()
    )
    delta = DeltaTable(str(lake.warehouse / "shop" / "events")).to_pyarrow_table()
    expected = [{k: row[k] for k in ("id", "value", "day")} for row in delta.to_pylist()]
    assert by_id(lake.rows(f"SELECT * FROM {EVENTS}")) == by_id(expected)


def test_filters_and_columns_apply_to_iceberg_tables(lake: Lake) -> None:
    lake.crawl()
    with lake.env.hub.transaction() as session:
        filters.create_filter(
            session, actor=lake.env.admin, name="eu_orders", table=ORDERS, rows="region = 'EU'"
        )
        grant_on(session, lake.env.admin, grantee=READER, table=ORDERS, data_filter="eu_orders")
        grant_on(session, lake.env.admin, grantee=READER, table=EVENTS, columns=["id", "day"])
    assert by_id(lake.rows(f"SELECT id, region FROM {ORDERS}", READER)) == [
        {"id": 1, "region": "EU"},
        {"id": 3, "region": "EU"},
    ]
    assert by_id(lake.rows(f"SELECT * FROM {EVENTS}", READER)) == [
        {"id": 1, "day": "2024-01-01"},
        {"id": 2, "day": "2024-01-02"},
        {"id": 3, "day": "2024-01-02"},
    ]
    with pytest.raises(Exception, match=f"{READER} lacks SELECT on {EVENTS}.value"):
        lake.rows(f"SELECT value FROM {EVENTS}", READER)


def test_time_travel_to_a_snapshot_or_version(lake: Lake) -> None:
    lake.crawl()
    first = lake.orders.metadata.snapshots[0].snapshot_id
    for sql in (
        f"SELECT id FROM {ORDERS} AT (VERSION => {first})",
        f"SELECT id FROM {ORDERS} FOR VERSION AS OF {first}",
    ):
        assert by_id(lake.rows(sql)) == [{"id": 1}, {"id": 2}]
    assert by_id(lake.rows(f"SELECT id FROM {EVENTS} VERSION AS OF 0")) == [{"id": 1}, {"id": 2}]
    # Now and then in one query: each reference reads its own state.
    sql = (
        f"SELECT (SELECT count(*) FROM {EVENTS}) AS now, "
        f"(SELECT count(*) FROM {EVENTS} AT (VERSION => 0)) AS then"
    )
    assert lake.rows(sql) == [{"now": 3, "then": 2}]


def test_time_travel_keeps_the_row_filter(lake: Lake) -> None:
    lake.crawl()
    with lake.env.hub.transaction() as session:
        filters.create_filter(
            session, actor=lake.env.admin, name="us_orders", table=ORDERS, rows="region = 'US'"
        )
        grant_on(session, lake.env.admin, grantee=READER, table=ORDERS, data_filter="us_orders")
    first = lake.orders.metadata.snapshots[0].snapshot_id
    sql = f"SELECT id FROM {ORDERS} AT (VERSION => {first})"
    assert lake.rows(sql, READER) == [{"id": 2}]


@pytest.mark.parametrize(
    ("clause", "message"),
    [
        ("FOR TIMESTAMP AS OF 3", "TIMESTAMP AS OF on a table"),
        ("AT (TIMESTAMP => 3)", r"AT \(TIMESTAMP\) on a table"),
        ("AT (VERSION => '3')", "must be a whole number"),
        ("AT (VERSION => 1 + 1)", "must be a whole number"),
    ],
)
def test_other_travel_clauses_are_refused(lake: Lake, clause: str, message: str) -> None:
    lake.crawl()
    with pytest.raises(QueryRejectedError, match=message):
        lake.rows(f"SELECT id FROM {EVENTS} {clause}")


def test_time_travel_on_a_parquet_table_is_refused(lake: Lake, tmp_path: Path) -> None:
    folder = lake.warehouse / "plain" / "items"
    folder.mkdir(parents=True)
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"id": [1]}), folder / "part-0.parquet")
    crawler.crawl(
        lake.env.hub,
        actor=lake.env.admin,
        uri=str(lake.warehouse / "plain"),
        domain="governance",
        database="plain",
    )
    with pytest.raises(QueryRejectedError, match="Time travel needs an Iceberg or Delta table"):
        lake.rows("SELECT id FROM governance.plain.items AT (VERSION => 1)")


def test_metadata_pointing_outside_the_table_is_refused(lake: Lake, tmp_path: Path) -> None:
    """A copied Iceberg table still names the original's files: the sandbox opens none."""
    shutil.copytree(lake.warehouse / "shop" / "orders", lake.warehouse / "copy" / "orders")
    crawler.crawl(
        lake.env.hub,
        actor=lake.env.admin,
        uri=str(lake.warehouse / "copy"),
        domain="governance",
        database="copy",
    )
    with pytest.raises(QueryRejectedError, match="outside its authorized files"):
        lake.rows("SELECT count(*) FROM governance.copy.orders")


def spark_workgroup(env: HubEnv) -> str:
    """A workgroup on Spark (skipped without Java, failed under CI); a long time limit, since the
    first query starts Spark."""
    reason = missing_reason()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Spark tests cannot run under CI: {reason}")
        pytest.skip(reason)
    with env.hub.transaction() as session:
        create_workgroup(session, actor=env.admin, name="big", engine="spark", timeout_seconds=900)
    return "big"


def spark_rows(lake: Lake, sql: str, principal: str | None = None) -> list[dict[str, Any]]:
    actor = lake.env.admin
    if principal is not None:
        with lake.env.hub.read() as session:
            actor = load_actor(session, principals.get_principal(session, principal))
    result = service.run(lake.env.hub, actor=actor, sql=sql, workgroup="big").result
    return result.table.to_pylist()


@pytest.mark.slow
def test_spark_reads_iceberg_and_delta_tables_as_duckdb_does(lake: Lake) -> None:
    spark_workgroup(lake.env)
    lake.crawl()
    with lake.env.hub.transaction() as session:
        filters.create_filter(
            session, actor=lake.env.admin, name="eu_orders", table=ORDERS, rows="region = 'EU'"
        )
        grant_on(session, lake.env.admin, grantee=READER, table=ORDERS, data_filter="eu_orders")
        grant_on(session, lake.env.admin, grantee=READER, table=EVENTS, columns=["id", "day"])
    first = lake.orders.metadata.snapshots[0].snapshot_id
    for sql, principal in (
        (f"SELECT * FROM {ORDERS}", None),
        (f"SELECT * FROM {EVENTS}", None),
        (f"SELECT id, region FROM {ORDERS} AT (VERSION => {first})", None),
        (f"SELECT id, day FROM {EVENTS} VERSION AS OF 0", None),
        (f"SELECT * FROM {ORDERS} WHERE amount > 15", READER),
        (f"SELECT * FROM {EVENTS} WHERE day = '2024-01-02'", READER),
    ):
        assert by_id(spark_rows(lake, sql, principal)) == by_id(lake.rows(sql, principal)), sql


@pytest.mark.slow
def test_spark_refuses_what_its_parquet_reader_would_read_wrongly(lake: Lake) -> None:
    spark_workgroup(lake.env)
    with lake.orders.update_schema() as update:
        update.rename_column("amount", "total")
    log = lake.warehouse / "shop" / "events" / "_delta_log"
    protocol = {"minReaderVersion": 3, "minWriterVersion": 7}
    features = {"readerFeatures": ["deletionVectors"], "writerFeatures": ["deletionVectors"]}
    (log / f"{2:020d}.json").write_text(json.dumps({"protocol": {**protocol, **features}}) + "\n")
    lake.crawl()
    for table, reason in (
        (ORDERS, "its column total was renamed"),
        (EVENTS, "it uses deletionVectors"),
    ):
        runtime = "Iceberg" if table == ORDERS else "Delta"
        with pytest.raises(InvalidInputError) as info:
            spark_rows(lake, f"SELECT * FROM {table}")
        assert info.value.message == (
            f"Table {table} cannot be queried on the spark engine: {reason}, which Spark reads "
            f"only with the {runtime} runtime (run the query in a workgroup on the duckdb engine)"
        )


def test_table_show_lists_the_versions(lake: Lake) -> None:
    lake.crawl()
    cli = Cli(lake.env.home)
    shown = cli.run("--token", lake.env.token, "table", "show", EVENTS).stdout
    assert "snapshots (current: 1)" in shown
    assert "WRITE" in shown
    described = cli.json("--token", lake.env.token, "table", "show", EVENTS)
    assert [s["id"] for s in described["snapshots"]] == ["0", "1"]
    assert described["current_snapshot"] == "1"


# -- on S3 (SeaweedFS) ---------------------------------------------------------------------------

BUCKET = "open-tables"


@dataclass
class S3Lake:
    """Iceberg and Delta tables on SeaweedFS, written by pyiceberg and deltalake, crawled."""

    env: HubEnv
    orders: IcebergTable
    server: S3Server

    def rows(self, sql: str, workgroup: str | None = None) -> list[dict[str, Any]]:
        with s3_environment(self.server):
            outcome = service.run(self.env.hub, actor=self.env.admin, sql=sql, workgroup=workgroup)
        return by_id(outcome.result.table.to_pylist())


@pytest.fixture(scope="module")
def s3_lake(seaweedfs: S3Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Lake]:
    tmp_path = tmp_path_factory.mktemp("s3lake")
    seaweedfs.create_bucket(BUCKET)
    warehouse = f"s3://{BUCKET}/lake"
    catalog = SqlCatalog(
        "s3",
        uri=f"sqlite:///{tmp_path / 'catalog.db'}",
        warehouse=warehouse,
        **seaweedfs.pyiceberg_properties,
    )
    catalog.create_namespace("shop")
    orders = catalog.create_table("shop.orders", schema=ORDER_SCHEMA)
    for rows in ORDER_ROWS:
        orders.append(rows)
    storage = {
        "AWS_ENDPOINT_URL": seaweedfs.endpoint,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_REGION": REGION,
        "AWS_ALLOW_HTTP": "true",
        "AWS_S3_ALLOW_UNSAFE_RENAME": "true",
    }
    for rows, mode in ((EVENT_ROWS[0], "error"), (EVENT_ROWS[1], "append")):
        write_deltalake(
            f"{warehouse}/shop/events",
            rows,
            partition_by=["day"],
            mode=mode,
            storage_options=storage,
        )
    env = make_hub_env(tmp_path / "home")
    try:
        with s3_environment(seaweedfs):
            with env.hub.transaction() as session:
                locations.register_location(
                    session, actor=env.admin, uri=warehouse, domain="governance"
                )
                principals.create_principal(session, actor=env.admin, principal=READER)
            crawled = crawler.crawl(
                env.hub,
                actor=env.admin,
                uri=f"{warehouse}/shop",
                domain="governance",
                database="shop",
            )
        assert {r.name: r.status for r in crawled} == {ORDERS: "created", EVENTS: "created"}
        yield S3Lake(env, orders, seaweedfs)
    finally:
        env.hub.close()


def test_iceberg_and_delta_tables_on_s3(s3_lake: S3Lake) -> None:
    """Written to SeaweedFS by pyiceberg and deltalake, crawled and queried (also back in time)."""
    rows = s3_lake.rows
    orders = s3_lake.orders
    assert rows(f"SELECT * FROM {ORDERS}") == by_id(orders.scan().to_arrow().to_pylist())
    first = orders.metadata.snapshots[0].snapshot_id
    assert rows(f"SELECT id FROM {ORDERS} AT (VERSION => {first})") == [{"id": 1}, {"id": 2}]
    assert [r["id"] for r in rows(f"SELECT id FROM {EVENTS}")] == [1, 2, 3]
    assert rows(f"SELECT id FROM {EVENTS} VERSION AS OF 0") == [{"id": 1}, {"id": 2}]


@pytest.mark.slow
def test_spark_reads_iceberg_and_delta_tables_on_s3(s3_lake: S3Lake) -> None:
    """The local Spark reads them through the hub's object data source, as DuckDB does."""
    env = s3_lake.env
    spark_workgroup(env)
    with env.hub.transaction() as session:
        filters.create_filter(
            session, actor=env.admin, name="eu_orders_s3", table=ORDERS, rows="region = 'EU'"
        )
        grant_on(session, env.admin, grantee=READER, table=ORDERS, data_filter="eu_orders_s3")
        grant_on(session, env.admin, grantee=READER, table=EVENTS, columns=["id", "day"])
    first = s3_lake.orders.metadata.snapshots[0].snapshot_id
    reader = s3_lake.rows  # the admin's
    for sql in (
        f"SELECT * FROM {ORDERS}",
        f"SELECT * FROM {EVENTS}",
        f"SELECT id, region FROM {ORDERS} AT (VERSION => {first})",
        f"SELECT id, day FROM {EVENTS} VERSION AS OF 0",
        f"SELECT o.id, e.day FROM {ORDERS} o JOIN {EVENTS} e ON o.id = e.id",
    ):
        assert reader(sql, "big") == reader(sql), sql
    with env.hub.read() as session:
        actor = load_actor(session, principals.get_principal(session, READER))
    for sql, expected in (
        (f"SELECT * FROM {ORDERS}", [1, 3]),
        (f"SELECT * FROM {EVENTS} WHERE day = '2024-01-02'", [2, 3]),
    ):
        results = []
        for workgroup in (None, "big"):
            with s3_environment(s3_lake.server):
                outcome = service.run(env.hub, actor=actor, sql=sql, workgroup=workgroup)
            results.append(by_id(outcome.result.table.to_pylist()))
        assert results[0] == results[1], sql
        assert [row["id"] for row in results[1]] == expected
    assert "value" not in results[1][0]
