"""Vended credentials on the real SeaweedFS server: STS sessions narrowed to one table's prefix,
read-only, expiring, which the store itself enforces; only whole-SELECT principals get them.

pyiceberg writes the tables to S3 and reads one back through the hub's catalog with the
credentials it vends; botocore then tries the same credentials where they must not work.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.session
import duckdb
import httpx
import pyarrow as pa
import pytest
from botocore.exceptions import ClientError
from pyiceberg.catalog.rest import RestCatalog
from pyiceberg.catalog.sql import SqlCatalog

from lakemesh.api.server import serve_in_background
from lakemesh.audit.search import search
from lakemesh.catalog import crawler, domains, locations
from lakemesh.governance import filters, grants
from lakemesh.governance.explanations import explain
from lakemesh.governance.grants import GrantRequest
from lakemesh.hub import Hub
from lakemesh.identity import principals, tokens
from lakemesh.identity.actors import load_actor
from lakemesh.model.permissions import Permission
from lakemesh.query.engines.duckdb_tables import extension_path
from tests.conftest import make_hub_env, s3_environment
from tests.factories.query import grant_on
from tests.seaweedfs import (
    TOKEN_SECONDS,
    VEND_ROLE,
    S3Server,
)

BUCKET, OTHER_BUCKET = "vend", "vend-other"
WAREHOUSE = f"s3://{BUCKET}/lake"
RITA = "user:rita@sales"  # whole SELECT on orders
FIONA = "user:fiona@sales"  # SELECT on orders through a row filter
DORA = "user:dora@sales"  # DESCRIBE on orders only
WALT = "service:walt@sales"  # SELECT and INSERT on returns: a producer
CLARA = "service:clara@sales"  # DESCRIBE and CREATE_TABLE on the namespace: creates tables
ORDERS = pa.table({"id": [1, 2, 3], "region": ["EU", "US", "EU"]})
RETURNS = pa.table({"id": [9]})


@dataclass
class Served:
    hub: Hub
    url: str
    tokens: dict[str, str]
    s3: S3Server

    def credentials(self, principal: str) -> httpx.Response:
        return httpx.get(
            f"{self.url}/iceberg/v1/sales/namespaces/shop/tables/orders/credentials",
            headers={"Authorization": f"Bearer {self.tokens[principal]}"},
        )


@pytest.fixture(scope="module")
def served(seaweedfs: S3Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("vend")
    seaweedfs.create_bucket(BUCKET)
    seaweedfs.create_bucket(OTHER_BUCKET)
    seaweedfs.put(f"s3://{OTHER_BUCKET}/secret.txt", b"elsewhere")
    writer = SqlCatalog(
        "writer",
        uri=f"sqlite:///{root / 'c.db'}",
        warehouse=WAREHOUSE,
        **seaweedfs.pyiceberg_properties,
    )
    writer.create_namespace("shop")
    writer.create_table("shop.orders", schema=ORDERS.schema).append(ORDERS)
    writer.create_table("shop.returns", schema=RETURNS.schema).append(RETURNS)
    env = make_hub_env(root / "home")
    with env.hub.home.config_file.open("a") as config:
        config.write(
            f'[storage.s3]\nvend-role-arn = "{VEND_ROLE}"\nvend-duration-seconds = "store"\n'
        )
    with s3_environment(seaweedfs):
        with env.hub.transaction() as session:
            domains.create_domain(session, actor=env.admin, name="sales", producer=True)
            for ref in (RITA, FIONA, DORA, WALT, CLARA):
                principals.create_principal(session, actor=env.admin, principal=ref)
            locations.register_location(session, actor=env.admin, uri=WAREHOUSE, domain="sales")
        crawler.crawl(
            env.hub, actor=env.admin, uri=f"{WAREHOUSE}/shop", domain="sales", database="shop"
        )
        with env.hub.transaction() as session:
            admin = env.admin
            grant_on(session, admin, grantee=RITA, table="sales.shop.orders")
            filters.create_filter(
                session, actor=admin, name="eu", table="sales.shop.orders", rows="region = 'EU'"
            )
            grant_on(session, admin, grantee=FIONA, table="sales.shop.orders", data_filter="eu")
            grant_on(
                session, admin, grantee=DORA, table="sales.shop.orders", permissions=["DESCRIBE"]
            )
            grant_on(
                session,
                admin,
                grantee=WALT,
                table="sales.shop.returns",
                permissions=["DESCRIBE", "SELECT", "INSERT"],
            )
            grant_on(
                session,
                admin,
                grantee=CLARA,
                table="sales.shop",
                permissions=["DESCRIBE", "CREATE_TABLE"],
            )
            issued = {
                ref: tokens.create_token(session, actor=admin, principal=ref).token
                for ref in (RITA, FIONA, DORA, WALT, CLARA)
            }
        with serve_in_background(env.hub) as url:
            yield Served(env.hub, url, issued, seaweedfs)
    env.hub.close()


def s3_client(config: dict[str, str]) -> Any:
    return botocore.session.Session().create_client(
        "s3",
        endpoint_url=config["s3.endpoint"],
        aws_access_key_id=config["s3.access-key-id"],
        aws_secret_access_key=config["s3.secret-access-key"],
        aws_session_token=config["s3.session-token"],
        region_name=config["client.region"],
    )


def denied(call: Any) -> str:
    with pytest.raises(ClientError) as info:
        call()
    return str(info.value.response["Error"]["Code"])


def objects(s3: S3Server, prefix: str) -> list[str]:
    return sorted(uri.removeprefix(f"s3://{BUCKET}/") for uri in s3.sizes(prefix))


def test_pyiceberg_scans_with_vended_credentials(served: Served) -> None:
    catalog = RestCatalog(
        "rita", uri=f"{served.url}/iceberg", warehouse="sales", token=served.tokens[RITA]
    )
    table = catalog.load_table("shop.orders")
    rows = sorted(table.scan().to_arrow().to_pylist(), key=lambda row: row["id"])
    assert rows == ORDERS.to_pylist()
    assert table.io.properties["s3.access-key-id"].startswith("ASIA")  # a session, not the hub's


def test_the_store_refuses_everything_else(served: Served) -> None:
    response = served.credentials(RITA)
    assert response.status_code == 200
    (credential,) = response.json()["storage-credentials"]
    assert credential["prefix"] == f"{WAREHOUSE}/shop/orders"
    client = s3_client(credential["config"])
    own = objects(served.s3, f"{WAREHOUSE}/shop/orders")
    other_table = objects(served.s3, f"{WAREHOUSE}/shop/returns")
    assert client.get_object(Bucket=BUCKET, Key=own[0])["Body"].read()
    assert denied(lambda: client.get_object(Bucket=BUCKET, Key=other_table[0])) == "AccessDenied"
    assert denied(lambda: client.get_object(Bucket=OTHER_BUCKET, Key="secret.txt")) == (
        "AccessDenied"
    )
    write = lambda: client.put_object(Bucket=BUCKET, Key=f"{own[0]}.new", Body=b"x")  # noqa: E731
    assert denied(write) == "AccessDenied"
    assert denied(lambda: client.delete_object(Bucket=BUCKET, Key=own[0])) == "AccessDenied"
    expires = int(credential["config"]["s3.session-token-expires-at-ms"]) / 1000
    time.sleep(max(0.0, expires - time.time()) + 1.5)
    assert denied(lambda: client.get_object(Bucket=BUCKET, Key=own[0])) in (
        "InvalidAccessKeyId",
        "ExpiredToken",
        "AccessDenied",
    )
    assert TOKEN_SECONDS < 15 * 60


def test_every_vend_is_audited(served: Served) -> None:
    assert served.credentials(RITA).status_code == 200
    with served.hub.read() as session:
        admin = load_actor(session, principals.get_principal(session, "user:admin@governance"))
        events = search(
            session, reader=admin, action="credentials.vend", resource="sales.shop.orders"
        )
        vend = next(event for event in events if event.outcome == "success")
        assert vend.actor == RITA
        assert vend.details["prefix"] == f"{WAREHOUSE}/shop/orders"
        assert vend.details["access"] == "read"
        assert "expires_at" in vend.details


@pytest.mark.parametrize(
    ("principal", "reason"),
    [(FIONA, "a row filter applies"), (DORA, "it lacks SELECT on sales.shop.orders")],
)
def test_a_restricted_reader_is_refused_with_the_reason(
    served: Served, principal: str, reason: str
) -> None:
    response = served.credentials(principal)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["type"] == "ForbiddenException"
    assert error["message"] == (
        f"{principal} is not vended credentials for sales.shop.orders: {reason}; read it "
        "through governed SQL instead (lakemesh query, POST /api/v1/queries)"
    )
    # Loading the table still works (DESCRIBE), with no credentials in it.
    loaded = httpx.get(
        f"{served.url}/iceberg/v1/sales/namespaces/shop/tables/orders",
        headers={
            "Authorization": f"Bearer {served.tokens[principal]}",
            "X-Iceberg-Access-Delegation": "vended-credentials",
        },
    ).json()
    assert "storage-credentials" not in loaded
    assert "s3.access-key-id" not in loaded["config"]
    assert loaded["metadata-location"].startswith(f"{WAREHOUSE}/shop/orders/metadata/")


def test_other_tables_prefixes_never_appear(served: Served, tmp_path: Path) -> None:
    """The prefix covers the table's folder only (its metadata included)."""
    (credential,) = served.credentials(RITA).json()["storage-credentials"]
    assert not f"{WAREHOUSE}/shop/returns".startswith(credential["prefix"] + "/")


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        (RITA, {"allowed": True, "reason": None}),
        (FIONA, {"allowed": False, "reason": "a row filter applies"}),
        (DORA, {"allowed": False, "reason": "it lacks SELECT on sales.shop.orders"}),
    ],
)
def test_explain_says_whether_credentials_would_be_vended(
    served: Served, principal: str, expected: dict[str, Any]
) -> None:
    with served.hub.read() as session:
        admin = load_actor(session, principals.get_principal(session, "user:admin@governance"))
        decision = explain(
            session,
            actor=admin,
            principal=principal,
            permission=Permission.SELECT,
            resource="sales.shop.orders",
        )
    assert decision.vended_credentials == expected


