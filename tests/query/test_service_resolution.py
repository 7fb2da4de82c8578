"""How the service finds a table's files: only data files under its location, of its format."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakemesh import audit
from lakemesh.catalog import domains, tables
from lakemesh.catalog.columns import ColumnSpec
from lakemesh.errors import AccessDeniedError
from lakemesh.governance import grants
from lakemesh.governance.grant_targets import GrantRequest
from lakemesh.model.names import parse_resource
from lakemesh.model.permissions import Permission
from lakemesh.query import service
from lakemesh.sharing import links, shares
from tests.conftest import HubEnv, make_hub_env
from tests.factories.query import (
    CUSTOMER_ROWS,
    CUSTOMERS,
    MIA,
    NOBODY,
    ORDERS,
    SAM,
    GovernedMesh,
    build_governed_mesh,
)


@pytest.fixture
def mesh(tmp_path: Path) -> Iterator[GovernedMesh]:
    env: HubEnv = make_hub_env(tmp_path / "home")
    yield build_governed_mesh(env, tmp_path / "lake")
    env.hub.close()


def register(mesh: GovernedMesh, name: str, location: str, format: str = "parquet") -> None:
    with mesh.hub.transaction() as session:
        tables.create_table(
            session,
            actor=mesh.admin,
            name=parse_resource(name),
            location=location,
            format=format,
            columns=[ColumnSpec("customer_id", "BIGINT")],
        )


def count(mesh: GovernedMesh, table: str) -> int:
    outcome = service.run(mesh.hub, actor=mesh.actor(SAM), sql=f"SELECT count(*) AS n FROM {table}")
    return int(outcome.result.table.to_pylist()[0]["n"])


def test_hidden_files_and_other_formats_are_skipped(mesh: GovernedMesh) -> None:
    folder = mesh.root / "sales" / "crm" / "customers" / "region=EU"
    extra = pa.table({"customer_id": [99]})
    pq.write_table(extra, folder / "_staging.parquet")
    pq.write_table(extra, folder / ".in-progress.parquet")
    (folder / "notes.txt").write_text("not data")
    assert count(mesh, CUSTOMERS) == len(CUSTOMER_ROWS)


def test_files_linked_from_outside_the_location_are_not_read(mesh: GovernedMesh) -> None:
    outside = mesh.root / "elsewhere.parquet"
    pq.write_table(pa.table({"customer_id": [1000], "name": ["stolen"]}), outside)
    link = mesh.root / "sales" / "crm" / "customers" / "region=EU" / "linked.parquet"
    os.symlink(outside, link)
    assert count(mesh, CUSTOMERS) == len(CUSTOMER_ROWS)


def test_a_location_without_files_yet_is_an_empty_table(mesh: GovernedMesh) -> None:
    register(mesh, "sales.crm.upcoming", str(mesh.root / "sales" / "crm" / "upcoming"))
    assert count(mesh, "sales.crm.upcoming") == 0


def test_an_open_table_without_metadata_yet_is_an_empty_table(mesh: GovernedMesh) -> None:
    # Iceberg and Delta are read by the gateway now; a table registered before its first commit
    # reads as empty, like a location without files yet.
    register(mesh, "sales.crm.lakehouse", str(mesh.root / "sales" / "ice"), format="iceberg")
    assert count(mesh, "sales.crm.lakehouse") == 0


MARIA = "user:maria@marketing"
LINK = "marketing.shared_sales.orders"


def test_a_resource_link_reads_the_shared_table(mesh: GovernedMesh) -> None:
    with mesh.hub.transaction() as session:
        domains.add_admin(session, actor=mesh.admin, domain="marketing", principal=MARIA)
    request = GrantRequest(permissions=frozenset({Permission.SELECT}), on=ORDERS)
    with mesh.hub.transaction() as session:
        share = grants.grant(
            session, actor=mesh.actor(SAM), grantee="domain:marketing", request=request
        )
    with mesh.hub.transaction() as session:
        shares.accept_share(session, actor=mesh.actor(MARIA), share_id=share.id)
    with mesh.hub.transaction() as session:
        links.create_link(session, actor=mesh.actor(MARIA), name=LINK, target=ORDERS)
    maria = mesh.actor(MARIA)
    for name in (LINK, "shared_sales.orders"):
        outcome = service.run(mesh.hub, actor=maria, sql=f"SELECT count(*) AS n FROM {name}")
        assert outcome.result.table.to_pylist() == [{"n": mesh.raw(ORDERS).num_rows}]
    with mesh.hub.read() as session:
        reads = audit.search(session, reader=mesh.admin, action="query.read", actor=MARIA)
    assert {event.resource for event in reads} == {ORDERS}
    # Mia may read the orders (her analysts' tag grant): she uses her domain's link to them
    # without DESCRIBE on it; nobody@marketing, who may not read them, still may not.
    mine = service.run(mesh.hub, actor=mesh.actor(MIA), sql=f"SELECT count(*) AS n FROM {LINK}")
    assert mine.result.table.to_pylist() == [{"n": mesh.raw(ORDERS).num_rows}]
    with pytest.raises(AccessDeniedError, match=f"{NOBODY} lacks DESCRIBE on {LINK}"):
        service.run(mesh.hub, actor=mesh.actor(NOBODY), sql=f"SELECT * FROM {LINK}")
