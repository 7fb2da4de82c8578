"""Who may grant what (DESIGN §4): a grantee with grant option may grant the same or fewer
permissions on the same or a narrower scope.

Narrower, kept sound (when unsure, refuse):

- a named object inside the held one, with columns inside the held columns (an exclude list is
  narrower than an include list only if it cannot grow: it never is);
- a data filter on a table inside a held named grant, within its columns; or a filter whose
  predicate keeps every conjunct of a held filter's predicate, on the same table;
- a tag expression that implies the held one (same resource type, scope inside the held scope);
  a tag expression scoped inside a held named domain or database;
- never a named grant from a tag grant: tags change, the derived grant would not follow;
- a location under the held location; tag values among the held values.

Roles: mesh admins may grant anything; domain admins may grant anything on their domain's objects
(and tag grants scoped inside their domain). A grant to ``domain:X`` may be delegated by X's
admins to X's own principals even without grant option (DESIGN §3).
"""

from __future__ import annotations

from collections.abc import Iterable

from lakemesh.model.names import ResourceName
from lakemesh.model.permissions import Permission
from lakemesh.policy.coverage import contains, granted_permissions, location_contains
from lakemesh.policy.decision import Decision
from lakemesh.policy.rules import (
    ColumnChoice,
    FilterTarget,
    GrantRule,
    GrantTarget,
    LocationTarget,
    ResourceTarget,
    Subject,
    TagTarget,
    TagValuesTarget,
)
from lakemesh.policy.tag_implication import implies

_TYPES_BELOW = {
    "domain": ("domain", "database", "table"),
    "database": ("database", "table"),
    "table": ("table",),
    "column": ("column",),
}


def _types_covered(target: GrantTarget) -> tuple[str, ...]:
    if isinstance(target, ResourceTarget):
        return _TYPES_BELOW[target.resource.level]
    if isinstance(target, TagTarget):
        return (target.resource_type,)
    if isinstance(target, FilterTarget):
        return ("table",)
    if isinstance(target, LocationTarget):
        return ("location",)
    return ("tag",)


def _needed(rule: GrantRule) -> list[tuple[str, Permission]]:
    return sorted(
        {(kind, p) for kind in _types_covered(rule.target) for p in granted_permissions(rule, kind)}
    )


def _named_choice(target: ResourceTarget) -> ColumnChoice:
    if target.resource.level == "column":
        return ColumnChoice(frozenset({target.resource.column or ""}))
    return target.choice


def _held_object(target: ResourceTarget) -> ResourceName:
    """A column grant holds its table, restricted to that column by its choice."""
    return target.resource.table_name if target.resource.level == "column" else target.resource


def _columns_within(inner: ColumnChoice, outer: ColumnChoice) -> bool:
    if not outer.restricted:
        return True
    if inner.columns is None:
        # all columns, or all but some: grows with the table, so not inside a fixed list
        return outer.columns is None and {c.lower() for c in outer.excluded_columns} <= {
            c.lower() for c in inner.excluded_columns
        }
    wanted = {c.lower() for c in inner.columns}
    if outer.columns is not None:
        return wanted <= {c.lower() for c in outer.columns}
    return not wanted & {c.lower() for c in outer.excluded_columns}


def _conjuncts(sql: str) -> set[str]:
    # Imported here for the CLI's startup time: only comparing row filters needs sqlglot.
    from sqlglot import exp

    from lakemesh.policy.predicates import parse_predicate

    tree = parse_predicate(sql).unnest()
    parts = tree.flatten() if isinstance(tree, exp.And) else [tree]
    return {part.unnest().sql(dialect="duckdb", identify=True) for part in parts}


def predicate_narrows(inner: str | None, outer: str | None) -> bool:
    """Whether rows of ``inner`` are among rows of ``outer`` (None: every row), syntactically.

    >>> predicate_narrows("region = 'EU' AND amount > 10", "region = 'EU'")
    True
    """
    if outer is None:
        return True
    if inner is None:
        return False
    return _conjuncts(outer) <= _conjuncts(inner)


def _scope_within(inner: ResourceName | None, outer: ResourceName | None) -> bool:
    return outer is None or (inner is not None and contains(outer, inner))


