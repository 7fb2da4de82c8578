"""The one factory of governed meshes for the query service tests: real files, real grants.

``build_governed_mesh`` writes the ``sales.crm`` tables (Parquet customers partitioned by region,
Parquet orders, CSV stores), crawls them into a hub and sets up tags, masks, data filters and
grants for a cast of principals through the governance services, as a mesh admin would.

Who reads what:

- ``user:sam@sales`` administers sales: everything, unmasked.
- ``user:mia@marketing`` (group:analysts@marketing): tables by tag ``sensitivity=public|internal``,
  so customers without ``email`` and ``phone`` (tagged pii); orders and stores in full.
- ``user:bob@marketing``: customers ``customer_id, name, region`` and all of orders.
- ``user:emma@sales`` (region=EU) and ``user:ulf@sales`` (region=US), in
  group:regional_managers@sales: orders through filter ``own_region``
  (``region = principal_attribute('region')``), and stores in full.
- ``user:carl@sales``: all of customers, with ``email`` masked (email_domain) and ``phone`` masked
  (last4); ``user:una@sales`` the same plus UNMASK on ``email``.
- ``user:cora@marketing``: customers ``customer_id, name, region`` for every row and ``email``
  through filter ``eu_contacts`` (``region = 'EU'``): cell semantics.
- ``user:nobody@marketing``: nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from lakemesh.catalog import crawler, domains, locations
from lakemesh.governance import filters, grants, masks, tag_assignments, tags
from lakemesh.governance.grant_targets import GrantRequest
from lakemesh.hub import Hub
from lakemesh.identity import principals, tokens
from lakemesh.identity.actors import load_actor
from lakemesh.identity.attributes import create_attribute_key
from lakemesh.model.actors import Actor
from lakemesh.model.permissions import Permission
from tests.conftest import HubEnv

ADMIN = "user:admin@governance"
SAM = "user:sam@sales"
MIA = "user:mia@marketing"
BOB = "user:bob@marketing"
EMMA = "user:emma@sales"
ULF = "user:ulf@sales"
CARL = "user:carl@sales"
UNA = "user:una@sales"
CORA = "user:cora@marketing"
NOBODY = "user:nobody@marketing"

CUSTOMERS = "sales.crm.customers"
ORDERS = "sales.crm.orders"
STORES = "sales.crm.stores"

REGIONS = ("EU", "US", "APAC")
CUSTOMER_ROWS: list[dict[str, Any]] = [
    {
        "customer_id": i,
        "name": f"customer-{i}",
        "email": f"person{i}@{('mail', 'corp', 'shop')[i % 3]}.example",
        "phone": f"+1-555-01{i:02d}",
        "segment": ("retail", "business")[i % 2],
        "lifetime_value": round(i * 12.5, 2),
        "region": REGIONS[i % 3],
    }
    for i in range(1, 13)
]
ORDER_ROWS: list[dict[str, Any]] = [
    {
        "order_id": 1000 + i,
        "customer_id": 1 + i % 12,
        "region": REGIONS[(1 + i % 12) % 3],
        "amount": float(10 + (i * 7) % 90),
        "status": ("open", "shipped", "returned")[i % 3],
    }
    for i in range(30)
]
STORE_ROWS: list[dict[str, Any]] = [
    {"store_id": 1, "city": "Berlin", "region": "EU"},
    {"store_id": 2, "city": "Austin", "region": "US"},
    {"store_id": 3, "city": "Osaka", "region": "APAC"},
]
CUSTOMER_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("name", pa.string()),
        ("email", pa.string()),
        ("phone", pa.string()),
        ("segment", pa.string()),
        ("lifetime_value", pa.float64()),
    ]
)
ORDER_SCHEMA = pa.schema(
    [
        ("order_id", pa.int64()),
        ("customer_id", pa.int64()),
        ("region", pa.string()),
        ("amount", pa.float64()),
        ("status", pa.string()),
    ]
)


# -- data files ------------------------------------------------------------------------------


def write_sales_files(root: Path) -> Path:
    """The files of ``sales.crm`` under ``root/sales/crm``; returns that folder."""
    crm = root / "sales" / "crm"
    for region in REGIONS:
        rows = [
            {k: v for k, v in row.items() if k != "region"}
            for row in CUSTOMER_ROWS
            if row["region"] == region
        ]
        folder = crm / "customers" / f"region={region}"
        folder.mkdir(parents=True, exist_ok=True)
        data = pa.Table.from_pylist(rows, schema=CUSTOMER_SCHEMA)
        pq.write_table(data, folder / "part-0.parquet")
    (crm / "customers" / "_SUCCESS").write_text("")
    (crm / "orders").mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.Table.from_pylist(ORDER_ROWS, schema=ORDER_SCHEMA), crm / "orders" / "part-0.parquet"
    )
    (crm / "stores").mkdir(parents=True, exist_ok=True)
    pa_csv.write_csv(pa.Table.from_pylist(STORE_ROWS), crm / "stores" / "stores.csv")
    return crm


def raw_table(root: Path, table: str) -> pa.Table:
    """A table read straight from its files with pyarrow (hive partitions as columns)."""
    folder = root.joinpath(*table.split("."))
    if table == STORES:
        return pa_csv.read_csv(folder / "stores.csv")
    dataset = ds.dataset(
        folder,
        format="parquet",
        partitioning="hive",
        exclude_invalid_files=True,
        ignore_prefixes=["_", "."],
    )
    return dataset.to_table()


# -- policies, through the governance services ------------------------------------------------


def grant_on(
    session: Session,
    actor: Actor,
    *,
    grantee: str,
    table: str,
    permissions: Iterable[str] = ("SELECT",),
    columns: list[str] | None = None,
    data_filter: str | None = None,
) -> None:
    """A named grant on a table, optionally restricted to columns or through a data filter."""
    request = GrantRequest(
        permissions=frozenset(Permission(p) for p in permissions),
        on=table,
        columns=tuple(columns) if columns is not None else None,
        filter=data_filter,
    )
    grants.grant(session, actor=actor, grantee=grantee, request=request)


def grant_on_tags(
    session: Session,
    actor: Actor,
    *,
    grantee: str,
    expression: str,
    permissions: Iterable[str] = ("SELECT", "DESCRIBE"),
) -> None:
    """A tag grant on tables matching ``expression``."""
    request = GrantRequest(
        permissions=frozenset(Permission(p) for p in permissions), on_tags=expression
    )
    grants.grant(session, actor=actor, grantee=grantee, request=request)


# -- the mesh --------------------------------------------------------------------------------


@dataclass
class GovernedMesh:
    """A hub with the sales tables, the cast of principals and their grants."""

    hub: Hub
    admin: Actor
    root: Path

    def actor(self, ref: str) -> Actor:
        with self.hub.read() as session:
            return load_actor(session, principals.get_principal(session, ref))

    def token(self, ref: str) -> str:
        with self.hub.transaction() as session:
            return tokens.create_token(session, actor=self.admin, principal=ref).token

    def raw(self, table: str) -> pa.Table:
        return raw_table(self.root, table)


def _people(session: Session, admin: Actor) -> None:
    domains.create_domain(session, actor=admin, name="sales", producer=True, admins=[SAM])
    domains.create_domain(session, actor=admin, name="marketing", consumer=True)
    create_attribute_key(session, actor=admin, key="region", values=list(REGIONS))
    for ref, attributes in (
        (MIA, {}),
        (BOB, {}),
        (EMMA, {"region": "EU"}),
        (ULF, {"region": "US"}),
        (CARL, {}),
        (UNA, {}),
        (CORA, {}),
        (NOBODY, {}),
        ("group:analysts@marketing", {}),
        ("group:regional_managers@sales", {}),
    ):
        principals.create_principal(session, actor=admin, principal=ref, attributes=attributes)
    principals.add_member(session, actor=admin, group="group:analysts@marketing", member=MIA)
    for manager in (EMMA, ULF):
        principals.add_member(
            session, actor=admin, group="group:regional_managers@sales", member=manager
        )


def _policies(session: Session, admin: Actor) -> None:
    tags.create_tag(session, actor=admin, key="sensitivity", values=["public", "internal", "pii"])
    tags.create_tag(session, actor=admin, key="pii_kind", values=["email", "phone"])
    for table in (CUSTOMERS, ORDERS, STORES):
        tag_assignments.assign_tags(
            session, actor=admin, resource=table, tags={"sensitivity": "internal"}
        )
    for column in ("email", "phone"):
        tag_assignments.assign_tags(
            session,
            actor=admin,
            resource=f"{CUSTOMERS}.{column}",
            tags={"sensitivity": "pii", "pii_kind": column},
        )
    masks.create_mask(
        session,
        actor=admin,
        name="email_domain_only",
        tag_expression="pii_kind=email",
        function="email_domain",
    )
    masks.create_mask(
        session, actor=admin, name="phone_last4", tag_expression="pii_kind=phone", function="last4"
    )
    grant_on_tags(
        session, admin, grantee="group:analysts@marketing", expression="sensitivity=public|internal"
    )
    grant_on(
        session, admin, grantee=BOB, table=CUSTOMERS, columns=["customer_id", "name", "region"]
    )
    grant_on(session, admin, grantee=BOB, table=ORDERS)
    filters.create_filter(
        session,
        actor=admin,
        name="own_region",
        table=ORDERS,
        rows="region = principal_attribute('region')",
    )
    managers = "group:regional_managers@sales"
    grant_on(session, admin, grantee=managers, table=ORDERS, data_filter="own_region")
    grant_on(session, admin, grantee=managers, table=STORES)
    grant_on(session, admin, grantee=CARL, table=CUSTOMERS)
    grant_on(session, admin, grantee=UNA, table=CUSTOMERS)
    grant_on(
        session, admin, grantee=UNA, table=CUSTOMERS, permissions=("UNMASK",), columns=["email"]
    )
    grant_on(
        session, admin, grantee=CORA, table=CUSTOMERS, columns=["customer_id", "name", "region"]
    )
    filters.create_filter(
        session,
        actor=admin,
        name="eu_contacts",
        table=CUSTOMERS,
        rows="region = 'EU'",
        columns=["customer_id", "email"],
    )
    grant_on(session, admin, grantee=CORA, table=CUSTOMERS, data_filter="eu_contacts")


def build_governed_mesh(
    env: HubEnv, root: Path, *, publish: Callable[[Path], str] | None = None
) -> GovernedMesh:
    """The sales tables crawled into ``env``'s hub, with the principals and grants above.

    The files are written under ``root``; ``publish`` copies the folder ``root/sales`` elsewhere
    (an S3 bucket) and returns its URI, which is then registered and crawled instead.
    """
    admin = env.admin
    write_sales_files(root)
    location = publish(root / "sales") if publish is not None else str(root / "sales")
    with env.hub.transaction() as session:
        _people(session, admin)
        locations.register_location(session, actor=admin, uri=location, domain="sales")
    crm = location.rstrip("/") + "/crm"
    crawler.crawl(env.hub, actor=admin, uri=crm, domain="sales", database="crm")
    with env.hub.transaction() as session:
        _policies(session, admin)
    return GovernedMesh(env.hub, admin, root)
