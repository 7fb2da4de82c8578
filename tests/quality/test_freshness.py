"""SLAs measured on time or late by how much: from a named timestamp column, the newest date
partition, or the newest file (the clock is the one thing faked)."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from pyiceberg.catalog.sql import SqlCatalog

from lakemesh.api.schemas.notifications import NotificationPublic
from lakemesh.api.schemas.quality import QualityRunPublic
from lakemesh.catalog import crawler
from lakemesh.governance import grants
from lakemesh.governance.grants import GrantRequest
from lakemesh.model.permissions import parse_permissions
from lakemesh.notifications.inbox import list_inbox
from lakemesh.quality import run_checks
from lakemesh.sharing import products
from lakemesh.sharing.products import ProductSpec
from tests.conftest import FrozenClock
from tests.factories.quality import QUALITY, SHOP_ADMIN, Shop

SLAS = """
apiVersion: v3.1.0
kind: DataContract
id: urn:shop:{table}:slas
version: 1.1.0
status: active
slaProperties:
{slas}
schema:
  - name: {table}
"""


def _publish(shop: Shop, table: str, slas: str) -> None:
    text = SLAS.format(table=table, slas=slas)
    with shop.env.hub.transaction() as session:
        products.publish_product(
            session,
            actor=shop.actor(SHOP_ADMIN),
            spec=ProductSpec(name=table, domain="shop", contract=text),
        )


def _slas(shop: Shop, table: str) -> dict[str, dict[str, object]]:
    run = run_checks(shop.env.hub, actor=shop.actor(SHOP_ADMIN), product=table)
    results = QualityRunPublic.from_run(run).model_dump()["results"]
    return {r["rule"]: r for r in results if r["kind"] == "sla"}


def test_freshness_from_the_newest_date_partition(shop: Shop, frozen_clock: FrozenClock) -> None:
    _publish(
        shop,
        "orders_parts",
        "  - {property: freshness, value: 1, unit: d}\n"
        "  - {property: retention, value: 1, unit: d}",
    )
    # day=2025-01-02 is the newest partition: its data is complete at 2025-01-03 00:00.
    frozen_clock.current = datetime(2025, 1, 3, 12, tzinfo=UTC)
    on_time = _slas(shop, "orders_parts")
    latency = on_time["sla.latency"]
    assert (latency["status"], latency["value"], latency["threshold"]) == (
        "passed",
        12 * 3600,
        "<= 1 d",
    )
    assert latency["details"]["source"] == "partition sales.orders_parts.day"
    assert latency["details"]["last_update"] == "2025-01-03T00:00:00+00:00"
    retention = on_time["sla.retention"]
    assert (retention["status"], retention["value"]) == ("passed", 36 * 3600)
    frozen_clock.advance(timedelta(days=2))
    late = _slas(shop, "orders_parts")["sla.latency"]
    assert (late["status"], late["message"]) == ("failed", f"late by {36 * 3600}s")
    assert late["details"]["late_by_seconds"] == 36 * 3600


def test_freshness_from_a_named_timestamp_column(shop: Shop, frozen_clock: FrozenClock) -> None:
    _publish(
        shop,
        "orders_parquet",
        "  - {property: latency, value: 2, unit: h, element: orders_parquet.placed_at}",
    )
    frozen_clock.current = datetime(2025, 1, 1, 10, tzinfo=UTC)  # newest placed_at: 07:00
    result = _slas(shop, "orders_parquet")["sla.latency"]
    assert (result["status"], result["value"], result["message"]) == (
        "failed",
        3 * 3600,
        "late by 3600s",
    )
    assert result["details"]["source"] == "column sales.orders_parquet.placed_at"


def test_frequency_from_the_newest_file(shop: Shop, frozen_clock: FrozenClock) -> None:
    written = datetime(2025, 3, 1, 6, tzinfo=UTC).timestamp()
    for path in (shop.lake.root / "shop/sales/orders_csv").rglob("*.csv"):
        os.utime(path, (written, written))
    _publish(
        shop,
        "orders_csv",
        "  - {property: frequency, value: 4, unit: h}\n  - {property: latency, value: 1, unit: d}",
    )
    frozen_clock.current = datetime(2025, 3, 1, 8, tzinfo=UTC)
    found = _slas(shop, "orders_csv")
    assert (found["sla.frequency"]["status"], found["sla.frequency"]["value"]) == ("passed", 7200)
    assert found["sla.latency"]["details"]["source"] == "files of sales.orders_csv"
    frozen_clock.current = datetime(2025, 3, 1, 11, tzinfo=UTC)
    assert _slas(shop, "orders_csv")["sla.frequency"]["message"] == "late by 3600s"


def _open_tables(shop: Shop) -> tuple[int, int]:
    """An Iceberg table (pyiceberg, two appends) and a Delta table (deltalake, two versions) in
    ``shop.lakehouse``, published as product ``lakehouse``; their last commit times (ms)."""
    folder = shop.lake.root / "shop" / "lakehouse"
    folder.mkdir(parents=True)
    catalog = SqlCatalog(
        "t", uri=f"sqlite:///{shop.lake.root / 'iceberg.db'}", warehouse=f"file://{folder.parent}"
    )
    catalog.create_namespace("lakehouse")
    rows = pa.table({"id": [1, 2], "amount": [1.5, 2.5]})
    orders = catalog.create_table("lakehouse.orders", schema=rows.schema)
    orders.append(rows)
    orders.append(rows)
    write_deltalake(str(folder / "events"), rows)
    write_deltalake(str(folder / "events"), rows, mode="append")
    long_ago = datetime(2020, 1, 1, tzinfo=UTC).timestamp()  # file times say nothing here
    for path in folder.rglob("*"):
        os.utime(path, (long_ago, long_ago))
    admin = shop.env.admin
    crawler.crawl(shop.env.hub, actor=admin, uri=str(folder), domain="shop", database="lakehouse")
    sue = shop.actor(SHOP_ADMIN)
    contract = SLAS.format(
        table="orders",
        slas="  - {property: latency, value: 1, unit: h}\n"
        "  - {property: frequency, value: 1, unit: h}",
    ).replace("schema:\n  - name: orders\n", "schema:\n  - name: orders\n  - name: events\n")
    with shop.env.hub.transaction() as session:
        products.publish_product(
            session,
            actor=sue,
            spec=ProductSpec(
                name="lakehouse",
                domain="shop",
                tables=("lakehouse.orders", "lakehouse.events"),
                contract=contract,
            ),
        )
        for table in ("orders", "events"):
            grants.grant(
                session,
                actor=sue,
                grantee=QUALITY,
                request=GrantRequest(
                    permissions=parse_permissions("SELECT"), on=f"shop.lakehouse.{table}"
                ),
            )
    snapshot = catalog.load_table("lakehouse.orders").current_snapshot()
    assert snapshot is not None
    version = DeltaTable(str(folder / "events")).history(1)[0]["timestamp"]
    return snapshot.timestamp_ms, int(version)


def test_freshness_of_open_tables_from_their_last_commit(
    shop: Shop, frozen_clock: FrozenClock
) -> None:
    iceberg_ms, delta_ms = _open_tables(shop)
    stalest = min(iceberg_ms, delta_ms)
    committed = datetime.fromtimestamp(stalest / 1000, tz=UTC)
    frozen_clock.current = committed + timedelta(minutes=30)
    found = _slas(shop, "lakehouse")
    latency = found["sla.latency"]
    assert (latency["status"], latency["details"]["last_update"]) == (
        "passed",
        committed.isoformat(),
    )
    assert latency["value"] == pytest.approx(1800, abs=1)
    source = latency["details"]["source"]
    assert source.startswith("snapshot " if iceberg_ms <= delta_ms else "version ")
    assert found["sla.frequency"]["status"] == "passed"
    frozen_clock.current = datetime.fromtimestamp(max(iceberg_ms, delta_ms) / 1000, tz=UTC)
    frozen_clock.advance(timedelta(hours=3))
    late = _slas(shop, "lakehouse")
    assert late["sla.latency"]["status"] == "failed"
    assert late["sla.latency"]["message"].startswith("late by ")
    assert late["sla.frequency"]["details"]["late_by_seconds"] >= 2 * 3600
    with shop.env.hub.read() as session:
        row = products.show_product(session, actor=shop.actor(SHOP_ADMIN), name="lakehouse")
        health = products.view_product(session, row)["health"]
    assert health["freshness"]["status"] == "late"


def test_freshness_of_unreadable_metadata_from_the_recorded_snapshots(
    shop: Shop, frozen_clock: FrozenClock
) -> None:
    iceberg_ms, delta_ms = _open_tables(shop)
    folder = shop.lake.root / "shop" / "lakehouse"
    shutil.rmtree(folder / "events" / "_delta_log")
    shutil.rmtree(folder / "orders" / "metadata")
    stalest = datetime.fromtimestamp(min(iceberg_ms, delta_ms) / 1000, tz=UTC)
    frozen_clock.current = stalest + timedelta(hours=2)
    latency = _slas(shop, "lakehouse")["sla.latency"]
    table = "orders" if iceberg_ms <= delta_ms else "events"
    assert latency["details"]["source"] == f"recorded snapshot of lakehouse.{table}"
    assert latency["details"]["last_update"] == stalest.isoformat()
    assert latency["status"] == "failed"


def _inbox(shop: Shop) -> list[dict[str, object]]:
    with shop.env.hub.read() as session:
        rows = list_inbox(session, actor=shop.actor(SHOP_ADMIN))
        found = [NotificationPublic.from_row(row).model_dump() for row in rows]
    return [n for n in found if n["recipient"] == "domain:shop"]


def test_failed_rules_and_broken_slas_are_told_to_the_domain(
    shop: Shop, frozen_clock: FrozenClock
) -> None:
    _publish(shop, "orders_parts", "  - {property: latency, value: 1, unit: d}")
    frozen_clock.current = datetime(2025, 1, 3, 12, tzinfo=UTC)
    _slas(shop, "orders_parts")
    assert _inbox(shop) == []  # on time: nothing to tell
    frozen_clock.advance(timedelta(days=2))
    _slas(shop, "orders_parts")
    (breach,) = _inbox(shop)
    assert (breach["kind"], breach["recipient"], breach["product"]) == (
        "sla_breached",
        "domain:shop",
        "orders_parts",
    )
    assert breach["subject"] == f"orders_parts: latency late by {36 * 3600}s (<= 1 d)"
    run_checks(shop.env.hub, actor=shop.actor(SHOP_ADMIN), product="orders_parquet")
    failed = _inbox(shop)[0]
    assert (failed["kind"], failed["product"]) == ("check_failed", "orders_parquet")
    assert failed["details"]["rules"]  # type: ignore[index]
