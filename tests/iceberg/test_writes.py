"""Producers write through the Iceberg REST catalog with pyiceberg's RestCatalog: create a table,
append to it, evolve its schema, lose a race (409) and drop it; the catalog and the gateway see
every commit at once, and every commit is audited.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyarrow as pa
import pytest
from pyiceberg.catalog.rest import RestCatalog
from pyiceberg.exceptions import (
    CommitFailedException,
    ForbiddenError,
    NoSuchNamespaceError,
    NoSuchTableError,
)
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField, StringType

from lakemesh.api.routes.tables import table_public
from lakemesh.api.server import serve_in_background
from lakemesh.audit.search import search
from lakemesh.catalog import databases, domains, locations, tables
from lakemesh.governance import grants
from lakemesh.governance.grants import GrantRequest
from lakemesh.hub import Hub
from lakemesh.identity import principals, tokens
from lakemesh.identity.actors import load_actor
from lakemesh.model.names import parse_resource
from lakemesh.model.permissions import Permission
from lakemesh.query import service
from tests.conftest import make_hub_env
from tests.factories.query import grant_on

SAM = "user:sam@sales"  # admin of sales: creates, alters and drops
ETL = "service:etl@sales"  # INSERT on sales.shop.items: appends only
RITA = "user:rita@sales"  # DESCRIBE on the namespace only
CARL = "service:loader@sales"  # DESCRIBE and CREATE_TABLE on the namespace: creates its own tables
LENA = "user:lena@sales"  # CREATE_TABLE and DATA_LOCATION_ACCESS on the lake: tables anywhere in it
OTTO = "user:otto@sales"  # nothing: the namespace does not exist for it
SCHEMA = Schema(
    NestedField(1, "id", LongType(), required=False),
    NestedField(2, "name", StringType(), required=False),
)
ROWS = pa.table({"id": pa.array([1, 2], pa.int64()), "name": ["a", "b"]})


@dataclass
class Served:
    hub: Hub
    url: str
    tokens: dict[str, str]
    lake: Path

    def catalog(self, principal: str) -> RestCatalog:
        return RestCatalog(
            principal, uri=f"{self.url}/iceberg", warehouse="sales", token=self.tokens[principal]
        )

    def show(self, name: str) -> dict[str, object]:
        with self.hub.read() as session:
            row = tables.get_table_row(session, parse_resource(name))
            return table_public(session, row).model_dump(mode="json", by_alias=True)

    def query(self, sql: str, principal: str = SAM) -> list[dict[str, object]]:
        with self.hub.read() as session:
            actor = load_actor(session, principals.get_principal(session, principal))
        return service.run(self.hub, actor=actor, sql=sql).result.table.to_pylist()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("writes")
    lake = root / "lake"
    lake.mkdir()
    env = make_hub_env(root / "home")
    with env.hub.transaction() as session:
        domains.create_domain(session, actor=env.admin, name="sales", producer=True, admins=[SAM])
        for ref in (ETL, RITA, CARL, LENA, OTTO):
            principals.create_principal(session, actor=env.admin, principal=ref)
        locations.register_location(session, actor=env.admin, uri=str(lake), domain="sales")
        issued = {
            ref: tokens.create_token(session, actor=env.admin, principal=ref).token
            for ref in (SAM, ETL, RITA, CARL, LENA, OTTO)
        }
    with env.hub.transaction() as session:
        databases.create_database(session, actor=env.admin, domain="sales", name="shop")
    with env.hub.transaction() as session:
        grant_on(session, env.admin, grantee=RITA, table="sales.shop", permissions=["DESCRIBE"])
        for creator in (CARL, LENA):
            grant_on(
                session,
                env.admin,
                grantee=creator,
                table="sales.shop",
                permissions=["DESCRIBE", "CREATE_TABLE"],
            )
        request = GrantRequest(
            permissions=frozenset({Permission.DATA_LOCATION_ACCESS}), location=str(lake)
        )
        grants.grant(session, actor=env.admin, grantee=LENA, request=request)
    with serve_in_background(env.hub) as url:
        yield Served(env.hub, url, issued, lake)
    env.hub.close()


def test_create_append_evolve_and_query(served: Served) -> None:
    catalog = served.catalog(SAM)
    table = catalog.create_table("shop.items", schema=SCHEMA)
    assert table.location() == f"file://{served.lake}/shop/items"
    shown = served.show("sales.shop.items")
    assert (shown["format"], shown["snapshots"]) == ("iceberg", [])
    table.append(ROWS)
    shown = served.show("sales.shop.items")
    assert len(shown["snapshots"]) == 1  # type: ignore[arg-type]
    assert served.query("SELECT id, name FROM sales.shop.items ORDER BY id") == ROWS.to_pylist()
    with table.update_schema() as update:
        update.add_column("note", StringType())
    shown = served.show("sales.shop.items")
    assert shown["schema_version"] == 2
    assert [c["name"] for c in shown["columns"]] == ["id", "name", "note"]  # type: ignore[attr-defined]
    # Another client sees the new state at once.
    assert len(served.catalog(SAM).load_table("shop.items").schema().fields) == 3


def test_a_commit_on_a_stale_base_gets_409(served: Served) -> None:
    catalog = served.catalog(SAM)
    catalog.create_table("shop.race", schema=SCHEMA)
    first = catalog.load_table("shop.race")
    second = catalog.load_table("shop.race")
    first.append(ROWS)
    second.append(ROWS)  # its base is stale: 409, and pyiceberg retries on the new metadata
    assert served.query("SELECT count(*) AS n FROM sales.shop.race") == [{"n": 4}]
    stale = {
        "requirements": [{"type": "assert-ref-snapshot-id", "ref": "main", "snapshot-id": None}],
        "updates": [{"action": "set-properties", "updates": {"owner": "sam"}}],
    }
    response = httpx.post(
        f"{served.url}/iceberg/v1/sales/namespaces/shop/tables/race",
        json=stale,
        headers={"Authorization": f"Bearer {served.tokens[SAM]}"},
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["type"] == "CommitFailedException"
    assert "the table changed since it was loaded" in error["message"]


def test_inserting_needs_insert_and_altering_alter(served: Served) -> None:
    served.catalog(SAM).create_table("shop.feed", schema=SCHEMA)
    with served.hub.transaction() as session:
        admin = load_actor(session, principals.get_principal(session, "user:admin@governance"))
        grant_on(
            session, admin, grantee=ETL, table="sales.shop.feed", permissions=["DESCRIBE", "INSERT"]
        )
    table = served.catalog(ETL).load_table("shop.feed")
    table.append(ROWS)  # INSERT is enough to add a snapshot
    with (
        pytest.raises(ForbiddenError, match=f"{ETL} lacks ALTER on sales.shop.feed"),
        table.update_schema() as update,
    ):
        update.add_column("extra", StringType())
    with pytest.raises(ForbiddenError):
        served.catalog(ETL).create_table("shop.mine", schema=SCHEMA)
    with served.hub.read() as session:
        admin = load_actor(session, principals.get_principal(session, "user:admin@governance"))
        commits = search(session, reader=admin, action="table.commit", resource="sales.shop.feed")
        assert [event.actor for event in commits if event.outcome == "success"] == [ETL]


def test_drop_removes_the_table_from_the_catalog(served: Served) -> None:
    catalog = served.catalog(SAM)
    catalog.create_table("shop.gone", schema=SCHEMA)
    catalog.drop_table("shop.gone")
    with pytest.raises(NoSuchTableError):
        catalog.load_table("shop.gone")
    assert (served.lake / "shop" / "gone" / "metadata").is_dir()  # the files stay


def admin_grant(served: Served, grantee: str, table: str, permissions: list[str]) -> None:
    with served.hub.transaction() as session:
        admin = load_actor(session, principals.get_principal(session, "user:admin@governance"))
        grant_on(session, admin, grantee=grantee, table=table, permissions=permissions)


def test_a_create_table_grant_lets_a_principal_create_and_own_its_table(served: Served) -> None:
    catalog = served.catalog(CARL)
    table = catalog.create_table("shop.loaded", schema=SCHEMA)
    assert table.location() == f"file://{served.lake}/shop/loaded"
    # Its creator holds ALL on it: it appends, evolves the schema, reads, and drops it.
    table.append(ROWS)
    with table.update_schema() as update:
        update.add_column("note", StringType())
    assert served.query("SELECT id FROM sales.shop.loaded ORDER BY id", CARL) == [
        {"id": 1},
        {"id": 2},
    ]
    with served.hub.read() as session:
        admin = load_actor(session, principals.get_principal(session, "user:admin@governance"))
        created = search(session, reader=admin, action="table.create", resource="sales.shop.loaded")
        assert [event.actor for event in created] == [CARL]
        owned = search(session, reader=admin, action="grant.create", resource="sales.shop.loaded")
        assert [(event.actor, event.details["grantee"]) for event in owned] == [
            ("service:lakemesh@governance", CARL)
        ]
    catalog.drop_table("shop.loaded")
    with pytest.raises(NoSuchTableError):
        served.catalog(SAM).load_table("shop.loaded")


def test_creating_is_refused_with_the_reason(served: Served) -> None:
    with pytest.raises(ForbiddenError, match=f"{RITA} lacks CREATE_TABLE on sales.shop"):
        served.catalog(RITA).create_table("shop.nope", schema=SCHEMA)
    with pytest.raises(NoSuchNamespaceError, match="Namespace does not exist: sales.shop"):
        served.catalog(OTTO).create_table("shop.nope", schema=SCHEMA)
    elsewhere = f"file://{served.lake}/elsewhere/nope"
    with pytest.raises(
        ForbiddenError,
        match=f"{CARL} lacks DATA_LOCATION_ACCESS on file://{served.lake}: without it, table "
        "sales.shop.nope may lie only at its default location",
    ):
        served.catalog(CARL).create_table("shop.nope", schema=SCHEMA, location=elsewhere)
    assert not (served.lake / "elsewhere").exists()


def test_location_access_allows_any_free_location_in_the_location(served: Served) -> None:
    served.catalog(SAM).create_table("shop.taken", schema=SCHEMA)
    catalog = served.catalog(LENA)
    table = catalog.create_table(
        "shop.placed", schema=SCHEMA, location=f"file://{served.lake}/placed"
    )
    assert table.location() == f"file://{served.lake}/placed"
    # Another table's files are never a new table's (named when LENA may DESCRIBE it).
    for where in (f"{served.lake}/shop/taken", f"{served.lake}/shop/taken/inner", str(served.lake)):
        with pytest.raises(
            ForbiddenError,
            match=f"Table sales.shop.stolen may not lie at file://{where}: the files of table "
            "sales.shop.[a-z]+ are there",
        ):
            catalog.create_table("shop.stolen", schema=SCHEMA, location=f"file://{where}")


def test_alter_and_drop_grants_are_honoured(served: Served) -> None:
    served.catalog(SAM).create_table("shop.shared", schema=SCHEMA)
    admin_grant(served, RITA, "sales.shop.shared", ["DESCRIBE", "ALTER"])
    table = served.catalog(RITA).load_table("shop.shared")
    with table.update_schema() as update:
        update.add_column("extra", StringType())
    assert served.show("sales.shop.shared")["schema_version"] == 2
    with pytest.raises(ForbiddenError, match=f"{RITA} lacks DROP on sales.shop.shared"):
        served.catalog(RITA).drop_table("shop.shared")
    with pytest.raises(NoSuchTableError):  # OTTO may not DESCRIBE it: it does not exist
        served.catalog(OTTO).drop_table("shop.shared")
    admin_grant(served, RITA, "sales.shop.shared", ["DROP"])
    served.catalog(RITA).drop_table("shop.shared")
    with pytest.raises(NoSuchTableError):
        served.catalog(SAM).load_table("shop.shared")


def test_a_staged_create_registers_the_table_at_its_commit(served: Served) -> None:
    catalog = served.catalog(CARL)
    transaction = catalog.create_table_transaction("shop.staged", schema=SCHEMA)
    transaction.append(ROWS)
    with pytest.raises(NoSuchTableError):  # nothing is registered before the commit
        served.catalog(SAM).load_table("shop.staged")
    transaction.commit_transaction()
    shown = served.show("sales.shop.staged")
    assert len(shown["snapshots"]) == 1  # type: ignore[arg-type]
    assert served.query("SELECT count(*) AS n FROM sales.shop.staged", CARL) == [{"n": 2}]
    # A second staged create of the same name fails at its commit: the table exists.
    again = catalog.create_table_transaction("shop.staged2", schema=SCHEMA)
    served.catalog(CARL).create_table("shop.staged2", schema=SCHEMA)
    with pytest.raises(CommitFailedException, match="Table already exists"):
        again.commit_transaction()
