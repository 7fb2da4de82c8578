"""A table's lineage as a principal may see it, and its export as OpenLineage run events.

Catalog tables the principal may not DESCRIBE stay in the graph as ``{"hidden": true}`` nodes:
the principal learns that something feeds the table, never what. Datasets outside the catalog
(named only by the events) are named to the admins of the domain whose table they touch.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.authz import visible
from lakemesh.catalog.tables import get_table_row
from lakemesh.errors import NotFoundError
from lakemesh.lineage.events import dataset_parts, table_name
from lakemesh.model.actors import Actor
from lakemesh.model.names import parse_resource
from lakemesh.store.schema import LineageEdge, Table

NAMESPACE = "lakemesh"
"""The OpenLineage namespace of catalog tables in exported events (names: domain.db.table)."""
DEFAULT_DEPTH = 5
MAX_DEPTH = 20
"""How many steps lineage follows each way unless asked, and at the most."""
HIDDEN: dict[str, Any] = {"kind": "table", "hidden": True}


class _Nodes:
    """What ``actor`` may see of each node key (``table:<id>`` or ``dataset:<ns>/<name>``)."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session, self.actor = session, actor
        self.seen: dict[str, dict[str, Any]] = {}

    def table(self, key: str) -> Table | None:
        return self.session.get(Table, int(key.split(":", 1)[1]))

    def show(self, key: str, *, near: str) -> dict[str, Any]:
        if key in self.seen:
            return self.seen[key]
        if key.startswith("table:"):
            row = self.table(key)
            name = table_name(row) if row is not None else None
            shown = (
                {"kind": "table", "name": str(name)}
                if name is not None and visible(self.session, self.actor, name)
                else dict(HIDDEN)
            )
        else:
            owner = self.table(near)
            domain = owner.database.domain.name if owner is not None else None
            allowed = domain is not None and self.actor.administers(domain)
            namespace, dataset = dataset_parts(key)
            shown = (
                {
                    "kind": "dataset",
                    "name": f"{namespace.rstrip('/')}/{dataset.lstrip('/')}",
                    "namespace": namespace,
                    "dataset": dataset,
                }
                if allowed
                else {"kind": "dataset", "hidden": True}
            )
        self.seen[key] = shown
        return shown


def _edges(session: Session, key: str, *, upstream: bool) -> list[LineageEdge]:
    column = LineageEdge.target if upstream else LineageEdge.source
    return list(
        session.execute(select(LineageEdge).where(column == key).order_by(LineageEdge.id)).scalars()
    )


@dataclass(frozen=True)
class LineageStep:
    """One node reached from the table: how many steps away, what the principal may see of it
    (``{"kind", "name"}``, or ``{"kind", "hidden": true}``), and the job between them when both
    ends are visible."""

    depth: int
    node: dict[str, Any]
    via: str | None


@dataclass(frozen=True)
class TableLineage:
    """What a table derives from (``upstream``) and what derives from it (``downstream``)."""

    table: str
    upstream: list[LineageStep]
    downstream: list[LineageStep]


def table_lineage(
    session: Session, *, actor: Actor, table: str, depth: int = DEFAULT_DEPTH
) -> TableLineage:
    """The tables and datasets ``table`` derives from (``upstream``) and that derive from it
    (``downstream``), up to ``depth`` steps.

    Raises:
        NotFoundError: no such table, or one ``actor`` may not DESCRIBE.
    """
    name = parse_resource(table)
    row = get_table_row(session, name)
    if not visible(session, actor, table_name(row)):
        raise NotFoundError(f"Table does not exist: {name}", details={"table": str(name)})
    nodes = _Nodes(session, actor)
    start = f"table:{row.id}"
    found: dict[bool, list[LineageStep]] = {}
    for upstream in (True, False):
        listed: list[LineageStep] = []
        queue: deque[tuple[str, int]] = deque([(start, 0)])
        reached = {start}
        while queue:
            key, level = queue.popleft()
            if level >= max(1, min(depth, MAX_DEPTH)):
                continue
            for edge in _edges(session, key, upstream=upstream):
                other = edge.source if upstream else edge.target
                if other in reached:
                    continue
                reached.add(other)
                node = nodes.show(other, near=key if key.startswith("table:") else start)
                here = nodes.show(key, near=start) if key != start else {"hidden": False}
                via = edge.job if not node.get("hidden") and not here.get("hidden") else None
                listed.append(LineageStep(level + 1, node, via))
                if other.startswith("table:"):
                    queue.append((other, level + 1))
        found[upstream] = listed
    return TableLineage(str(table_name(row)), upstream=found[True], downstream=found[False])


def export_events(session: Session, *, actor: Actor, table: str) -> list[dict[str, Any]]:
    """The OpenLineage ``RunEvent`` (``COMPLETE``) of each job that wrote ``table``, with the
    inputs ``actor`` may see (catalog tables as namespace ``lakemesh``); hidden inputs are only
    counted, in the run facet ``lakemesh_hidden_inputs``."""
    found = table_lineage(session, actor=actor, table=table, depth=1)
    row = get_table_row(session, parse_resource(found.table))
    by_job: dict[str, list[LineageEdge]] = {}
    for edge in _edges(session, f"table:{row.id}", upstream=True):
        by_job.setdefault(edge.job, []).append(edge)
    nodes = _Nodes(session, actor)
    events = []
    for job, edges in sorted(by_job.items()):
        shown = [nodes.show(edge.source, near=f"table:{row.id}") for edge in edges]
        inputs = [
            {"namespace": NAMESPACE, "name": node["name"]}
            if node["kind"] == "table"
            else {"namespace": node["namespace"], "name": node["dataset"]}
            for node in shown
            if not node.get("hidden")
        ]
        namespace, _, job_name = job.partition("/")
        latest = max(edges, key=lambda edge: edge.recorded_at)
        events.append(
            {
                "eventType": "COMPLETE",
                "eventTime": latest.recorded_at.isoformat(),
                "producer": "https://github.com/lakemesh/lakemesh",
                "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
                "run": {
                    "runId": latest.run_id,
                    "facets": {
                        "lakemesh_hidden_inputs": {
                            "_producer": "https://github.com/lakemesh/lakemesh",
                            "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/RunFacet.json",
                            "count": sum(1 for node in shown if node.get("hidden")),
                        }
                    },
                },
                "job": {"namespace": namespace, "name": job_name},
                "inputs": inputs,
                "outputs": [{"namespace": NAMESPACE, "name": found.table}],
            }
        )
    return events
