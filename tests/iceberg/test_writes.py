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
from pyiceberg.exceptions import ForbiddenError, NoSuchTableError
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField, StringType

from lakemesh.api.server import serve_in_background
from lakemesh.audit.search import search
from lakemesh.catalog import databases, domains, locations, tables
from lakemesh.hub import Hub
from lakemesh.identity import principals, tokens
from lakemesh.identity.actors import load_actor
from lakemesh.model.names import parse_resource
from lakemesh.query import service
from tests.conftest import make_hub_env
from tests.factories.query import grant_on

SAM = "user:sam@sales"  # admin of sales: creates, alters and drops
ETL = "service:etl@sales"  # INSERT on sales.shop.items: appends only
RITA = "user:rita@sales"  # DESCRIBE on the namespace only
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
            return tables.describe_table(tables.get_table_row(session, parse_resource(name)))

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
        for ref in (ETL, RITA):
            principals.create_principal(session, actor=env.admin, principal=ref)
        locations.register_location(session, actor=env.admin, uri=str(lake), domain="sales")
        issued = {
            ref: tokens.create_token(session, actor=env.admin, principal=ref).token
            for ref in (SAM, ETL, RITA)
        }
    with env.hub.transaction() as session:
        databases.create_database(session, actor=env.admin, domain="sales", name="shop")
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
