"""Measuring a table's contract rules through a runner of governed statements: its library
metrics in one statement, each ``sql`` rule in one more, and a small sample of a failing rule's
keys (never a PII column)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from lakemesh.contracts import QualityRule, TableShape
from lakemesh.contracts.history import ERROR, FAILED, PASSED
from lakemesh.contracts.metrics import (
    ROWS_ALIAS,
    metric_value,
    metrics_sql,
    sample_sql,
    sql_rule_statement,
)
from lakemesh.contracts.rules import LIBRARY, SQL
from lakemesh.errors import LakemeshError
from lakemesh.hub import Hub
from lakemesh.model.actors import Actor
from lakemesh.quality.freshness import Runner
from lakemesh.query.service import run as run_query


@dataclass
class TablePlan:
    """What to check on one product table."""

    name: str  # domain.database.table
    shape: TableShape
    rules: list[QualityRule] = field(default_factory=list)
    keys: tuple[str, ...] = ()
    private: frozenset[str] = frozenset()
    readable: frozenset[str] = frozenset()


@dataclass
class Measured:
    """A result before it is stored."""

    rule: QualityRule
    table: str
    status: str
    value: float | None = None
    rows_scanned: int | None = None
    duration_ms: int = 0
    sample: list[dict[str, Any]] | None = None
    message: str | None = None


def gateway_runner(hub: Hub, runner: Actor) -> Runner:
    """Runs one statement through the governed gateway as ``runner``: rows and milliseconds."""

    def run(sql: str) -> tuple[list[dict[str, Any]], int]:
        outcome = run_query(hub, actor=runner, sql=sql)
        return outcome.result.table.to_pylist(), outcome.duration_ms

    return run


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _sample_keys(plan: TablePlan, rule: QualityRule) -> list[str]:
    """The columns a failure sample of ``rule`` shows (never a PII column)."""
    if rule.metric == "duplicateValues":
        return [column for column in rule.columns if column.lower() not in plan.private]
    if plan.keys:
        return list(plan.keys)
    column = rule.column
    return [column] if column and column.lower() not in plan.private else []


def _sample(run: Runner, plan: TablePlan, rule: QualityRule) -> list[dict[str, Any]] | None:
    statement = sample_sql(plan.name, rule, _sample_keys(plan, rule), plan.shape.columns)
    if statement is None:
        return None
    try:
        rows, _ = run(statement)
    except LakemeshError:
        return None
    return [{key: _plain(value) for key, value in row.items()} for row in rows]


def _plain(value: Any) -> Any:
    """A JSON-able form of a sampled value (dates and decimals as text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def measure_library(run: Runner, plan: TablePlan) -> list[Measured]:
    """Every library metric of one table, in one statement, compared with its threshold."""
    rules = [rule for rule in plan.rules if rule.type == LIBRARY]
    if not rules:
        return []
    statement = metrics_sql(plan.name, rules, plan.shape.columns)
    try:
        rows, duration = run(statement)
    except LakemeshError as error:
        return [Measured(rule, plan.name, ERROR, message=error.message) for rule in rules]
    values = rows[0]
    scanned = int(values[ROWS_ALIAS])
    measured: list[Measured] = []
    for position, rule in enumerate(rules):
        value = metric_value(rule, _number(values[f"m{position}"]), scanned)
        passed = rule.passes(value)
        measured.append(
            Measured(
                rule,
                plan.name,
                PASSED if passed else FAILED,
                value,
                scanned,
                duration,
                None if passed else _sample(run, plan, rule),
            )
        )
    return measured


def measure_sql(run: Runner, plan: TablePlan) -> list[Measured]:
    """Each ``sql`` rule of one table: the single value its query returns."""
    measured: list[Measured] = []
    for rule in plan.rules:
        if rule.type != SQL:
            continue
        started = time.perf_counter()
        try:
            rows, duration = run(sql_rule_statement(rule, plan.name))
        except LakemeshError as error:
            elapsed = int((time.perf_counter() - started) * 1000)
            measured.append(
                Measured(rule, plan.name, ERROR, None, None, elapsed, None, error.message)
            )
            continue
        first = next(iter(rows[0].values()), None) if rows else None
        value = _number(first)
        if value is None:
            message = f"the query returned no number (got {first!r})"
            measured.append(Measured(rule, plan.name, ERROR, None, None, duration, None, message))
            continue
        status = PASSED if rule.passes(value) else FAILED
        measured.append(Measured(rule, plan.name, status, value, None, duration))
    return measured
