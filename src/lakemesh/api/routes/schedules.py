"""``/schedules``: when products' checks and tables' crawls run, and how their runs went."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from lakemesh import scheduling
from lakemesh.api.deps import CurrentActor, HubDep, SessionDep, StandaloneActor, current_actor
from lakemesh.api.schemas.schedules import (
    ScheduledRunPublic,
    SchedulePublic,
    ScheduleSet,
    TickResult,
)
from lakemesh.model.actions import Action

router = APIRouter(prefix="/schedules", tags=["schedules"])
authenticated = [Depends(current_actor)]


@router.get(
    "",
    summary="Schedules of the domains the caller administers",
    dependencies=authenticated,
    response_model=list[SchedulePublic],
)
def list_schedules(
    session: SessionDep, actor: CurrentActor, domain: str | None = None
) -> list[SchedulePublic]:
    found = scheduling.list_schedules(session, actor=actor, domain=domain)
    return [SchedulePublic.from_row(one.row, last_run=one.last_run) for one in found]


@router.put(
    "",
    summary="Set the schedule of a product's checks or a table's crawl (its domain's admins)",
    dependencies=authenticated,
    response_model=SchedulePublic,
)
def set_schedule(body: ScheduleSet, session: SessionDep, actor: CurrentActor) -> SchedulePublic:
    row = scheduling.set_schedule(session, actor=actor, **body.model_dump())
    return SchedulePublic.from_row(row)


@router.delete(
    "/{kind}/{target}",
    summary="Remove a schedule",
    dependencies=authenticated,
    status_code=204,
)
def remove_schedule(kind: str, target: str, session: SessionDep, actor: CurrentActor) -> Response:
    scheduling.remove_schedule(session, actor=actor, kind=kind, target=target)
    return Response(status_code=204)


@router.get(
    "/{kind}/{target}/runs",
    summary="A schedule's latest runs, newest first",
    dependencies=authenticated,
    response_model=list[ScheduledRunPublic],
)
def schedule_runs(
    kind: str,
    target: str,
    session: SessionDep,
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> list[ScheduledRunPublic]:
    runs = scheduling.schedule_runs(session, actor=actor, kind=kind, target=target, limit=limit)
    return [ScheduledRunPublic.from_row(run) for run in runs]


@router.post(
    "/tick",
    summary="Do the due runs now in this hub process (mesh admins; the scheduler of 'serve' "
    "does it every interval)",
    response_model=TickResult,
)
def tick(hub: HubDep, actor: StandaloneActor) -> TickResult:
    with hub.read():  # a denial is audited
        actor.require_mesh_admin(action=Action.SCHEDULE_RUN, resource="schedules")
    return TickResult(runs=scheduling.Scheduler(hub).tick())
