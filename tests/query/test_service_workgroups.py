"""Workgroups: their management and the limits every query of theirs obeys."""

from __future__ import annotations

import importlib.util
import os
import shutil
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lakemesh import clock
from lakemesh.errors import (
    AccessDeniedError,
    AlreadyExistsError,
    ConflictError,
    InvalidInputError,
    LimitExceededError,
    NotFoundError,
)
from lakemesh.model.workgroup_limits import ALL_LIMITS
from lakemesh.query import jobs, load_engine, service, usage, workgroups
from lakemesh.query.history import QueryFacts, insert_query
from lakemesh.store.schema import QueryRecord, Workgroup
from tests.conftest import FrozenClock, HubEnv
from tests.factories.query import (
    BOB,
    CARL,
    CUSTOMERS,
    EMMA,
    ORDERS,
    GovernedMesh,
    build_governed_mesh,
)

SLOW = "SELECT count(*) FROM range(100000000) a, range(100000) b WHERE a.range + b.range = -1"


@pytest.fixture
def mesh(env: HubEnv, tmp_path: Path) -> GovernedMesh:
    return build_governed_mesh(env, tmp_path / "lake")


def make_workgroup(mesh: GovernedMesh, name: str, **settings: object) -> None:
    with mesh.hub.transaction() as session:
        workgroups.create_workgroup(session, actor=mesh.admin, name=name, **settings)  # type: ignore[arg-type]


def table_bytes(mesh: GovernedMesh, table: str) -> int:
    folder = mesh.root.joinpath(*table.split("."))
    return sum(p.stat().st_size for p in folder.rglob("*.parquet"))


