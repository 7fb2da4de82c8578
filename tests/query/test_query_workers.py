"""Queries run in worker processes: a statement that takes too much memory ends in its worker
with LimitExceededError, audited, and the hub process neither grows nor stops serving."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from lakemesh import audit
from lakemesh.errors import LimitExceededError, QueryRejectedError
from lakemesh.query import QueryLimits, service, workgroups
from lakemesh.query.engines import duckdb_process, duckdb_worker_process
from lakemesh.query.engines.duckdb import DuckDBEngine
from lakemesh.query.engines.duckdb_worker import memory_status
from lakemesh.store.schema import AuditEvent
from tests.conftest import HubEnv
from tests.factories.query import BOB, CUSTOMERS, GovernedMesh, build_governed_mesh

MEMORY = 256 * 1024**2


@pytest.fixture
def mesh(env: HubEnv, tmp_path: Path) -> GovernedMesh:
    mesh = build_governed_mesh(env, tmp_path / "lake")
    with mesh.hub.transaction() as session:
        workgroups.create_workgroup(
            session, actor=mesh.admin, name="small", max_memory_bytes=MEMORY
        )
    return mesh


def events(mesh: GovernedMesh, **criteria: Any) -> list[AuditEvent]:
    with mesh.hub.read() as session:
        return list(audit.search(session, reader=mesh.admin, **criteria))


# Sizes computed at run time (a scalar subquery), so that validation cannot refuse them first.
HUNGRY = [
    "SELECT * FROM unnest(range((SELECT 3000000000)))",
    "SELECT repeat('x', (SELECT 3000000000)) AS x",
    "SELECT string_agg(repeat('x', 1000), ',') FROM range(3000000)",
    "SELECT list(range) FROM range(200000000)",
]


@pytest.mark.parametrize("sql", HUNGRY)
def test_a_hungry_statement_ends_in_its_worker(mesh: GovernedMesh, sql: str) -> None:
    before = memory_status()["VmRSS"]
    with pytest.raises(LimitExceededError) as info:
        service.run(mesh.hub, actor=mesh.actor(BOB), sql=sql, workgroup="small")
    assert info.value.message == (
        "Query exceeded the memory limit of 256MiB (max_memory_bytes) (workgroup small)"
    )
    assert info.value.details == {
        "limit": "max_memory_bytes",
        "value": MEMORY,
        "workgroup": "small",
    }
    assert memory_status()["VmRSS"] - before < 64 * 1024**2  # the hub did not take it
    (event,) = events(mesh, actor=BOB, action="query")
    assert event.outcome == "failed"
    assert "memory limit of 256MiB" in event.details["error"]["message"]
    # and the hub goes on serving
    outcome = service.run(
        mesh.hub, actor=mesh.actor(BOB), sql=f"SELECT count(*) AS n FROM {CUSTOMERS}"
    )
    assert outcome.result.table.num_rows == 1


def test_a_worker_past_its_memory_is_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory DuckDB does not count is still the worker's: the hub kills it past the limit."""
    # DuckDB may use 2 GiB, the watchdog allows its worker 32 MiB more than it had at rest.
    monkeypatch.setattr(duckdb_worker_process, "RSS_SLACK_BYTES", 32 * 1024**2 - 2 * 1024**3)
    engine = DuckDBEngine()
    limits = QueryLimits(memory_limit="2GiB", threads=1)
    sql = "SELECT count(DISTINCT range) AS n FROM range(30000000)"
    with pytest.raises(LimitExceededError, match=r"memory limit of 2GiB \(max_memory_bytes\)"):
        engine.execute(sql=sql, files=[], parameters={}, limits=limits)
    monkeypatch.undo()
    assert engine.execute(sql="SELECT 1 AS a", files=[], parameters={}, limits=limits).rows == 1


def test_the_hub_runs_no_query_itself() -> None:
    engine = DuckDBEngine()
    sql = "SELECT current_setting('memory_limit') AS m, current_setting('threads') AS t"
    limits = QueryLimits(memory_limit="300MiB", threads=1)
    result = engine.execute(sql=sql, files=[], parameters={}, limits=limits)
    assert result.table.to_pylist() == [{"m": "300.0 MiB", "t": 1}]
    assert all(worker.pid != os.getpid() for worker in duckdb_process.worker_pool()._ready)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "SELECT * FROM unnest(range(3000000000))",
            "Function range would build a value of 3000000000",
        ),
        (
            "SELECT unnest(generate_series(1, 1e10))",
            "generate_series would build a value of 10000000000",
        ),
        ("SELECT repeat('ab', 3e9)", "repeat would build a value of 6000000000"),
        ("SELECT lpad('a', 100000000, 'x')", "lpad would build a value of 100000000"),
        ("SELECT rpad('a', 100000000)", "rpad would build a value of 100000000"),
        ("SELECT list_resize([1], 1e12)", "list_resize would build a value of 1000000000000"),
        ("SELECT bar(1, 0, 1, 1e9)", "bar would build a value of 1000000000"),
    ],
)
def test_literal_sizes_past_the_limit_are_refused(sql: str, message: str) -> None:
    from lakemesh.query import parse_statement

    with pytest.raises(
        QueryRejectedError,
        match=f"{message} elements or characters, over the limit of 10000000 per call",
    ):
        parse_statement(sql)


