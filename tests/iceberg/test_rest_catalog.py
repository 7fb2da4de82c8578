"""The Iceberg REST catalog at /iceberg/v1, through clients nobody here wrote: pyiceberg's
RestCatalog and DuckDB's iceberg ATTACH, against a hub served by uvicorn on a loopback port.

The tables are written by pyiceberg (SQL catalog on SQLite) into the domain's folder and crawled.
A principal sees only the namespaces and tables it may DESCRIBE; a revoked grant stops it at the
next request.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import duckdb
import httpx
import pyarrow as pa
import pytest
from deltalake import write_deltalake
from pyiceberg.catalog.rest import RestCatalog
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError, OAuthError

from lakemesh.api.server import serve_in_background
from lakemesh.catalog import crawler, domains, locations, tables
from lakemesh.governance import grants
from lakemesh.governance.grants import GrantRequest
from lakemesh.hub import Hub
from lakemesh.iceberg import ENDPOINTS
from lakemesh.identity import principals, tokens
from lakemesh.identity.actors import load_actor
from lakemesh.model.permissions import Permission
from lakemesh.query import service
from lakemesh.query.engines.duckdb_tables import extension_path
from tests.conftest import make_hub_env
from tests.factories.query import grant_on

SAM = "user:sam@sales"  # the domain's admin: sees everything of sales
RITA = "user:rita@sales"  # DESCRIBE and SELECT on sales.shop.orders only
NOBODY = "user:nobody@sales"  # no grant
ORDERS = pa.table({"id": [1, 2, 3], "region": ["EU", "US", "EU"]})


@dataclass
class Served:
    hub: Hub
    url: str
    tokens: dict[str, str]

    def catalog(self, principal: str, **properties: str) -> RestCatalog:
        settings = {"token": self.tokens[principal], **properties}
        if "credential" in properties:
            del settings["token"]
        return RestCatalog(principal, uri=f"{self.url}/iceberg", warehouse="sales", **settings)

    def get(self, path: str, principal: str | None = SAM, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[principal]}"} if principal else {}
        return httpx.get(f"{self.url}/iceberg/v1{path}", headers=headers, params=params)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("rest")
    lake = root / "lake"
    lake.mkdir()
    writer = SqlCatalog("writer", uri=f"sqlite:///{root / 'c.db'}", warehouse=f"file://{lake}")
    for namespace in ("shop", "hr"):
        writer.create_namespace(namespace)
    writer.create_table("shop.orders", schema=ORDERS.schema).append(ORDERS)
    for name in ("customers", "returns"):
        writer.create_table(f"shop.{name}", schema=pa.schema([("id", pa.int64())]))
    writer.create_table("hr.salaries", schema=pa.schema([("id", pa.int64())]))
    write_deltalake(str(lake / "shop" / "events"), pa.table({"id": [1]}))  # not Iceberg
    env = make_hub_env(root / "home")
    with env.hub.transaction() as session:
        domains.create_domain(session, actor=env.admin, name="sales", producer=True, admins=[SAM])
        for ref in (RITA, NOBODY):
            principals.create_principal(session, actor=env.admin, principal=ref)
        locations.register_location(session, actor=env.admin, uri=str(lake), domain="sales")
    for database in ("shop", "hr"):
        crawler.crawl(
            env.hub, actor=env.admin, uri=str(lake / database), domain="sales", database=database
        )
    with env.hub.transaction() as session:
        grant_on(
            session,
            env.admin,
            grantee=RITA,
            table="sales.shop.orders",
            permissions=["DESCRIBE", "SELECT"],
        )
        issued = {
            ref: tokens.create_token(session, actor=env.admin, principal=ref).token
            for ref in (SAM, RITA, NOBODY)
        }
    with serve_in_background(env.hub) as url:
        yield Served(env.hub, url, issued)
    env.hub.close()


# -- config, auth, errors -------------------------------------------------------------------


def test_config_names_the_prefix_and_the_endpoints(served: Served) -> None:
    response = served.get("/config", warehouse="sales")
    assert response.status_code == 200
    assert response.json() == {
        "defaults": {},
        "overrides": {"prefix": "sales"},
        "endpoints": list(ENDPOINTS),
    }


@pytest.mark.parametrize(
    ("path", "params", "principal", "status", "kind", "message"),
    [
        ("/config", {}, SAM, 400, "BadRequestException", "Name a warehouse"),
        (
            "/config",
            {"warehouse": "nowhere"},
            SAM,
            404,
            "NoSuchWarehouseException",
            "Warehouse does not exist: nowhere",
        ),
        (
            "/config",
            {"warehouse": "sales"},
            None,
            401,
            "NotAuthorizedException",
            "Missing API token",
        ),
        (
            "/sales/namespaces/hr",
            {},
            RITA,
            404,
            "NoSuchNamespaceException",
            "Namespace does not exist: sales.hr",
        ),
        (
            "/sales/namespaces/shop/tables/customers",
            {},
            RITA,
            404,
            "NoSuchTableException",
            "Table does not exist: sales.shop.customers",
        ),
        (
            "/sales/namespaces/shop/tables/events",
            {},
            SAM,
            404,
            "NoSuchTableException",
            "Table does not exist: sales.shop.events",
        ),
        (
            "/sales/namespaces",
            {"pageToken": "%%%"},
            SAM,
            400,
            "BadRequestException",
            "Invalid pageToken",
        ),
    ],
)
def test_errors_follow_the_spec(
    served: Served,
    path: str,
    params: dict[str, str],
    principal: str | None,
    status: int,
    kind: str,
    message: str,
) -> None:
    response = served.get(path, principal, **params)
    assert response.status_code == status
    error = response.json()["error"]
    assert (error["type"], error["code"]) == (kind, status)
    assert error["message"].startswith(message)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pyiceberg: OAuth2 URI by default
def test_oauth_client_credentials_exchange_a_token(served: Served) -> None:
    catalog = served.catalog(RITA, credential=f"rita:{served.tokens[RITA]}")
    assert catalog.list_tables("shop") == [("shop", "orders")]
    with pytest.raises(OAuthError):
        served.catalog(RITA, credential="rita:lm_not-a-token")
    response = httpx.post(
        f"{served.url}/iceberg/v1/oauth/tokens",
        data={"grant_type": "password", "client_secret": served.tokens[RITA]},
    )
    assert response.status_code == 400
    assert "Unsupported grant type" in response.json()["error"]["message"]


# -- what each principal sees ---------------------------------------------------------------


def test_the_domain_admin_sees_every_iceberg_table(served: Served) -> None:
    catalog = served.catalog(SAM)
    assert sorted(catalog.list_namespaces()) == [("hr",), ("shop",)]
    assert sorted(catalog.list_tables("shop")) == [
        ("shop", "customers"),
        ("shop", "orders"),
        ("shop", "returns"),
    ]  # the Delta table is not served
    assert catalog.table_exists("hr.salaries")
    assert catalog.namespace_exists("hr")
    assert catalog.load_namespace_properties("shop") == {}


def test_a_reader_sees_only_what_it_may_describe(served: Served) -> None:
    catalog = served.catalog(RITA)
    assert catalog.list_namespaces() == [("shop",)]
    assert catalog.list_tables("shop") == [("shop", "orders")]
    assert not catalog.table_exists("shop.customers")
    assert not catalog.namespace_exists("hr")
    with pytest.raises(NoSuchTableError, match="Table does not exist: sales.shop.customers"):
        catalog.load_table("shop.customers")
    with pytest.raises(NoSuchNamespaceError):
        catalog.list_tables("hr")
    nobody = served.catalog(NOBODY)
    assert nobody.list_namespaces() == []


def test_listings_page(served: Served) -> None:
    names: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"pageSize": 2}
        if token:
            params["pageToken"] = token
        body = served.get("/sales/namespaces/shop/tables", **params).json()
        names += [identifier["name"] for identifier in body["identifiers"]]
        pages += 1
        token = body.get("next-page-token")
        if token is None:
            break
    assert (names, pages) == (["customers", "orders", "returns"], 2)


# -- reading ------------------------------------------------------------------------------------


def test_pyiceberg_reads_what_the_gateway_reads(served: Served) -> None:
    table = served.catalog(RITA).load_table("shop.orders")
    scanned = sorted(table.scan().to_arrow().to_pylist(), key=lambda row: row["id"])
    assert scanned == ORDERS.to_pylist()
    with served.hub.read() as session:
        actor = load_actor(session, principals.get_principal(session, RITA))
    outcome = service.run(
        served.hub, actor=actor, sql="SELECT * FROM sales.shop.orders ORDER BY id"
    )
    assert outcome.result.table.to_pylist() == scanned


def test_duckdb_attaches_the_warehouse(served: Served) -> None:
    connection = duckdb.connect()
    for package, extension in (
        ("duckdb_extension_httpfs", "httpfs"),
        ("duckdb_extension_avro", "avro"),
        ("duckdb_extension_iceberg", "iceberg"),
    ):
        path = extension_path(package, extension, extra="tables", purpose="This test")
        connection.execute(f"LOAD '{path}'")
    connection.execute(f"CREATE SECRET hub (TYPE iceberg, TOKEN '{served.tokens[RITA]}')")
    connection.execute(
        f"ATTACH 'sales' AS lake (TYPE iceberg, SECRET hub, ENDPOINT '{served.url}/iceberg')"
    )
    rows = connection.execute("SELECT id, region FROM lake.shop.orders ORDER BY id").fetchall()
    assert rows == [(1, "EU"), (2, "US"), (3, "EU")]
    shown = connection.execute("SHOW ALL TABLES").fetchall()
    assert [(row[1], row[2]) for row in shown if row[0] == "lake"] == [("shop", "orders")]
    connection.close()


def test_a_revoked_grant_stops_listing_at_the_next_request(served: Served) -> None:
    catalog = served.catalog(RITA)
    assert catalog.list_tables("shop") == [("shop", "orders")]
    request = GrantRequest(
        permissions=frozenset({Permission.DESCRIBE, Permission.SELECT}), on="sales.shop.orders"
    )
    with served.hub.transaction() as session:
        admin = load_actor(session, principals.get_principal(session, "user:admin@governance"))
        grants.revoke(session, actor=admin, grantee=RITA, request=request)
    try:
        assert served.get("/sales/namespaces", RITA).json() == {"namespaces": []}
        with pytest.raises(NoSuchTableError):
            catalog.load_table("shop.orders")
    finally:
        with served.hub.transaction() as session:
            grants.grant(session, actor=admin, grantee=RITA, request=request)


def test_extension_packages_match_duckdb() -> None:
    assert os.path.isfile(
        extension_path("duckdb_extension_iceberg", "iceberg", extra="tables", purpose="x")
    )


@pytest.mark.parametrize("principal", [SAM, RITA, NOBODY])
def test_the_catalog_lists_what_the_api_lets_describe(served: Served, principal: str) -> None:
    """The same principal sees the same Iceberg tables through /api/v1/tables and /iceberg/v1."""
    with served.hub.read() as session:
        actor = load_actor(session, principals.get_principal(session, principal))
        described = {
            f"{row.database.name}.{row.name}"
            for row in tables.visible_tables(session, actor=actor, domain="sales")
            if row.format == "iceberg"
        }
    catalog = served.catalog(principal)
    listed = {
        f"{namespace}.{name}"
        for (namespace,) in catalog.list_namespaces()
        for _, name in catalog.list_tables(namespace)
    }
    assert listed == described
