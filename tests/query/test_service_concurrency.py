"""Concurrency limits per workgroup and per principal, fair job scheduling, bounded history."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from lakemesh.api.schemas.workgroups import WorkgroupPublic
from lakemesh.errors import LimitExceededError, QueryRejectedError
from lakemesh.query import attempt, jobs, service, workgroups
from lakemesh.query.engines import Cancellation, QueryCancelledError, QueryLimits
from lakemesh.query.execution import after_planning
from lakemesh.query.history import SQL_PREFIX_BYTES
from lakemesh.store.schema import AuditEvent, QueryRecord
from tests.conftest import HubEnv
from tests.factories.query import EMMA, ORDERS, ULF, GovernedMesh, build_governed_mesh

from .test_service_jobs import SLOW, wait


@pytest.fixture
def mesh(env: HubEnv, tmp_path: Path) -> GovernedMesh:
    return build_governed_mesh(env, tmp_path / "lake")


def running(mesh: GovernedMesh, principal: str) -> list[str]:
    with mesh.hub.read() as session:
        rows = session.execute(
            select(QueryRecord.id).where(
                QueryRecord.principal == principal, QueryRecord.status == "running"
            )
        )
        return list(rows.scalars())


@contextmanager
def slow_sync_query(mesh: GovernedMesh, principal: str, workgroup: str) -> Iterator[None]:
    """A synchronous query of ``principal`` running in a thread for the block, then cancelled."""
    cancellation = Cancellation()
    errors: list[Exception] = []

    def run() -> None:
        try:
            service.run(
                mesh.hub,
                actor=mesh.actor(principal),
                sql=SLOW,
                workgroup=workgroup,
                cancellation=cancellation,
            )
        except Exception as e:
            errors.append(e)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 30
    while not running(mesh, principal):
        assert time.monotonic() < deadline, errors
        time.sleep(0.05)
    try:
        yield
    finally:
        cancellation.cancel()
        thread.join(30)
    assert [type(e) for e in errors] == [QueryCancelledError]


def test_workgroups_have_concurrency_limits_and_a_timeout_by_default(mesh: GovernedMesh) -> None:
    with mesh.hub.transaction() as session:
        primary = WorkgroupPublic.from_row(workgroups.get_workgroup_row(session, "primary"))
        created = workgroups.create_workgroup(session, actor=mesh.admin, name="team")
        team = WorkgroupPublic.from_row(created)
        tuned = workgroups.create_workgroup(
            session, actor=mesh.admin, name="tuned", max_concurrent_per_principal=5
        )
        assert tuned.max_concurrent_per_principal == 5
        lifted = workgroups.update_workgroup(
            session, actor=mesh.admin, name="team", changes={"max_concurrent_per_principal": None}
        )
        assert lifted.max_concurrent_per_principal is None
    for shown in (primary, team):
        assert shown.max_concurrent == 8
        assert shown.max_concurrent_per_principal == 2
        assert shown.timeout_seconds == 60
    assert "no limits" not in (primary.description or "")
    with (
        mesh.hub.transaction() as session,
        pytest.raises(match="Invalid max_concurrent_per_principal: 0"),
    ):
        workgroups.create_workgroup(
            session, actor=mesh.admin, name="zero", max_concurrent_per_principal=0
        )


def test_a_principal_over_its_limit_gets_limit_exceeded_others_still_run(
    mesh: GovernedMesh,
) -> None:
    with mesh.hub.transaction() as session:
        workgroups.create_workgroup(
            session, actor=mesh.admin, name="single", max_concurrent_per_principal=1
        )
    with slow_sync_query(mesh, EMMA, "single"):
        with pytest.raises(
            LimitExceededError,
            match=f"^{EMMA} is at the limit of 1 concurrent queries per principal "
            r"\(max_concurrent_per_principal\) of workgroup single; try again",
        ) as info:
            service.run(mesh.hub, actor=mesh.actor(EMMA), sql="SELECT 1", workgroup="single")
        assert info.value.status == 429
        assert info.value.details["principal"] == EMMA
        outcome = service.run(mesh.hub, actor=mesh.actor(ULF), sql="SELECT 1", workgroup="single")
        assert outcome.result.rows == 1


def test_one_principals_queued_jobs_never_hold_up_anothers(mesh: GovernedMesh) -> None:
    """Six slow jobs of one analyst: two run (its limit), four wait; another's job runs at once."""
    emma = mesh.actor(EMMA)
    flood = [jobs.submit_job(mesh.hub, actor=emma, sql=SLOW) for _ in range(6)]
    try:
        ulf = mesh.actor(ULF)
        quick = jobs.submit_job(mesh.hub, actor=ulf, sql=f"SELECT count(*) AS n FROM {ORDERS}")
        assert wait(mesh, quick).status == "succeeded"
        statuses = [jobs.job_status(mesh.hub, actor=emma, query_id=q).status for q in flood]
        assert sorted(statuses) == ["queued"] * 4 + ["running"] * 2
        assert "rejected" not in statuses
    finally:
        for query_id in flood:
            jobs.cancel_job(mesh.hub, actor=emma, query_id=query_id)
    statuses = [jobs.job_status(mesh.hub, actor=emma, query_id=q).status for q in flood]
    assert statuses == ["cancelled"] * 6


