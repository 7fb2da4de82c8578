"""Crawling: discover the tables under a URI and register them in a domain's catalog.

Discovery reads files outside any transaction; registration is one transaction, so a corrupt file
(discovery fails) or any error registers nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from lakemesh import audit
from lakemesh.catalog.columns import ColumnSpec
from lakemesh.catalog.crawl import DiscoveredTable, discover
from lakemesh.catalog.databases import ensure_database
from lakemesh.catalog.locations import owning_location
from lakemesh.catalog.schema_review import record_applied, review_schema
from lakemesh.catalog.snapshots import record_snapshots
from lakemesh.catalog.tables import alter_table, create_table, get_table_row
from lakemesh.errors import NotFoundError
from lakemesh.hub import Hub
from lakemesh.identity.principals import get_domain_row
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName, check_identifier
from lakemesh.storage import real_uri
from lakemesh.store.schema import Table


@dataclass
class CrawledTable:
    """What a crawl did to one table."""

    name: str
    # created | updated | unchanged | skipped (a folder that is a symbolic link) | held (a
    # breaking change to a contracted product's table waits in ``proposal``)
    status: str
    schema_version: int
    files: int
    bytes: int
    changes: dict[str, list[Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    proposal: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "proposal": self.proposal,
            "name": self.name,
            "status": self.status,
            "schema_version": self.schema_version,
            "files": self.files,
            "bytes": self.bytes,
            "changes": self.changes,
            "warnings": self.warnings,
        }


CHANGE_KINDS = ("added", "removed", "changed")


def _open_properties(found: DiscoveredTable) -> dict[str, str]:
    """An Iceberg or Delta table's partition spec, current snapshot and identity."""
    return found.open_table.catalog_properties() if found.open_table is not None else {}


def _record_snapshots(session: Session, row: Table, found: DiscoveredTable) -> list[str]:
    if found.open_table is None:
        return []
    return record_snapshots(session, row, found.open_table.snapshots)


def _columns(found: DiscoveredTable) -> list[ColumnSpec]:
    return [ColumnSpec(c.name, c.type, nullable=c.nullable) for c in found.columns] + [
        ColumnSpec(c.name, c.type, is_partition=True, nullable=c.nullable)
        for c in found.partition_columns
    ]


def crawl(
    hub: Hub,
    *,
    actor: Actor,
    uri: str,
    domain: str,
    database: str,
    progress: Callable[[int, int], None] | None = None,
) -> list[CrawledTable]:
    """Discover tables under ``uri`` and create or update them in ``domain.database``.

    Re-crawling is idempotent: an unchanged table stays at its schema version; a changed one gets a
    new version whose changes (added, removed, retyped columns) are returned. ``uri`` is read at
    its real path, which must lie in a location of the domain; symbolic links are skipped and
    reported in the tables' ``warnings`` (a table folder that is a link as a ``skipped`` entry).
    """
    check_identifier(database, "database name")
    with hub.transaction() as session:
        get_domain_row(session, domain)
        actor.require_domain_admin(domain, action=Action.CRAWL, resource=f"{domain}.{database}")
        boundary = owning_location(session, uri=uri, domain=domain).uri
    discovery = discover(
        real_uri(uri),
        boundary=boundary,
        progress=progress,
        properties=hub.storage_properties(),
    )
    discovered = discovery.tables
    results: list[CrawledTable] = [
        CrawledTable(f"{domain}.{database}.{folder}", "skipped", 0, 0, 0, {}, warnings)
        for folder, warnings in discovery.skipped.items()
    ]
    with hub.transaction() as session:
        ensure_database(session, actor=actor, domain=domain, name=database)
        for found in discovered:
            name = ResourceName(domain, database, found.name)
            columns = _columns(found)
            try:
                row = get_table_row(session, name)
            except NotFoundError:
                row = create_table(
                    session,
                    actor=actor,
                    name=name,
                    location=found.location,
                    format=found.format,
                    columns=columns,
                    properties=_open_properties(found),
                )
                _record_snapshots(session, row, found)
                results.append(
                    CrawledTable(
                        str(name),
                        "created",
                        1,
                        found.file_count,
                        found.total_bytes,
                        {"added": [c.to_dict() for c in columns], "removed": [], "changed": []},
                        list(found.warnings),
                    )
                )
                continue
            before = row.schema_version
            properties = _open_properties(found)
            if properties and all(row.properties.get(k) == v for k, v in properties.items()):
                properties = {}
            review = review_schema(session, actor=actor, table=row, columns=columns)
            held = review.action == "held"
            changes = alter_table(
                session,
                actor=actor,
                name=name,
                columns=None if held else columns,
                properties=properties or None,
            )
            if held and review.proposal is not None:
                changes = {key: review.proposal.changes[key] for key in CHANGE_KINDS}
            record_applied(
                session,
                actor=actor,
                table=row,
                review=review,
                base_version=before,
                changes=changes,
            )
            if row.location != found.location or row.format != found.format:
                row.location, row.format = found.location, found.format
            new_snapshots = _record_snapshots(session, row, found)
            changed = row.schema_version != before or new_snapshots
            status = "held" if held else "updated" if changed else "unchanged"
            results.append(
                CrawledTable(
                    str(name),
                    status,
                    row.schema_version,
                    found.file_count,
                    found.total_bytes,
                    changes,
                    list(found.warnings),
                    review.proposal.id if review.proposal is not None else None,
                )
            )
        audit.record(
            session,
            actor=actor.ref,
            action=Action.CRAWL,
            resource=f"{domain}.{database}",
            details={"uri": uri, "tables": {r.name: r.status for r in results}},
        )
    return sorted(results, key=lambda result: result.name)
