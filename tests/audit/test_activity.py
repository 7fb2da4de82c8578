"""Queries and denials per day, as the audit view charts them, for each kind of reader."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from lakemesh.audit.activity import daily_activity
from lakemesh.errors import AccessDeniedError
from lakemesh.query import service
from tests.conftest import FrozenClock, HubEnv
from tests.factories.query import BOB, MIA, ORDERS, SAM, GovernedMesh, build_governed_mesh


@pytest.fixture
def mesh(env: HubEnv, tmp_path: Path) -> GovernedMesh:
    return build_governed_mesh(env, tmp_path / "lake")


def test_queries_and_denials_per_day_as_far_as_the_reader_may_search(
    mesh: GovernedMesh, frozen_clock: FrozenClock
) -> None:
    sql = f"SELECT count(*) FROM {ORDERS}"
    service.run(mesh.hub, actor=mesh.actor(BOB), sql=sql)
    frozen_clock.advance(timedelta(days=2))
    service.run(mesh.hub, actor=mesh.actor(BOB), sql=sql)
    with pytest.raises(AccessDeniedError):
        service.run(mesh.hub, actor=mesh.actor(MIA), sql="SELECT email FROM sales.crm.customers")
    with mesh.hub.read() as session:
        days = daily_activity(session, reader=mesh.admin, days=3)
        sales = daily_activity(session, reader=mesh.actor(SAM), days=3)
    assert [(d.day.isoformat(), d.queries, d.denials) for d in days] == [
        ("2026-01-01", 1, 0),
        ("2026-01-02", 0, 0),
        ("2026-01-03", 2, 1),
    ]
    # sales' admin sees the events about sales' tables: every query here reads one.
    assert [(d.queries, d.denials) for d in sales] == [(1, 0), (0, 0), (2, 1)]
    with mesh.hub.read() as session, pytest.raises(AccessDeniedError, match="is not a mesh admin"):
        daily_activity(session, reader=mesh.actor(BOB))
