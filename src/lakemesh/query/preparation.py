"""Step 1 of a governed query (DESIGN §5), in one read transaction: the workgroup's settings, the
statement prepared (parsed once, cached by its text), every table it names resolved and
authorized for the actor once, the workgroup's engine checked to read their storage before that
engine loads, and, for a query that is not admitted in a write, the month's bytes checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lakemesh.errors import LakemeshError
from lakemesh.hub import Hub
from lakemesh.model.actors import Actor
from lakemesh.query.admission import check_month, needs_admission
from lakemesh.query.engines import check_storage
from lakemesh.query.gateway import prepare
from lakemesh.query.history import QueryFacts
from lakemesh.query.plans import ParsedStatement
from lakemesh.query.resolution import resolve_in_path
from lakemesh.query.rewrite import resolve_tables
from lakemesh.query.table import TableAccess, scan_bytes
from lakemesh.query.validate import MAX_SQL_BYTES_SETTING
from lakemesh.query.workgroups import WorkgroupSettings, workgroup_settings
from lakemesh.settings import get_setting
from lakemesh.sharing.products import deprecation_notices


@dataclass
class PreparedQuery:
    """A query after step 1: its workgroup, statement, resolved tables and the bytes they hold."""

    settings: WorkgroupSettings
    statement: ParsedStatement
    tables: dict[tuple[str, ...], TableAccess]
    bytes_to_scan: int
    warnings: tuple[str, ...] = ()


def prepare_query(
    hub: Hub, *, actor: Actor, sql: str, facts: QueryFacts, search_path: Sequence[str] = ()
) -> PreparedQuery:
    """Step 1, in one read transaction: the statement prepared (parsed once, cached by its
    text), each table it names resolved once, the engine's storage checked before the engine
    loads. Errors leave the transaction before they are raised, so the hub does not audit a
    denial a second time (the outcome's record audits it)."""
    failure: LakemeshError | None = None
    with hub.read() as session:
        try:
            settings = workgroup_settings(session, facts.workgroup)
            facts.workgroup, facts.engine = settings.name, settings.engine
            statement = prepare(sql, max_bytes=get_setting(session, MAX_SQL_BYTES_SETTING))
            names: list[str] = []

            def resolve(parts: tuple[str, ...]) -> TableAccess:
                table = resolve_in_path(session, actor=actor, parts=parts, search_path=search_path)
                names.append(table.name)
                facts.tables = list(dict.fromkeys(names))
                return table

            tables = resolve_tables(statement.table_names, principal=actor.ref, resolve=resolve)
            check_storage(settings.engine, tables.values())
            notices = deprecation_notices(session, [t.name for t in tables.values()])
            prepared = PreparedQuery(
                settings, statement, tables, scan_bytes(tables.values()), tuple(notices)
            )
            if not needs_admission(settings, facts.mode):
                check_month(session, settings, prepared.bytes_to_scan)
        except LakemeshError as error:
            failure = error
    if failure is not None:
        raise failure
    return prepared
