"""Loading the whole policy state from the store into a :class:`PolicyIndex`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
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


def _tag_resource(assignment: TagAssignmentRow, names: CatalogNames) -> ResourceName:
    if assignment.column_id is not None:
        return names.column(assignment.column_id)
    if assignment.table_id is not None:
        return names.table(assignment.table_id)
    return names.database(assignment.database_id or 0)


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


# -- one thing at a time (applying the policy change log) ---------------------------------------


def load_grant(session: Session, grant_id: int, names: CatalogNames) -> GrantRule | None:
    """The grant as decisions see it, or None when it is gone or does not take effect (a share
    that is pending or declined)."""
    row = session.get(Grant, grant_id)
    if row is None or inactive_shares(session, [row]):
        return None
    return grant_rule(row, names)


def load_table(session: Session, name: ResourceName) -> TableState | None:
    """The table with the tags assigned on it and its columns, or None when it does not exist."""
    table_id = _table_id(session, name)
    row = None if table_id is None else session.get(Table, table_id)
    if row is None:
        return None
    columns = [column.name for column in sorted(row.columns, key=lambda c: c.position)]
    names = CatalogNames(session)
    tags: dict[ResourceName, dict[str, str]] = {name: {}}
    for column in columns:
        tags[ResourceName(name.domain, name.database, name.table, column)] = {}
    condition = TagAssignmentRow.table_id == row.id
    column_ids = [column.id for column in row.columns]
    if column_ids:
        condition = condition | TagAssignmentRow.column_id.in_(column_ids)
    for assignment in session.execute(select(TagAssignmentRow).where(condition)).scalars():
        resource = _tag_resource(assignment, names)
        tags.setdefault(resource, {})[assignment.key.key] = assignment.value.value
    published = session.execute(
        select(DataProductTable.table_id)
        .join(DataProduct, DataProduct.id == DataProductTable.product_id)
        .where(DataProductTable.table_id == row.id, DataProduct.status.in_(DISCOVERABLE))
    ).first()
    return TableState(CatalogTable(name, tuple(columns), published is not None), tags)


def _table_id(session: Session, name: ResourceName) -> int | None:
    return session.execute(
        select(Table.id)
        .join(Database)
        .join(Domain)
        .where(Domain.name == name.domain, Database.name == name.database, Table.name == name.table)
    ).scalar()


def load_own_tags(session: Session, resource: ResourceName) -> dict[str, str] | None:
    """The tags assigned on a database, table or column itself; None when it does not exist."""
    if resource.level == "database":
        found = session.execute(
            select(Database.id)
            .join(Domain)
            .where(Domain.name == resource.domain, Database.name == resource.database)
        ).scalar()
        condition = TagAssignmentRow.database_id == found
    else:
        found = _table_id(session, resource.table_name)
        condition = TagAssignmentRow.table_id == found
        if found is not None and resource.level == "column":
            found = session.execute(
                select(Column.id).where(
                    Column.table_id == found,
                    func.lower(Column.name) == (resource.column or "").lower(),
                )
            ).scalar()
            condition = TagAssignmentRow.column_id == found
    if found is None:
        return None
    rows = session.execute(select(TagAssignmentRow).where(condition)).scalars()
    return {row.key.key: row.value.value for row in rows}


def load_mask(session: Session, name: str) -> MaskRule | None:
    row = session.execute(select(MaskRow).where(MaskRow.name == name)).scalar()
    return None if row is None else _mask_rule(row)


def load_principal(session: Session, ref: str) -> PrincipalState | None:
    """A principal's attributes, administered domains and direct groups; None when deleted."""
    row = session.execute(select(Principal).where(Principal.ref == ref)).scalar()
    if row is None:
        return None
    administered = set(
        session.execute(
            select(Domain.name)
            .join(DomainAdmin, DomainAdmin.domain_id == Domain.id)
            .where(DomainAdmin.principal_id == row.id)
        ).scalars()
    )
    groups = session.execute(
        select(Principal.ref)
        .join(GroupMember, GroupMember.group_id == Principal.id)
        .where(GroupMember.member_id == row.id)
    ).scalars()
    return PrincipalState(
        _facts(row.ref, row.attributes, administered), frozenset(map(parse_principal, groups))
    )


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
