"""``/workgroups``: where queries run and the limits they obey (mesh admins manage them)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.schemas import (
    WorkgroupCreate,
    WorkgroupPublic,
    WorkgroupUpdate,
    WorkgroupUsagePublic,
)
from lakemesh.query import usage, workgroups

router = APIRouter(prefix="/workgroups", tags=["queries"])

DAYS_HELP = "How many UTC days back, today included"


@router.get("", summary="Every workgroup", response_model=list[WorkgroupPublic])
def list_workgroups(session: SessionDep, actor: CurrentActor) -> list[WorkgroupPublic]:
    return [WorkgroupPublic.from_row(row) for row in workgroups.list_workgroups(session)]


@router.post(
    "",
    status_code=201,
    summary="Create a workgroup (mesh admins); max_concurrent, max_concurrent_per_principal, "
    "timeout_seconds, max_rows and max_result_bytes left out get their defaults",
    response_model=WorkgroupPublic,
)
def create_workgroup(
    body: WorkgroupCreate, session: SessionDep, actor: CurrentActor
) -> WorkgroupPublic:
    # Settings left out keep their defaults; a limit sent as null is lifted.
    settings = body.model_dump(exclude_unset=True, exclude={"name", "engine", "description"})
    row = workgroups.create_workgroup(
        session,
        actor=actor,
        name=body.name,
        engine=body.engine,
        description=body.description or "",
        **settings,
    )
    return WorkgroupPublic.from_row(row)


@router.get("/{name}", summary="One workgroup", response_model=WorkgroupPublic)
def show_workgroup(name: str, session: SessionDep, actor: CurrentActor) -> WorkgroupPublic:
    return WorkgroupPublic.from_row(workgroups.get_workgroup_row(session, name))


@router.get(
    "/{name}/usage",
    summary="Bytes scanned in the workgroup this month (against its monthly limit) and per day: "
    "by the caller's queries; another principal's or every principal's for mesh admins",
    response_model=WorkgroupUsagePublic,
)
def workgroup_usage(
    name: str,
    session: SessionDep,
    actor: CurrentActor,
    days: Annotated[int, Query(ge=1, le=usage.MAX_DAYS, description=DAYS_HELP)] = 30,
    principal: Annotated[
        str | None, Query(description="Whose queries (default: the caller's; mesh admins)")
    ] = None,
    all_principals: Annotated[
        bool, Query(description="Every principal's queries: what the limits count (mesh admins)")
    ] = False,
) -> dict[str, Any]:
    found = usage.workgroup_usage(
        session,
        actor=actor,
        workgroup=name,
        principal=principal,
        every_principal=all_principals,
        days=days,
    )
    return found.to_dict()


@router.patch(
    "/{name}",
    summary="Change a workgroup; a limit set to null is lifted",
    response_model=WorkgroupPublic,
)
def update_workgroup(
    name: str, body: WorkgroupUpdate, session: SessionDep, actor: CurrentActor
) -> WorkgroupPublic:
    row = workgroups.update_workgroup(
        session, actor=actor, name=name, changes=body.model_dump(exclude_unset=True)
    )
    return WorkgroupPublic.from_row(row)


@router.delete(
    "/{name}",
    status_code=204,
    summary="Delete a workgroup (its history stays)",
    response_model=None,
)
def delete_workgroup(name: str, session: SessionDep, actor: CurrentActor) -> Response:
    workgroups.delete_workgroup(session, actor=actor, name=name)
    return Response(status_code=204)
