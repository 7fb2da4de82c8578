"""Setting, listing and removing schedules: a product's checks (cron and/or after every crawl
that changes its tables) or a table's crawl (cron), by the admins of the owning domain.

Cron expressions have five fields and are read in UTC (:mod:`lakemesh.model.cron`). A check
schedule set without one takes the contract's (a quality rule's ``scheduler: cron``), else the
default check schedule of the product's domain.

A published product that has no check schedule set is checked anyway on that same cron: the
scheduler keeps a *derived* schedule for it (:func:`derived_changes`, :func:`apply_derived`),
created, moved and removed as the contract, the domain's default and the product's status
change, and attributed to the system actor. Setting a schedule makes it explicit; removing an
explicit one lets the derived one come back at the scheduler's next tick.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.catalog.tables import get_table_row
from lakemesh.errors import InvalidInputError, NotFoundError
from lakemesh.model.actions import Action
from lakemesh.model.actors import SYSTEM, Actor
from lakemesh.model.cron import check_cron, next_time
from lakemesh.model.names import parse_resource
from lakemesh.model.statuses import ProductStatus
from lakemesh.sharing.products import resource as product_resource
from lakemesh.sharing.products import show_product
from lakemesh.store.schema import (
    DataProduct,
    DataProductTable,
    Domain,
    Schedule,
    ScheduledRun,
    Table,
    TableSnapshot,
)

log = logging.getLogger(__name__)

CHECK, CRAWL = "check", "crawl"
KINDS = (CHECK, CRAWL)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def contract_schedule(document: Any) -> str | None:
    """The cron expression a contract's quality rules give (``scheduler: cron`` with
    ``schedule``), the first one found; None when it gives none.

    >>> contract_schedule({"schema": [{"name": "t", "quality": [
    ...     {"metric": "rowCount", "mustBeGreaterThan": 0, "scheduler": "cron",
    ...      "schedule": "0 6 * * *"}]}]})
    '0 6 * * *'
    """
    if not isinstance(document, dict):
        return None
    schema = document.get("schema")
    lists: list[Any] = []
    for item in schema if isinstance(schema, list) else []:
        if isinstance(item, dict):
            lists.append(item.get("quality"))
            properties = item.get("properties")
            for prop in properties if isinstance(properties, list) else []:
                if isinstance(prop, dict):
                    lists.append(prop.get("quality"))
    for rules in lists:
        for rule in rules if isinstance(rules, list) else []:
            if (
                isinstance(rule, dict)
                and str(rule.get("scheduler", "")).lower() == "cron"
                and isinstance(rule.get("schedule"), str)
            ):
                return str(rule["schedule"])
    return None


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


def changes_marker(session: Session, schedule: Schedule) -> datetime:
    """When a crawl (or a commit) last changed one of a check schedule's product's tables: a
    schema change or a new snapshot recorded (the epoch for crawl schedules)."""
    if schedule.kind != CHECK:
        return EPOCH
    tables = (
        select(DataProductTable.table_id)
        .join(DataProduct, DataProduct.id == DataProductTable.product_id)
        .where(DataProduct.name == schedule.target)
    )
    changed = session.execute(
        select(func.max(Table.updated_at)).where(Table.id.in_(tables))
    ).scalar_one_or_none()
    recorded = session.execute(
        select(func.max(TableSnapshot.recorded_at)).where(TableSnapshot.table_id.in_(tables))
    ).scalar_one_or_none()
    return max((t for t in (changed, recorded) if t is not None), default=EPOCH)


def set_schedule(
    session: Session,
    *,
    actor: Actor,
    kind: str,
    target: str,
    cron: str | None = None,
    after_crawl: bool = False,
) -> dict[str, Any]:
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
        domain.name, action=Action.SCHEDULE_SET, resource=_resource(kind, name)
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
    row = _find(session, kind, name)
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
        resource=_resource(kind, name),
        details={"cron": cron, "after_crawl": after_crawl},
    )
    return describe_schedule(row, domain=domain.name)


def remove_schedule(session: Session, *, actor: Actor, kind: str, target: str) -> None:
    """Remove a schedule (its runs' history goes with it). A published product whose contract
    or domain gives a check schedule gets a derived one again at the scheduler's next tick.

    Raises:
        NotFoundError: no such schedule.
        AccessDeniedError: ``actor`` does not administer the owning domain.
    """
    row = _find(session, kind, target)
    if row is None:
        raise NotFoundError(
            f"Schedule does not exist: {kind} {target}", details={"kind": kind, "target": target}
        )
    actor.require_domain_admin(
        row.domain.name, action=Action.SCHEDULE_REMOVE, resource=_resource(kind, row.target)
    )
    session.delete(row)
    audit.record(
        session,
        actor=actor.ref,
        action=Action.SCHEDULE_REMOVE,
        resource=_resource(kind, row.target),
        details={"cron": row.cron, "after_crawl": row.after_crawl, "derived": row.derived},
    )


def list_schedules(
    session: Session, *, actor: Actor, domain: str | None = None
) -> list[dict[str, Any]]:
    """The schedules of the domains ``actor`` administers (every domain for mesh admins), each
    with its latest run."""
    query = select(Schedule).join(Domain).order_by(Domain.name, Schedule.kind, Schedule.target)
    if domain is not None:
        query = query.where(Domain.name == domain)
    rows = [r for r in session.execute(query).scalars() if actor.administers(r.domain.name)]
    latest = _latest_runs(session, [row.id for row in rows])
    return [
        {**describe_schedule(row, domain=row.domain.name), "last_run": _run(latest.get(row.id))}
        for row in rows
    ]


def schedule_runs(
    session: Session, *, actor: Actor, kind: str, target: str, limit: int = 20
) -> list[dict[str, Any]]:
    """A schedule's latest runs, newest first (its domain's admins).

    Raises:
        NotFoundError: no such schedule, or one ``actor`` does not administer.
    """
    row = _find(session, kind, target)
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
    return [describe_run(run) for run in runs]


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
        if _find(session, CHECK, change.target) is not None:
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
        resource=_resource(CHECK, change.target),
        details=details,
    )
    return True


def describe_schedule(row: Schedule, *, domain: str) -> dict[str, Any]:
    return {
        "kind": row.kind,
        "target": row.target,
        "domain": domain,
        "cron": row.cron,
        "after_crawl": row.after_crawl,
        "derived": row.derived,
        "next_run_at": row.next_run_at.isoformat() if row.next_run_at else None,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat(),
    }


def describe_run(run: ScheduledRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "due_at": run.due_at.isoformat(),
        "reason": run.reason,
        "status": run.status,
        "holder": run.holder,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "message": run.message,
        "result": dict(run.result or {}),
        "attempts": list(run.attempts or []),
    }


def _run(run: ScheduledRun | None) -> dict[str, Any] | None:
    return describe_run(run) if run is not None else None


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


def _find(session: Session, kind: str, target: str) -> Schedule | None:
    return session.execute(
        select(Schedule).where(Schedule.kind == kind, func.lower(Schedule.target) == target.lower())
    ).scalar_one_or_none()


def _resource(kind: str, target: str) -> str:
    return product_resource(target) if kind == CHECK else target
