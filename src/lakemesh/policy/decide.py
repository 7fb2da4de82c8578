"""The one decision function: may this subject use this permission on this resource?

DESIGN §4: default deny; a principal's effective grants are its own, its groups' (transitively),
its domain's when it administers the domain, and the rights its roles imply (mesh admins DESCRIBE
everything but read no data; domain admins hold ALL with grant option on their domain's objects;
everyone may DESCRIBE the tables of published data products when ``discovery = published``).

Further choices, documented here because DESIGN leaves them open:

- Any permission on an object implies DESCRIBE of it (a SELECT grant on one column lets the table
  be seen); a named or filter grant on something inside a domain or database implies DESCRIBE of
  that domain or database.
- A grant restricted to columns (a column name, an include or exclude list) gives only the column
  permissions SELECT and UNMASK; a data filter gives only SELECT.
- INSERT, DELETE, ALTER and DROP through a tag grant need the whole table to satisfy the
  expression (its own effective tags and every column's).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from lakemesh.errors import InvalidInputError, NotFoundError
from lakemesh.model.names import ResourceName
from lakemesh.model.permissions import APPLICABLE, Permission
from lakemesh.policy.coverage import (
    TagGroups,
    covers_container,
    covers_location,
    covers_tag_value,
    covers_whole_table,
    grant_columns,
    granted_permissions,
    lies_inside,
)
from lakemesh.policy.decision import Decision
from lakemesh.policy.facts import TableFacts
from lakemesh.policy.rules import (
    GrantRule,
    Location,
    MaskRule,
    PolicySettings,
    Resource,
    Subject,
    TagTarget,
    TagValue,
)
from lakemesh.policy.table_access import (
    apply_masks,
    collect_pairs,
    column_access,
    domain_admin_reason,
    near_misses,
    unmasked_columns,
)

DEFAULT_SETTINGS = PolicySettings()
MESH_ADMIN_DESCRIBE = "role: mesh admin (DESCRIBE on everything)"
MESH_ADMIN_NO_DATA = "role: mesh admin gives DESCRIBE and grant rights, but no data access"


def decide(
    *,
    subject: Subject,
    permission: Permission,
    resource: Resource,
    grants: Iterable[GrantRule],
    table: TableFacts | None = None,
    database_tags: Mapping[str, str] | None = None,
    masks: Iterable[MaskRule] = (),
    settings: PolicySettings = DEFAULT_SETTINGS,
) -> Decision:
    """Decide ``permission`` on ``resource`` for ``subject``, with the reasons.

    ``grants`` may hold every grant of the mesh; those that do not reach the subject are ignored.
    ``table`` is required for a table or column resource, ``database_tags`` (the database's
    effective tags) for a database resource to be matched by database tag grants.

    Raises:
        InvalidInputError: for ``ALL`` (decide one permission at a time) or missing table facts.
        NotFoundError: for a column the table does not have.
    """
    reaching = subject.grantees
    return decide_reached(
        subject=subject,
        permission=permission,
        resource=resource,
        rules=[rule for rule in grants if rule.grantee in reaching],
        table=table,
        database_tags=database_tags,
        masks=masks,
        settings=settings,
    )


def decide_reached(
    *,
    subject: Subject,
    permission: Permission,
    resource: Resource,
    rules: Sequence[GrantRule],
    table: TableFacts | None = None,
    database_tags: Mapping[str, str] | None = None,
    masks: Iterable[MaskRule] = (),
    settings: PolicySettings = DEFAULT_SETTINGS,
) -> Decision:
    """:func:`decide` for ``rules`` already narrowed to the grants reaching ``subject``."""
    if permission == Permission.ALL:
        raise InvalidInputError("Decide one permission at a time, not ALL")
    if isinstance(resource, Location):
        return _decide_location(subject, permission, resource, rules)
    if isinstance(resource, TagValue):
        return _decide_tag_value(subject, permission, resource, rules)
    if resource.level in ("table", "column"):
        if table is None or table.name != resource.table_name:
            raise InvalidInputError(f"Table facts for {resource.table_name} are needed")
        return _decide_table(subject, permission, resource, rules, table, masks, settings)
    return _decide_container(subject, permission, resource, rules, database_tags)


def _denied(
    subject: Subject, permission: Permission, resource: str, extra: Sequence[str] = ()
) -> Decision:
    reasons = [f"no grant of {permission} on {resource} reaches {subject.principal}", *extra]
    if subject.is_mesh_admin and permission != Permission.DESCRIBE:
        reasons.append(MESH_ADMIN_NO_DATA)
    return Decision(False, subject.principal, permission, resource, reasons=reasons)


def _verdict(
    subject: Subject, permission: Permission, resource: str, reasons: list[str]
) -> Decision:
    if not reasons:
        return _denied(subject, permission, resource)
    return Decision(True, subject.principal, permission, resource, reasons=reasons)


def _not_applicable(subject: Subject, permission: Permission, resource: str, kind: str) -> Decision:
    applies = ", ".join(sorted(APPLICABLE[kind]))
    reason = f"{permission} does not apply to a {kind} (applies: {applies})"
    return Decision(False, subject.principal, permission, resource, reasons=[reason])


def _grant_reason(subject: Subject, rule: GrantRule, note: str = "") -> str:
    return f"{rule.describe()} to {subject.via(rule.grantee)}{note}"


def _decide_table(
    subject: Subject,
    permission: Permission,
    resource: ResourceName,
    rules: Sequence[GrantRule],
    table: TableFacts,
    masks: Iterable[MaskRule],
    settings: PolicySettings,
) -> Decision:
    name = str(resource)
    column = None
    if resource.column is not None:
        column = table.column_named(resource.column)
        if column is None:
            raise NotFoundError(f"Column does not exist: {resource}", details={"column": name})
        if permission not in APPLICABLE["column"] and permission != Permission.DESCRIBE:
            return _not_applicable(subject, permission, name, "column")
    if permission not in APPLICABLE["table"]:
        return _not_applicable(subject, permission, name, "table")
    groups = table.tag_groups()
    if permission == Permission.SELECT:
        return _select(subject, name, rules, table, groups, masks, column)
    if permission == Permission.UNMASK:
        return _unmask(subject, name, rules, table, groups, column)
    if permission == Permission.DESCRIBE:
        return _describe_table(subject, name, rules, table, groups, settings)
    return _whole_table(subject, permission, name, rules, table, groups)


def _select(
    subject: Subject,
    name: str,
    rules: Sequence[GrantRule],
    table: TableFacts,
    groups: TagGroups,
    masks: Iterable[MaskRule],
    column: str | None,
) -> Decision:
    raw, reasons, missed = collect_pairs(subject=subject, rules=rules, table=table, groups=groups)
    if column is not None:
        covering = [index for index, (_, columns) in enumerate(raw) if column in columns]
        if not covering:
            others = [f"{reason} does not cover {column}" for reason in reasons]
            misses = near_misses(subject, missed, table)
            return _denied(subject, Permission.SELECT, name, [*others, *misses])
        reasons = [reasons[index] for index in covering]
    if not raw:
        return _denied(subject, Permission.SELECT, name, near_misses(subject, missed, table))
    visible = {column} if column is not None else {c for _, cs in raw for c in cs}
    mask_map, mask_reasons = apply_masks(
        subject=subject, rules=rules, table=table, groups=groups, mask_rules=masks, visible=visible
    )
    columns, row_filter, access = column_access(raw, mask_map, table, column)
    return Decision(
        True,
        subject.principal,
        Permission.SELECT,
        name,
        columns=columns,
        row_filter=row_filter,
        access=access,
        masks=dict(access.masks),
        reasons=[*reasons, *mask_reasons],
    )


def _unmask(
    subject: Subject,
    name: str,
    rules: Sequence[GrantRule],
    table: TableFacts,
    groups: TagGroups,
    column: str | None,
) -> Decision:
    lifted = unmasked_columns(subject=subject, rules=rules, table=table, groups=groups)
    wanted = table.columns if column is None else (column,)
    columns = tuple(c for c in wanted if c in lifted)
    if not columns:
        return _denied(subject, Permission.UNMASK, name)
    reasons = list(dict.fromkeys(lifted[c] for c in columns))
    return Decision(
        True, subject.principal, Permission.UNMASK, name, columns=columns, reasons=reasons
    )


def _describe_table(
    subject: Subject,
    name: str,
    rules: Sequence[GrantRule],
    table: TableFacts,
    groups: TagGroups,
    settings: PolicySettings,
) -> Decision:
    reasons: list[str] = []
    if subject.is_mesh_admin:
        reasons.append(MESH_ADMIN_DESCRIBE)
    if table.name.domain in subject.admin_of_domains:
        reasons.append(domain_admin_reason(table.name.domain))
    if table.published and settings.discovery == "published":
        reasons.append(f"discovery: {table.name} is in a published data product")
    for rule in rules:
        granted = granted_permissions(rule, "table")
        if not granted:
            continue
        reaches = bool(grant_columns(rule, table, groups)) or (
            not table.columns and covers_whole_table(rule, table, groups)
        )
        if reaches:
            note = "" if Permission.DESCRIBE in granted else " (implies DESCRIBE)"
            reasons.append(_grant_reason(subject, rule, note))
    return _verdict(subject, Permission.DESCRIBE, name, reasons)


def _whole_table(
    subject: Subject,
    permission: Permission,
    name: str,
    rules: Sequence[GrantRule],
    table: TableFacts,
    groups: TagGroups,
) -> Decision:
    reasons: list[str] = []
    misses: list[str] = []
    if table.name.domain in subject.admin_of_domains:
        reasons.append(domain_admin_reason(table.name.domain))
    for rule in rules:
        if permission not in granted_permissions(rule, "table"):
            continue
        if covers_whole_table(rule, table, groups):
            reasons.append(_grant_reason(subject, rule))
        elif isinstance(rule.target, TagTarget) and grant_columns(rule, table, groups):
            misses.append(_grant_reason(subject, rule, f" does not cover every column of {name}"))
    if reasons:
        return _verdict(subject, permission, name, reasons)
    return _denied(subject, permission, name, misses)


def _decide_container(
    subject: Subject,
    permission: Permission,
    resource: ResourceName,
    rules: Sequence[GrantRule],
    database_tags: Mapping[str, str] | None,
) -> Decision:
    name, level = str(resource), resource.level
    if permission not in APPLICABLE[level]:
        return _not_applicable(subject, permission, name, level)
    reasons: list[str] = []
    if permission == Permission.DESCRIBE and subject.is_mesh_admin:
        reasons.append(MESH_ADMIN_DESCRIBE)
    if resource.domain in subject.admin_of_domains:
        reasons.append(domain_admin_reason(resource.domain))
    for rule in rules:
        granted = granted_permissions(rule, level)
        if permission in granted and covers_container(rule, resource, database_tags):
            reasons.append(_grant_reason(subject, rule))
        elif permission == Permission.DESCRIBE and (
            (granted and covers_container(rule, resource, database_tags))
            or lies_inside(rule, resource)
        ):
            reasons.append(_grant_reason(subject, rule, " (implies DESCRIBE)"))
    return _verdict(subject, permission, name, reasons)


def _decide_location(
    subject: Subject, permission: Permission, location: Location, rules: Sequence[GrantRule]
) -> Decision:
    name = f"location {location.uri}"
    if permission not in APPLICABLE["location"]:
        return _not_applicable(subject, permission, name, "location")
    reasons: list[str] = []
    if location.domain in subject.admin_of_domains:
        reasons.append(domain_admin_reason(location.domain))
    reasons.extend(
        _grant_reason(subject, rule)
        for rule in rules
        if permission in granted_permissions(rule, "location")
        and covers_location(rule, location.uri)
    )
    return _verdict(subject, permission, name, reasons)


def _decide_tag_value(
    subject: Subject, permission: Permission, value: TagValue, rules: Sequence[GrantRule]
) -> Decision:
    name = str(value)
    if permission not in APPLICABLE["tag"]:
        return _not_applicable(subject, permission, name, "tag")
    reasons: list[str] = []
    if subject.is_mesh_admin:
        reasons.append("role: mesh admin (defines and assigns tags)")
    for rule in rules:
        granted = granted_permissions(rule, "tag")
        if (
            granted
            and covers_tag_value(rule, value.key, value.value)
            and (permission in granted or permission == Permission.DESCRIBE)
        ):
            reasons.append(_grant_reason(subject, rule))
    return _verdict(subject, permission, name, reasons)
