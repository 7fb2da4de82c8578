"""What a schedule runs on: its kind (a product's checks, a table's crawl), the cron a product's
contract gives, the schedule row of a target and what its audit events name."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lakemesh.sharing.products import resource as product_resource
from lakemesh.store.schema import DataProduct, DataProductTable, Schedule, Table, TableSnapshot

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


def find_schedule(session: Session, kind: str, target: str) -> Schedule | None:
    """The schedule of ``kind`` on ``target`` (any case), if set."""
    return session.execute(
        select(Schedule).where(Schedule.kind == kind, func.lower(Schedule.target) == target.lower())
    ).scalar_one_or_none()


def schedule_resource(kind: str, target: str) -> str:
    """What a schedule's audit events name: the product's resource, or the table."""
    return product_resource(target) if kind == CHECK else target
