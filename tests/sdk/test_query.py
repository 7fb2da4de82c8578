"""``Client.query`` and friends, embedded and remote, on a governed mesh."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from lakemesh.api.schemas.queries import JobStatus, JobSubmitted, QueryResult
from lakemesh.errors import AccessDeniedError, InvalidInputError, LimitExceededError
from lakemesh.hub import Hub
from lakemesh.identity.tokens import authenticate
from lakemesh.sdk import Client
from tests.conftest import HubEnv
from tests.factories.query import CUSTOMERS, EMMA, MIA, ORDERS, GovernedMesh, build_governed_mesh
from tests.sdk.conftest import Mesh

SLOW = "SELECT count(*) FROM range(100000000) a, range(100000) b WHERE a.range + b.range = -1"


@dataclass
class Governed:
    """The governed mesh built in the SDK fixture's hub home, and tokens of its principals."""

    tables: GovernedMesh
    tokens: dict[str, str]

    def raw(self, table: str) -> pa.Table:
        return self.tables.raw(table)


@pytest.fixture
def governed(mesh: Mesh, tmp_path: Path) -> Iterator[Governed]:
    """The governed sales tables in the mesh's hub home (built through a hub of its own)."""
    hub = Hub.open(mesh.home)
    with hub.transaction() as session:
        admin = authenticate(session, mesh.admin_token)
    tables = build_governed_mesh(HubEnv(hub, admin, mesh.admin_token), tmp_path / "data")
    yield Governed(tables, {ref: tables.token(ref) for ref in (EMMA, MIA)})
    hub.close()


def client_of(mesh: Mesh, governed: Governed, principal: str) -> Client:
    return mesh.client(governed.tokens[principal])


def test_query_returns_arrow(mesh: Mesh, governed: Governed) -> None:
    with client_of(mesh, governed, EMMA) as client:
        table = client.query(f"SELECT * FROM {ORDERS} ORDER BY order_id")
    raw = governed.raw(ORDERS)
    assert isinstance(table, pa.Table)
    assert table.equals(raw.filter(pc.equal(raw["region"], "EU")).sort_by("order_id"))


def test_query_json_and_export(mesh: Mesh, governed: Governed) -> None:
    with client_of(mesh, governed, MIA) as client:
        result = client.query_json(f"SELECT count(*) AS n FROM {CUSTOMERS}")
        content, figures = client.query_export("SELECT 42 AS answer", format="csv")
        with pytest.raises(InvalidInputError, match="Unknown export format: xml"):
            client.query_export("SELECT 1", format="xml")
    assert isinstance(result, QueryResult)
    assert result.rows == [[governed.raw(CUSTOMERS).num_rows]]
    assert [(column.name, column.type) for column in result.columns] == [("n", "BIGINT")]
    assert content.decode() == '"answer"\n42\n'
    assert figures["rows_returned"] == 1
    assert len(figures["query_id"]) == 32


def test_errors_come_back_as_lakemesh_errors(mesh: Mesh, governed: Governed) -> None:
    with client_of(mesh, governed, MIA) as client:
        with pytest.raises(AccessDeniedError, match=f"{MIA} lacks SELECT on {CUSTOMERS}.email"):
            client.query(f"SELECT email FROM {CUSTOMERS}")
        history = client.query_history(limit=1)
    assert history[0].status == "denied"


def wait(client: Client, job_id: str, *statuses: str) -> JobStatus:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = client.query_status(job_id)
        if status.status in statuses:
            return status
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {statuses}")


def test_jobs(mesh: Mesh, governed: Governed) -> None:
    with client_of(mesh, governed, EMMA) as client:
        job = client.submit_query(f"SELECT * FROM {ORDERS} ORDER BY order_id")
        assert isinstance(job, JobSubmitted)
        assert job.status == "queued"
        done = wait(client, job.id, "succeeded")
        assert (done.id, done.query_id, done.outcome) == (job.id, job.id, "succeeded")
        assert done.error is None
        assert client.query_results(job.id).equals(
            client.query(f"SELECT * FROM {ORDERS} ORDER BY order_id")
        )
        results = client.query_results_json(job.id)
        assert isinstance(results, QueryResult)
        assert (results.query_id, results.rows_returned) == (job.id, done.rows_returned)
        slow = client.submit_query(SLOW)
        wait(client, slow.id, "running")
        cancelled = client.cancel_query(slow.id)
        assert isinstance(cancelled, JobStatus)
        assert cancelled.status == "cancelled"
        assert cancelled.error is not None
        assert cancelled.error.type == "query_cancelled"


def test_workgroups(mesh: Mesh, governed: Governed) -> None:
    with mesh.client() as admin:
        created = admin.create_workgroup("tiny", max_bytes_per_query=10, result_retention="1d")
        assert created.result_retention == "1d"
        assert [w.name for w in admin.list_workgroups()] == ["primary", "tiny"]
        with client_of(mesh, governed, EMMA) as client, pytest.raises(LimitExceededError):
            client.query(f"SELECT * FROM {ORDERS}", workgroup="tiny")
        updated = admin.update_workgroup("tiny", max_bytes_per_query=None, max_concurrent=2)
        assert (updated.max_bytes_per_query, updated.max_concurrent) == (None, 2)
        assert admin.get_workgroup("tiny").max_concurrent == 2
        admin.delete_workgroup("tiny")
        assert [w.name for w in admin.list_workgroups()] == ["primary"]


def test_a_large_result_is_decoded_as_it_arrives(mesh: Mesh, governed: Governed) -> None:
    sql = "SELECT range AS n, 'row ' || range AS label FROM range(300000)"
    with client_of(mesh, governed, EMMA) as client:
        table = client.query(sql)
        assert table.num_rows == 300000
        assert table.slice(299999).to_pylist() == [{"n": 299999, "label": "row 299999"}]
        with pytest.raises(LimitExceededError, match=r"row limit of 1000000 rows \(max_rows\)"):
            client.query("SELECT * FROM range(1000001)")
