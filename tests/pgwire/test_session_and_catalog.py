"""The session's TimeZone shapes timestamps with a zone; pg_catalog shows every domain the
principal may DESCRIBE; a describe probe stays out of the history; COPY FROM is refused as a
write in a read-only transaction."""

from __future__ import annotations

import datetime
import os
import subprocess
from pathlib import Path
from urllib.parse import quote

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy

from lakemesh.catalog import crawler, locations
from lakemesh.query.history import list_history
from tests.factories.query import EMMA, ORDERS, SAM, grant_on

from .conftest import PgMesh

WINTER, SUMMER = "2024-01-02 13:04:05+00", "2024-07-02 13:04:05.25+00"
MOMENTS = f"SELECT TIMESTAMPTZ '{WINTER}' AS winter, TIMESTAMPTZ '{SUMMER}' AS summer"


def psql(pg: PgMesh, principal: str, *commands: str, **environment: str) -> str:
    arguments = ["psql", "-X", "-tA", "-v", "ON_ERROR_STOP=1", "-h", pg.host, "-p", str(pg.port),
                 "-U", principal, "-d", "sales"]  # fmt: skip
    for command in commands:
        arguments += ["-c", command]
    done = subprocess.run(
        arguments, capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PGPASSWORD": pg.mesh.token(principal), "PGSSLMODE": "disable",
             **environment},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_set_time_zone_writes_timestamps_with_a_zone_in_it(pg: PgMesh) -> None:
    assert psql(pg, SAM, MOMENTS).strip() == "2024-01-02 13:04:05+00|2024-07-02 13:04:05.25+00"
    paris = psql(pg, SAM, "SET TimeZone = 'Europe/Paris'", MOMENTS).strip().splitlines()[-1]
    assert paris == "2024-01-02 14:04:05+01|2024-07-02 15:04:05.25+02"
    kolkata = psql(pg, SAM, MOMENTS, PGTZ="Asia/Kolkata").strip()  # a startup parameter
    assert kolkata == "2024-01-02 18:34:05+05:30|2024-07-02 18:34:05.25+05:30"
    with pg.connect(SAM) as connection:
        connection.execute("SET TimeZone TO 'America/St_Johns'")
        assert connection.info.parameter_status("TimeZone") == "America/St_Johns"
        assert connection.execute("SHOW TimeZone").fetchone() == ("America/St_Johns",)
        (text,) = connection.execute(MOMENTS, binary=False).fetchone()[:1]  # type: ignore[index]
        (binary,) = connection.execute(MOMENTS, binary=True).fetchone()[:1]  # type: ignore[index]
    moment = datetime.datetime(2024, 1, 2, 13, 4, 5, tzinfo=datetime.UTC)
    assert text == binary == moment
    assert text.utcoffset() == datetime.timedelta(hours=-3, minutes=-30)


def test_an_unknown_time_zone_is_refused(pg: PgMesh) -> None:
    with pg.connect(SAM) as connection, pytest.raises(psycopg.Error) as info:
        connection.execute("SET TimeZone = 'Mars/Olympus'")
    assert info.value.sqlstate == "22023"
    assert 'invalid value for parameter "TimeZone": "Mars/Olympus"' in str(info.value)


@pytest.fixture
def two_domains(pg: PgMesh, tmp_path: Path) -> PgMesh:
    """A marketing table beside sales.crm, readable by sam@sales."""
    folder = tmp_path / "marketing" / "campaigns" / "leads"
    folder.mkdir(parents=True)
    pq.write_table(
        pa.table({"lead_id": [1, 2, 3], "channel": ["web", "mail", "web"]}),
        folder / "part-0.parquet",
    )
    hub, admin = pg.mesh.hub, pg.mesh.admin
    with hub.transaction() as session:
        locations.register_location(
            session, actor=admin, uri=str(tmp_path / "marketing"), domain="marketing"
        )
    crawler.crawl(
        hub,
        actor=admin,
        uri=str(tmp_path / "marketing" / "campaigns"),
        domain="marketing",
        database="campaigns",
    )
    with hub.transaction() as session:
        grant_on(
            session, admin, grantee=SAM, table="marketing.campaigns.leads", columns=["lead_id"]
        )
    return pg


