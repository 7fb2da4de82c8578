"""What the viewer gets of a table, column by column: visible, masked (by which function), NULL
outside some rows, or hidden, read off the decision ``lakemesh explain`` gives (the same code:
:func:`lakemesh.sharing.link_access.explain_access`), and a governed sample of its rows run
through the query gateway as the viewer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from lakemesh.authz import policy_index
from lakemesh.catalog.tables import table_name
from lakemesh.errors import LakemeshError
from lakemesh.hub import Hub
from lakemesh.model.access import ColumnAccess
from lakemesh.model.actors import Actor
from lakemesh.model.permissions import Permission
from lakemesh.policy import Decision
from lakemesh.query import service
from lakemesh.sharing.link_access import explain_access
from lakemesh.store.schema import Table

VISIBLE, MASKED, NULL_OUTSIDE_ROWS, HIDDEN = "visible", "masked", "null_outside_rows", "hidden"
SAMPLE_ROWS = 20


@dataclass(frozen=True)
class ColumnView:
    """A column as the viewer gets it."""

    name: str
    type: str
    description: str
    partition: bool
    tags: dict[str, str]
    """Its effective tags (own, else its table's, else its database's)."""
    outcome: str
    """:data:`VISIBLE`, :data:`MASKED`, :data:`NULL_OUTSIDE_ROWS` or :data:`HIDDEN`."""
    mask: str | None = None
    """The mask function for a masked column (``redact``, ``hash``, ...)."""
    shown_rows: str | None = None
    """For a column NULL outside some rows: the rows whose value shows."""

    @property
    def label(self) -> str:
        """The outcome in words."""
        if self.outcome == MASKED:
            return f"masked ({self.mask})"
        if self.outcome == NULL_OUTSIDE_ROWS:
            return "NULL outside some rows"
        return self.outcome


@dataclass(frozen=True)
class TableView:
    """A table with its tags, each column's outcome for the viewer, and the decision behind."""

    name: str
    description: str
    tags: dict[str, str]
    columns: list[ColumnView]
    allowed: bool
    row_filter: str | None
    reasons: list[str]


@dataclass(frozen=True)
class Sample:
    """A governed sample of a table's rows, or why there is none."""

    columns: list[str]
    rows: list[list[str | None]]
    query_id: str | None = None
    message: str | None = None


def _predicates(pairs: Sequence[Any]) -> set[str | None]:
    return {pair.predicate for pair in pairs}


def column_outcome(column: str, decision: Decision) -> tuple[str, str | None, str | None]:
    """(outcome, mask function, rows whose value shows) of ``column`` under ``decision``.

    A column no pair covers is hidden; one whose covering pairs read fewer rows than the table
    returns is NULL outside those rows (DESIGN §4: a cell shows when one pair covers its row and
    its column); a masked column names its function.
    """
    lowered = column.lower()
    if not decision.allowed or lowered not in {c.lower() for c in decision.columns}:
        return HIDDEN, None, None
    mask = next((fn for c, fn in decision.masks.items() if c.lower() == lowered), None)
    access: ColumnAccess | None = decision.access
    shown_rows: str | None = None
    if access is not None:
        covering = [p for p in access.pairs if lowered in {c.lower() for c in p.columns}]
        every = _predicates(access.pairs)
        mine = _predicates(covering)
        if None not in mine and not every <= mine:
            shown_rows = " OR ".join(f"({p})" for p in sorted(p for p in mine if p is not None))
    if mask is not None:
        return MASKED, mask, shown_rows
    if shown_rows is not None:
        return NULL_OUTSIDE_ROWS, None, shown_rows
    return VISIBLE, None, None


def table_view(session: Session, *, viewer: Actor, row: Table) -> TableView:
    """``row`` as ``viewer`` gets it: its own explanation of SELECT on it, column by column,
    with the effective tags decisions read (the policy index's)."""
    name = str(table_name(row))
    facts = policy_index(session).table_facts(table_name(row))
    decision = explain_access(
        session,
        actor=viewer,
        principal=viewer.ref,
        permission=Permission.SELECT,
        resource=name,
    )
    columns = []
    for column in row.columns:
        outcome, mask, shown_rows = column_outcome(column.name, decision)
        columns.append(
            ColumnView(
                name=column.name,
                type=column.type,
                description=column.description or "",
                partition=column.is_partition,
                tags=dict(facts.tags_of(column.name)),
                outcome=outcome,
                mask=mask,
                shown_rows=shown_rows,
            )
        )
    return TableView(
        name=name,
        description=row.description,
        tags=dict(facts.table_tags),
        columns=columns,
        allowed=decision.allowed,
        row_filter=decision.row_filter,
        reasons=list(decision.reasons),
    )


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sample_rows(hub: Hub, *, viewer: Actor, table: TableView, limit: int = SAMPLE_ROWS) -> Sample:
    """Up to ``limit`` rows of ``table`` read through the query gateway as ``viewer`` (checked,
    recorded and audited like any query); none, with the reason, when it may not read it."""
    if not table.allowed:
        return Sample([], [], message=f"{viewer.ref} may not read rows of {table.name}")
    sql = f"SELECT * FROM {'.'.join(_quoted(part) for part in table.name.split('.'))} LIMIT {limit}"
    try:
        outcome = service.run(hub, actor=viewer, sql=sql)
    except LakemeshError as failed:
        return Sample([], [], message=failed.message)
    result = outcome.result.table
    rows = [
        [None if value is None else str(value) for value in record.values()]
        for record in result.to_pylist()
    ]
    return Sample(list(result.column_names), rows, query_id=outcome.query_id)