def narrower(inner: GrantTarget, outer: GrantTarget) -> bool:
    """Whether ``inner`` is the same as or provably inside ``outer``."""
    if isinstance(outer, ResourceTarget):
        outer_choice = _named_choice(outer)
        if isinstance(inner, ResourceTarget):
            if not contains(_held_object(outer), inner.resource):
                return False
            if not outer_choice.restricted:
                return True
            same_table = inner.resource.table_name == outer.resource.table_name
            return same_table and _columns_within(_named_choice(inner), outer_choice)
        if isinstance(inner, FilterTarget):
            table = inner.data_filter.table
            return contains(_held_object(outer), table) and (
                not outer_choice.restricted
                or (
                    table == outer.resource.table_name
                    and _columns_within(inner.data_filter.choice, outer_choice)
                )
            )
        if isinstance(inner, TagTarget):
            return (
                not outer_choice.restricted
                and outer.resource.level in ("domain", "database")
                and inner.scope is not None
                and contains(outer.resource, inner.scope)
            )
        return False
    if isinstance(outer, FilterTarget):
        held = outer.data_filter
        if isinstance(inner, FilterTarget):
            wanted = inner.data_filter
            return (
                wanted.table == held.table
                and _columns_within(wanted.choice, held.choice)
                and predicate_narrows(wanted.predicate, held.predicate)
            )
        if isinstance(inner, ResourceTarget):
            return (
                held.predicate is None
                and inner.resource.table_name == held.table
                and _columns_within(_named_choice(inner), held.choice)
            )
        return False
    if isinstance(outer, TagTarget):
        return (
            isinstance(inner, TagTarget)
            and inner.resource_type == outer.resource_type
            and _scope_within(inner.scope, outer.scope)
            and implies(inner.expression, outer.expression)
        )
    if isinstance(outer, LocationTarget):
        return isinstance(inner, LocationTarget) and location_contains(outer.uri, inner.uri)
    if isinstance(outer, TagValuesTarget):
        return (
            isinstance(inner, TagValuesTarget)
            and inner.key == outer.key
            and (
                outer.values is None or (inner.values is not None and inner.values <= outer.values)
            )
        )
    return False


def _target_domain(target: GrantTarget) -> str | None:
    """The one domain a target lies in, if any."""
    if isinstance(target, ResourceTarget):
        return target.resource.domain
    if isinstance(target, FilterTarget):
        return target.data_filter.table.domain
    if isinstance(target, TagTarget):
        return None if target.scope is None else target.scope.domain
    if isinstance(target, LocationTarget):
        return target.owner
    return None


def _may_pass_on(subject: Subject, held: GrantRule, rule: GrantRule) -> bool:
    if rule.with_grant_option and not held.with_grant_option:
        return False
    if held.with_grant_option:
        return True
    grantee = held.grantee
    return (
        grantee.kind == "domain"
        and grantee.domain in subject.admin_of_domains
        and rule.grantee.kind != "domain"
        and rule.grantee.domain == grantee.domain
    )


def can_grant(*, subject: Subject, rule: GrantRule, grants: Iterable[GrantRule]) -> Decision:
    """Whether ``subject`` may create ``rule`` (its id is ignored), with the reasons.

    ``grants`` may hold every grant of the mesh; those not reaching the subject are ignored.
    """
    action = f"GRANT {', '.join(sorted(rule.permissions))}"
    name = str(rule.target)
    if subject.is_mesh_admin:
        return Decision(
            True, subject.principal, action, name, reasons=["role: mesh admin may grant anything"]
        )
    domain = _target_domain(rule.target)
    if domain is not None and domain in subject.admin_of_domains:
        reason = f"role: domain admin of {domain} (ALL with grant option on {domain} objects)"
        return Decision(True, subject.principal, action, name, reasons=[reason])
    reaching = subject.grantees
    held = [g for g in grants if g.grantee in reaching and _may_pass_on(subject, g, rule)]
    reasons: list[str] = []
    missing: list[str] = []
    sources: list[int] = []
    for kind, permission in _needed(rule):
        source = next(
            (
                g
                for g in held
                if permission in granted_permissions(g, kind) and narrower(rule.target, g.target)
            ),
            None,
        )
        if source is None:
            missing.append(
                f"no grant with grant option gives {permission} on {name} or wider "
                f"to {subject.principal}"
            )
        else:
            sources.append(source.id)
            reasons.append(
                f"{source.describe()} to {subject.via(source.grantee)} covers {permission}"
            )
    if missing or not reasons:
        hints = [
            f"{g.describe()} to {subject.via(g.grantee)} does not contain {name}"
            for g in held
            if not narrower(rule.target, g.target)
        ]
        return Decision(False, subject.principal, action, name, reasons=[*missing, *hints[:5]])
    return Decision(
        True,
        subject.principal,
        action,
        name,
        reasons=list(dict.fromkeys(reasons)),
        sources=tuple(dict.fromkeys(sources)),
    )
