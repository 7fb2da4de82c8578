"""Loading the whole policy state from the store into a :class:`PolicyIndex`."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.authz.share_status import inactive_shares
from lakemesh.model.actors import GOVERNANCE
from lakemesh.model.names import PrincipalName, ResourceName, parse_principal, parse_resource
from lakemesh.model.permissions import Permission
from lakemesh.policy import (
    CatalogTable,
    ColumnChoice,
    DataFilter,
    FilterTarget,
    GrantRule,
    LocationTarget,
    MaskRule,
    PolicyIndex,
    PolicySettings,
    PrincipalFacts,
    ResourceTarget,
    TagAssignment,
    TagTarget,
    TagValuesTarget,
    parse_tag_expression,
)
from lakemesh.policy.rules import GrantTarget
from lakemesh.settings import get_setting
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
    Principal,
    Table,
    TagKey,
    TagValue,
)
from lakemesh.store.schema import (
    MaskRule as MaskRow,
)
from lakemesh.store.schema import (
    TagAssignment as TagAssignmentRow,
)

T = TypeVar("T")

DISCOVERABLE = ("published", "deprecated")
"""Data product statuses whose tables every principal may DESCRIBE (DESIGN §4 discovery)."""


@dataclass(frozen=True)
class TableState:
    """A table as the policy index holds it: columns, published flag, and the tags assigned on
    the table itself and on each of its columns (an empty mapping for a resource without)."""

    table: CatalogTable
    tags: dict[ResourceName, dict[str, str]]


@dataclass(frozen=True)
class PrincipalState:
    facts: PrincipalFacts
    groups: frozenset[PrincipalName]
    """The groups the principal belongs to directly."""


class CatalogNames:
    """Id → name lookups for domains, databases, tables and columns.

    Names are read on first use and remembered, so a few lookups cost a few small queries;
    :meth:`load_all` reads the whole catalog at once for a full index load.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self.domains: dict[int, str] = {}
        self.databases: dict[int, ResourceName] = {}
        self.tables: dict[int, ResourceName] = {}
        self.columns: dict[int, tuple[int, str]] = {}

    @classmethod
    def load_all(cls, session: Session) -> tuple[CatalogNames, dict[int, list[str]]]:
        """Every name of the catalog, and each table's columns in order (by table id)."""
        names = cls(session)
        names.domains.update((i, n) for i, n in session.execute(select(Domain.id, Domain.name)))
        for row in session.execute(select(Database.id, Database.domain_id, Database.name)):
            names.databases[row.id] = ResourceName(names.domains[row.domain_id], row.name)
        for row in session.execute(select(Table.id, Table.database_id, Table.name)):
            database = names.databases[row.database_id]
            names.tables[row.id] = ResourceName(database.domain, database.database, row.name)
        columns_of: dict[int, list[str]] = {}
        for row in session.execute(
            select(Column.id, Column.table_id, Column.name).order_by(
                Column.table_id, Column.position
            )
        ):
            names.columns[row.id] = (row.table_id, row.name)
            columns_of.setdefault(row.table_id, []).append(row.name)
        return names, columns_of

    def domain(self, domain_id: int) -> str:
        name = self.domains.get(domain_id)
        if name is None:
            name = self._session.execute(
                select(Domain.name).where(Domain.id == domain_id)
            ).scalar_one()
            self.domains[domain_id] = name
        return name

    def database(self, database_id: int) -> ResourceName:
        name = self.databases.get(database_id)
        if name is None:
            domain_id, database = self._session.execute(
                select(Database.domain_id, Database.name).where(Database.id == database_id)
            ).one()
            name = self.databases[database_id] = ResourceName(self.domain(domain_id), database)
        return name

    def table(self, table_id: int) -> ResourceName:
        name = self.tables.get(table_id)
        if name is None:
            database_id, table = self._session.execute(
                select(Table.database_id, Table.name).where(Table.id == table_id)
            ).one()
            database = self.database(database_id)
            name = ResourceName(database.domain, database.database, table)
            self.tables[table_id] = name
        return name

    def column(self, column_id: int) -> ResourceName:
        found = self.columns.get(column_id)
        if found is None:
            table_id, column = self._session.execute(
                select(Column.table_id, Column.name).where(Column.id == column_id)
            ).one()
            found = self.columns[column_id] = (table_id, column)
        table_id, column = found
        table = self.table(table_id)
        return ResourceName(table.domain, table.database, table.table, column)


def _choice(columns: list[str] | None, excluded: list[str] | None) -> ColumnChoice:
    return ColumnChoice(
        frozenset(columns) if columns is not None else None, frozenset(excluded or ())
    )


