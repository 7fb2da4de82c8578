"""Loading the whole policy state from the store into a :class:`PolicyIndex`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.identity.actors import GOVERNANCE
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
from lakemesh.sharing.share_status import inactive_shares
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
)
from lakemesh.store.schema import (
    MaskRule as MaskRow,
)
from lakemesh.store.schema import (
    TagAssignment as TagAssignmentRow,
)

DISCOVERABLE = ("published", "deprecated")
"""Data product statuses whose tables every principal may DESCRIBE (DESIGN §4 discovery)."""


class CatalogNames:
    """Id → name lookups for domains, databases, tables and columns, loaded in bulk."""

    def __init__(self, session: Session) -> None:
        self.domains: dict[int, str] = {
            i: n for i, n in session.execute(select(Domain.id, Domain.name))
        }
        self.databases: dict[int, ResourceName] = {
            row.id: ResourceName(self.domains[row.domain_id], row.name)
            for row in session.execute(select(Database.id, Database.domain_id, Database.name))
        }
        self.tables: dict[int, ResourceName] = {}
        for row in session.execute(select(Table.id, Table.database_id, Table.name)):
            database = self.databases[row.database_id]
            self.tables[row.id] = ResourceName(database.domain, database.database, row.name)
        self.columns: dict[int, tuple[int, str]] = {
            row.id: (row.table_id, row.name)
            for row in session.execute(select(Column.id, Column.table_id, Column.name))
        }

    def column(self, column_id: int) -> ResourceName:
        table_id, name = self.columns[column_id]
        table = self.tables[table_id]
        return ResourceName(table.domain, table.database, table.table, name)


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
            resource = names.tables[row.table_id]
        elif row.database_id is not None:
            resource = names.databases[row.database_id]
        else:
            resource = ResourceName(names.domains[row.domain_id or 0])
        return ResourceTarget(resource, _choice(row.columns, row.excluded_columns))
    if kind == "tag":
        return TagTarget(
            parse_tag_expression(row.tag_expression or ""),
            "database" if row.tag_resource_type == "database" else "table",
            parse_resource(row.tag_scope) if row.tag_scope else None,
        )
    if kind == "filter":
        assert row.data_filter is not None
        return FilterTarget(data_filter(row.data_filter, names.tables[row.data_filter.table_id]))
    if kind == "location":
        assert row.location is not None
        return LocationTarget(row.location.uri, row.location.domain.name)
    if kind == "tag_values":
        values = frozenset(row.tag_values) if row.tag_values is not None else None
        return TagValuesTarget(row.tag_key or "", values)
    raise ValueError(f"unknown grant target kind {kind!r} in grant #{row.id}")


def grant_rule(row: Grant, names: CatalogNames) -> GrantRule:
    """A stored grant as the policy engine sees it."""
    return GrantRule(
        row.id,
        parse_principal(row.grantee.ref),
        frozenset(Permission(p) for p in row.permissions),
        grant_target(row, names),
        row.with_grant_option,
    )


def _principal_facts(session: Session, domains: dict[int, str]) -> list[PrincipalFacts]:
    admin_of: dict[int, set[str]] = {}
    for domain_id, principal_id in session.execute(
        select(DomainAdmin.domain_id, DomainAdmin.principal_id)
    ):
        admin_of.setdefault(principal_id, set()).add(domains[domain_id])
    facts: list[PrincipalFacts] = []
    for row in session.execute(select(Principal.id, Principal.ref, Principal.attributes)):
        administered = admin_of.get(row.id, set())
        if not administered and not row.attributes:
            continue
        facts.append(
            PrincipalFacts(
                parse_principal(row.ref),
                dict(row.attributes or {}),
                GOVERNANCE in administered,
                frozenset(administered),
            )
        )
    return facts


def load_index(session: Session) -> PolicyIndex:
    """Everything decisions need, read in the caller's transaction."""
    names = CatalogNames(session)
    columns_of: dict[int, list[str]] = {}
    for row in session.execute(
        select(Column.table_id, Column.name).order_by(Column.table_id, Column.position)
    ):
        columns_of.setdefault(row.table_id, []).append(row.name)
    published = published_tables(session)
    tables = [
        CatalogTable(name, tuple(columns_of.get(table_id, ())), name in published)
        for table_id, name in names.tables.items()
    ]
    tags: list[TagAssignment] = []
    for assignment in session.execute(select(TagAssignmentRow)).scalars():
        if assignment.column_id is not None:
            resource = names.column(assignment.column_id)
        elif assignment.table_id is not None:
            resource = names.tables[assignment.table_id]
        else:
            resource = names.databases[assignment.database_id or 0]
        tags.append(TagAssignment(resource, assignment.key.key, assignment.value.value))
    grant_rows = list(session.execute(select(Grant)).scalars())
    inactive = inactive_shares(session, grant_rows)
    grants = [grant_rule(row, names) for row in grant_rows if row.id not in inactive]
    masks = [
        MaskRule(row.name, parse_tag_expression(row.tag_expression), row.function)
        for row in session.execute(select(MaskRow)).scalars()
    ]
    refs: dict[int, str] = {i: r for i, r in session.execute(select(Principal.id, Principal.ref))}
    memberships: list[tuple[PrincipalName, PrincipalName]] = [
        (parse_principal(refs[member]), parse_principal(refs[group]))
        for group, member in session.execute(select(GroupMember.group_id, GroupMember.member_id))
    ]
    return PolicyIndex.build(
        tables=tables,
        tags=tags,
        grants=grants,
        masks=masks,
        principals=_principal_facts(session, names.domains),
        memberships=memberships,
        settings=PolicySettings(discovery=get_setting(session, "discovery")),
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