def test_generators_within_bounds_are_fine(mesh: GovernedMesh) -> None:
    outcome = service.run(
        mesh.hub,
        actor=mesh.actor(BOB),
        sql="SELECT count(*) AS n, max(length(repeat('x', 1000))) AS w FROM range(3000000)",
    )
    assert outcome.result.table.to_pylist() == [{"n": 3000000, "w": 1000}]


def test_workers_get_no_secret_from_the_hub_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "TOPSECRET-aws")
    monkeypatch.setenv("LAKEMESH_TOKEN", "TOPSECRET-token")
    monkeypatch.setenv("LAKEMESH_DATABASE_URL", "postgresql://u:TOPSECRET@db/hub")
    worker = duckdb_worker_process.QueryWorker()
    try:
        worker.wait_ready()
        environment = Path(f"/proc/{worker.pid}/environ").read_bytes()
    finally:
        worker.close()
    assert b"TOPSECRET" not in environment
    assert b"PATH=" in environment


def test_a_hub_with_many_open_descriptors_still_runs_queries() -> None:
    """Past descriptor 1024 (a busy hub's connections) select() fails: the pool polls."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip("too few descriptors allowed here")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    worker = duckdb_worker_process.QueryWorker()
    try:
        worker.wait_ready()
        assert worker.process.stdout is not None
        assert worker.process.stdout.fileno() > 1024
        limits = QueryLimits()
        request = {"sql": "SELECT 1", "files": [], "parameters": {}, "limits": {}}
        reply = worker.run({**request, "result_path": os.devnull}, limits=limits, cancellation=None)
        assert reply["rows"] == 1
    finally:
        worker.close()
        for descriptor in held:
            os.close(descriptor)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_small_results_come_through_the_pipe_large_ones_in_a_file(tmp_path: Path) -> None:
    worker = duckdb_worker_process.QueryWorker()
    limits = QueryLimits()
    try:
        worker.wait_ready()
        for rows, inline in ((10, True), (200_000, False)):
            path = tmp_path / f"{rows}.arrows"
            request = {
                "sql": f"SELECT range AS n, 'row ' || range AS label FROM range({rows})",
                "files": [],
                "parameters": {},
                "limits": {},
                "result_path": str(path),
                "inline_bytes": 64 * 1024,
            }
            reply = worker.run(request, limits=limits, cancellation=None)
            assert reply["rows"] == rows
            assert ("payload" in reply) is inline
            assert path.exists() is not inline
            source = pa.py_buffer(reply["payload"]) if inline else pa.memory_map(str(path))
            table = pa.ipc.open_stream(source).read_all()
            assert table.num_rows == rows
            assert table.column("label")[rows - 1].as_py() == f"row {rows - 1}"
            assert reply["bytes"] == (len(reply["payload"]) if inline else path.stat().st_size)
    finally:
        worker.close()


@pytest.mark.parametrize("rows", [10, 200_000])
def test_result_limits_hold_inline_and_in_a_file(rows: int) -> None:
    engine = DuckDBEngine()
    sql = f"SELECT range AS n FROM range({rows})"
    with pytest.raises(LimitExceededError, match=f"row limit of {rows - 1}"):
        engine.execute(sql=sql, files=[], parameters={}, limits=QueryLimits(max_rows=rows - 1))
    with pytest.raises(LimitExceededError, match=r"limit of 100 bytes \(max_result_bytes"):
        engine.execute(sql=sql, files=[], parameters={}, limits=QueryLimits(max_result_bytes=100))
    result = engine.execute(sql=sql, files=[], parameters={}, limits=QueryLimits(max_rows=rows))
    assert result.rows == rows


def test_the_pool_counts_its_workers_cpu_time() -> None:
    """What a query costs in its worker is counted (benchmarks add it to the hub's own)."""
    pool = duckdb_process.worker_pool()
    before = pool.cpu_seconds
    sql = "SELECT count(DISTINCT range % 1000003) AS n FROM range(3000000)"
    DuckDBEngine().execute(sql=sql, files=[], parameters={}, limits=QueryLimits(threads=1))
    assert pool.cpu_seconds - before > 0.05