def wait_for_status(mesh: GovernedMesh, query_id: str, *statuses: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = jobs.job_status(mesh.hub, actor=mesh.admin, query_id=query_id).status
        if status in statuses:
            return str(status)
        time.sleep(0.05)
    raise AssertionError(f"query {query_id} never reached {statuses}")


# -- management -------------------------------------------------------------------------------


def test_primary_exists_and_stays(mesh: GovernedMesh) -> None:
    with mesh.hub.read() as session:
        names = [row.name for row in workgroups.list_workgroups(session)]
    assert names == ["primary"]
    with (
        mesh.hub.transaction() as session,
        pytest.raises(ConflictError, match="The default workgroup cannot be deleted: primary"),
    ):
        workgroups.delete_workgroup(session, actor=mesh.admin, name="primary")


def test_create_update_delete(mesh: GovernedMesh) -> None:
    make_workgroup(mesh, "analysts", max_bytes_per_query=1000, result_retention="12h")
    with mesh.hub.transaction() as session:
        row = workgroups.update_workgroup(
            session,
            actor=mesh.admin,
            name="analysts",
            changes={"max_bytes_per_query": None, "max_concurrent": 3},
        )
        limits = (row.max_bytes_per_query, row.max_concurrent, workgroups.retention_text(row))
    assert limits == (None, 3, "12h")
    with pytest.raises(AlreadyExistsError, match="Workgroup already exists: analysts"):
        make_workgroup(mesh, "analysts")
    with mesh.hub.transaction() as session:
        workgroups.delete_workgroup(session, actor=mesh.admin, name="analysts")
    with mesh.hub.read() as session, pytest.raises(NotFoundError, match="Workgroup does not exist"):
        workgroups.get_workgroup_row(session, "analysts")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"engine": "oracle"}, "Unknown query engine: oracle"),
        ({"max_bytes_per_query": 0}, "Invalid max_bytes_per_query: 0"),
        ({"result_retention": "soon"}, "Invalid duration: 'soon'"),
        ({"spark_remote": "sc://spark:15002"}, "A Spark Connect address needs the spark engine"),
        ({"engine": "spark", "spark_remote": "http://x"}, "Invalid Spark Connect address"),
    ],
)
def test_invalid_settings(mesh: GovernedMesh, settings: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        make_workgroup(mesh, "bad", **settings)


def test_a_query_sees_every_limit_of_its_workgroup(mesh: GovernedMesh) -> None:
    limits = {name: 64 * 1024**2 + number for number, name in enumerate(ALL_LIMITS)}
    make_workgroup(mesh, "analysts", **limits)
    with mesh.hub.read() as session:
        settings = workgroups.workgroup_settings(session, "analysts")
    assert {name: getattr(settings, name) for name in ALL_LIMITS} == limits


def test_an_unset_memory_limit_is_the_default() -> None:
    row = Workgroup(name="w", engine="duckdb", result_retention_seconds=60, max_memory_bytes=None)
    settings = workgroups.WorkgroupSettings.of(row)
    assert settings.max_memory_bytes == workgroups.DEFAULT_MEMORY_BYTES
    assert settings.result_retention == timedelta(seconds=60)


def test_only_mesh_admins_manage_workgroups(mesh: GovernedMesh) -> None:
    with (
        mesh.hub.transaction() as session,
        pytest.raises(AccessDeniedError, match=f"{BOB} is not a mesh admin"),
    ):
        workgroups.create_workgroup(session, actor=mesh.actor(BOB), name="mine")


# -- limits -----------------------------------------------------------------------------------


def test_bytes_per_query(mesh: GovernedMesh) -> None:
    make_workgroup(mesh, "small", max_bytes_per_query=100)
    size = table_bytes(mesh, ORDERS)
    with pytest.raises(LimitExceededError) as info:
        service.run(
            mesh.hub, actor=mesh.actor(BOB), sql=f"SELECT * FROM {ORDERS}", workgroup="small"
        )
    assert info.value.message == (
        f"Query would scan {size} bytes, over the limit of 100 bytes per query (workgroup small)"
    )
    assert info.value.details["workgroup"] == "small"
    with mesh.hub.read() as session:
        row = session.execute(select(QueryRecord)).scalar_one()
    assert (row.status, row.workgroup, row.bytes_scanned) == ("rejected", "small", 0)


def test_bytes_per_month(mesh: GovernedMesh, frozen_clock: FrozenClock) -> None:
    size = table_bytes(mesh, ORDERS)
    make_workgroup(mesh, "monthly", max_bytes_per_month=size + size // 2)
    actor = mesh.actor(BOB)
    sql = f"SELECT count(*) FROM {ORDERS}"
    service.run(mesh.hub, actor=actor, sql=sql, workgroup="monthly")
    with pytest.raises(LimitExceededError) as info:
        service.run(mesh.hub, actor=actor, sql=sql, workgroup="monthly")
    assert info.value.message == (
        f"Query would scan {size} bytes, over the limit of {size + size // 2} bytes per month "
        f"(max_bytes_per_month) of workgroup monthly: {size} bytes were scanned this month"
    )
    frozen_clock.advance(timedelta(days=31))
    assert service.run(mesh.hub, actor=actor, sql=sql, workgroup="monthly").result.rows == 1


def test_concurrent_queries(mesh: GovernedMesh) -> None:
    make_workgroup(mesh, "single", max_concurrent=1)
    actor = mesh.actor(BOB)
    query_id = jobs.submit_job(mesh.hub, actor=actor, sql=SLOW, workgroup="single")
    wait_for_status(mesh, query_id, "running")
    with pytest.raises(LimitExceededError) as info:
        service.run(mesh.hub, actor=actor, sql="SELECT 1", workgroup="single")
    assert info.value.message.startswith(
        "Workgroup single is at its limit of 1 concurrent queries (max_concurrent)"
    )
    cancelled = jobs.cancel_job(mesh.hub, actor=actor, query_id=query_id)
    assert cancelled.status == "cancelled"
    assert service.run(mesh.hub, actor=actor, sql="SELECT 1", workgroup="single").result.rows == 1


def test_abandoned_running_queries_do_not_count(mesh: GovernedMesh) -> None:
    make_workgroup(mesh, "single", max_concurrent=1)
    long_ago = clock.now() - timedelta(hours=2)
    facts = QueryFacts("0" * 32, BOB, SLOW, "single", "duckdb", "sync", long_ago, long_ago)
    with mesh.hub.transaction() as session:
        insert_query(session, facts, status="running")
    service.run(mesh.hub, actor=mesh.actor(BOB), sql="SELECT 1", workgroup="single")
    with mesh.hub.read() as session:
        row = session.get(QueryRecord, "0" * 32)
        assert row is not None
        assert (row.status, row.error) == ("failed", "Query was abandoned: its hub process stopped")


def test_timeout(mesh: GovernedMesh) -> None:
    make_workgroup(mesh, "quick", timeout_seconds=1)
    # planning counts against the time limit too (and may pass it alone on a loaded machine)
    with pytest.raises(
        LimitExceededError, match=r"time limit of 1s(, planning included)? \(workgroup quick\)"
    ):
        service.run(mesh.hub, actor=mesh.actor(BOB), sql=SLOW, workgroup="quick")
    with mesh.hub.read() as session:
        row = session.execute(select(QueryRecord)).scalar_one()
    assert row.status == "failed"


def test_unknown_workgroup(mesh: GovernedMesh) -> None:
    with pytest.raises(NotFoundError, match="Workgroup does not exist: nowhere"):
        service.run(
            mesh.hub, actor=mesh.actor(BOB), sql=f"SELECT * FROM {CUSTOMERS}", workgroup="nowhere"
        )


def test_spark_workgroup_says_when_spark_is_missing(mesh: GovernedMesh) -> None:
    try:
        load_engine("spark")
    except InvalidInputError as e:
        missing = e.message
    else:
        pytest.skip("the Spark engine is available here")
    make_workgroup(mesh, "spark", engine="spark")
    with pytest.raises(InvalidInputError) as info:
        service.run(
            mesh.hub, actor=mesh.actor(BOB), sql=f"SELECT * FROM {ORDERS}", workgroup="spark"
        )
    assert info.value.message == (
        f"Workgroup spark runs queries on the spark engine, which is not available: {missing}"
    )


def _spark_missing() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install 'lakemesh[spark]')"
    if shutil.which("java") is None:
        return "Java is not installed (Spark needs Java 17 or later)"
    try:
        load_engine("spark")
    except InvalidInputError as e:
        return e.message
    return None


@pytest.mark.slow
def test_spark_workgroup_returns_what_duckdb_returns(mesh: GovernedMesh) -> None:
    reason = _spark_missing()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Spark tests cannot run under CI: {reason}")
        pytest.skip(reason)
    make_workgroup(mesh, "cluster", engine="spark")
    for principal, sql in (
        (EMMA, f"SELECT region, count(*) AS n, sum(amount) AS total FROM {ORDERS} GROUP BY region"),
        (CARL, f"SELECT customer_id, email, phone, region FROM {CUSTOMERS}"),
    ):
        actor = mesh.actor(principal)
        duck = service.run(mesh.hub, actor=actor, sql=sql).result
        spark = service.run(mesh.hub, actor=actor, sql=sql, workgroup="cluster").result
        assert spark.engine == "spark"
        assert sorted(map(str, spark.table.to_pylist())) == sorted(map(str, duck.table.to_pylist()))


def test_usage_this_month_and_per_day(mesh: GovernedMesh, frozen_clock: FrozenClock) -> None:
    size = table_bytes(mesh, ORDERS)
    make_workgroup(mesh, "reports", max_bytes_per_month=10 * size)
    actor = mesh.actor(BOB)
    sql = f"SELECT count(*) FROM {ORDERS}"
    service.run(mesh.hub, actor=actor, sql=sql, workgroup="reports")
    frozen_clock.advance(timedelta(days=2))
    service.run(mesh.hub, actor=actor, sql=sql, workgroup="reports")
    service.run(mesh.hub, actor=mesh.actor(EMMA), sql=sql, workgroup="reports")
    service.run(mesh.hub, actor=actor, sql=sql)  # another workgroup counts elsewhere
    admin = mesh.admin
    with mesh.hub.read() as session:
        found = usage.workgroup_usage(
            session, actor=admin, workgroup="reports", every_principal=True, days=3
        )
        bobs = usage.workgroup_usage(session, actor=actor, workgroup="reports", days=3)
        with pytest.raises(AccessDeniedError, match=f"may not read the usage of {EMMA}"):
            usage.workgroup_usage(session, actor=actor, workgroup="reports", principal=EMMA)
        with pytest.raises(AccessDeniedError, match="may not read the usage of every principal"):
            usage.workgroup_usage(session, actor=actor, workgroup="reports", every_principal=True)
    assert (found.workgroup, found.bytes_this_month, found.max_bytes_per_month) == (
        "reports",
        3 * size,
        10 * size,
    )
    assert [(day.isoformat(), n) for day, n in found.daily] == [
        ("2026-01-01", size),
        ("2026-01-02", 0),
        ("2026-01-03", 2 * size),
    ]
    assert (bobs.principal, bobs.bytes_this_month, bobs.max_bytes_per_month) == (
        BOB,
        2 * size,
        10 * size,
    )
    assert [n for _, n in bobs.daily] == [size, 0, size]
    frozen_clock.advance(timedelta(days=31))  # a new month: nothing yet, the days moved on
    with mesh.hub.read() as session:
        later = usage.workgroup_usage(
            session, actor=admin, workgroup="reports", every_principal=True, days=2
        )
        with pytest.raises(NotFoundError, match="Workgroup does not exist: nope"):
            usage.workgroup_usage(session, actor=admin, workgroup="nope")
    assert later.bytes_this_month == 0
    assert [n for _, n in later.daily] == [0, 0]
