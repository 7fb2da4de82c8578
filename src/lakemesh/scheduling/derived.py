"""Derived check schedules: a published product with no check schedule set is checked on its
contract's cron, else its domain's default. The scheduler keeps one for it, created, moved and
removed as the contract, the domain's default and the product's status change, attributed to
the system actor; a schedule set by hand replaces it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.errors import InvalidInputError
from lakemesh.model.actions import Action
from lakemesh.model.actors import SYSTEM
from lakemesh.model.cron import check_cron, next_time
from lakemesh.model.statuses import ProductStatus
from lakemesh.scheduling.targets import (
    CHECK,
    EPOCH,
    contract_schedule,
    find_schedule,
    schedule_resource,
)
from lakemesh.store.schema import DataProduct, Schedule

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DerivedChange:
    """One derived check schedule to create (``schedule_id`` None), move to ``cron`` or remove
    (``cron`` None); ``was`` is the cron it had when read, the condition of the change."""

    target: str
    domain_id: int
    cron: str | None
    schedule_id: int | None = None
    was: str | None = None


def derived_crons(session: Session) -> dict[str, tuple[str, int, str]]:
    """The check schedules published products are due: lower-cased name → (name, domain id,
    cron), the contract's cron else the domain's default (a contract's bad cron is skipped)."""
    rows = session.execute(
        select(DataProduct).where(DataProduct.status == ProductStatus.PUBLISHED)
    ).scalars()
    wanted: dict[str, tuple[str, int, str]] = {}
    for row in rows:
        given = contract_schedule(row.contract) or row.domain.check_schedule
        if not given:
            continue
        try:
            wanted[row.name.lower()] = (row.name, row.domain_id, check_cron(given))
        except InvalidInputError:
            log.warning("data product %s: its contract's schedule %r is not cron", row.name, given)
    return wanted


def derived_changes(session: Session) -> list[DerivedChange]:
    """What makes the derived check schedules match the published products' contracts and
    domains' defaults; a product with a schedule set by hand keeps it."""
    wanted = derived_crons(session)
    changes: list[DerivedChange] = []
    for row in session.execute(select(Schedule).where(Schedule.kind == CHECK)).scalars():
        found = wanted.pop(row.target.lower(), None)
        if not row.derived:
            continue
        cron = found[2] if found is not None else None
        if cron != row.cron:
            changes.append(DerivedChange(row.target, row.domain_id, cron, row.id, row.cron))
    changes += [DerivedChange(name, domain_id, cron) for name, domain_id, cron in wanted.values()]
    return changes


def apply_derived(session: Session, change: DerivedChange) -> bool:
    """Make ``change`` if the schedule is still as read (compare and set: of two processes
    making it, one does, and audits it as the system actor); whether this one did."""
    now = clock.now()
    details = {"cron": change.cron, "after_crawl": False, "derived": True}
    if change.schedule_id is None:
        if find_schedule(session, CHECK, change.target) is not None:
            return False
        row = Schedule(
            kind=CHECK,
            target=change.target,
            domain_id=change.domain_id,
            cron=change.cron,
            after_crawl=False,
            derived=True,
            next_run_at=next_time(change.cron, now) if change.cron else None,
            changes_seen_at=EPOCH,
            created_by=SYSTEM.ref,
            created_at=now,
        )
        session.add(row)
        session.flush()  # a row another process inserted first fails here
        action = Action.SCHEDULE_SET
    else:
        same = (
            Schedule.id == change.schedule_id,
            Schedule.derived.is_(True),
            Schedule.cron == change.was,
        )
        if change.cron is None:
            done = session.execute(delete(Schedule).where(*same))
            action = Action.SCHEDULE_REMOVE
            details["cron"] = change.was
        else:
            done = session.execute(
                update(Schedule)
                .where(*same)
                .values(cron=change.cron, next_run_at=next_time(change.cron, now))
            )
            action = Action.SCHEDULE_SET
        if getattr(done, "rowcount", 0) != 1:
            return False
    audit.record(
        session,
        actor=SYSTEM.ref,
        action=action,
        resource=schedule_resource(CHECK, change.target),
        details=details,
    )
    return True