def data_filter(row: DataFilterRow, table: ResourceName) -> DataFilter:
    """A stored data filter as the policy engine sees it."""
    return DataFilter(row.name, table, row.predicate, _choice(row.columns, row.excluded_columns))


def grant_target(row: Grant, names: CatalogNames) -> GrantTarget:
    """The target of a stored grant."""
    kind = row.target_kind
    if kind == "resource":
        if row.table_id is not None:
            resource = names.table(row.table_id)
        elif row.database_id is not None:
            resource = names.database(row.database_id)
        else:
            resource = ResourceName(names.domain(row.domain_id or 0))
        return ResourceTarget(resource, _choice(row.columns, row.excluded_columns))
    if kind == "tag":
        return TagTarget(
            parse_tag_expression(row.tag_expression or ""),
            "database" if row.tag_resource_type == "database" else "table",
            parse_resource(row.tag_scope) if row.tag_scope else None,
        )
    if kind == "filter":
        assert row.data_filter is not None
        return FilterTarget(data_filter(row.data_filter, names.table(row.data_filter.table_id)))
    if kind == "location":
        assert row.location is not None
        return LocationTarget(row.location.uri, row.location.domain.name)
    if kind == "tag_values":
        values = frozenset(row.tag_values) if row.tag_values is not None else None
        return TagValuesTarget(row.tag_key or "", values)
    raise ValueError(f"unknown grant target kind {kind!r} in grant #{row.id}")


def grant_rule(
    row: Grant, names: CatalogNames, *, grantee: PrincipalName | None = None
) -> GrantRule:
    """A stored grant as the policy engine sees it (``grantee`` stands in for the row's grantee,
    for a grant not made yet)."""
    return GrantRule(
        row.id,
        grantee or parse_principal(row.grantee.ref),
        frozenset(Permission(p) for p in row.permissions),
        grant_target(row, names),
        row.with_grant_option,
    )


def _facts(ref: str, attributes: dict[str, str] | None, administered: set[str]) -> PrincipalFacts:
    return PrincipalFacts(
        parse_principal(ref),
        dict(attributes or {}),
        GOVERNANCE in administered,
        frozenset(administered),
    )


def _principal_facts(session: Session, domains: dict[int, str]) -> list[PrincipalFacts]:
    admin_of: dict[int, set[str]] = {}
    for domain_id, principal_id in session.execute(
        select(DomainAdmin.domain_id, DomainAdmin.principal_id)
    ):
        admin_of.setdefault(principal_id, set()).add(domains[domain_id])
    return [
        _facts(row.ref, row.attributes, admin_of.get(row.id, set()))
        for row in session.execute(select(Principal.id, Principal.ref, Principal.attributes))
        if row.attributes or row.id in admin_of
    ]


def _mask_rule(row: MaskRow) -> MaskRule:
    return MaskRule(row.name, parse_tag_expression(row.tag_expression), row.function)


def load_index(session: Session) -> PolicyIndex:
    """Everything decisions need, read in the caller's transaction."""
    names, columns_of = CatalogNames.load_all(session)
    published = published_tables(session)
    tables = [
        CatalogTable(name, tuple(columns_of.get(table_id, ())), name in published)
        for table_id, name in names.tables.items()
    ]
    tags = [
        TagAssignment(
            names.column(row.column_id)
            if row.column_id is not None
            else names.table(row.table_id)
            if row.table_id is not None
            else names.database(row.database_id),
            row.key,
            row.value,
        )
        for row in session.execute(
            select(
                TagAssignmentRow.column_id,
                TagAssignmentRow.table_id,
                TagAssignmentRow.database_id,
                TagKey.key,
                TagValue.value,
            )
            .join(TagKey, TagKey.id == TagAssignmentRow.key_id)
            .join(TagValue, TagValue.id == TagAssignmentRow.value_id)
        )
    ]
    grant_rows = list(session.execute(select(Grant)).scalars())
    inactive = inactive_shares(session, grant_rows)
    grants = [grant_rule(row, names) for row in grant_rows if row.id not in inactive]
    refs: dict[int, str] = {i: r for i, r in session.execute(select(Principal.id, Principal.ref))}
    memberships: list[tuple[PrincipalName, PrincipalName]] = [
        (parse_principal(refs[member]), parse_principal(refs[group]))
        for group, member in session.execute(select(GroupMember.group_id, GroupMember.member_id))
    ]
    return PolicyIndex.build(
        tables=tables,
        tags=tags,
        grants=grants,
        masks=[_mask_rule(row) for row in session.execute(select(MaskRow)).scalars()],
        principals=_principal_facts(session, names.domains),
        memberships=memberships,
        settings=PolicySettings(discovery=get_setting(session, "discovery")),
    )


