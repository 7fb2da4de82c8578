"""Running a data product's contract checks through the governed gateway.

The checks run as the producer domain's quality service principal, ``service:quality@DOMAIN``:
a principal the domain's admins create and grant what it should read, so a check reads exactly
what that principal may (row filters and masks apply to it as to anyone). Each table's library
metrics are computed in one statement; each ``sql`` rule is one statement more; a failing rule
adds one small query for a sample of its failing rows' keys (primary-key columns, PII columns
left out). Every statement is recorded in the query history as that principal's, and the run is
kept with its results (:mod:`lakemesh.contracts.history`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.authz import decide
from lakemesh.contracts import Contract, QualityRule, SchemaObject, TableShape, validate_contract
from lakemesh.contracts.history import ERROR, FAILED, PASSED, product_runs, run_status
from lakemesh.errors import InvalidInputError, NotFoundError
from lakemesh.hub import Hub
from lakemesh.identity.actors import load_actor
from lakemesh.identity.principals import get_principal
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import parse_resource
from lakemesh.model.permissions import Permission
from lakemesh.notifications.events import notify_product
from lakemesh.notifications.kinds import EventKind
from lakemesh.quality.freshness import TableSource, measure_sla
from lakemesh.quality.measures import (
    Measured,
    TablePlan,
    gateway_runner,
    measure_library,
    measure_sql,
)
from lakemesh.sharing.product_contracts import table_shapes
from lakemesh.sharing.products import resource, show_product
from lakemesh.storage.iceberg import METADATA_POINTER
from lakemesh.store.schema import DataProduct, QualityResult, QualityRun, TableSnapshot

MANUAL, SCHEDULE, CRAWL = "manual", "schedule", "crawl"
PII_VALUES = ("pii", "restricted")
"""Tag values and classifications whose columns never appear in a failure sample."""


def quality_principal(domain: str) -> str:
    """The principal a domain's checks run as."""
    return f"service:quality@{domain}"


@dataclass(frozen=True)
class CheckPlan:
    """Everything a run needs, read in one transaction."""

    product: DataProduct
    contract: Contract
    runner: Actor
    tables: list[TablePlan]
    unmatched: list[QualityRule]
    unreadable: list[Measured]
    sources: list[TableSource]


def _private_columns(shape: TableShape, item: SchemaObject | None) -> frozenset[str]:
    private = {
        column
        for column, tags in shape.column_tags.items()
        if any(str(value).lower() in PII_VALUES for value in tags.values())
    }
    if item is not None:
        private |= {
            prop.name
            for prop in item.properties
            if (prop.classification or "").lower() in PII_VALUES
        }
    return frozenset(column.lower() for column in private)


def plan_checks(hub: Hub, *, actor: Actor, product: str) -> CheckPlan:
    """Authorize the run (the product's domain admins) and read what it checks.

    Raises:
        NotFoundError: no such product (or one ``actor`` may not see).
        AccessDeniedError: ``actor`` does not administer the product's domain (audited).
        InvalidInputError: the product has no contract, or its domain no quality principal.
    """
    with hub.read() as session:
        row = show_product(session, actor=actor, name=product)
        actor.require_domain_admin(
            row.domain.name, action=Action.PRODUCT_CHECK, resource=resource(product)
        )
        if not row.contract:
            raise InvalidInputError(
                f"Data product {product} has no contract: there is nothing to check",
                details={"product": product},
            )
        contract = validate_contract(row.contract)
        ref = quality_principal(row.domain.name)
        try:
            runner = load_actor(session, get_principal(session, ref))
        except NotFoundError:
            raise InvalidInputError(
                f"Checks of {product} run as {ref}, which does not exist: create it and grant it "
                f"SELECT on the product's tables",
                details={"product": product, "principal": ref},
            ) from None
        tables = [item.table for item in row.tables]
        shapes = table_shapes(session, tables)
        full = {shape.name: f"{row.domain.name}.{shape.name}" for shape in shapes}
        objects = {item.name: item for item in contract.tables}
        plans: dict[str, TablePlan] = {}
        unmatched: list[QualityRule] = []
        unreadable: list[Measured] = []
        for rule in contract.rules:
            if not rule.runnable:
                continue
            shape = _shape_named(shapes, rule.table)
            if shape is None:
                unmatched.append(rule)
                continue
            plan = plans.get(shape.name)
            if plan is None:
                item = objects.get(rule.table)
                private = _private_columns(shape, item)
                keys = tuple(
                    key for key in (item.primary_key if item else ()) if key.lower() not in private
                )
                readable = _readable(session, runner, full[shape.name])
                plan = TablePlan(full[shape.name], shape, [], keys, private, readable)
                plans[shape.name] = plan
            hidden = [c for c in rule.columns if c.lower() not in plan.readable]
            if hidden or not plan.readable:
                what = f"{plan.name}.{hidden[0]}" if hidden else plan.name
                message = f"{runner.ref} lacks SELECT on {what}"
                unreadable.append(Measured(rule, plan.name, ERROR, message=message))
                continue
            plan.rules.append(rule)
        sources = [
            TableSource(
                name=full[shape.name],
                short=shape.name,
                location=table.location,
                columns=dict(shape.columns),
                partitions=tuple(c.name for c in table.columns if c.is_partition),
                format=table.format,
                pointer=table.properties.get(METADATA_POINTER),
                recorded_commit=_recorded_commit(session, table.id),
            )
            for table, shape in zip(tables, shapes, strict=True)
        ]
        return CheckPlan(
            row, contract, runner, list(plans.values()), unmatched, unreadable, sources
        )


def _recorded_commit(session: Session, table_id: int) -> datetime | None:
    """When the newest snapshot the catalog recorded of a table was committed."""
    return session.execute(
        select(func.max(TableSnapshot.committed_at)).where(TableSnapshot.table_id == table_id)
    ).scalar_one_or_none()


