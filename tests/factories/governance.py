"""A small governed mesh for governance tests: sales owns customers; marketing consumes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from lakemesh import clock
from lakemesh.catalog import databases, domains, locations, tables
from lakemesh.catalog.columns import ColumnSpec
from lakemesh.identity import principals
from lakemesh.identity.actors import load_actor
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName
from lakemesh.store.schema import TagKey, TagValue
from tests.conftest import HubEnv

CUSTOMERS = ResourceName("sales", "crm", "customers")
CUSTOMER_COLUMNS = ("customer_id", "name", "email", "phone", "region")


@dataclass
class Mesh:
    env: HubEnv
    sam: Actor  # admin of sales
    maria: Actor  # admin of marketing
    mia: Actor  # marketing analyst, in group:analysts@marketing

    def actor(self, ref: str) -> Actor:
        with self.env.hub.transaction() as session:
            return load_actor(session, principals.get_principal(session, ref))


def add_tag_key(session: Session, key: str, values: tuple[str, ...]) -> None:
    """Tag keys straight into the store (the tag service is tested on its own)."""
    row = TagKey(key=key, description="", created_at=clock.now())
    row.values = [TagValue(value=v) for v in values]
    session.add(row)
    session.flush()


def build_mesh(env: HubEnv, tmp_path: Path) -> Mesh:
    admin = env.admin
    with env.hub.transaction() as session:
        domains.create_domain(
            session, actor=admin, name="sales", producer=True, admins=["user:sam@sales"]
        )
        domains.create_domain(
            session, actor=admin, name="marketing", consumer=True, admins=["user:maria@marketing"]
        )
        principals.create_principal(session, actor=admin, principal="user:mia@marketing")
        principals.create_principal(session, actor=admin, principal="group:analysts@marketing")
        principals.add_member(
            session, actor=admin, group="group:analysts@marketing", member="user:mia@marketing"
        )
        locations.register_location(
            session, actor=admin, uri=str(tmp_path / "sales"), domain="sales"
        )
        databases.create_database(session, actor=admin, domain="sales", name="crm")
        tables.create_table(
            session,
            actor=admin,
            name=CUSTOMERS,
            location=str(tmp_path / "sales" / "customers"),
            format="parquet",
            columns=[ColumnSpec(c, "VARCHAR") for c in CUSTOMER_COLUMNS],
        )
        add_tag_key(session, "sensitivity", ("public", "internal", "pii"))
    mesh = Mesh(env, admin, admin, admin)
    return Mesh(
        env,
        mesh.actor("user:sam@sales"),
        mesh.actor("user:maria@marketing"),
        mesh.actor("user:mia@marketing"),
    )
