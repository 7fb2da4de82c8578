"""Guardrails: organisation policies no domain can opt out of (DESIGN §3, the seeds' SCPs).

Four kinds, each a ``guardrails`` row with its configuration:

- ``required-tags`` (``keys``): a table must carry these tag keys (its own or its database's)
  before it can be shared (any grant to ``domain:X`` is a share) or published.
- ``sensitive-scope`` (``expression``, e.g. ``sensitivity=pii``): a grant whose visible columns
  could include a column matching the expression may go to named principals only: users,
  services and groups, whose members are named one by one. Never to a whole domain
  (``domain:X``), whose admins could pass it on to anyone in it.
- ``location-prefixes`` (``prefixes``): storage locations must lie under one of the prefixes
  (compared on real paths). A prefix may name ``{domain}`` (``s3://lake/{domain}``): it then
  stands for each domain's own prefix, inside which that domain's admins may register locations
  themselves (see :mod:`lakemesh.catalog.location_rules`).
- ``max-token-lifetime`` (``max``): every API token expires, at most that long after creation.
- ``contract-classification`` (``keys``, e.g. ``sensitivity``): a data contract property
  classified ``pii`` (or any value of those keys) is refused on publish unless its column carries
  that tag value (without the guardrail a mismatch is only a warning on the product).

Only mesh admins create, change or delete guardrails (audited); anyone may read them. A change
that would break one raises :class:`~lakemesh.errors.GuardrailViolationError` naming the rule:
``Guardrail pii-only-named (sensitive-scope sensitivity=pii): ...``; the hub audits it as a
denial. The checks themselves are in :mod:`lakemesh.authz.guardrail_checks`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.authz.guardrail_rules import (
    CONTRACT_CLASSIFICATION,
    LOCATION_PREFIXES,
    MAX_TOKEN_LIFETIME,
    REQUIRED_TAGS,
    SENSITIVE_SCOPE,
    check_kind,
    get_guardrail,
)
from lakemesh.errors import (
    AlreadyExistsError,
    InvalidInputError,
    NotFoundError,
)
from lakemesh.governance.tags import check_tag_expression, get_tag
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.durations import parse_duration
from lakemesh.storage import normalize_uri
from lakemesh.store.schema import Guardrail

OPTION_OF_KIND = {
    REQUIRED_TAGS: "keys",
    SENSITIVE_SCOPE: "on_tags",
    LOCATION_PREFIXES: "prefixes",
    MAX_TOKEN_LIFETIME: "max_lifetime",
    CONTRACT_CLASSIFICATION: "keys",
}
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")


# -- reading -----------------------------------------------------------------------------------


# -- changing ----------------------------------------------------------------------------------


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
    if kind in (REQUIRED_TAGS, CONTRACT_CLASSIFICATION):
        chosen = [key.strip() for key in keys or () if key.strip()]
        if not chosen:
            raise InvalidInputError(f"A {kind} guardrail needs at least one tag key")
        for key in chosen:
            try:
                get_tag(session, key)
            except NotFoundError as missing:
                raise InvalidInputError(missing.message, details=missing.details) from None
        return {"keys": sorted(set(chosen))}
    if kind == SENSITIVE_SCOPE:
        return {"expression": str(check_tag_expression(session, on_tags or ""))}
    if kind == LOCATION_PREFIXES:
        chosen = [normalize_uri(prefix.strip()) for prefix in prefixes or () if prefix.strip()]
        if not chosen:
            raise InvalidInputError("A location-prefixes guardrail needs at least one prefix")
        return {"prefixes": sorted(set(chosen))}
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
    actor.require_mesh_admin(action=Action.GUARDRAIL_CREATE, resource=f"guardrail:{name}")
    if not NAME.match(name):
        raise InvalidInputError(
            f"Invalid guardrail name: {name!r} (use lower-case letters, digits, _ and -)",
            details={"guardrail": name},
        )
    check_kind(kind)
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
        action=Action.GUARDRAIL_CREATE,
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
    actor.require_mesh_admin(action=Action.GUARDRAIL_UPDATE, resource=f"guardrail:{name}")
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
        action=Action.GUARDRAIL_UPDATE,
        resource=f"guardrail:{name}",
        details={"kind": row.kind, "from": before, "to": row.config},
    )
    return row


def delete_guardrail(session: Session, *, actor: Actor, name: str) -> None:
    """Delete a guardrail (mesh admins only; audited)."""
    actor.require_mesh_admin(action=Action.GUARDRAIL_DELETE, resource=f"guardrail:{name}")
    row = get_guardrail(session, name)
    audit.record(
        session,
        actor=actor.ref,
        action=Action.GUARDRAIL_DELETE,
        resource=f"guardrail:{name}",
        details={"kind": row.kind, "config": dict(row.config)},
    )
    session.delete(row)
