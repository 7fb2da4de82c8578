"""service.stream: the rows of a governed query batch by batch, with run's enforcement, limits,
history and audit (the PostgreSQL server sends results this way)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from lakemesh.api.schemas.queries import QueryPublic
from lakemesh.errors import AccessDeniedError, LimitExceededError
from lakemesh.query import service
from lakemesh.query.history import list_history
from lakemesh.query.workgroups import create_workgroup
from tests.conftest import HubEnv
from tests.factories.query import (
    CUSTOMERS,
    EMMA,
    MIA,
    ORDERS,
    SAM,
    GovernedMesh,
    build_governed_mesh,
)


@pytest.fixture
def mesh(sqlite_env: HubEnv, tmp_path: Path) -> GovernedMesh:
    return build_governed_mesh(sqlite_env, tmp_path / "lake")


def history(mesh: GovernedMesh, principal: str) -> list[dict[str, Any]]:
    with mesh.hub.read() as session:
        return [
            QueryPublic.from_row(row).model_dump()
            for row in list_history(session, actor=mesh.actor(principal))
        ]


def test_a_stream_returns_what_run_returns_and_records_it_the_same(mesh: GovernedMesh) -> None:
    sql = f"SELECT order_id, region, amount FROM {ORDERS} ORDER BY order_id"
    ran = service.run(mesh.hub, actor=mesh.actor(EMMA), sql=sql)
    streamed = service.stream(mesh.hub, actor=mesh.actor(EMMA), sql=sql)
    assert streamed.schema == ran.result.table.schema
    table = pa.Table.from_batches(list(streamed), schema=streamed.schema)
    assert table.equals(ran.result.table)
    assert streamed.rows == ran.result.rows
    first, second = history(mesh, EMMA)
    keep = ("status", "tables", "columns", "filters", "rows_returned", "bytes_scanned")
    assert {k: first[k] for k in keep} == {k: second[k] for k in keep}


def test_a_denial_is_raised_before_any_row_and_recorded(mesh: GovernedMesh) -> None:
    with pytest.raises(AccessDeniedError, match=f"lacks SELECT on {CUSTOMERS}.phone"):
        service.stream(mesh.hub, actor=mesh.actor(MIA), sql=f"SELECT phone FROM {CUSTOMERS}")
    assert [row["status"] for row in history(mesh, MIA)] == ["denied"]


def test_a_row_limit_stops_the_stream_where_it_is_passed(mesh: GovernedMesh) -> None:
    with mesh.hub.transaction() as session:
        create_workgroup(session, actor=mesh.admin, name="small", max_rows=25_000)
    streamed = service.stream(
        mesh.hub, actor=mesh.actor(SAM), sql="SELECT i FROM range(100000) t(i)", workgroup="small"
    )
    batches: list[pa.RecordBatch] = []
    with pytest.raises(LimitExceededError, match="row limit of 25000 rows"):
        batches.extend(streamed)
    assert sum(batch.num_rows for batch in batches) <= 25_000
    assert [row["status"] for row in history(mesh, SAM)] == ["failed"]


def test_a_stream_closed_early_stops_its_query_and_records_the_rows_read(
    mesh: GovernedMesh,
) -> None:
    streamed = service.stream(
        mesh.hub, actor=mesh.actor(SAM), sql="SELECT i FROM range(900000) t(i)"
    )
    first = next(iter(streamed))
    streamed.close()
    (record,) = history(mesh, SAM)
    assert (record["status"], record["rows_returned"]) == ("succeeded", first.num_rows)


def test_a_probe_is_not_in_the_history_unless_it_fails(mesh: GovernedMesh) -> None:
    sql = f"SELECT * FROM (SELECT order_id FROM {ORDERS}) AS described LIMIT 0"
    probe = service.stream(mesh.hub, actor=mesh.actor(EMMA), sql=sql, probe=True)
    assert list(probe) == []
    assert probe.schema.names == ["order_id"]
    assert history(mesh, EMMA) == []
    with pytest.raises(AccessDeniedError):
        service.stream(
            mesh.hub, actor=mesh.actor(MIA), sql=f"SELECT phone FROM {CUSTOMERS}", probe=True
        )
    assert [row["status"] for row in history(mesh, MIA)] == ["denied"]