def test_pg_catalog_shows_every_domain_the_principal_may_describe(two_domains: PgMesh) -> None:
    pg = two_domains
    with pg.connect(SAM) as connection:
        schemas = {
            name for (name,) in connection.execute("SELECT nspname FROM pg_catalog.pg_namespace")
        }
        databases = {
            name for (name,) in connection.execute("SELECT datname FROM pg_catalog.pg_database")
        }
        rows = connection.execute(
            'SELECT lead_id FROM "marketing.campaigns".leads ORDER BY lead_id'
        ).fetchall()
    assert {"crm", "marketing.campaigns"} <= schemas
    assert databases == {"sales", "marketing"}
    assert rows == [(1,), (2,), (3,)]
    listed = psql(pg, SAM, "\\dt *.*", '\\d "marketing.campaigns".leads')
    assert "marketing.campaigns|leads|table" in listed
    assert "lead_id" in listed
    assert "channel" not in listed  # only the columns sam may read
    url = (
        f"postgresql+psycopg://{quote(SAM)}:{quote(pg.mesh.token(SAM))}@{pg.host}:{pg.port}"
        "/sales?sslmode=disable"
    )
    engine = sqlalchemy.create_engine(url)
    try:
        inspector = sqlalchemy.inspect(engine)
        assert "marketing.campaigns" in inspector.get_schema_names()
        assert inspector.get_table_names(schema="marketing.campaigns") == ["leads"]
        columns = inspector.get_columns("leads", schema="marketing.campaigns")
        assert [c["name"] for c in columns] == ["lead_id"]
    finally:
        engine.dispose()


def test_a_marketing_connection_sees_sales_as_qualified_schemas(two_domains: PgMesh) -> None:
    with two_domains.connect(SAM, dbname="marketing") as connection:
        schemas = {
            name for (name,) in connection.execute("SELECT nspname FROM pg_catalog.pg_namespace")
        }
        count = connection.execute('SELECT count(*) FROM "sales.crm".orders').fetchone()
    assert {"campaigns", "sales.crm"} <= schemas
    assert count == (two_domains.mesh.raw(ORDERS).num_rows,)


def test_describing_a_prepared_statement_is_not_in_the_history(pg: PgMesh) -> None:
    sql = f"SELECT order_id FROM {ORDERS} WHERE order_id > %s ORDER BY order_id"
    with pg.connect(EMMA) as connection:
        connection.prepare_threshold = 0  # prepared (Parse, Describe) from the first execution
        for bound in (1005, 1010):
            connection.execute(sql, [bound]).fetchall()
    with pg.mesh.hub.read() as session:
        history = list_history(session, actor=pg.mesh.actor(EMMA), limit=20)
    assert len(history) == 2
    assert all("described" not in row.sql for row in history)


@pytest.mark.parametrize(
    "statement", [f"COPY {ORDERS} FROM STDIN", f"COPY {ORDERS} (order_id) FROM '/etc/passwd'"]
)
def test_copy_from_is_refused_as_a_write_in_a_read_only_transaction(
    pg: PgMesh, statement: str
) -> None:
    with pg.connect(SAM) as connection:
        with pytest.raises(psycopg.Error) as info:
            connection.execute(statement)
        assert connection.execute("SELECT 1").fetchone() == (1,)
    assert info.value.sqlstate == "25006"
    assert "cannot execute COPY FROM in a read-only transaction" in str(info.value)
    with pg.mesh.hub.read() as session:
        (row,) = list_history(session, actor=pg.mesh.actor(SAM), limit=1)  # the SELECT 1
        history = list_history(session, actor=pg.mesh.actor(SAM), limit=5)
    assert row.status == "succeeded"
    assert [r.status for r in history if r.sql == statement] == ["rejected"]
