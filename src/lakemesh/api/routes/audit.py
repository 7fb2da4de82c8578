"""``/audit``: search the hash-chained audit trail and verify it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from lakemesh import audit
from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.schemas import AuditEvent, AuditVerification
from lakemesh.audit.search import MAX_RESULTS, parse_time

router = APIRouter(prefix="/audit", tags=["audit"])

TIME_HELP = "An ISO timestamp (2026-01-31T00:00:00Z) or a duration back from now (90d)"


@router.get(
    "/events",
    summary="Audit events matching every given criterion, newest first",
    response_model=list[AuditEvent],
)
def search_events(
    session: SessionDep,
    actor: CurrentActor,
    principal: Annotated[str | None, Query(alias="actor", description="Who acted")] = None,
    resource: Annotated[str | None, Query(description="The object or anything in it")] = None,
    action: Annotated[str | None, Query(description="An action or action prefix")] = None,
    since: Annotated[str | None, Query(description=TIME_HELP)] = None,
    until: Annotated[str | None, Query(description=TIME_HELP)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_RESULTS)] = 100,
) -> list[AuditEvent]:
    events = audit.search(
        session,
        reader=actor,
        actor=principal,
        resource=resource,
        action=action,
        since=parse_time(since, "since"),
        until=parse_time(until, "until"),
        limit=limit,
    )
    return [AuditEvent.from_row(event) for event in events]


@router.get(
    "/verify",
    summary="Walk the whole chain; report the first broken event",
    response_model=AuditVerification,
)
def verify(session: SessionDep, actor: CurrentActor) -> AuditVerification:
    return AuditVerification.from_row(audit.verify_trail(session, reader=actor))
