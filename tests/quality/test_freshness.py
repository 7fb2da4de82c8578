"""SLAs measured on time or late by how much: from a named timestamp column, the newest date
partition, or the newest file (the clock is the one thing faked)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from lakemesh.quality import run_checks
from lakemesh.sharing import products
from lakemesh.sharing.products import ProductSpec
from tests.conftest import FrozenClock
from tests.quality.conftest import SHOP_ADMIN, Shop

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
    return {r["rule"]: r for r in run["results"] if r["kind"] == "sla"}


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
