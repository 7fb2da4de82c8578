"""The doctor's checks of grants: tables lacking tags a guardrail requires, sensitive columns
granted, dangling grants and grants whose grantor, authority, columns or tags are gone (see
:mod:`lakemesh.governance.doctor` for what each finding means)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from lakemesh.authz import guardrail_checks, guardrail_rules
from lakemesh.authz.grant_reach import (
    catalog_tables,
    may_overlap,
    sensitive_columns,
    tables_reached,
)
from lakemesh.governance.findings import Finding
from lakemesh.model.actors import SYSTEM
from lakemesh.model.names import ResourceName, parse_principal
from lakemesh.model.permissions import Permission
from lakemesh.policy import GrantRule, PolicyIndex, TagExpression, TagTarget
from lakemesh.policy.coverage import contains
from lakemesh.policy.tag_expressions import parse_tag_expression
from lakemesh.store.schema import Grant, Guardrail, Principal, Table

Rules = list[tuple[Grant, GrantRule]]


def _shared_tables(session: Session, index: PolicyIndex, rules: Rules) -> dict[str, list[str]]:
    shared: dict[str, list[str]] = {}
    for _, rule in rules:
        if rule.grantee.kind == "domain":
            for table in tables_reached(session, index, rule):
                shared.setdefault(str(table), []).append(str(rule.grantee))
    return shared


def missing_required_tags(session: Session, index: PolicyIndex, rules: Rules) -> Iterator[Finding]:
    required = guardrail_rules.list_guardrails(session, kind=guardrail_rules.REQUIRED_TAGS)
    if not required:
        return
    shared = _shared_tables(session, index, rules)
    for table in catalog_tables(session):
        tags = index.table_facts(table).table_tags
        for row in required:
            missing = guardrail_checks.missing_tag_keys(row, tags)
            if not missing:
                continue
            with_whom = sorted(set(shared.get(str(table), [])))
            message = f"{table} lacks tag keys {', '.join(missing)} ({guardrail_rules.label(row)})"
            if with_whom:
                message += f" but is shared with {', '.join(with_whom)}"
            yield Finding(
                "missing-required-tags",
                "high" if with_whom else "medium",
                str(table),
                message,
                {"guardrail": row.name, "missing_keys": missing, "shared_with": with_whom},
            )


def sensitive_grants(session: Session, index: PolicyIndex, rules: Rules) -> Iterator[Finding]:
    for row in guardrail_rules.list_guardrails(session, kind=guardrail_rules.SENSITIVE_SCOPE):
        scope = parse_tag_expression(row.config["expression"])
        for grant, rule in rules:
            if Permission.SELECT not in rule.permissions_on("table"):
                continue
            target = rule.target
            if isinstance(target, TagTarget):
                both = parse_tag_expression(f"({target.expression}) AND ({scope})")
                tables = [
                    t
                    for t in index.tables_matching(both)
                    if target.scope is None or contains(target.scope, t)
                ]
            else:
                tables = tables_reached(session, index, rule)
            reached = {
                table: columns
                for table in tables
                if (columns := sensitive_columns(index, rule, table, scope))
            }
            yield from _sensitive_findings(index, row, grant, rule, reached, scope)


def _sensitive_findings(
    index: PolicyIndex,
    row: Guardrail,
    grant: Grant,
    rule: GrantRule,
    reached: dict[ResourceName, tuple[str, ...]],
    scope: TagExpression,
) -> Iterator[Finding]:
    grantee = str(rule.grantee)
    is_domain = rule.grantee.kind == "domain"
    if not reached and is_domain and isinstance(rule.target, TagTarget):
        if may_overlap(rule.target.expression, scope):
            yield Finding(
                "sensitive-columns-granted",
                "high",
                str(rule.target),
                f"grant #{grant.id} to {grantee} on {rule.target} could reach columns in "
                f"{scope} ({guardrail_rules.label(row)} allows named principals only)",
                {"guardrail": row.name, "grant_id": grant.id, "grantee": grantee, "columns": {}},
            )
        return
    subject = index.subject(rule.grantee)
    for table, columns in reached.items():
        masks = index.decide(subject=subject, permission=Permission.SELECT, resource=table).masks
        unmasked = [column for column in columns if column not in masks]
        if is_domain:
            severity, why = "high", f"{guardrail_rules.label(row)} allows named principals only"
        elif unmasked:
            severity, why = "medium", f"unmasked: {', '.join(unmasked)}"
        else:
            severity, why = "low", "masked for it"
        yield Finding(
            "sensitive-columns-granted",
            severity,
            str(table),
            f"grant #{grant.id} lets {grantee} read {', '.join(columns)} of {table}, in "
            f"{scope} ({why})",
            {
                "guardrail": row.name,
                "grant_id": grant.id,
                "grantee": grantee,
                "columns": list(columns),
                "unmasked": unmasked,
            },
        )


def dangling_grants(session: Session) -> Iterator[Finding]:
    """Grants whose grantee or parent row is gone: impossible while foreign keys hold."""
    parent = aliased(Grant)
    rows = session.execute(
        select(Grant.id, Grant.grantee_id, Grant.parent_id, Principal.id, parent.id)
        .outerjoin(Principal, Principal.id == Grant.grantee_id)
        .outerjoin(parent, parent.id == Grant.parent_id)
        .where((Principal.id.is_(None)) | (Grant.parent_id.is_not(None) & parent.id.is_(None)))
    )
    for grant_id, grantee_id, parent_id, principal_id, _ in rows:
        problem = (
            f"its grantee (principal #{grantee_id}) no longer exists"
            if principal_id is None
            else f"it derives from grant #{parent_id}, which no longer exists"
        )
        yield Finding(
            "dangling-grant",
            "high",
            f"grant #{grant_id}",
            f"grant #{grant_id} is dangling: {problem} (the store's foreign keys were bypassed)",
            {"grant_id": grant_id, "grantee_id": grantee_id, "parent_id": parent_id},
        )


def grant_integrity(session: Session, index: PolicyIndex, rules: Rules) -> Iterator[Finding]:
    principals = set(session.execute(select(Principal.ref)).scalars())
    columns_of = {table.id: {c.name.lower() for c in table.columns} for table in _tables(session)}
    for grant, rule in rules:
        where = f"grant #{grant.id} to {grant.grantee.ref} on {rule.target}"
        details: dict[str, Any] = {"grant_id": grant.id, "grantee": grant.grantee.ref}
        if grant.parent_id is None and grant.granted_by != SYSTEM.ref:
            if grant.granted_by not in principals:
                yield Finding(
                    "grantor-removed",
                    "medium",
                    str(rule.target),
                    f"{where} was granted by {grant.granted_by}, which no longer exists",
                    {**details, "granted_by": grant.granted_by},
                )
            elif not index.can_grant(
                subject=index.subject(parse_principal(grant.granted_by)), rule=rule
            ).allowed:
                yield Finding(
                    "grantor-lost-authority",
                    "medium",
                    str(rule.target),
                    f"{where} was granted by {grant.granted_by}, which may no longer grant it",
                    {**details, "granted_by": grant.granted_by},
                )
        if grant.table_id is not None and (grant.columns or grant.excluded_columns):
            known = columns_of.get(grant.table_id, set())
            listed = [*(grant.columns or []), *(grant.excluded_columns or [])]
            gone = [column for column in listed if column.lower() not in known]
            if gone:
                yield Finding(
                    "grant-names-missing-columns",
                    "low",
                    str(rule.target),
                    f"{where} names columns the table no longer has: {', '.join(gone)}",
                    {**details, "columns": gone},
                )
        target = rule.target
        if (
            isinstance(target, TagTarget)
            and target.resource_type == "table"
            and not index.tables_matching(target.expression)
        ):
            yield Finding(
                "tag-grant-matches-nothing",
                "info",
                str(target),
                f"{where} matches no table today",
                details,
            )


def _tables(session: Session) -> list[Table]:
    return list(session.execute(select(Table)).scalars())
