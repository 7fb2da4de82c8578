"""The gateway's bypass suite (tests/query/test_security.py) again over the wire: every statement
gets over psycopg what ``service.run`` (behind ``POST /api/v1/queries``) gives it, the same
refusal with its SQLSTATE or the same rows, and no hidden value ever reaches the client.

Bob's grants mirror the suite's ``restricted`` lake: EU customers' id, name, region, amount,
signup, profile and tags, US customers' id and region, no APAC row, never email, phone or secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pyarrow as pa
import pytest
from psycopg.rows import dict_row

from lakemesh.catalog import crawler, domains, locations
from lakemesh.errors import LakemeshError
from lakemesh.governance import filters
from lakemesh.hub import Hub
from lakemesh.identity import principals, tokens
from lakemesh.identity.actors import load_actor
from lakemesh.model.actors import Actor
from lakemesh.pgwire.server import serve_in_background
from lakemesh.pgwire.sqlstate import sqlstate
from lakemesh.query import service
from tests.conftest import make_hub_env
from tests.factories.gateway import CUSTOMER_COLUMNS, CUSTOMER_ROWS, Lake
from tests.factories.query import grant_on
from tests.query.test_security import (
    ERRORS_ON_VISIBLE_DATA,
    PERMITTED,
    REFUSED,
    assert_no_hidden_data,
)

BOB = "user:bob@marketing"

# Statements pgwire answers itself, where the wire is meant to differ from the REST gateway:
# the catalog from the governed catalog, settings from the session (never the engine's), and
# several statements in one simple query run one by one, so the second one's denial comes back.
ANSWERED_BY_PGWIRE = {
    "SELECT * FROM information_schema.columns": "rows",
    "SELECT current_setting('allowed_paths')": "rows",
    "SET enable_external_access = true": "command",
    "SELECT 1; SELECT email FROM sales.crm.customers": "42501",
}


@dataclass
class Wire:
    hub: Hub
    bob: Actor
    dsn: str


@pytest.fixture(scope="module")
def wire(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wire]:
    root = tmp_path_factory.mktemp("bypass")
    lake = Lake(root=root / "lake")
    lake.add("sales.crm.customers", CUSTOMER_ROWS, CUSTOMER_COLUMNS, partition_by=("region",))
    lake.add(
        "sales.crm.orders",
        [
            {"order_id": 100 + i, "customer_id": 1 + i % 10, "total": float(i * 3)}
            for i in range(20)
        ],
        [("order_id", "BIGINT", pa.int64()), ("customer_id", "BIGINT", pa.int64()),
         ("total", "DOUBLE", pa.float64())],
    )  # fmt: skip
    env = make_hub_env(root / "home")
    admin = env.admin
    with env.hub.transaction() as session:
        domains.create_domain(session, actor=admin, name="sales", producer=True)
        domains.create_domain(session, actor=admin, name="marketing", consumer=True)
        principals.create_principal(session, actor=admin, principal=BOB)
        locations.register_location(
            session, actor=admin, uri=str(lake.root / "sales"), domain="sales"
        )
    crawler.crawl(
        env.hub, actor=admin, uri=str(lake.root / "sales" / "crm"), domain="sales", database="crm"
    )
    with env.hub.transaction() as session:
        for name, rows, columns in (
            ("bob_eu", "region = 'EU'", ["id", "name", "region", "amount", "signup", "profile",
                                         "tags"]),
            ("bob_us", "region = 'US'", ["id", "region"]),
        ):  # fmt: skip
            filters.create_filter(
                session, actor=admin, name=name, table="sales.crm.customers", rows=rows,
                columns=columns,
            )  # fmt: skip
            grant_on(session, admin, grantee=BOB, table="sales.crm.customers", data_filter=name)
        grant_on(session, admin, grantee=BOB, table="sales.crm.orders")
        token = tokens.create_token(session, actor=admin, principal=BOB).token
    bob = _actor(env.hub)
    with serve_in_background(env.hub) as running:
        dsn = (
            f"host={running.host} port={running.port} user=bob@marketing password={token} "
            "dbname=sales sslmode=disable"
        )
        yield Wire(env.hub, bob, dsn)
    env.hub.close()


def _actor(hub: Hub) -> Actor:
    with hub.read() as session:
        return load_actor(session, principals.get_principal(session, BOB))


def through_gateway(wire: Wire, sql: str) -> list[dict[str, Any]] | LakemeshError:
    """What ``POST /api/v1/queries`` gives: the rows, or the error (search path as the wire's)."""
    try:
        outcome = service.run(wire.hub, actor=wire.bob, sql=sql, search_path=["sales"])
    except LakemeshError as error:
        return error
    return outcome.result.table.to_pylist()


def over_the_wire(wire: Wire, sql: str) -> list[dict[str, Any]] | psycopg.Error:
    with psycopg.connect(wire.dsn, autocommit=True, row_factory=dict_row) as connection:
        try:
            cursor = connection.execute(sql.replace("%", "%%"))
        except psycopg.Error as error:
            return error
        return cursor.fetchall() if cursor.description else []


STATEMENTS = sorted(
    {sql for sql, *_ in REFUSED} | {sql for sql, _ in PERMITTED} | set(ERRORS_ON_VISIBLE_DATA)
)


@pytest.mark.parametrize("sql", STATEMENTS)
def test_the_wire_gives_what_the_gateway_gives(wire: Wire, sql: str) -> None:
    got = over_the_wire(wire, sql)
    assert_no_hidden_data(str(got))
    expected = ANSWERED_BY_PGWIRE.get(sql)
    if expected == "42501":
        assert isinstance(got, psycopg.Error)
        assert got.sqlstate == expected
        assert "lacks SELECT on sales.crm.customers.email" in str(got)
        return
    if expected is not None:
        assert not isinstance(got, psycopg.Error), got
        return
    gateway = through_gateway(wire, sql)
    if isinstance(gateway, LakemeshError):
        assert isinstance(got, psycopg.Error), f"the wire returned rows: {got}"
        assert got.sqlstate == sqlstate(gateway)
        assert got.diag.message_primary == gateway.message
    else:
        assert not isinstance(got, psycopg.Error), got
        assert [list(row) for row in got] == [list(row) for row in gateway]
        # rows in the same order where the statement orders them, as the same multiset elsewhere
        ordered = "ORDER BY" in sql.upper()
        wire_rows = [repr(_plain(row)) for row in got]
        gateway_rows = [repr(_plain(row)) for row in gateway]
        assert (wire_rows if ordered else sorted(wire_rows)) == (
            gateway_rows if ordered else sorted(gateway_rows)
        )


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A row with maps as dicts (the wire sends maps and structs as JSON objects)."""
    return {
        key: dict(value) if isinstance(value, list) and value and isinstance(value[0], tuple)
        else value
        for key, value in row.items()
    }  # fmt: skip
