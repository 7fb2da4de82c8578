"""psql (Debian's postgresql-client) and cancel requests: a client's Ctrl-C stops the query in
the engine; two personas on two connections at once see different columns and rows."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from psycopg.rows import dict_row

from lakemesh.query.history import list_history
from tests.factories.query import BOB, CUSTOMERS, EMMA, MIA, ORDERS, SAM, ULF

from .conftest import PgMesh

SLOW = "SELECT count(*) FROM range(100000000) a, range(100000) b WHERE a.range + b.range = -1"


def psql_environment(pg: PgMesh, principal: str) -> dict[str, str]:
    return {**os.environ, "PGPASSWORD": pg.mesh.token(principal), "PGSSLMODE": "disable"}


def psql_command(pg: PgMesh, principal: str) -> list[str]:
    return [
        "psql", "-X", "-v", "VERBOSITY=verbose", "-h", pg.host, "-p", str(pg.port),
        "-U", principal, "-d", "sales",
    ]  # fmt: skip


def test_psql_runs_a_query_and_shows_a_denial_with_its_sqlstate(pg: PgMesh) -> None:
    done = subprocess.run(
        [*psql_command(pg, BOB), "-c", f"SELECT name FROM {CUSTOMERS} ORDER BY name LIMIT 2",
         "-c", f"SELECT email FROM {CUSTOMERS}"],
        capture_output=True, text=True, env=psql_environment(pg, BOB), timeout=60, check=False,
    )  # fmt: skip
    expected = sorted(r["name"] for r in pg.mesh.raw(CUSTOMERS).to_pylist())[:2]
    assert all(name in done.stdout for name in expected)
    assert f"ERROR:  42501: {BOB} lacks SELECT on {CUSTOMERS}.email" in done.stderr


def test_psql_ctrl_c_cancels_the_query_in_the_engine(pg: PgMesh) -> None:
    process = subprocess.Popen(
        [*psql_command(pg, SAM), "-c", SLOW],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=psql_environment(pg, SAM),
    )  # fmt: skip
    time.sleep(2)
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, errors = process.communicate(timeout=60)
    assert time.monotonic() - started < 15
    assert "57014" in errors
    with pg.mesh.hub.read() as session:
        rows = list_history(session, actor=pg.mesh.actor(SAM), limit=5)
    assert [row.status for row in rows if row.sql == SLOW] == ["cancelled"]


def test_a_cancel_request_stops_the_running_query(pg: PgMesh) -> None:
    with pg.connect(SAM) as connection:
        timer = threading.Timer(1.5, connection.cancel_safe)
        timer.start()
        started = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled) as info:
            connection.execute(SLOW)
        assert time.monotonic() - started < 15
        assert info.value.sqlstate == "57014"
        # the connection goes on
        assert connection.execute("SELECT 1").fetchone() == (1,)


def test_two_personas_at_once_see_different_columns_and_rows(pg: PgMesh) -> None:
    connections = {who: pg.connect(who) for who in (MIA, BOB, EMMA, ULF)}

    def read(who: str) -> list[dict[str, object]]:
        table = CUSTOMERS if who in (MIA, BOB) else ORDERS
        cursor = connections[who].cursor(row_factory=dict_row)
        return cursor.execute(f"SELECT * FROM {table}").fetchall()

    try:
        with ThreadPoolExecutor(4) as pool:
            seen = dict(zip(connections, pool.map(read, connections), strict=True))
    finally:
        for connection in connections.values():
            connection.close()
    assert list(seen[MIA][0]) == ["customer_id", "name", "segment", "lifetime_value", "region"]
    assert list(seen[BOB][0]) == ["customer_id", "name", "region"]
    assert {row["region"] for row in seen[EMMA]} == {"EU"}
    assert {row["region"] for row in seen[ULF]} == {"US"}
    raw = pg.mesh.raw(ORDERS).to_pylist()
    assert len(seen[EMMA]) == sum(r["region"] == "EU" for r in raw)
    assert len(seen[ULF]) == sum(r["region"] == "US" for r in raw)


def test_statement_timeout_cancels_the_query(pg: PgMesh) -> None:
    with pg.connect(SAM) as connection:
        with pytest.raises(psycopg.Error, match="valid"):
            connection.execute("SET statement_timeout = 'soon'")
        connection.execute("SET statement_timeout = '1s'")
        started = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled, match="statement_timeout of 1s"):
            connection.execute(SLOW)
        assert time.monotonic() - started < 15
        connection.execute("RESET statement_timeout")
        assert connection.execute("SELECT 3").fetchone() == (3,)
