"""Accepting an OpenLineage ``RunEvent``: its input and output datasets become edges.

A dataset is linked to the catalog table whose location it names: OpenLineage names a dataset
by ``namespace`` (``file``, ``s3://bucket``) and ``name`` (the path), so ``file`` +
``/lake/sales/orders`` is the table at ``file:///lake/sales/orders``. The sender must hold
INSERT on every output table it names (it says it wrote it); an output lakemesh does not know is
refused, an input it does not know is kept by its OpenLineage name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.authz import require
from lakemesh.errors import InvalidInputError, LakemeshError
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName
from lakemesh.model.permissions import Permission
from lakemesh.storage import normalize_uri
from lakemesh.store.schema import Database, Domain, LineageEdge, Table

EVENT_TYPES = ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")
RECORDED = ("COMPLETE", "RUNNING", "START", "OTHER")
"""Event types whose datasets are recorded (a failed or aborted run derived nothing)."""


def dataset_uri(namespace: str, name: str) -> str | None:
    """The storage URI an OpenLineage dataset names, when it names one.

    >>> dataset_uri("file", "/lake/sales/orders/")
    'file:///lake/sales/orders'
    >>> dataset_uri("s3://bucket", "sales/orders")
    's3://bucket/sales/orders'
    >>> dataset_uri("postgres://db:5432", "public.orders") is None
    True
    """
    if namespace == "file":
        uri = f"file://{name}" if name.startswith("/") else None
    elif namespace.startswith(("s3://", "s3a://")):
        uri = f"{namespace.rstrip('/')}/{name.lstrip('/')}"
    else:
        uri = None
    if uri is None:
        return None
    try:
        return normalize_uri(uri)
    except LakemeshError:
        return None


def dataset_key(namespace: str, name: str) -> str:
    """How an edge names a dataset outside the catalog (both OpenLineage parts kept)."""
    return "dataset:" + json.dumps([namespace, name])


def dataset_parts(key: str) -> tuple[str, str]:
    """The OpenLineage namespace and name of a :func:`dataset_key`."""
    namespace, name = json.loads(key.split(":", 1)[1])
    return str(namespace), str(name)


def table_name(row: Table) -> ResourceName:
    return ResourceName(row.database.domain.name, row.database.name, row.name)


def _table_at(session: Session, uri: str) -> Table | None:
    for row in session.execute(select(Table).join(Database).join(Domain)).scalars():
        try:
            if normalize_uri(row.location) == uri:
                return row
        except LakemeshError:
            continue
    return None


def _datasets(event: Mapping[str, Any], key: str) -> list[tuple[str, str]]:
    value = event.get(key, [])
    if not isinstance(value, list):
        raise InvalidInputError(f"Invalid OpenLineage event: {key} must be a list")
    found = []
    for position, item in enumerate(value):
        if not isinstance(item, dict) or not all(
            isinstance(item.get(field), str) and item.get(field) for field in ("namespace", "name")
        ):
            raise InvalidInputError(
                f"Invalid OpenLineage event: {key}[{position}] needs a namespace and a name"
            )
        found.append((item["namespace"], item["name"]))
    return found


def _field(event: Mapping[str, Any], path: str) -> str:
    value: Any = event
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"Invalid OpenLineage event: {path} is required")
    return value


@dataclass(frozen=True)
class RecordedRun:
    """What recording one run event did: its run, its job (``namespace/name``) and the new
    input-to-output edges."""

    run_id: str
    job: str
    edges: int


def record_event(session: Session, *, actor: Actor, event: Mapping[str, Any]) -> RecordedRun:
    """Record the lineage an OpenLineage ``RunEvent`` gives: each input of each output.

    Raises:
        InvalidInputError: not a RunEvent (the field at fault named), or an output that is no
            catalog table.
        AccessDeniedError: ``actor`` lacks INSERT on an output table.
    """
    event_type = event.get("eventType", "OTHER")
    if event_type not in EVENT_TYPES:
        raise InvalidInputError(
            f"Invalid OpenLineage event: eventType {event_type!r} is not one of "
            f"{', '.join(EVENT_TYPES)}"
        )
    run_id = _field(event, "run.runId")
    job = f"{_field(event, 'job.namespace')}/{_field(event, 'job.name')}"
    inputs, outputs = _datasets(event, "inputs"), _datasets(event, "outputs")
    if event_type not in RECORDED:
        return RecordedRun(run_id, job, 0)
    targets: list[tuple[str, str]] = []
    for namespace, name in outputs:
        uri = dataset_uri(namespace, name)
        row = _table_at(session, uri) if uri else None
        if row is None:
            raise InvalidInputError(
                f"OpenLineage output {namespace}/{name} is no table of the catalog (crawl or "
                "create it first)",
                details={"namespace": namespace, "name": name},
            )
        require(
            session,
            actor=actor,
            permission=Permission.INSERT,
            resource=table_name(row),
            action=Action.LINEAGE_RECORD,
        )
        targets.append((f"table:{row.id}", str(table_name(row))))
    sources: list[str] = []
    for namespace, name in inputs:
        uri = dataset_uri(namespace, name)
        row = _table_at(session, uri) if uri else None
        sources.append(f"table:{row.id}" if row is not None else dataset_key(namespace, name))
    now = clock.now()
    added = 0
    for target, _ in targets:
        for source in sources:
            edge = session.execute(
                select(LineageEdge).where(
                    LineageEdge.source == source,
                    LineageEdge.target == target,
                    LineageEdge.job == job,
                )
            ).scalar_one_or_none()
            if edge is None:
                edge = LineageEdge(source=source, target=target, job=job, origin="openlineage")
                session.add(edge)
                added += 1
            edge.run_id, edge.recorded_by, edge.recorded_at = run_id, actor.ref, now
    for _, name in targets:
        audit.record(
            session,
            actor=actor.ref,
            action=Action.LINEAGE_RECORD,
            resource=name,
            details={"job": job, "run_id": run_id, "inputs": len(sources)},
        )
    return RecordedRun(run_id, job, added)
