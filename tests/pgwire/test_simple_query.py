"""psycopg 3 against a served hub: authentication, governed queries, errors with SQLSTATE."""

from __future__ import annotations

import psycopg
import pytest

from lakemesh import audit
from lakemesh.query.history import list_history
from tests.factories.query import BOB, CUSTOMERS, MIA, NOBODY

from .conftest import PgMesh


def test_a_principal_reads_what_its_grants_allow(pg: PgMesh) -> None:
    with pg.connect("mia@marketing") as connection:
        cursor = connection.execute(f"SELECT * FROM {CUSTOMERS} ORDER BY customer_id")
        names = [d.name for d in cursor.description]
        rows = cursor.fetchall()
    assert names == ["customer_id", "name", "segment", "lifetime_value", "region"]
    raw = pg.mesh.raw(CUSTOMERS).sort_by("customer_id")
    assert rows == [
        (r["customer_id"], r["name"], r["segment"], r["lifetime_value"], r["region"])
        for r in raw.to_pylist()
    ]


def test_a_denied_column_is_42501_with_the_rest_message(pg: PgMesh) -> None:
    with pg.connect(BOB) as connection, pytest.raises(psycopg.Error) as info:
        connection.execute(f"SELECT email FROM {CUSTOMERS}")
    assert info.value.sqlstate == "42501"
    assert f"{BOB} lacks SELECT on {CUSTOMERS}.email" in str(info.value)


@pytest.mark.parametrize(
    ("sql", "code", "message"),
    [
        ("SELEC 1", "42601", "Could not parse"),
        ("SELECT * FROM sales.crm.nothing", "42P01", "Table does not exist: sales.crm.nothing"),
        ("DROP TABLE sales.crm.customers", "42000", "DROP"),
    ],
)
def test_errors_carry_sqlstates(pg: PgMesh, sql: str, code: str, message: str) -> None:
    with pg.connect("user:sam@sales") as connection, pytest.raises(psycopg.Error) as info:
        connection.execute(sql)
    assert info.value.sqlstate == code
    assert message in str(info.value)


def test_a_wrong_token_is_refused_and_audited(pg: PgMesh) -> None:
    mia_token = pg.mesh.token(MIA)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(pg.dsn(BOB, token=mia_token))
    with pytest.raises(psycopg.OperationalError, match="Invalid API token"):
        psycopg.connect(pg.dsn(BOB, token="lm_wrong"))
    with pg.mesh.hub.read() as session:
        events = list(audit.search(session, reader=pg.mesh.admin, action="pgwire.connect"))
    denied = [e for e in events if e.outcome == "denied"]
    assert [e.actor for e in denied] == [BOB, BOB]
    assert all("password authentication failed" in e.details["message"] for e in denied)


def test_queries_are_recorded_in_the_history_and_the_audit(pg: PgMesh) -> None:
    with pg.connect(NOBODY) as connection, pytest.raises(psycopg.Error):
        connection.execute(f"SELECT name FROM {CUSTOMERS}")
    with pg.connect(BOB) as connection:
        connection.execute(f"SELECT name FROM {CUSTOMERS}").fetchall()
    with pg.mesh.hub.read() as session:
        events = list(audit.search(session, reader=pg.mesh.admin, action="query"))
    outcomes = {(e.actor, e.outcome) for e in events}
    assert (BOB, "success") in outcomes
    assert (NOBODY, "denied") in outcomes


def test_session_commands_are_answered_without_the_engine(pg: PgMesh) -> None:
    with pg.connect(MIA) as connection:
        connection.execute("SET application_name = 'report'")
        assert connection.execute("SHOW application_name").fetchone() == ("report",)
        assert connection.execute("SHOW server_version").fetchone() == ("16.0",)
        connection.execute("BEGIN")
        connection.execute("SET TRANSACTION READ ONLY")
        connection.execute("COMMIT")
        with pytest.raises(psycopg.errors.SyntaxError, match="SET takes a setting"):
            connection.execute("SET nonsense")
        with pytest.raises(psycopg.Error, match="cannot be changed"):
            connection.execute("SET server_version = '9'")
        with pytest.raises(psycopg.Error, match="unrecognized configuration parameter"):
            connection.execute("SHOW no_such_setting")


def test_search_path_completes_shorter_names(pg: PgMesh) -> None:
    with pg.connect(BOB, dbname="marketing") as connection:
        with pytest.raises(psycopg.Error) as info:
            connection.execute("SELECT name FROM crm.customers")  # marketing.crm.customers
        assert info.value.sqlstate == "42501"
        connection.execute("SET search_path = sales")
        two = connection.execute("SELECT name FROM crm.customers ORDER BY name").fetchall()
        connection.execute("SET search_path TO 'sales.crm', \"$user\"")
        assert connection.execute("SHOW search_path").fetchone() == ("sales.crm,$user",)
        one = connection.execute("SELECT name FROM customers ORDER BY name").fetchall()
        # what the search path completes is still governed
        with pytest.raises(psycopg.Error) as info:
            connection.execute("SELECT email FROM customers")
        assert info.value.sqlstate == "42501"
        assert f"lacks SELECT on {CUSTOMERS}.email" in str(info.value)
    expected = sorted((r["name"],) for r in pg.mesh.raw(CUSTOMERS).to_pylist())
    assert two == one == expected


def test_the_workgroup_comes_from_the_connection_or_a_setting(pg: PgMesh) -> None:
    with pg.connect(MIA, options="-c workgroup=nowhere") as connection:
        with pytest.raises(psycopg.Error) as info:
            connection.execute("SELECT 1")
        assert "Workgroup does not exist: nowhere" in str(info.value)
        connection.execute("SET workgroup = primary")
        assert connection.execute("SELECT 1").fetchone() == (1,)
    with pg.mesh.hub.read() as session:
        rows = list_history(session, actor=pg.mesh.actor(MIA), limit=5)
    assert {row.workgroup for row in rows} == {"nowhere", "primary"}


def test_the_connections_database_completes_two_part_names(pg: PgMesh) -> None:
    with pg.connect(BOB, dbname="sales") as connection:
        rows = connection.execute("SELECT count(*) FROM crm.customers").fetchall()
    assert rows == [(pg.mesh.raw(CUSTOMERS).num_rows,)]


def test_on_each_store_backend(pg_any: PgMesh) -> None:
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(pg_any.dsn(BOB, token="lm_wrong"))
    with pg_any.connect(BOB) as connection:
        rows = connection.execute(f"SELECT name FROM {CUSTOMERS} ORDER BY name").fetchall()
        with pytest.raises(psycopg.Error) as info:
            connection.execute(f"SELECT email FROM {CUSTOMERS}")
    assert rows == sorted((r["name"],) for r in pg_any.mesh.raw(CUSTOMERS).to_pylist())
    assert info.value.sqlstate == "42501"
