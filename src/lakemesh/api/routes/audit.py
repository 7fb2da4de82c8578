"""``/audit``: search the hash-chained audit trail and verify it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from lakemesh import audit, clock
from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.schemas import AuditEvent, AuditVerification
from lakemesh.audit.search import MAX_RESULTS
from lakemesh.errors import InvalidInputError
from lakemesh.model.durations import DURATION, parse_duration

router = APIRouter(prefix="/audit", tags=["audit"])

TIME_HELP = "An ISO timestamp (2026-01-31T00:00:00Z) or a duration back from now (90d)"


def parse_time(text: str | None, field: str) -> datetime | None:
    """``90d`` means now minus 90 days; otherwise an ISO timestamp (UTC when it names no zone)."""
    if text is None or not text.strip():
        return None
    if DURATION.match(text.strip()):
        return clock.now() - parse_duration(text)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as e:
        raise InvalidInputError(
            f"Invalid {field}: {text!r} (expected an ISO timestamp like 2026-01-31T00:00:00Z "
            "or a duration like 90d)",
            details={field: text},
        ) from e
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
def verify(session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    return audit.verify_trail(session, reader=actor).to_dict()
