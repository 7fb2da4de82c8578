"""What a grant reaches today: the tables it gives a permission on, the sensitive columns it
lets be read (for guardrails and the doctor)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.model.names import ResourceName
from lakemesh.model.permissions import Permission
from lakemesh.policy import (
    FilterTarget,
    GrantRule,
    PolicyIndex,
    ResourceTarget,
    TagExpression,
    TagTarget,
    implies,
    parse_tag_expression,
)
from lakemesh.policy.coverage import contains, grant_columns
from lakemesh.store.schema import Database, Domain, Table


def tables_reached(session: Session, index: PolicyIndex, rule: GrantRule) -> list[ResourceName]:
    """The tables a grant gives some table permission on today, in catalog order."""
    if not rule.permissions_on("table"):
        return []
    target = rule.target
    if isinstance(target, TagTarget):
        if target.resource_type != "table":
            return []
        found = index.tables_matching(target.expression)
        return [t for t in found if target.scope is None or contains(target.scope, t)]
    if isinstance(target, FilterTarget):
        return [target.data_filter.table]
    if isinstance(target, ResourceTarget):
        resource = target.resource
        if resource.level in ("table", "column"):
            return [resource.table_name]
        return [name for name in catalog_tables(session) if contains(resource, name)]
    return []


def catalog_tables(session: Session) -> list[ResourceName]:
    """Every table of the catalog, by name."""
    rows = session.execute(
        select(Domain.name, Database.name, Table.name)
        .join(Database, Database.id == Table.database_id)
        .join(Domain, Domain.id == Database.domain_id)
        .order_by(Domain.name, Database.name, Table.name)
    )
    return [ResourceName(domain, database, table) for domain, database, table in rows]


def sensitive_columns(
    index: PolicyIndex, rule: GrantRule, table: ResourceName, scope: TagExpression
) -> tuple[str, ...]:
    """The columns of ``table`` that ``rule`` lets be read and that lie in ``scope``."""
    if Permission.SELECT not in rule.permissions_on("table"):
        return ()
    facts = index.table_facts(table)
    reached = grant_columns(rule, facts, facts.tag_groups())
    return tuple(column for column in reached if scope.matches(facts.tags_of(column)))


def may_overlap(expression: TagExpression, scope: TagExpression) -> bool:
    """Whether some column could satisfy both expressions (a table added tomorrow included)."""
    return not implies(expression, parse_tag_expression(f"NOT ({scope})"))
