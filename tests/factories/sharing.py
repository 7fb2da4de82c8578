"""The sharing mesh: a governed mesh for the sharing tests, over real Parquet files.

sales (admin sam) produces ``sales.crm.customers`` (email and phone tagged ``sensitivity=pii``,
the rest ``public`` through the database) and ``sales.crm.orders``; marketing (admin maria) has the
analyst mia (in ``group:analysts@marketing``) and max; finance (admin fiona) consumes too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.authz import decisions
from lakemesh.catalog import crawler, domains, locations
from lakemesh.governance import grants, tag_assignments, tags
from lakemesh.governance.grants import GrantRequest
from lakemesh.identity import principals
from lakemesh.identity.actors import load_actor
from lakemesh.model.actors import Actor
from lakemesh.model.names import parse_resource
from lakemesh.model.permissions import Permission, parse_permissions
from lakemesh.store.schema import AuditEvent, Grant
from tests.conftest import HubEnv
from tests.factories.lake import Lake

SAM, MARIA, MIA, MAX, FIONA = (
    "user:sam@sales",
    "user:maria@marketing",
    "user:mia@marketing",
    "user:max@marketing",
    "user:fiona@finance",
)
ANALYSTS = "group:analysts@marketing"
CUSTOMERS, ORDERS = "sales.crm.customers", "sales.crm.orders"
CUSTOMER_COLUMNS = ("customer_id", "name", "email", "phone", "region")


def write_sales_lake(lake: Lake) -> None:
    """``crm/customers`` and ``crm/orders`` as Parquet under ``lake/sales``."""
    lake.parquet(
        "sales/crm/customers/part-0.parquet",
        {
            "customer_id": [1, 2, 3, 4],
            "name": ["Ada", "Bo", "Cy", "Di"],
            "email": ["ada@x.org", "bo@x.org", "cy@x.org", "di@x.org"],
            "phone": ["+1-1", "+1-2", "+1-3", "+1-4"],
            "region": ["EU", "US", "EU", "APAC"],
        },
    )
    lake.parquet(
        "sales/crm/orders/part-0.parquet",
        {"order_id": [10, 11, 12], "customer_id": [1, 1, 3], "amount": [9.5, 20.0, 3.25]},
    )


@dataclass
class SharingMesh:
    """The mesh, its lake, and shorthands for acting as its people."""

    env: HubEnv
    lake: Lake

    @property
    def admin(self) -> Actor:
        return self.env.admin

    def actor(self, ref: str) -> Actor:
        with self.env.hub.read() as session:
            return load_actor(session, principals.get_principal(session, ref))

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self.env.hub.transaction() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self.env.hub.read() as session:
            yield session

    def grant(self, actor_ref: str, grantee: str, perms: str, **target: object) -> Grant:
        request = GrantRequest(permissions=parse_permissions(perms), **target)  # type: ignore[arg-type]
        with self.transaction() as session:
            return grants.grant(
                session, actor=self.actor(actor_ref), grantee=grantee, request=request
            )

    def columns(self, ref: str, table: str = CUSTOMERS) -> tuple[str, ...]:
        """The columns ``ref`` may SELECT of ``table`` (empty when denied)."""
        with self.read() as session:
            decision = decisions.decide(
                session,
                actor=self.actor(ref),
                permission=Permission.SELECT,
                resource=parse_resource(table),
            )
        return decision.columns if decision.allowed else ()

    def events(self, action: str) -> list[AuditEvent]:
        with self.read() as session:
            return list(
                session.execute(
                    select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
                ).scalars()
            )


def build_sharing_mesh(env: HubEnv, lake: Lake) -> SharingMesh:
    admin = env.admin
    write_sales_lake(lake)
    with env.hub.transaction() as session:
        domains.create_domain(session, actor=admin, name="sales", producer=True, admins=[SAM])
        domains.create_domain(session, actor=admin, name="marketing", consumer=True, admins=[MARIA])
        domains.create_domain(session, actor=admin, name="finance", consumer=True, admins=[FIONA])
        for ref in (MIA, MAX, ANALYSTS):
            principals.create_principal(session, actor=admin, principal=ref)
        principals.add_member(session, actor=admin, group=ANALYSTS, member=MIA)
        locations.register_location(session, actor=admin, uri=lake.uri_of("sales"), domain="sales")
        tags.create_tag(
            session, actor=admin, key="sensitivity", values=["public", "internal", "pii"]
        )
    crawler.crawl(
        env.hub, actor=admin, uri=lake.uri_of("sales/crm"), domain="sales", database="crm"
    )
    with env.hub.transaction() as session:
        tag_assignments.assign_tags(
            session, actor=admin, resource="sales.crm", tags={"sensitivity": "public"}
        )
        for column in ("email", "phone"):
            tag_assignments.assign_tags(
                session, actor=admin, resource=f"{CUSTOMERS}.{column}", tags={"sensitivity": "pii"}
            )
    return SharingMesh(env, lake)
