"""Guardrails: organisation policies no domain can opt out of (DESIGN §3, the seeds' SCPs).

Four kinds, each a ``guardrails`` row with its configuration:

- ``required-tags`` (``keys``): a table must carry these tag keys (its own or its database's)
  before it can be shared (any grant to ``domain:X`` is a share) or published.
- ``sensitive-scope`` (``expression``, e.g. ``sensitivity=pii``): a grant whose visible columns
  could include a column matching the expression may go to named principals only: users,
  services and groups, whose members are named one by one. Never to a whole domain
  (``domain:X``), whose admins could pass it on to anyone in it.
- ``location-prefixes`` (``prefixes``): storage locations must lie under one of the prefixes.
- ``max-token-lifetime`` (``max``): every API token expires, at most that long after creation.

Only mesh admins create, change or delete guardrails (audited); anyone may read them. A change
that would break one raises :class:`~lakemesh.errors.GuardrailViolationError` naming the rule:
``Guardrail pii-only-named (sensitive-scope sensitivity=pii): ...``; the hub audits it as a
denial.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.errors import (
    AlreadyExistsError,
    GuardrailViolationError,
    InvalidInputError,
    NotFoundError,
)
from lakemesh.governance.grant_reach import may_overlap, sensitive_columns, tables_reached
from lakemesh.governance.state import policy_index
from lakemesh.identity.actors import Actor
from lakemesh.model.names import ResourceName, parse_resource
from lakemesh.model.permissions import Permission
from lakemesh.policy import (
    GrantRule,
    TagTarget,
    parse_tag_expression,
)
from lakemesh.storage import is_within, normalize_uri
from lakemesh.store.schema import Guardrail

REQUIRED_TAGS = "required-tags"
SENSITIVE_SCOPE = "sensitive-scope"
LOCATION_PREFIXES = "location-prefixes"
MAX_TOKEN_LIFETIME = "max-token-lifetime"
KINDS = (REQUIRED_TAGS, SENSITIVE_SCOPE, LOCATION_PREFIXES, MAX_TOKEN_LIFETIME)
OPTION_OF_KIND = {
    REQUIRED_TAGS: "keys",
    SENSITIVE_SCOPE: "on_tags",
    LOCATION_PREFIXES: "prefixes",
    MAX_TOKEN_LIFETIME: "max_lifetime",
}
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")


# -- reading -----------------------------------------------------------------------------------


def get_guardrail(session: Session, name: str) -> Guardrail:
    """The guardrail called ``name``.

    Raises:
        NotFoundError: ``Guardrail does not exist: pii-only-named``.
    """
    row = session.execute(select(Guardrail).where(Guardrail.name == name)).scalar()
    if row is None:
        raise NotFoundError(f"Guardrail does not exist: {name}", details={"guardrail": name})
    return row


def list_guardrails(session: Session, *, kind: str | None = None) -> Sequence[Guardrail]:
    """Every guardrail (of one kind), by name. Guardrails are not secret: anyone may read them."""
    query = select(Guardrail).order_by(Guardrail.name)
    if kind is not None:
        query = query.where(Guardrail.kind == _check_kind(kind))
    return session.execute(query).scalars().all()


def rule_text(row: Guardrail) -> str:
    """``sensitive-scope sensitivity=pii``: the kind and what it holds."""
    config = row.config
    shown = {
        REQUIRED_TAGS: lambda: ", ".join(config.get("keys", [])),
        SENSITIVE_SCOPE: lambda: str(config.get("expression", "")),
        LOCATION_PREFIXES: lambda: ", ".join(config.get("prefixes", [])),
        MAX_TOKEN_LIFETIME: lambda: str(config.get("max", "")),
    }.get(row.kind, lambda: "")()
    return f"{row.kind} {shown}".strip()


def label(row: Guardrail) -> str:
    """``Guardrail pii-only-named (sensitive-scope sensitivity=pii)``."""
    return f"Guardrail {row.name} ({rule_text(row)})"


def describe_guardrail(row: Guardrail) -> dict[str, Any]:
    """A guardrail as the API shows it."""
    return {
        "name": row.name,
        "kind": row.kind,
        "config": dict(row.config),
        "rule": rule_text(row),
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat(),
    }


# -- changing ----------------------------------------------------------------------------------


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidInputError(
            f"Unknown guardrail kind: {kind!r} (known: {', '.join(KINDS)})",
            details={"kind": kind},
        )
    return kind


def _config(
    session: Session,
    kind: str,
    *,
    keys: Sequence[str] | None,
    on_tags: str | None,
    prefixes: Sequence[str] | None,
    max_lifetime: str | None,
) -> dict[str, Any]:
    """The stored configuration of a ``kind`` guardrail, every name checked."""
    given = {
        "keys": keys,
        "on_tags": on_tags,
        "prefixes": prefixes,
        "max_lifetime": max_lifetime,
    }
    wanted = OPTION_OF_KIND[kind]
    extra = sorted(
        option for option, value in given.items() if value is not None and option != wanted
    )
    if extra or given[wanted] is None:
        raise InvalidInputError(
            f"A {kind} guardrail takes {wanted} (and nothing else"
            + (f"; got {', '.join(extra)})" if extra else ")"),
            details={"kind": kind, "option": wanted},
        )
    if kind == REQUIRED_TAGS:
        from lakemesh.governance.tags import get_tag

        chosen = [key.strip() for key in keys or () if key.strip()]
        if not chosen:
            raise InvalidInputError("A required-tags guardrail needs at least one tag key")
        for key in chosen:
            try:
                get_tag(session, key)
            except NotFoundError as missing:
                raise InvalidInputError(missing.message, details=missing.details) from None
        return {"keys": sorted(set(chosen))}
    if kind == SENSITIVE_SCOPE:
        from lakemesh.governance.tags import check_tag_expression

        return {"expression": str(check_tag_expression(session, on_tags or ""))}
    if kind == LOCATION_PREFIXES:
        chosen = [normalize_uri(prefix.strip()) for prefix in prefixes or () if prefix.strip()]
        if not chosen:
            raise InvalidInputError("A location-prefixes guardrail needs at least one prefix")
        return {"prefixes": sorted(set(chosen))}
    from lakemesh.identity.tokens import parse_duration

    text = (max_lifetime or "").strip()
    return {"max": text, "seconds": int(parse_duration(text).total_seconds())}


def create_guardrail(
    session: Session,
    *,
    actor: Actor,
    name: str,
    kind: str,
    keys: Sequence[str] | None = None,
    on_tags: str | None = None,
    prefixes: Sequence[str] | None = None,
    max_lifetime: str | None = None,
) -> Guardrail:
    """Create a guardrail (mesh admins only; audited). Each kind takes its one option:
    ``keys`` (required-tags), ``on_tags`` (sensitive-scope), ``prefixes`` (location-prefixes),
    ``max_lifetime`` like ``90d`` (max-token-lifetime).

    Existing state that breaks the new rule is not undone: ``lakemesh doctor`` lists it.
    """
    actor.require_mesh_admin(action="guardrail.create", resource=f"guardrail:{name}")
    if not NAME.match(name):
        raise InvalidInputError(
            f"Invalid guardrail name: {name!r} (use lower-case letters, digits, _ and -)",
            details={"guardrail": name},
        )
    _check_kind(kind)
    if session.execute(select(Guardrail.id).where(Guardrail.name == name)).first():
        raise AlreadyExistsError(f"Guardrail already exists: {name}", details={"guardrail": name})
    config = _config(
        session,
        kind,
        keys=keys,
        on_tags=on_tags,
        prefixes=prefixes,
        max_lifetime=max_lifetime,
    )
    row = Guardrail(
        name=name, kind=kind, config=config, created_by=actor.ref, created_at=clock.now()
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor.ref,
        action="guardrail.create",
        resource=f"guardrail:{name}",
        details={"kind": kind, "config": config},
    )
    return row


def update_guardrail(
    session: Session,
    *,
    actor: Actor,
    name: str,
    keys: Sequence[str] | None = None,
    on_tags: str | None = None,
    prefixes: Sequence[str] | None = None,
    max_lifetime: str | None = None,
) -> Guardrail:
    """Replace a guardrail's configuration; its kind stays (mesh admins only; audited)."""
    actor.require_mesh_admin(action="guardrail.update", resource=f"guardrail:{name}")
    row = get_guardrail(session, name)
    before = dict(row.config)
    row.config = _config(
        session,
        row.kind,
        keys=keys,
        on_tags=on_tags,
        prefixes=prefixes,
        max_lifetime=max_lifetime,
    )
    audit.record(
        session,
        actor=actor.ref,
        action="guardrail.update",
        resource=f"guardrail:{name}",
        details={"kind": row.kind, "from": before, "to": row.config},
    )
    return row