def test_a_job_waits_for_its_principals_slot_instead_of_failing(mesh: GovernedMesh) -> None:
    with mesh.hub.transaction() as session:
        workgroups.create_workgroup(
            session, actor=mesh.admin, name="single", max_concurrent_per_principal=1
        )
    emma = mesh.actor(EMMA)
    with slow_sync_query(mesh, EMMA, "single"):
        query_id = jobs.submit_job(mesh.hub, actor=emma, sql="SELECT 42 AS n", workgroup="single")
        time.sleep(4 * jobs.RETRY_SECONDS)
        assert jobs.job_status(mesh.hub, actor=emma, query_id=query_id).status == "queued"
    status = wait(mesh, query_id)
    assert status.status == "succeeded"
    assert jobs.job_results(mesh.hub, actor=emma, query_id=query_id)[1].num_rows == 1


def test_history_and_audit_keep_a_prefix_and_hash_of_long_sql(mesh: GovernedMesh) -> None:
    sql = "SELECT 1 AS n -- " + "é" * 100_000
    outcome = service.run(mesh.hub, actor=mesh.actor(EMMA), sql=sql)
    too_long = "/* " + "x" * 2_000_000 + " */ SELECT 1"
    with pytest.raises(QueryRejectedError, match="SQL is 2,000,015 bytes; the limit is 1,048,576"):
        service.run(mesh.hub, actor=mesh.actor(EMMA), sql=too_long)
    with mesh.hub.read() as session:
        for text, status in ((sql, "succeeded"), (too_long, "rejected")):
            full = text.encode()
            row = session.execute(
                select(QueryRecord).where(
                    QueryRecord.sql_sha256 == hashlib.sha256(full).hexdigest()
                )
            ).scalar_one()
            assert row.status == status
            assert row.sql_bytes == len(full)
            assert full.startswith(row.sql.encode())
            assert SQL_PREFIX_BYTES - 2 < len(row.sql.encode()) <= SQL_PREFIX_BYTES
            events = session.execute(select(AuditEvent).where(AuditEvent.action == "query"))
            [event] = [e for e in events.scalars() if e.details.get("query_id") == row.id]
            assert event.details["sql"] == row.sql
            assert event.details["sql_sha256"] == row.sql_sha256
            assert len(str(event.details)) < 3 * SQL_PREFIX_BYTES
    assert outcome.query_id


def test_planning_counts_against_the_time_limit(
    mesh: GovernedMesh, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Planning (parse, resolve, admission) that outlasts the workgroup's time limit stops the
    query before its engine starts. The clock of the query's attempt says planning took 61 s."""
    sql = "SELECT 1 AS n WHERE 1 IN (" + ",".join(str(i) for i in range(1000)) + ")"
    readings = iter([1000.0, 1061.0])

    class SlowPlanningClock:
        @staticmethod
        def perf_counter() -> float:
            return next(readings, 1061.0)

    monkeypatch.setattr(attempt, "time", SlowPlanningClock)
    with pytest.raises(
        LimitExceededError,
        match=r"^Query planning took 61\.0s, over the time limit of 60s \(workgroup primary\)$",
    ) as info:
        service.run(mesh.hub, actor=mesh.actor(EMMA), sql=sql)
    assert info.value.details["planning_seconds"] == 61
    with mesh.hub.read() as session:
        row = session.execute(
            select(QueryRecord).where(QueryRecord.sql_bytes == len(sql))
        ).scalar_one()
    assert (row.status, row.error_type, row.bytes_scanned) == ("failed", "limit_exceeded", 0)


def test_the_time_left_after_planning_is_what_the_engine_gets() -> None:
    limits = QueryLimits(timeout_seconds=10)
    assert after_planning(limits, 2.5).timeout_seconds == 7.5
    assert after_planning(QueryLimits(timeout_seconds=None), 99).timeout_seconds is None
    with pytest.raises(LimitExceededError, match=r"^Query planning took 12\.0s, over the time"):
        after_planning(limits, 12)


def test_a_timeout_names_the_workgroups_whole_limit(mesh: GovernedMesh) -> None:
    with mesh.hub.transaction() as session:
        workgroups.create_workgroup(session, actor=mesh.admin, name="brisk", timeout_seconds=2)
    service.run(mesh.hub, actor=mesh.actor(EMMA), sql="SELECT 1", workgroup="brisk")  # warm
    with pytest.raises(
        LimitExceededError,
        match=r"^Query exceeded the time limit of 2s, planning included \(workgroup brisk\)$",
    ) as info:
        service.run(mesh.hub, actor=mesh.actor(EMMA), sql=SLOW, workgroup="brisk")
    assert info.value.details["value"] == 2