def _readable(session: Session, runner: Actor, table: str) -> frozenset[str]:
    """The columns ``runner`` may SELECT of ``table`` (the gateway enforces it again)."""
    decision = decide(
        session, actor=runner, permission=Permission.SELECT, resource=parse_resource(table)
    )
    return frozenset(c.lower() for c in decision.columns) if decision.allowed else frozenset()


def _shape_named(shapes: Sequence[TableShape], name: str) -> TableShape | None:
    wanted = name.lower()
    for shape in shapes:
        if wanted in (shape.name.lower(), shape.name.rsplit(".", 1)[-1].lower()):
            return shape
    return None


def _result_row(item: Measured) -> QualityResult:
    rule = item.rule
    return QualityResult(
        rule=rule.key,
        table=item.table,
        column=rule.column,
        kind=rule.type,
        metric=rule.metric,
        dimension=rule.dimension,
        threshold=rule.threshold_text,
        unit=rule.unit,
        value=item.value,
        status=item.status,
        rows_scanned=item.rows_scanned,
        duration_ms=item.duration_ms,
        sample=item.sample,
        message=item.message,
        details={"implied_by": rule.implied_by} if rule.implied_by else {},
    )


@dataclass(frozen=True)
class CheckRun:
    """A run of a product's checks with its results, and whether its failure samples may be
    shown (to the admins of the product's domain)."""

    row: QualityRun
    product: str
    samples: bool


def store_run(
    hub: Hub,
    *,
    actor: Actor,
    plan: CheckPlan,
    measured: Sequence[Measured],
    extra: Sequence[QualityResult] = (),
    trigger: str,
    started_at: datetime,
) -> CheckRun:
    """Keep the run and its results, and audit it, in one transaction."""
    results = [_result_row(item) for item in measured] + list(extra)
    name = plan.product.name
    with hub.transaction() as session:
        run = QualityRun(
            product_id=plan.product.id,
            contract_version=plan.contract.version,
            principal=plan.runner.ref,
            requested_by=actor.ref,
            trigger=trigger,
            status=run_status(result.status for result in results),
            started_at=started_at,
            finished_at=clock.now(),
            rules_total=len(results),
            rules_passed=sum(result.status == PASSED for result in results),
            results=results,
        )
        session.add(run)
        session.flush()
        audit.record(
            session,
            actor=actor.ref,
            action=Action.PRODUCT_CHECK,
            resource=resource(name),
            details={
                "run": run.id,
                "status": run.status,
                "trigger": trigger,
                "principal": plan.runner.ref,
                "failed": [r.rule for r in results if r.status != PASSED],
            },
        )
        _tell(session, actor=actor, product=plan.product, run=run, results=results)
        return CheckRun(run, name, samples=True)


def _tell(
    session: Session,
    *,
    actor: Actor,
    product: DataProduct,
    run: QualityRun,
    results: Sequence[QualityResult],
) -> None:
    """Tell the product's domain, owner and subscribers of failed rules (``check_failed``) and
    broken SLAs (``sla_breached``), in the run's transaction; no failure, no event."""
    row = session.get(DataProduct, product.id) or product
    failed = [r for r in results if r.kind != "sla" and r.status == FAILED]
    if failed:
        notify_product(
            session,
            kind=EventKind.CHECK_FAILED,
            product=row,
            actor=actor.ref,
            subject=f"{row.name}: {len(failed)} of {run.rules_total} contract rules failed",
            details={"run": run.id, "rules": [r.rule for r in failed]},
        )
    breached = [r for r in results if r.kind == "sla" and r.status == FAILED]
    if breached:
        notify_product(
            session,
            kind=EventKind.SLA_BREACHED,
            product=row,
            actor=actor.ref,
            subject=f"{row.name}: "
            + "; ".join(f"{r.metric} {r.message or 'broken'} ({r.threshold})" for r in breached),
            details={
                "run": run.id,
                "slas": [
                    {"sla": r.rule, "table": r.table, "value": r.value, **dict(r.details or {})}
                    for r in breached
                ],
            },
        )


def run_checks(hub: Hub, *, actor: Actor, product: str, trigger: str = MANUAL) -> CheckRun:
    """Run the product's contract checks now and keep the results; returns the run.

    Raises:
        NotFoundError, AccessDeniedError, InvalidInputError: see :func:`plan_checks`.
    """
    plan = plan_checks(hub, actor=actor, product=product)
    started_at = clock.now()
    run = gateway_runner(hub, plan.runner)
    measured: list[Measured] = [
        Measured(rule, rule.table, ERROR, message=f"{rule.table} is not a table of {product}")
        for rule in plan.unmatched
    ]
    measured += plan.unreadable
    for table in plan.tables:
        measured += measure_library(run, table)
        measured += measure_sql(run, table)
    properties = hub.storage_properties()
    slas = [
        measure_sla(sla, run=run, sources=plan.sources, properties=properties, now=clock.now())
        for sla in plan.contract.slas
    ]
    return store_run(
        hub,
        actor=actor,
        plan=plan,
        measured=measured,
        extra=[result for result in slas if result is not None],
        trigger=trigger,
        started_at=started_at,
    )


def check_history(
    session: Session, *, actor: Actor, product: str, limit: int = 20
) -> list[CheckRun]:
    """The product's latest runs, newest first, for anyone who may see the product; failure
    samples only for the admins of its domain."""
    row = show_product(session, actor=actor, name=product)
    samples = actor.administers(row.domain.name)
    return [
        CheckRun(run, row.name, samples)
        for run in product_runs(session, row.id, limit=max(1, min(limit, 200)))
    ]