# -- the things a change names (applying the policy change log) ---------------------------------

CHUNK = 500
"""Names or ids per ``IN`` list when the things a change names are read (well under every
backend's parameter limit)."""


def _chunks(items: Iterable[T]) -> Iterator[list[T]]:
    listed = list(items)
    for start in range(0, len(listed), CHUNK):
        yield listed[start : start + CHUNK]


def load_grants(
    session: Session, grant_ids: Collection[int], names: CatalogNames
) -> dict[int, GrantRule]:
    """The grants among ``grant_ids`` as decisions see them; those gone or not taking effect (a
    share that is pending or declined) are left out."""
    rows: list[Grant] = []
    for chunk in _chunks(sorted(grant_ids)):
        rows.extend(session.execute(select(Grant).where(Grant.id.in_(chunk))).scalars())
    inactive = inactive_shares(session, rows) if rows else set()
    return {row.id: grant_rule(row, names) for row in rows if row.id not in inactive}


def _table_ids(session: Session, tables: Collection[ResourceName]) -> dict[ResourceName, int]:
    """The ids of the tables of ``tables`` that exist."""
    wanted = {table.table_name for table in tables}
    found: dict[ResourceName, int] = {}
    for chunk in _chunks(sorted({table.table or "" for table in wanted})):
        query = (
            select(Table.id, Domain.name, Database.name, Table.name)
            .join(Database, Database.id == Table.database_id)
            .join(Domain, Domain.id == Database.domain_id)
            .where(
                Table.name.in_(chunk),
                Domain.name.in_({table.domain for table in wanted}),
                Database.name.in_({table.database or "" for table in wanted}),
            )
        )
        for table_id, domain, database, table in session.execute(query):
            name = ResourceName(domain, database, table)
            if name in wanted:
                found[name] = table_id
    return found


def _assigned(session: Session, condition: Any) -> Iterator[tuple[Any, ...]]:
    """``(database id, table id, column id, key, value)`` of the tag assignments matching
    ``condition``."""
    query = (
        select(
            TagAssignmentRow.database_id,
            TagAssignmentRow.table_id,
            TagAssignmentRow.column_id,
            TagKey.key,
            TagValue.value,
        )
        .join(TagKey, TagKey.id == TagAssignmentRow.key_id)
        .join(TagValue, TagValue.id == TagAssignmentRow.value_id)
        .where(condition)
    )
    yield from (tuple(row) for row in session.execute(query))


def load_tables(
    session: Session, tables: Collection[ResourceName]
) -> dict[ResourceName, TableState]:
    """Each of ``tables`` that exists, with the tags assigned on it and its columns."""
    ids = _table_ids(session, tables)
    by_id = {table_id: name for name, table_id in ids.items()}
    columns: dict[int, list[tuple[int, str]]] = {table_id: [] for table_id in by_id}
    published: set[int] = set()
    tags: dict[int, dict[ResourceName, dict[str, str]]] = {}
    for chunk in _chunks(sorted(by_id)):
        query = (
            select(Column.table_id, Column.id, Column.name)
            .where(Column.table_id.in_(chunk))
            .order_by(Column.table_id, Column.position)
        )
        for table_id, column_id, column in session.execute(query):
            columns[table_id].append((column_id, column))
        published.update(
            session.execute(
                select(DataProductTable.table_id)
                .join(DataProduct, DataProduct.id == DataProductTable.product_id)
                .where(DataProductTable.table_id.in_(chunk), DataProduct.status.in_(DISCOVERABLE))
            ).scalars()
        )
        column_of = {
            column_id: (table_id, column)
            for table_id in chunk
            for column_id, column in columns[table_id]
        }
        for table_id in chunk:
            name = by_id[table_id]
            own: dict[ResourceName, dict[str, str]] = {name: {}}
            for _, column in columns[table_id]:
                own[ResourceName(name.domain, name.database, name.table, column)] = {}
            tags[table_id] = own
        for _, table_id, _, key, value in _assigned(session, TagAssignmentRow.table_id.in_(chunk)):
            tags[table_id][by_id[table_id]][key] = value
        for column_chunk in _chunks(sorted(column_of)):
            condition = TagAssignmentRow.column_id.in_(column_chunk)
            for _, _, column_id, key, value in _assigned(session, condition):
                table_id, column = column_of[column_id]
                name = by_id[table_id]
                column_name = ResourceName(name.domain, name.database, name.table, column)
                tags[table_id][column_name][key] = value
    return {
        name: TableState(
            CatalogTable(
                name, tuple(column for _, column in columns[table_id]), table_id in published
            ),
            tags[table_id],
        )
        for name, table_id in ids.items()
    }


