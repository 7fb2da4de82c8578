"""Large results stream: rows go out batch by batch as the client reads them, the hub never holds
a whole result, a cancel stops a query in the middle of its rows, and the history records what
was sent."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time

import asyncpg
import psycopg
import pytest

from lakemesh.hub import HubHome
from lakemesh.query.engines.duckdb_worker import memory_status
from lakemesh.query.history import list_history
from tests.cli.conftest import Cli
from tests.cli.test_serve_and_demo import _free_port
from tests.factories.query import SAM
from tests.pgwire.test_cli import _connect

from .conftest import PgMesh

ROWS = 2_000_000
WIDE = f"SELECT i, repeat('x', 100) || i::VARCHAR AS s FROM range({ROWS}) t(i)"
"""About 230 MB as Arrow, more as DataRows: far more than the hub may grow by while sending it."""
MAX_GROWTH = 100 * 1024**2
ENDLESS = "SELECT i FROM range(1000000000) t(i)"


def test_a_large_result_streams_while_the_hubs_memory_stays_bounded(admin_cli: Cli) -> None:
    admin_cli.run("workgroup", "create", "bulk", "--max-rows", "none",
                  "--max-result-bytes", "none", "--timeout", "600")  # fmt: skip
    port, pg_port = _free_port(), _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", "from lakemesh.cli.main import main; main()", "serve",
         "--port", str(port), "--pg-port", str(pg_port), "--log-level", "warning"],
        env={**os.environ, "LAKEMESH_HOME": str(admin_cli.home)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        token = HubHome(admin_cli.home).profile(None)["token"]
        # a busy machine takes a while to start the hub
        with _connect(pg_port, token, time.monotonic() + 120) as connection:
            connection.execute("SET workgroup = bulk")
            connection.execute("SELECT i FROM range(100000) t(i)").fetchall()  # warm
            baseline = memory_status(process.pid)["VmRSS"]
            peak = [baseline]
            done = threading.Event()

            def watch() -> None:
                while not done.wait(0.02):
                    peak.append(memory_status(process.pid)["VmRSS"])

            watcher = threading.Thread(target=watch)
            watcher.start()
            count = last = 0
            try:
                # psycopg's stream() reads one DataRow at a time: the client holds none either
                for i, s in connection.cursor().stream(WIDE):
                    count += 1
                    last = i
                    if i == 0:
                        assert s == "x" * 100 + "0"
            finally:
                done.set()
                watcher.join()
            assert (count, last) == (ROWS, ROWS - 1)
            growth = max(peak) - baseline
            print(f"hub RSS {baseline / 2**20:.0f} MiB, grew {growth / 2**20:.1f} MiB at most")
            assert growth < MAX_GROWTH
            assert connection.execute("SELECT 1").fetchall() == [(1,)]  # the session goes on
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_cancel_in_the_middle_of_the_rows_stops_the_query(pg: PgMesh) -> None:
    with pg.connect(SAM) as connection:
        read = 0

        def read_until_cancelled() -> None:
            nonlocal read
            for _ in connection.cursor().stream(ENDLESS):
                read += 1
                if read == 50_000:
                    connection.cancel_safe()

        with pytest.raises(psycopg.errors.QueryCanceled) as info:
            read_until_cancelled()
        assert info.value.sqlstate == "57014"
        assert 50_000 <= read < 100_000_000
        assert connection.execute("SELECT 2").fetchone() == (2,)
    with pg.mesh.hub.read() as session:
        history = list_history(session, actor=pg.mesh.actor(SAM), limit=5)
    assert [row.status for row in history if row.sql == ENDLESS] == ["cancelled"]


def test_a_portal_read_in_part_and_closed_is_recorded_with_the_rows_sent(pg: PgMesh) -> None:
    token = pg.mesh.token(SAM)

    async def main() -> list[int]:
        connection = await asyncpg.connect(
            host=pg.host, port=pg.port, user=SAM, password=token, database="sales", ssl=False
        )
        try:
            async with connection.transaction():
                # a cursor reads through a portal: each fetch an Execute with a row limit
                cursor = await connection.cursor(ENDLESS)
                taken = []
                for size in (1000, 20000, 500):
                    taken += [row["i"] for row in await cursor.fetch(size)]
            assert await connection.fetchval("SELECT 1 + 1") == 2
            return taken
        finally:
            await connection.close()

    assert asyncio.run(main()) == list(range(21500))
    with pg.mesh.hub.read() as session:
        history = list_history(session, actor=pg.mesh.actor(SAM), limit=10)
    rows = [row for row in history if row.sql == ENDLESS]
    assert [row.status for row in rows] == ["succeeded"]
    assert 21500 <= rows[0].rows_returned < 1_000_000
