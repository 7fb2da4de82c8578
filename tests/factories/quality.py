"""The quality suites' producer ``shop``: its orders (8 rows with known flaws) are a Parquet table,
a CSV table and a Parquet table partitioned by day, each published as a product with a contract."""

from __future__ import annotations

from datetime import datetime

from lakemesh.catalog import crawler, domains, locations
from lakemesh.governance import grants, tag_assignments, tags
from lakemesh.governance.grants import GrantRequest
from lakemesh.identity import principals
from lakemesh.model.permissions import parse_permissions
from lakemesh.sharing import products
from lakemesh.sharing.products import ProductSpec
from tests.conftest import HubEnv
from tests.factories.lake import Lake
from tests.factories.shop import HubAndLake

SHOP_ADMIN, QUALITY, ANA = "user:sue@shop", "service:quality@shop", "user:ana@shop"
TABLES = ("orders_parquet", "orders_csv", "orders_parts")
DAYS = ["2025-01-01", "2025-01-01", "2025-01-01", "2025-01-02"] * 2
ORDERS = {
    "order_id": [1, 2, 3, 4, 5, 6, 7, 7],
    "customer_id": [1, 1, 2, 2, 3, 3, 4, 4],
    "status": ["paid", "paid", None, "-", "N/A", "shipped", "lost", "paid"],
    "code": ["A-1", "A-2", "B-3", "x", "A-5", "A-6", None, "A-8"],
    "email": [f"c{n}@x.org" for n in range(8)],
    "amount": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0],
    "placed_at": [datetime(2025, 1, 1, hour) for hour in range(8)],
}
# (customer_id, day) repeats: (1, 01-01) twice and (3, 01-01) twice: 2 duplicate rows.


def contract(table: str) -> str:
    return f"""
apiVersion: v3.1.0
kind: DataContract
id: urn:shop:{table}
version: 1.0.0
status: active
schema:
  - name: {table}
    quality:
      - {{metric: rowCount, mustBe: 8}}
      - metric: duplicateValues
        arguments: {{properties: [customer_id, day]}}
        mustBeLessThan: 2
    properties:
      - {{name: order_id, logicalType: integer, primaryKey: true}}
      - {{name: customer_id, logicalType: integer}}
      - {{name: email, logicalType: string, classification: pii, required: true}}
      - name: status
        logicalType: string
        quality:
          - {{metric: nullValues, mustBe: 1}}
          - metric: missingValues
            arguments: {{missingValues: [null, "-", N/A]}}
            mustBeLessOrEqualTo: 37.5
            unit: percent
          - {{metric: invalidValues, arguments: {{validValues: [paid, shipped]}}, mustBe: 0}}
      - name: code
        logicalType: string
        quality:
          - {{metric: invalidValues, arguments: {{pattern: "[A-Z]-[0-9]"}}, mustBeLessThan: 1}}
      - name: amount
        logicalType: number
        quality:
          - type: sql
            query: SELECT sum({{property}}) FROM {{object}}
            mustBeBetween: [300, 400]
"""


def write_orders(lake: Lake) -> None:
    lake.parquet("shop/sales/orders_parquet/part-0.parquet", {**ORDERS, "day": DAYS})
    csv_rows = {**ORDERS, "day": DAYS}
    lake.csv("shop/sales/orders_csv/part-0.csv", csv_rows)
    for day in sorted(set(DAYS)):
        keep = [i for i, d in enumerate(DAYS) if d == day]
        lake.parquet(
            f"shop/sales/orders_parts/day={day}/part-0.parquet",
            {key: [values[i] for i in keep] for key, values in ORDERS.items()},
        )


class Shop(HubAndLake):
    """The hub and lake of the shop :func:`build_shop` built."""


def build_shop(env: HubEnv, lake: Lake, *, grant_quality: bool = True) -> Shop:
    write_orders(lake)
    admin = env.admin
    with env.hub.transaction() as session:
        domains.create_domain(session, actor=admin, name="shop", producer=True, admins=[SHOP_ADMIN])
        principals.create_principal(session, actor=admin, principal=ANA)
        locations.register_location(session, actor=admin, uri=lake.uri_of("shop"), domain="shop")
        tags.create_tag(session, actor=admin, key="sensitivity", values=["public", "pii"])
    crawler.crawl(
        env.hub, actor=admin, uri=lake.uri_of("shop/sales"), domain="shop", database="sales"
    )
    shop = Shop(env, lake)
    sue = shop.actor(SHOP_ADMIN)
    with env.hub.transaction() as session:
        tag_assignments.assign_tags(
            session, actor=admin, resource="shop.sales", tags={"sensitivity": "public"}
        )
        for table in TABLES:
            tag_assignments.assign_tags(
                session,
                actor=admin,
                resource=f"shop.sales.{table}.email",
                tags={"sensitivity": "pii"},
            )
            products.publish_product(
                session,
                actor=sue,
                spec=ProductSpec(
                    name=table, domain="shop", tables=(f"sales.{table}",), contract=contract(table)
                ),
            )
        if grant_quality:
            principals.create_principal(session, actor=sue, principal=QUALITY)
            for table in TABLES:
                grants.grant(
                    session,
                    actor=sue,
                    grantee=QUALITY,
                    request=GrantRequest(
                        permissions=parse_permissions("SELECT"),
                        on=f"shop.sales.{table}",
                        exclude_columns=("email",),
                    ),
                )
    return shop