def test_a_producer_writes_its_own_table_only(served: Served) -> None:
    catalog = RestCatalog(
        "walt", uri=f"{served.url}/iceberg", warehouse="sales", token=served.tokens[WALT]
    )
    table = catalog.load_table("shop.returns")
    assert table.io.properties["s3.access-key-id"].startswith("ASIA")
    table.append(pa.table({"id": pa.array([10, 11], pa.int64())}))
    rows = catalog.load_table("shop.returns").scan().to_arrow().to_pylist()
    assert sorted(row["id"] for row in rows) == [9, 10, 11]
    # Fresh credentials: the test server's sessions last seconds.
    client = s3_client(catalog.load_table("shop.returns").io.properties)
    own = f"lake/shop/returns/data/extra-{time.time_ns()}.parquet"
    client.put_object(Bucket=BUCKET, Key=own, Body=b"x")
    assert denied(
        lambda: client.put_object(Bucket=BUCKET, Key="lake/shop/orders/x", Body=b"x")
    ) == ("AccessDenied")
    assert denied(lambda: client.delete_object(Bucket=BUCKET, Key=own)) == "AccessDenied"
    with served.hub.read() as session:
        admin = load_actor(session, principals.get_principal(session, "user:admin@governance"))
        vends = search(
            session, reader=admin, action="credentials.vend", resource="sales.shop.returns"
        )
        assert {event.details["access"] for event in vends} == {"read-write"}


