"""Checking changes against the guardrails (see :mod:`lakemesh.governance.guardrails`).

Each check raises :class:`~lakemesh.errors.GuardrailViolationError` naming the rule it breaks.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from lakemesh.authz.grant_reach import may_overlap, sensitive_columns, tables_reached
from lakemesh.authz.guardrail_rules import (
    LOCATION_PREFIXES,
    MAX_TOKEN_LIFETIME,
    REQUIRED_TAGS,
    SENSITIVE_SCOPE,
    label,
    list_guardrails,
    location_prefixes,
)
from lakemesh.authz.state import policy_index
from lakemesh.errors import GuardrailViolationError
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName, parse_resource
from lakemesh.model.permissions import Permission
from lakemesh.policy import GrantRule, TagTarget, parse_tag_expression
from lakemesh.storage import is_within, normalize_uri, real_uri
from lakemesh.store.schema import Guardrail


def _violation(
    row: Guardrail,
    problem: str,
    *,
    actor: Actor | None,
    action: Action,
    resource: str,
    **details: Any,
) -> GuardrailViolationError:
    return GuardrailViolationError(
        f"{label(row)}: {problem}",
        details={
            "principal": actor.ref if actor is not None else "unknown",
            "action": action,
            "resource": resource,
            "guardrail": row.name,
            "kind": row.kind,
            **details,
        },
    )


def missing_tag_keys(row: Guardrail, table_tags: dict[str, str] | Any) -> list[str]:
    """The keys a ``required-tags`` guardrail wants that ``table_tags`` lacks."""
    return [key for key in row.config.get("keys", []) if key not in table_tags]


def check_shareable(
    session: Session,
    table: str | ResourceName,
    *,
    actor: Actor | None = None,
    action: Action = Action.SHARE_CREATE,
) -> None:
    """Refuse to share or publish ``table`` while it lacks a required tag key.

    Raises:
        GuardrailViolationError: ``Guardrail tagged (required-tags owner, sensitivity): table
            sales.crm.customers lacks tag keys owner``.
        NotFoundError: the table does not exist.
    """
    name = parse_resource(table, level="table") if isinstance(table, str) else table
    rows = list_guardrails(session, kind=REQUIRED_TAGS)
    if not rows:
        return
    facts = policy_index(session).table_facts(name)
    for row in rows:
        missing = missing_tag_keys(row, facts.table_tags)
        if missing:
            raise _violation(
                row,
                f"table {name} lacks tag keys {', '.join(missing)}",
                actor=actor,
                action=action,
                resource=str(name),
                missing_keys=missing,
            )


def check_grant(session: Session, *, actor: Actor, rule: GrantRule) -> None:
    """Refuse a grant that breaks a guardrail: a share of a table without its required tags, or
    a grant to a whole domain that could reach a column in a sensitive scope.

    Raises:
        GuardrailViolationError: naming the guardrail and the tables or columns at stake.
    """
    if rule.grantee.kind != "domain":
        return
    required = list_guardrails(session, kind=REQUIRED_TAGS)
    scopes = list_guardrails(session, kind=SENSITIVE_SCOPE)
    if not required and not scopes:
        return
    index = policy_index(session)
    tables = tables_reached(session, index, rule)
    target = str(rule.target)
    for table in tables:
        check_shareable(session, table, actor=actor, action=Action.GRANT_CREATE)
    if Permission.SELECT not in rule.permissions_on("table"):
        return
    for row in scopes:
        scope = parse_tag_expression(row.config["expression"])
        reached = {
            str(table): columns
            for table in tables
            if (columns := sensitive_columns(index, rule, table, scope))
        }
        target_expression = rule.target.expression if isinstance(rule.target, TagTarget) else None
        if reached or (target_expression is not None and may_overlap(target_expression, scope)):
            where = "; ".join(f"{t}: {', '.join(c)}" for t, c in reached.items())
            raise _violation(
                row,
                f"{target} may be granted to named principals only, not to {rule.grantee}"
                + (f" (sensitive columns {where})" if where else ""),
                actor=actor,
                action=Action.GRANT_CREATE,
                resource=target,
                grantee=str(rule.grantee),
                columns=reached,
            )


def check_location_prefixes(
    session: Session, *, uri: str, domain: str, actor: Actor | None = None
) -> None:
    """Refuse a location of ``domain`` outside the prefixes a ``location-prefixes`` guardrail
    allows (``{domain}`` in a prefix stands for ``domain``), compared on real paths.

    Raises:
        GuardrailViolationError: ``Guardrail lake-only (location-prefixes s3://lake): location
            file:///tmp/x is outside the allowed prefixes``.
    """
    normalized = normalize_uri(uri)
    real = real_uri(normalized)
    for row in list_guardrails(session, kind=LOCATION_PREFIXES):
        prefixes = location_prefixes(row, domain)
        if not any(is_within(real, real_uri(prefix)) for prefix in prefixes):
            raise _violation(
                row,
                f"location {normalized} is outside the allowed prefixes",
                actor=actor,
                action=Action.LOCATION_REGISTER,
                resource=normalized,
                allowed_prefixes=prefixes,
            )


def token_lifetime_limit(session: Session) -> tuple[Guardrail, timedelta] | None:
    """The strictest ``max-token-lifetime`` guardrail and its limit (None when there is none)."""
    rows = list_guardrails(session, kind=MAX_TOKEN_LIFETIME)
    if not rows:
        return None
    row = min(rows, key=lambda r: int(r.config.get("seconds", 0)))
    return row, timedelta(seconds=int(row.config.get("seconds", 0)))


def _duration(delta: timedelta) -> str:
    """``90d``, ``12h``, ``30m`` or ``45s``: the largest unit that divides ``delta``."""
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def check_token_lifetime(
    session: Session, *, actor: Actor, principal: str, expires_in: timedelta | None
) -> None:
    """Refuse a token without expiry, or living longer than a guardrail allows.

    Raises:
        GuardrailViolationError: ``Guardrail short-tokens (max-token-lifetime 90d): tokens may
            live at most 90d; asked for no expiry``.
    """
    limit = token_lifetime_limit(session)
    if limit is None:
        return
    row, maximum = limit
    if expires_in is not None and expires_in <= maximum:
        return
    asked = "no expiry" if expires_in is None else _duration(expires_in)
    raise _violation(
        row,
        f"tokens may live at most {row.config.get('max')}; asked for {asked}",
        actor=actor,
        action=Action.TOKEN_CREATE,
        resource=principal,
    )
