"""The one factory of governed meshes for the query service tests: real files, real grants.

``build_governed_mesh`` writes the ``sales.crm`` tables (Parquet customers partitioned by region,
Parquet orders, CSV stores), crawls them into a hub and sets up tags, masks, data filters and
grants for a cast of principals. Grants are written straight into the store (with the policy
version bumped) until the grant service lands.

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

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import clock
from lakemesh.catalog import crawler, domains, locations
from lakemesh.catalog.tables import get_table_row
from lakemesh.hub import Hub
from lakemesh.identity import principals, tokens
from lakemesh.identity.actors import Actor, load_actor
from lakemesh.model.names import parse_resource
from lakemesh.store.schema import (
    Column,
    DataFilterRow,
    Grant,
    MaskRule,
    TagAssignment,
    TagKey,
    TagValue,
)
from lakemesh.store.versions import mark_policy_changed
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


# -- store rows: tags, masks, filters, grants -------------------------------------------------


def _table_id(session: Session, table: str) -> int:
    return get_table_row(session, parse_resource(table, level="table")).id


def _column_id(session: Session, column: str) -> int:
    name = parse_resource(column, level="column")
    table_id = _table_id(session, str(name.table_name))
    found = session.execute(
        select(Column.id).where(Column.table_id == table_id, Column.name == name.column)
    ).scalar()
    assert found is not None, column
    return found


def add_tag_key(session: Session, key: str, values: Iterable[str]) -> None:
    row = TagKey(key=key, description="", created_at=clock.now())
    row.values = [TagValue(value=value) for value in values]
    session.add(row)
    session.flush()
    mark_policy_changed(session)


def assign_tag(session: Session, resource: str, key: str, value: str) -> None:
    """Tag a table (``d.db.t``) or a column (``d.db.t.c``)."""
    key_row = session.execute(select(TagKey).where(TagKey.key == key)).scalar_one()
    value_row = next(v for v in key_row.values if v.value == value)
    name = parse_resource(resource)
    assignment = TagAssignment(key_id=key_row.id, value_id=value_row.id)
    if name.level == "column":
        assignment.column_id = _column_id(session, resource)
    else:
        assignment.table_id = _table_id(session, resource)
    session.add(assignment)
    session.flush()
    mark_policy_changed(session)


def add_mask(session: Session, name: str, expression: str, function: str) -> None:
    session.add(
        MaskRule(
            name=name,
            tag_expression=expression,
            function=function,
            created_by=ADMIN,
            created_at=clock.now(),
        )
    )
    session.flush()
    mark_policy_changed(session)


def create_filter(
    session: Session,
    *,
    table: str,
    name: str,
    predicate: str | None,
    columns: list[str] | None = None,
    excluded: list[str] | None = None,
) -> DataFilterRow:
    now = clock.now()
    row = DataFilterRow(
        table_id=_table_id(session, table),
        name=name,
        predicate=predicate,
        columns=columns,
        excluded_columns=excluded or [],
        created_by=ADMIN,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    mark_policy_changed(session)
    return row


def _grant(session: Session, grantee: str, permissions: Iterable[str], **target: Any) -> Grant:
    row = Grant(
        grantee_id=principals.get_principal(session, grantee).id,
        permissions=list(permissions),
        with_grant_option=False,
        excluded_columns=target.pop("excluded_columns", None) or [],
        granted_by=ADMIN,
        created_at=clock.now(),
        **target,
    )
    session.add(row)
    session.flush()
    mark_policy_changed(session)
    return row


def grant_on(
    session: Session,
    *,
    grantee: str,
    table: str,
    permissions: Iterable[str] = ("SELECT",),
    columns: list[str] | None = None,
    excluded: list[str] | None = None,
) -> Grant:
    """A named grant on a table, optionally restricted to columns."""
    return _grant(
        session,
        grantee,
        permissions,
        target_kind="resource",
        table_id=_table_id(session, table),
        columns=columns,
        excluded_columns=excluded,
    )


def grant_on_tags(
    session: Session,
    *,
    grantee: str,
    expression: str,
    permissions: Iterable[str] = ("SELECT", "DESCRIBE"),
) -> Grant:
    """A tag grant on tables matching ``expression``."""
    return _grant(
        session,
        grantee,
        permissions,
        target_kind="tag",
        tag_expression=expression,
        tag_resource_type="table",
    )


def grant_filter(session: Session, *, grantee: str, data_filter: DataFilterRow) -> Grant:
    """SELECT through a data filter."""
    return _grant(
        session,
        grantee,
        ("SELECT",),
        target_kind="filter",
        filter_id=data_filter.id,
        table_id=data_filter.table_id,
    )


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


def _policies(session: Session) -> None:
    add_tag_key(session, "sensitivity", ("public", "internal", "pii"))
    add_tag_key(session, "pii_kind", ("email", "phone"))
    for table in (CUSTOMERS, ORDERS, STORES):
        assign_tag(session, table, "sensitivity", "internal")
    for column, kind in (("email", "email"), ("phone", "phone")):
        assign_tag(session, f"{CUSTOMERS}.{column}", "sensitivity", "pii")
        assign_tag(session, f"{CUSTOMERS}.{column}", "pii_kind", kind)
    add_mask(session, "email_domain_only", "pii_kind=email", "email_domain")
    add_mask(session, "phone_last4", "pii_kind=phone", "last4")
    grant_on_tags(
        session, grantee="group:analysts@marketing", expression="sensitivity=public|internal"
    )
    grant_on(session, grantee=BOB, table=CUSTOMERS, columns=["customer_id", "name", "region"])
    grant_on(session, grantee=BOB, table=ORDERS)
    own_region = create_filter(
        session, table=ORDERS, name="own_region", predicate="region = principal_attribute('region')"
    )
    grant_filter(session, grantee="group:regional_managers@sales", data_filter=own_region)
    grant_on(session, grantee="group:regional_managers@sales", table=STORES)
    grant_on(session, grantee=CARL, table=CUSTOMERS)
    grant_on(session, grantee=UNA, table=CUSTOMERS)
    grant_on(session, grantee=UNA, table=CUSTOMERS, permissions=("UNMASK",), columns=["email"])
    grant_on(session, grantee=CORA, table=CUSTOMERS, columns=["customer_id", "name", "region"])
    eu_contacts = create_filter(
        session,
        table=CUSTOMERS,
        name="eu_contacts",
        predicate="region = 'EU'",
        columns=["customer_id", "email"],
    )
    grant_filter(session, grantee=CORA, data_filter=eu_contacts)


def build_governed_mesh(env: HubEnv, root: Path) -> GovernedMesh:
    """The sales tables crawled into ``env``'s hub, with the principals and grants above."""
    admin = env.admin
    crm = write_sales_files(root)
    with env.hub.transaction() as session:
        _people(session, admin)
        locations.register_location(session, actor=admin, uri=str(root / "sales"), domain="sales")
    crawler.crawl(env.hub, actor=admin, uri=str(crm), domain="sales", database="crm")
    with env.hub.transaction() as session:
        _policies(session)
    return GovernedMesh(env.hub, admin, root)