def test_a_revoked_grant_stops_vending_at_the_next_request(served: Served) -> None:
    assert served.credentials(RITA).status_code == 200
    request = GrantRequest(permissions=frozenset({Permission.SELECT}), on="sales.shop.orders")
    with served.hub.transaction() as session:
        admin = load_actor(session, principals.get_principal(session, "user:admin@governance"))
        grants.revoke(session, actor=admin, grantee=RITA, request=request)
    try:
        response = served.credentials(RITA)
        assert response.status_code == 404, response.text  # not even DESCRIBE is left
    finally:
        with served.hub.transaction() as session:
            grants.grant(session, actor=admin, grantee=RITA, request=request)
    assert served.credentials(RITA).status_code == 200


def test_a_creator_is_vended_credentials_for_its_new_table_only(served: Served) -> None:
    catalog = RestCatalog(
        "clara", uri=f"{served.url}/iceberg", warehouse="sales", token=served.tokens[CLARA]
    )
    table = catalog.create_table("shop.fresh", schema=RETURNS.schema)
    assert table.location() == f"{WAREHOUSE}/shop/fresh"
    assert table.io.properties["s3.access-key-id"].startswith("ASIA")
    table.append(pa.table({"id": pa.array([1, 2], pa.int64())}))
    assert catalog.load_table("shop.fresh").scan().to_arrow().num_rows == 2
    client = s3_client(catalog.load_table("shop.fresh").io.properties)  # fresh (seconds long)
    orders = objects(served.s3, f"{WAREHOUSE}/shop/orders")
    assert denied(lambda: client.get_object(Bucket=BUCKET, Key=orders[0])) == "AccessDenied"
    assert denied(
        lambda: client.put_object(Bucket=BUCKET, Key="lake/shop/orders/x", Body=b"x")
    ) == ("AccessDenied")
    # A staged create: credentials for the new prefix come with the staged metadata.
    transaction = catalog.create_table_transaction("shop.staged", schema=RETURNS.schema)
    transaction.append(pa.table({"id": pa.array([7], pa.int64())}))
    staged = transaction.commit_transaction()
    assert staged.location() == f"{WAREHOUSE}/shop/staged"
    assert catalog.load_table("shop.staged").scan().to_arrow().to_pylist() == [{"id": 7}]
    with served.hub.read() as session:
        admin = load_actor(session, principals.get_principal(session, "user:admin@governance"))
        vends = search(session, reader=admin, action="credentials.vend", actor=CLARA)
        assert {(e.resource, e.details["prefix"], e.details["access"]) for e in vends} == {
            ("sales.shop.fresh", f"{WAREHOUSE}/shop/fresh", "read-write"),
            ("sales.shop.staged", f"{WAREHOUSE}/shop/staged", "read-write"),
        }


def test_duckdb_attaches_the_warehouse_and_reads_s3_with_vended_credentials(
    served: Served,
) -> None:
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
    connection.close()