def load_own_tags(
    session: Session, resources: Collection[ResourceName]
) -> dict[ResourceName, dict[str, str]]:
    """The tags assigned on each of ``resources`` (databases, tables and columns) itself; those
    that do not exist are left out."""
    databases: dict[ResourceName, int] = {}
    wanted = {resource for resource in resources if resource.level == "database"}
    if wanted:
        query = (
            select(Database.id, Domain.name, Database.name)
            .join(Domain, Domain.id == Database.domain_id)
            .where(
                Domain.name.in_({r.domain for r in wanted}),
                Database.name.in_({r.database or "" for r in wanted}),
            )
        )
        for database_id, domain, database in session.execute(query):
            if (name := ResourceName(domain, database)) in wanted:
                databases[name] = database_id
    others = [resource for resource in resources if resource.level in ("table", "column")]
    table_ids = _table_ids(session, others)
    tables = {r: table_ids[r] for r in others if r.level == "table" and r in table_ids}
    columns: dict[ResourceName, int] = {}
    in_tables = {
        table_ids[r.table_name] for r in others if r.level == "column" and r.table_name in table_ids
    }
    lookup: dict[tuple[int, str], int] = {}
    for chunk in _chunks(sorted(in_tables)):
        in_chunk = select(Column.id, Column.table_id, Column.name).where(Column.table_id.in_(chunk))
        for found_id, found_table, found_column in session.execute(in_chunk.order_by(Column.id)):
            lookup.setdefault((found_table, found_column.lower()), found_id)
    for resource in others:
        owner = table_ids.get(resource.table_name)
        if resource.level == "column" and owner is not None:
            column_id = lookup.get((owner, (resource.column or "").lower()))
            if column_id is not None:
                columns[resource] = column_id
    found: dict[ResourceName, dict[str, str]] = {}
    for kind, ids in (("database", databases), ("table", tables), ("column", columns)):
        by_id = {row_id: resource for resource, row_id in ids.items()}
        found.update({resource: {} for resource in ids})
        field = getattr(TagAssignmentRow, f"{kind}_id")
        for chunk in _chunks(sorted(by_id)):
            for database_id, table_id, column_id, key, value in _assigned(
                session, field.in_(chunk)
            ):
                row_id = {"database": database_id, "table": table_id, "column": column_id}[kind]
                found[by_id[row_id]][key] = value
    return found


def load_mask(session: Session, name: str) -> MaskRule | None:
    row = session.execute(select(MaskRow).where(MaskRow.name == name)).scalar()
    return None if row is None else _mask_rule(row)


def load_principals(session: Session, refs: Collection[str]) -> dict[str, PrincipalState]:
    """Attributes, administered domains and direct groups of each of ``refs`` that exists."""
    found: dict[str, PrincipalState] = {}
    for chunk in _chunks(sorted(refs)):
        rows = session.execute(
            select(Principal.id, Principal.ref, Principal.attributes).where(
                Principal.ref.in_(chunk)
            )
        ).all()
        ids = [row.id for row in rows]
        administered: dict[int, set[str]] = {row.id: set() for row in rows}
        for principal_id, domain in session.execute(
            select(DomainAdmin.principal_id, Domain.name)
            .join(Domain, Domain.id == DomainAdmin.domain_id)
            .where(DomainAdmin.principal_id.in_(ids))
        ):
            administered[principal_id].add(domain)
        groups: dict[int, set[str]] = {row.id: set() for row in rows}
        for member_id, group in session.execute(
            select(GroupMember.member_id, Principal.ref)
            .join(Principal, GroupMember.group_id == Principal.id)
            .where(GroupMember.member_id.in_(ids))
        ):
            groups[member_id].add(group)
        for row in rows:
            found[row.ref] = PrincipalState(
                _facts(row.ref, row.attributes, administered[row.id]),
                frozenset(map(parse_principal, groups[row.id])),
            )
    return found


def published_tables(session: Session) -> set[ResourceName]:
    """Tables of published (and deprecated) data products: everyone may DESCRIBE them when the
    mesh setting ``discovery`` is ``published``."""
    rows = session.execute(
        select(Domain.name, Database.name, Table.name)
        .join(DataProductTable, DataProductTable.table_id == Table.id)
        .join(DataProduct, DataProduct.id == DataProductTable.product_id)
        .join(Database, Database.id == Table.database_id)
        .join(Domain, Domain.id == Database.domain_id)
        .where(DataProduct.status.in_(DISCOVERABLE))
    )
    return {ResourceName(domain, database, table) for domain, database, table in rows}
