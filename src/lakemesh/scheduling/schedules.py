"""Setting, listing and removing schedules: a product's checks (cron and/or after every crawl
that changes its tables) or a table's crawl (cron), by the admins of the owning domain.

Cron expressions have five fields and are read in UTC (:mod:`lakemesh.model.cron`). A check
schedule set without one takes the contract's (a quality rule's ``scheduler: cron``), else the
default check schedule of the product's domain.

A published product that has no check schedule set is checked anyway on that same cron: the
scheduler keeps a *derived* schedule for it (:mod:`lakemesh.scheduling.derived`),
created, moved and removed as the contract, the domain's default and the product's status
change, and attributed to the system actor. Setting a schedule makes it explicit; removing an
explicit one lets the derived one come back at the scheduler's next tick.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.catalog.tables import get_table_row
from lakemesh.errors import InvalidInputError, NotFoundError
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.cron import check_cron, next_time
from lakemesh.model.names import parse_resource
from lakemesh.scheduling.targets import (
    CHECK,
    CRAWL,
    EPOCH,
    KINDS,
    changes_marker,
    contract_schedule,
    find_schedule,
    schedule_resource,
)
from lakemesh.sharing.products import show_product
from lakemesh.store.schema import Domain, Schedule, ScheduledRun


@dataclass(frozen=True)
class ScheduleRecord:
    """A schedule and its latest run (None before its first)."""

    row: Schedule
    last_run: ScheduledRun | None


def _target(
    session: Session, *, actor: Actor, kind: str, target: str
) -> tuple[str, Domain, str | None]:
    """The canonical target name, its domain and (checks) the cron schedule the contract gives,
    else the domain's default check schedule."""
    if kind not in KINDS:
        raise InvalidInputError(
            f"Unknown schedule kind: {kind!r} (known: {', '.join(KINDS)})", details={"kind": kind}
        )
    if kind == CHECK:
        product = show_product(session, actor=actor, name=target, action=Action.SCHEDULE_SET)
        given = contract_schedule(product.contract) or product.domain.check_schedule
        return product.name, product.domain, given
    row = get_table_row(session, parse_resource(target))
    domain = row.database.domain
    return f"{domain.name}.{row.database.name}.{row.name}", domain, None


def set_schedule(
    session: Session,
    *,
    actor: Actor,
    kind: str,
    target: str,
    cron: str | None = None,
    after_crawl: bool = False,
) -> Schedule:
    """Create or replace the schedule of a product's checks or a table's crawl. A check
    schedule given neither ``cron`` nor ``after_crawl`` takes the contract's (a quality rule's
    ``scheduler: cron`` and ``schedule``), else its domain's default check schedule.

    Raises:
        InvalidInputError: an unknown kind, a bad cron expression, no cron and no
            ``after_crawl``, or ``after_crawl`` on a crawl.
        NotFoundError: no such product or table.
        AccessDeniedError: ``actor`` does not administer the owning domain.
    """
    name, domain, contracted = _target(session, actor=actor, kind=kind, target=target)
    actor.require_domain_admin(
        domain.name, action=Action.SCHEDULE_SET, resource=schedule_resource(kind, name)
    )
    if after_crawl and kind == CRAWL:
        raise InvalidInputError(
            "A crawl cannot run after a crawl: give a crawl schedule --cron",
            details={"kind": kind, "target": name},
        )
    if cron is None and not after_crawl:
        cron = contracted
    if cron is None and not after_crawl:
        raise InvalidInputError(
            f"A schedule of {name} needs a cron expression"
            + (
                " or --after-crawl (its contract gives no schedule, nor does its domain: "
                "lakemesh domain update DOMAIN --check-schedule CRON)"
                if kind == CHECK
                else ""
            ),
            details={"kind": kind, "target": name},
        )
    cron = check_cron(cron) if cron is not None else None
    now = clock.now()
    row = find_schedule(session, kind, name)
    if row is None:
        row = Schedule(
            kind=kind,
            target=name,
            domain_id=domain.id,
            created_by=actor.ref,
            created_at=now,
            changes_seen_at=EPOCH,
        )
        session.add(row)
    elif row.derived:  # set by hand from now on: runs as its setter, the scheduler leaves it
        row.derived, row.created_by, row.created_at = False, actor.ref, now
    row.cron, row.after_crawl = cron, after_crawl
    row.next_run_at = next_time(cron, now) if cron is not None else None
    row.changes_seen_at = changes_marker(session, row)
    session.flush()
    audit.record(
        session,
        actor=actor.ref,
        action=Action.SCHEDULE_SET,
        resource=schedule_resource(kind, name),
        details={"cron": cron, "after_crawl": after_crawl},
    )
    return row


def remove_schedule(session: Session, *, actor: Actor, kind: str, target: str) -> None:
    """Remove a schedule (its runs' history goes with it). A published product whose contract
    or domain gives a check schedule gets a derived one again at the scheduler's next tick.

    Raises:
        NotFoundError: no such schedule.
        AccessDeniedError: ``actor`` does not administer the owning domain.
    """
    row = find_schedule(session, kind, target)
    if row is None:
        raise NotFoundError(
            f"Schedule does not exist: {kind} {target}", details={"kind": kind, "target": target}
        )
    actor.require_domain_admin(
        row.domain.name, action=Action.SCHEDULE_REMOVE, resource=schedule_resource(kind, row.target)
    )
    session.delete(row)
    audit.record(
        session,
        actor=actor.ref,
        action=Action.SCHEDULE_REMOVE,
        resource=schedule_resource(kind, row.target),
        details={"cron": row.cron, "after_crawl": row.after_crawl, "derived": row.derived},
    )


def list_schedules(
    session: Session, *, actor: Actor, domain: str | None = None
) -> list[ScheduleRecord]:
    """The schedules of the domains ``actor`` administers (every domain for mesh admins), each
    with its latest run."""
    query = select(Schedule).join(Domain).order_by(Domain.name, Schedule.kind, Schedule.target)
    if domain is not None:
        query = query.where(Domain.name == domain)
    rows = [r for r in session.execute(query).scalars() if actor.administers(r.domain.name)]
    latest = _latest_runs(session, [row.id for row in rows])
    return [ScheduleRecord(row, latest.get(row.id)) for row in rows]


def schedule_runs(
    session: Session, *, actor: Actor, kind: str, target: str, limit: int = 20
) -> list[ScheduledRun]:
    """A schedule's latest runs, newest first (its domain's admins).

    Raises:
        NotFoundError: no such schedule, or one ``actor`` does not administer.
    """
    row = find_schedule(session, kind, target)
    if row is None or not actor.administers(row.domain.name):
        raise NotFoundError(
            f"Schedule does not exist: {kind} {target}", details={"kind": kind, "target": target}
        )
    runs = session.execute(
        select(ScheduledRun)
        .where(ScheduledRun.schedule_id == row.id)
        .order_by(ScheduledRun.id.desc())
        .limit(max(1, min(limit, 200)))
    ).scalars()
    return list(runs)


def _latest_runs(session: Session, ids: list[int]) -> dict[int, ScheduledRun]:
    if not ids:
        return {}
    newest = (
        select(func.max(ScheduledRun.id))
        .where(ScheduledRun.schedule_id.in_(ids))
        .group_by(ScheduledRun.schedule_id)
    )
    runs = session.execute(select(ScheduledRun).where(ScheduledRun.id.in_(newest))).scalars()
    return {run.schedule_id: run for run in runs}
