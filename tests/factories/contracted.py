"""A producer ``shop`` whose Parquet table ``items`` is the product ``items`` under an ODCS
contract, with ``user:mia@buyers`` subscribed; files rewritten and re-crawled for real."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from sqlalchemy import select

from lakemesh.catalog import crawler, domains, locations
from lakemesh.catalog.crawler import CrawledTable
from lakemesh.identity import principals
from lakemesh.query import service
from lakemesh.sharing import products, subscriptions
from lakemesh.sharing.product_versions import product_versions
from lakemesh.sharing.products import ProductSpec
from lakemesh.store.schema import Notification
from tests.conftest import HubEnv
from tests.factories.lake import Lake
from tests.factories.shop import HubAndLake

SUE, MIA, ANA = "user:sue@shop", "user:mia@buyers", "user:ana@shop"
TABLE = "shop.sales.items"
CONTRACT = """
apiVersion: v3.1.0
kind: DataContract
id: urn:shop:items
version: 1.0.0
status: active
schema:
  - name: items
    properties:
      - {name: id, logicalType: integer, primaryKey: true}
      - {name: name, logicalType: string}
      - name: amount
        logicalType: number
        quality:
          - {metric: nullValues, mustBe: 0}
"""
ORIGINAL = {
    "id": pa.array([1, 2, 3], pa.int64()),
    "name": pa.array(["a", "b", "c"]),
    "amount": pa.array([1.5, 2.5, 3.5]),
}
NARROWED = {**ORIGINAL, "id": pa.array([1, 2, 3], pa.int32()), "note": pa.array(["x", "y", "z"])}
RENAMED = {
    "id": ORIGINAL["id"],
    "name": ORIGINAL["name"],
    "total": ORIGINAL["amount"],
}


class Shop(HubAndLake):
    """The hub and lake of the shop :func:`build_shop` built, and what the tests do to it."""

    def write(self, data: dict[str, pa.Array]) -> None:
        self.lake.parquet("shop/sales/items/part-0.parquet", pa.table(data))

    def crawl(self, data: dict[str, pa.Array] | None = None) -> CrawledTable:
        if data is not None:
            self.write(data)
        [found] = crawler.crawl(
            self.env.hub,
            actor=self.actor(SUE),
            uri=self.lake.uri_of("shop/sales"),
            domain="shop",
            database="sales",
        )
        return found

    def query(self, ref: str, sql: str) -> tuple[pa.Table, tuple[str, ...]]:
        outcome = service.run(self.env.hub, actor=self.actor(ref), sql=sql)
        return outcome.result.table, outcome.warnings

    def versions(self) -> dict[str, Any]:
        with self.env.hub.read() as session:
            return product_versions(session, products.get_product(session, "items"))

    def inbox(self, ref: str) -> list[Notification]:
        with self.env.hub.read() as session:
            return list(
                session.execute(select(Notification).where(Notification.recipient == ref)).scalars()
            )


def build_shop(env: HubEnv, lake: Lake, *, mode: str = "hold") -> Shop:
    shop = Shop(env, lake)
    shop.write(ORIGINAL)
    admin = env.admin
    with env.hub.transaction() as session:
        domains.create_domain(session, actor=admin, name="shop", producer=True, admins=[SUE])
        domains.create_domain(session, actor=admin, name="buyers", consumer=True)
        principals.create_principal(session, actor=admin, principal=MIA)
        principals.create_principal(session, actor=admin, principal=ANA)
        locations.register_location(session, actor=admin, uri=lake.uri_of("shop"), domain="shop")
        domains.update_domain(session, actor=admin, name="shop", schema_changes=mode)
    shop.crawl()
    sue = shop.actor(SUE)
    with env.hub.transaction() as session:
        products.publish_product(
            session,
            actor=sue,
            spec=ProductSpec(
                name="items", domain="shop", tables=("sales.items",), contract=CONTRACT
            ),
        )
        request = subscriptions.request_subscription(
            session, actor=shop.actor(MIA), product="items", principal=MIA, reason="reporting"
        )
        subscriptions.approve_subscription(session, actor=sue, subscription_id=request.id)
    return shop
