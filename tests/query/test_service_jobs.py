"""Query jobs: submit, status, results, cancel, retention."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from lakemesh.api.schemas.queries import JobStatus, QueryError
from lakemesh.errors import AccessDeniedError, ConflictError, NotFoundError
from lakemesh.hub import Hub
from lakemesh.query import jobs, service, workgroups
from lakemesh.query.engines import QueryCancelledError
from lakemesh.query.jobs import JobRunner
from lakemesh.store.schema import QueryRecord
from tests.conftest import FrozenClock, HubEnv
from tests.factories.query import (
    CUSTOMERS,
    EMMA,
    MIA,
    ORDERS,
    ULF,
    GovernedMesh,
    build_governed_mesh,
)

SLOW = "SELECT count(*) FROM range(100000000) a, range(100000) b WHERE a.range + b.range = -1"
FINISHED = ("succeeded", "failed", "denied", "rejected", "cancelled")


@pytest.fixture
def mesh(env: HubEnv, tmp_path: Path) -> GovernedMesh:
    return build_governed_mesh(env, tmp_path / "lake")


def wait(mesh: GovernedMesh, query_id: str, *statuses: str) -> QueryRecord:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = jobs.job_status(mesh.hub, actor=mesh.admin, query_id=query_id)
        if status.status in (statuses or FINISHED):
            return status
        time.sleep(0.05)
    raise AssertionError(f"query {query_id} never reached {statuses or FINISHED}")


def test_a_job_runs_and_keeps_its_result(mesh: GovernedMesh) -> None:
    emma = mesh.actor(EMMA)
    sql = f"SELECT * FROM {ORDERS} ORDER BY order_id"
    query_id = jobs.submit_job(mesh.hub, actor=emma, sql=sql)
    status = wait(mesh, query_id)
    assert status.status == "succeeded"
    assert status.mode == "async"
    record, table = jobs.job_results(mesh.hub, actor=emma, query_id=query_id)
    expected = service.run(mesh.hub, actor=emma, sql=sql).result.table
    assert table.equals(expected)
    assert record.rows_returned == expected.num_rows
    assert record.result_expires_at is not None


def test_a_denied_job_reports_its_denial(mesh: GovernedMesh) -> None:
    mia = mesh.actor(MIA)
    query_id = jobs.submit_job(mesh.hub, actor=mia, sql=f"SELECT email FROM {CUSTOMERS}")
    status = wait(mesh, query_id)
    message = f"{MIA} lacks SELECT on {CUSTOMERS}.email"
    assert status.status == "denied"
    assert JobStatus.from_row(status).error == QueryError(type="access_denied", message=message)
    with pytest.raises(AccessDeniedError, match=message):
        jobs.job_results(mesh.hub, actor=mia, query_id=query_id)


def test_jobs_are_private_to_their_principal(mesh: GovernedMesh) -> None:
    query_id = jobs.submit_job(mesh.hub, actor=mesh.actor(EMMA), sql=f"SELECT * FROM {ORDERS}")
    wait(mesh, query_id)
    ulf = mesh.actor(ULF)
    for call in (jobs.job_status, jobs.job_results, jobs.cancel_job):
        with pytest.raises(NotFoundError, match=f"Query job does not exist: {query_id}"):
            call(mesh.hub, actor=ulf, query_id=query_id)
    # A mesh admin sees the job's status, but not its rows.
    assert jobs.job_status(mesh.hub, actor=mesh.admin, query_id=query_id).principal == EMMA
    with pytest.raises(NotFoundError, match="Query job does not exist"):
        jobs.job_results(mesh.hub, actor=mesh.admin, query_id=query_id)


def test_cancel_a_running_job(mesh: GovernedMesh) -> None:
    emma = mesh.actor(EMMA)
    query_id = jobs.submit_job(mesh.hub, actor=emma, sql=SLOW)
    wait(mesh, query_id, "running")
    with pytest.raises(
        ConflictError, match=f"Query job {query_id} has not finished: it is running"
    ):
        jobs.job_results(mesh.hub, actor=emma, query_id=query_id)
    status = jobs.cancel_job(mesh.hub, actor=emma, query_id=query_id)
    assert status.status == "cancelled"
    with pytest.raises(QueryCancelledError, match="Query was cancelled"):
        jobs.job_results(mesh.hub, actor=emma, query_id=query_id)
    # Cancelling a finished job changes nothing.
    assert jobs.cancel_job(mesh.hub, actor=emma, query_id=query_id).status == "cancelled"


def test_another_hub_process_cancels_a_running_job(mesh: GovernedMesh) -> None:
    """Two hubs on one store stand for two processes: the second asks, the first stops the job."""
    emma = mesh.actor(EMMA)
    query_id = jobs.submit_job(mesh.hub, actor=emma, sql=SLOW)
    wait(mesh, query_id, "running")
    other = Hub(home=mesh.hub.home.path)
    try:
        status = jobs.cancel_job(other, actor=emma, query_id=query_id)
    finally:
        other.close()
    assert status.status == "cancelled"
    assert status.cancel_requested_at is not None
    with pytest.raises(QueryCancelledError, match="Query was cancelled"):
        jobs.job_results(mesh.hub, actor=emma, query_id=query_id)


def test_closing_the_hub_waits_for_its_jobs_and_stops_watching(mesh: GovernedMesh) -> None:
    emma = mesh.actor(EMMA)
    query_id = jobs.submit_job(mesh.hub, actor=emma, sql=f"SELECT * FROM {ORDERS}")
    runner = jobs.runner(mesh.hub)
    mesh.hub.close()
    status = jobs.job_status(mesh.hub, actor=emma, query_id=query_id)
    assert status.status == "succeeded"
    runner._watcher.join(timeout=5)
    assert not runner._watcher.is_alive()


def test_cancel_a_queued_job(mesh: GovernedMesh) -> None:
    mesh.hub.caches[jobs.RUNNER_CACHE] = JobRunner(mesh.hub, workers=1)
    emma = mesh.actor(EMMA)
    busy = jobs.submit_job(mesh.hub, actor=emma, sql=SLOW)
    wait(mesh, busy, "running")
    queued = jobs.submit_job(mesh.hub, actor=emma, sql=f"SELECT * FROM {ORDERS}")
    status = jobs.cancel_job(mesh.hub, actor=emma, query_id=queued)
    assert status.status == "cancelled"
    assert jobs.cancel_job(mesh.hub, actor=emma, query_id=busy).status == "cancelled"
    # The worker that picks the cancelled job up leaves it alone.
    time.sleep(0.3)
    assert jobs.job_status(mesh.hub, actor=emma, query_id=queued).status == "cancelled"


def test_results_expire_with_the_workgroups_retention(
    mesh: GovernedMesh, frozen_clock: FrozenClock
) -> None:
    with mesh.hub.transaction() as session:
        workgroups.create_workgroup(session, actor=mesh.admin, name="brief", result_retention="1h")
    emma = mesh.actor(EMMA)
    query_id = jobs.submit_job(
        mesh.hub, actor=emma, sql=f"SELECT * FROM {ORDERS}", workgroup="brief"
    )
    wait(mesh, query_id)
    assert jobs.job_results(mesh.hub, actor=emma, query_id=query_id)[1].num_rows > 0
    frozen_clock.advance(timedelta(hours=2))
    with pytest.raises(NotFoundError, match=f"Results of query job {query_id} are no longer kept"):
        jobs.job_results(mesh.hub, actor=emma, query_id=query_id)
    results = jobs.runner(mesh.hub).results
    assert results.purge() == 1
    assert not list(results.folder.iterdir())


def test_unknown_job(mesh: GovernedMesh) -> None:
    with pytest.raises(NotFoundError, match="Query job does not exist: 123"):
        jobs.job_status(mesh.hub, actor=mesh.admin, query_id="123")