def delete_guardrail(session: Session, *, actor: Actor, name: str) -> None:
    """Delete a guardrail (mesh admins only; audited)."""
    actor.require_mesh_admin(action="guardrail.delete", resource=f"guardrail:{name}")
    row = get_guardrail(session, name)
    audit.record(
        session,
        actor=actor.ref,
        action="guardrail.delete",
        resource=f"guardrail:{name}",
        details={"kind": row.kind, "config": dict(row.config)},
    )
    session.delete(row)


# -- checks ------------------------------------------------------------------------------------


def _violation(
    row: Guardrail,
    problem: str,
    *,
    actor: Actor | None,
    action: str,
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
    action: str = "share.create",
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
        check_shareable(session, table, actor=actor, action="grant.create")
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
                action="grant.create",
                resource=target,
                grantee=str(rule.grantee),
                columns=reached,
            )


def check_location_prefixes(session: Session, *, uri: str, actor: Actor | None = None) -> None:
    """Refuse a location outside the prefixes a ``location-prefixes`` guardrail allows.

    Raises:
        GuardrailViolationError: ``Guardrail lake-only (location-prefixes s3://lake): location
            file:///tmp/x is outside the allowed prefixes``.
    """
    normalized = normalize_uri(uri)
    for row in list_guardrails(session, kind=LOCATION_PREFIXES):
        prefixes: list[str] = row.config.get("prefixes", [])
        if not any(is_within(normalized, prefix) for prefix in prefixes):
            raise _violation(
                row,
                f"location {normalized} is outside the allowed prefixes",
                actor=actor,
                action="location.register",
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
        action="token.create",
        resource=principal,
    )
