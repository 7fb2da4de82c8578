"""The policy change of a transaction, derived from the rows it writes.

Decisions read a fixed set of tables (what :mod:`lakemesh.authz.loader` loads). Session events
watch the rows a transaction adds, changes and deletes in those tables, ORM statements
(``update()``/``delete()``) included, and translate them into a :class:`PolicyChange`; at commit
the transaction's changes become one new policy version (:func:`commit_policy_changes`). A
service cannot forget to say that it changed policy, and a transaction that rolls back changes
nothing.

Deleted rows are read before the flush (while the store still has them and what the database's
``ON DELETE CASCADE`` takes with them); added and changed rows after it (when they have ids).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal

from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker
from sqlalchemy.orm.attributes import get_history

from lakemesh.store.schema import (
    Column,
    Database,
    DataFilterRow,
    DataProduct,
    DataProductTable,
    Domain,
    DomainAdmin,
    Grant,
    GroupMember,
    Location,
    MaskRule,
    Principal,
    Setting,
    Share,
    Table,
    TagAssignment,
    TagKey,
    TagValue,
)
from lakemesh.store.versions import (
    CHANGED,
    EVERYTHING,
    PENDING,
    PolicyChange,
    commit_policy_changes,
    mark_policy_changed,
)

Kind = Literal["new", "changed", "deleted"]
DELETED_BEFORE_FLUSH = "lakemesh_policy_deleted"
"""Key in ``Session.info``: what the rows being deleted by the current flush change."""
TRANSACTION_KEYS = (CHANGED, PENDING, DELETED_BEFORE_FLUSH)
"""Keys in ``Session.info`` that hold the state of one transaction (forgotten when it ends)."""


CHUNK = 500
"""Ids per ``IN`` list when names are read in bulk (well under every backend's parameter limit)."""


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    listed = sorted(ids)
    for start in range(0, len(listed), CHUNK):
        yield listed[start : start + CHUNK]


class _Names:
    """Names of catalog objects and principals by id, read once per flush: :meth:`prefetch`
    reads those of many rows in a few queries; a name it did not read is read on its own."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._databases: dict[int, str | None] = {}
        self._tables: dict[int, str | None] = {}
        self._columns: dict[int, tuple[int, str] | None] = {}
        self._principals: dict[int, str | None] = {}

    def prefetch(self, rows: Iterable[object]) -> None:
        """Read at once the names that deriving the changes of ``rows`` will ask for."""
        databases: set[int] = set()
        tables: set[int] = set()
        columns: set[int] = set()
        principals: set[int] = set()
        for row in rows:
            if isinstance(row, TagAssignment):
                for ids, value in (
                    (columns, row.column_id),
                    (tables, row.table_id),
                    (databases, row.database_id),
                ):
                    if value is not None:
                        ids.add(value)
                        break
            elif isinstance(row, Table) and row.id is not None:
                tables.add(row.id)
            elif isinstance(row, (Column, DataProductTable)) and row.table_id is not None:
                tables.add(row.table_id)
            elif isinstance(row, GroupMember) and row.member_id is not None:
                principals.add(row.member_id)
            elif isinstance(row, DomainAdmin) and row.principal_id is not None:
                principals.add(row.principal_id)
        self.load(databases=databases, tables=tables, columns=columns, principals=principals)

    def load(
        self,
        *,
        databases: Iterable[int] = (),
        tables: Iterable[int] = (),
        columns: Iterable[int] = (),
        principals: Iterable[int] = (),
    ) -> None:
        """Read the names of these ids not read yet (a column's table's too), a few at a query."""
        for chunk in _chunks(set(columns) - self._columns.keys()):
            of_columns = select(Column.id, Column.table_id, Column.name).where(Column.id.in_(chunk))
            found = {row.id: (row.table_id, row.name) for row in self.session.execute(of_columns)}
            self._columns.update({column_id: found.get(column_id) for column_id in chunk})
        wanted = set(tables) | {found[0] for found in self._columns.values() if found is not None}
        for chunk in _chunks(wanted - self._tables.keys()):
            of_tables = (
                select(Table.id, Domain.name, Database.name, Table.name)
                .join(Database, Database.id == Table.database_id)
                .join(Domain, Domain.id == Database.domain_id)
                .where(Table.id.in_(chunk))
            )
            named = {
                table_id: f"{domain}.{database}.{table}"
                for table_id, domain, database, table in self.session.execute(of_tables)
            }
            self._tables.update({table_id: named.get(table_id) for table_id in chunk})
        for chunk in _chunks(set(databases) - self._databases.keys()):
            of_databases = (
                select(Database.id, Domain.name, Database.name)
                .join(Domain, Domain.id == Database.domain_id)
                .where(Database.id.in_(chunk))
            )
            names = {
                database_id: f"{domain}.{database}"
                for database_id, domain, database in self.session.execute(of_databases)
            }
            self._databases.update({database_id: names.get(database_id) for database_id in chunk})
        for chunk in _chunks(set(principals) - self._principals.keys()):
            of_principals = select(Principal.id, Principal.ref).where(Principal.id.in_(chunk))
            refs = {row.id: row.ref for row in self.session.execute(of_principals)}
            self._principals.update({id_: refs.get(id_) for id_ in chunk})

    def database(self, database_id: int | None) -> str | None:
        if database_id is None:
            return None
        if database_id not in self._databases:
            self.load(databases=[database_id])
        return self._databases[database_id]

    def table(self, table_id: int | None) -> str | None:
        if table_id is None:
            return None
        if table_id not in self._tables:
            self.load(tables=[table_id])
        return self._tables[table_id]

    def column(self, column_id: int | None) -> str | None:
        if column_id is None:
            return None
        if column_id not in self._columns:
            self.load(columns=[column_id])
        found = self._columns[column_id]
        table = None if found is None else self.table(found[0])
        return None if table is None or found is None else f"{table}.{found[1]}"

    def principal(self, principal_id: int | None) -> str | None:
        if principal_id is None:
            return None
        if principal_id not in self._principals:
            self.load(principals=[principal_id])
        return self._principals[principal_id]


def _changed(row: object, *attributes: str) -> bool:
    return any(get_history(row, name).has_changes() for name in attributes)


def _derived_grants(session: Session, roots: Iterable[int]) -> set[int]:
    """``roots`` and every grant derived from them (the database deletes those with them)."""
    found = set(roots)
    frontier = set(found)
    while frontier:
        children = session.execute(select(Grant.id).where(Grant.parent_id.in_(frontier)))
        frontier = set(children.scalars()) - found
        found |= frontier
    return found


NOTHING = PolicyChange()


def _grant(row: Grant, kind: Kind, names: _Names) -> PolicyChange:
    if kind == "deleted":
        return PolicyChange.of(grants=_derived_grants(names.session, [row.id]))
    return PolicyChange.of(grants=[row.id])


def _filter(row: DataFilterRow, kind: Kind, names: _Names) -> PolicyChange:
    if kind == "new":
        return NOTHING  # no grant goes through it yet
    through = names.session.execute(select(Grant.id).where(Grant.filter_id == row.id)).scalars()
    return PolicyChange.of(grants=_derived_grants(names.session, through))


def _share(row: Share, kind: Kind, names: _Names) -> PolicyChange:
    # Whether a share takes effect depends on its answer; a revoked grant loses its answer.
    history = get_history(row, "grant_id")
    grants = [row.grant_id, *history.deleted]
    return PolicyChange.of(grants=[grant for grant in grants if grant is not None])


def _table(row: Table, kind: Kind, names: _Names) -> PolicyChange:
    if kind == "deleted" or (kind == "changed" and _changed(row, "name", "database_id")):
        return EVERYTHING  # its tags, filters and grants go (or move) with it
    table = names.table(row.id)
    return NOTHING if table is None else PolicyChange.of(tables=[table])


def _column(row: Column, kind: Kind, names: _Names) -> PolicyChange:
    table = names.table(row.table_id)
    # A table gone with its columns is a change of everything already.
    return NOTHING if table is None else PolicyChange.of(tables=[table])


def _tag_assignment(row: TagAssignment, kind: Kind, names: _Names) -> PolicyChange:
    if row.column_id is not None:
        resource = names.column(row.column_id)
    elif row.table_id is not None:
        resource = names.table(row.table_id)
    else:
        resource = names.database(row.database_id)
    return NOTHING if resource is None else PolicyChange.of(tags=[resource])


def _product(row: DataProduct, kind: Kind, names: _Names) -> PolicyChange:
    """Tables of published products are discoverable: publishing, deprecating or withdrawing a
    product, or changing its tables, changes them (rows it adds or deletes speak for
    themselves, but not those it drops from its list)."""
    history = get_history(row, "tables")
    if kind != "changed" or not (history.has_changes() or _changed(row, "status")):
        return NOTHING
    tables = {item.table_id for item in history.sum()}
    tables.update(
        names.session.execute(
            select(DataProductTable.table_id).where(DataProductTable.product_id == row.id)
        ).scalars()
    )
    return PolicyChange.of(tables=[name for name in map(names.table, tables) if name is not None])


def _product_table(row: DataProductTable, kind: Kind, names: _Names) -> PolicyChange:
    table = names.table(row.table_id)
    return NOTHING if table is None else PolicyChange.of(tables=[table])


def _mask(row: MaskRule, kind: Kind, names: _Names) -> PolicyChange:
    return PolicyChange.of(masks=[row.name, *get_history(row, "name").deleted])


def _principal(row: Principal, kind: Kind, names: _Names) -> PolicyChange:
    if kind == "deleted" or (kind == "changed" and _changed(row, "ref")):
        return EVERYTHING  # its grants and memberships go with it
    return PolicyChange.of(principals=[row.ref])


def _membership(row: GroupMember, kind: Kind, names: _Names) -> PolicyChange:
    member = names.principal(row.member_id)
    return NOTHING if member is None else PolicyChange.of(principals=[member])


def _administration(row: DomainAdmin, kind: Kind, names: _Names) -> PolicyChange:
    admin = names.principal(row.principal_id)
    return NOTHING if admin is None else PolicyChange.of(principals=[admin])


def _renamed_or_deleted(*attributes: str) -> Callable[[Any, Kind, _Names], PolicyChange]:
    """For rows whose names decisions read: adding one changes nothing yet; renaming or
    deleting one (and what the database deletes with it) changes everything."""

    def derive(row: Any, kind: Kind, names: _Names) -> PolicyChange:
        if kind == "deleted" or (kind == "changed" and _changed(row, *attributes)):
            return EVERYTHING
        return NOTHING

    return derive


def _setting(row: Setting, kind: Kind, names: _Names) -> PolicyChange:
    return EVERYTHING  # discovery and auto_accept_shares are read by the whole index


DERIVE: dict[type[Any], Callable[[Any, Kind, _Names], PolicyChange]] = {
    Grant: _grant,
    DataFilterRow: _filter,
    Share: _share,
    Table: _table,
    Column: _column,
    TagAssignment: _tag_assignment,
    DataProduct: _product,
    DataProductTable: _product_table,
    MaskRule: _mask,
    Principal: _principal,
    GroupMember: _membership,
    DomainAdmin: _administration,
    Setting: _setting,
    Domain: _renamed_or_deleted("name"),
    Database: _renamed_or_deleted("name", "domain_id"),
    Location: _renamed_or_deleted("uri", "domain_id"),
    TagKey: _renamed_or_deleted("key"),
    TagValue: _renamed_or_deleted("value", "key_id"),
}
"""How a row of each table decisions read changes them; rows of other tables change nothing."""


def derive_change(session: Session, rows: Iterable[tuple[object, Kind]]) -> PolicyChange:
    """What writing ``rows`` (each with how it is written) changes of the state decisions read."""
    listed = list(rows)
    names = _Names(session)
    names.prefetch(row for row, _kind in listed)
    changes = [
        derive(row, kind, names)
        for row, kind in listed
        if (derive := DERIVE.get(type(row))) is not None
    ]
    return PolicyChange.union(changes)


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    deleted = [(row, "deleted") for row in session.deleted if type(row) in DERIVE]
    if deleted:
        session.info[DELETED_BEFORE_FLUSH] = derive_change(session, deleted)  # type: ignore[arg-type]


def _after_flush(session: Session, _context: Any) -> None:
    written: list[tuple[object, Kind]] = [
        (row, "new") for row in session.new if type(row) in DERIVE
    ]
    written.extend(
        (row, "changed")
        for row in session.dirty
        if type(row) in DERIVE and session.is_modified(row)
    )
    change = derive_change(session, written)
    deleted = session.info.pop(DELETED_BEFORE_FLUSH, None)
    if deleted is not None:
        change = PolicyChange.union([deleted, change])
    if change != NOTHING:
        mark_policy_changed(session, change)


def _bulk_statement(state: ORMExecuteState) -> None:
    """``insert()``, ``update()`` and ``delete()`` statements on the tables decisions read: the
    rows an update or delete is about to write are read first; bulk inserts (loaders and
    benchmarks) change everything."""
    if not (state.is_insert or state.is_update or state.is_delete) or state.bind_mapper is None:
        return
    entity = state.bind_mapper.class_
    if entity not in DERIVE:
        return
    if state.is_insert:
        mark_policy_changed(state.session, EVERYTHING)
        return
    where = getattr(state.statement, "whereclause", None)
    query = select(entity) if where is None else select(entity).where(where)
    rows: list[object] = list(state.session.execute(query).scalars())
    if state.is_delete:
        change = derive_change(state.session, [(row, "deleted") for row in rows])
    elif entity in (Grant, DataFilterRow, Column, TagAssignment):
        change = derive_change(state.session, [(row, "changed") for row in rows])
    else:
        change = EVERYTHING if rows else NOTHING  # which attributes change is not known here
    if change != NOTHING:
        mark_policy_changed(state.session, change)


def track_policy_changes(sessions: sessionmaker[Session]) -> None:
    """Derive the policy change of every transaction of ``sessions`` from the rows it writes."""
    event.listen(sessions, "before_flush", _before_flush)
    event.listen(sessions, "after_flush", _after_flush)
    event.listen(sessions, "do_orm_execute", _bulk_statement)
    event.listen(sessions, "before_commit", commit_policy_changes)
