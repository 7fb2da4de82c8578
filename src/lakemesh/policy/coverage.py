"""What one grant covers: which permissions, on which objects, which columns of a table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lakemesh.model.names import ResourceName
from lakemesh.model.permissions import Permission
from lakemesh.policy.facts import TableFacts, Tags
from lakemesh.policy.rules import (
    FilterTarget,
    GrantRule,
    LocationTarget,
    ResourceTarget,
    TagTarget,
    TagValuesTarget,
)

TagGroups = Sequence[tuple[Tags, tuple[str, ...]]]


def granted_permissions(rule: GrantRule, level: str) -> frozenset[Permission]:
    """The permissions ``rule`` gives on an object of type ``level`` (``ALL`` expanded).

    >>> from lakemesh.model.names import PrincipalName
    >>> rule = GrantRule(1, PrincipalName("user", "a", "d"), frozenset({Permission.ALL}),
    ...                  ResourceTarget(ResourceName("d", "db")))
    >>> sorted(str(permission) for permission in granted_permissions(rule, "database"))
    ['ALTER', 'CREATE_TABLE', 'DESCRIBE', 'DROP']
    """
    return rule.permissions_on(level)


def contains(container: ResourceName, resource: ResourceName) -> bool:
    """Whether ``resource`` is ``container`` or lies inside it.

    >>> contains(ResourceName("sales", "crm"), ResourceName("sales", "crm", "customers"))
    True
    """
    if container.domain != resource.domain:
        return False
    for outer, inner in (
        (container.database, resource.database),
        (container.table, resource.table),
        (container.column, resource.column),
    ):
        if outer is None:
            return True
        if inner is None or outer.lower() != inner.lower():
            return False
    return True


def location_contains(prefix: str, uri: str) -> bool:
    """Whether ``uri`` is the location ``prefix`` or lies under it (at a ``/`` boundary).

    >>> location_contains("s3://bucket/sales", "s3://bucket/sales/crm"), location_contains(
    ...     "s3://bucket/sales", "s3://bucket/salesforce")
    (True, False)
    """
    base = prefix.rstrip("/")
    return uri.rstrip("/") == base or uri.startswith(base + "/")


def _in_scope(target: TagTarget, resource: ResourceName) -> bool:
    return target.scope is None or contains(target.scope, resource)


def tag_columns(target: TagTarget, table: TableFacts, groups: TagGroups) -> tuple[str, ...]:
    """Columns whose effective tags satisfy a tag grant's expression, in table order."""
    if target.resource_type != "table" or (
        target.scope is not None and not contains(target.scope, table.name)
    ):
        return ()
    matcher = target.expression.matcher
    hits = []
    for tags, columns in groups:
        if matcher(tags):
            hits.append(columns)
    if not hits:
        return ()
    if len(hits) == len(groups):
        return table.columns
    matched = {column for columns in hits for column in columns}
    return tuple(column for column in table.columns if column in matched)


def grant_columns(rule: GrantRule, table: TableFacts, groups: TagGroups) -> tuple[str, ...]:
    """The columns of ``table`` that ``rule`` reaches, in table order (empty: none).

    ``groups`` is ``table.tag_groups()``, computed once per decision.
    """
    target = rule.target
    if isinstance(target, TagTarget):
        return tag_columns(target, table, groups)
    if isinstance(target, ResourceTarget):
        resource = target.resource
        if resource.level == "column":
            if not contains(resource.table_name, table.name):
                return ()
            column = table.column_named(resource.column or "")
            return () if column is None else (column,)
        if not contains(resource, table.name):
            return ()
        return target.choice.pick(table.columns)
    if isinstance(target, FilterTarget):
        data_filter = target.data_filter
        if not contains(data_filter.table, table.name):
            return ()
        return data_filter.choice.pick(table.columns)
    return ()


def covers_whole_table(rule: GrantRule, table: TableFacts, groups: TagGroups) -> bool:
    """Whether ``rule`` reaches the table as a whole (needed for INSERT, DELETE, ALTER, DROP).

    A tag grant reaches a whole table when the table's own effective tags and every column's
    satisfy the expression: a pii column keeps its table out of a ``sensitivity=public`` grant.
    """
    target = rule.target
    if isinstance(target, ResourceTarget):
        return (
            not target.choice.restricted
            and target.resource.level != "column"
            and contains(target.resource, table.name)
        )
    if isinstance(target, TagTarget):
        if target.resource_type != "table" or not _in_scope(target, table.name):
            return False
        matches = target.expression.matches
        return matches(table.table_tags) and all(matches(tags) for tags, _ in groups)
    return False


def covers_container(
    rule: GrantRule, resource: ResourceName, database_tags: Mapping[str, str] | None
) -> bool:
    """Whether ``rule`` reaches a domain or database as a whole."""
    target = rule.target
    if isinstance(target, ResourceTarget):
        return not target.choice.restricted and contains(target.resource, resource)
    if isinstance(target, TagTarget):
        return (
            target.resource_type == "database"
            and resource.level == "database"
            and database_tags is not None
            and _in_scope(target, resource)
            and target.expression.matches(database_tags)
        )
    return False


def lies_inside(rule: GrantRule, resource: ResourceName) -> bool:
    """Whether a named or filter grant is on something inside ``resource`` (implies DESCRIBE)."""
    target = rule.target
    if isinstance(target, ResourceTarget):
        return contains(resource, target.resource)
    if isinstance(target, FilterTarget):
        return contains(resource, target.data_filter.table)
    return False


def covers_location(rule: GrantRule, uri: str) -> bool:
    target = rule.target
    return isinstance(target, LocationTarget) and location_contains(target.uri, uri)


def covers_tag_value(rule: GrantRule, key: str, value: str) -> bool:
    target = rule.target
    return (
        isinstance(target, TagValuesTarget)
        and target.key == key
        and (target.values is None or value in target.values)
    )
