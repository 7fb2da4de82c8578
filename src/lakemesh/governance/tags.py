"""Tag keys (LF-Tags): keys with allowed values, defined by mesh admins (DESIGN §3-4).

Assigning tags on databases, tables and columns, effective tags and tag search live in
:mod:`lakemesh.governance.tag_assignments`. A key or a value still in use (assigned somewhere, or
named by a grant, a mask or a guardrail) cannot be deleted: the refusal lists every use.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.errors import AlreadyExistsError, ConflictError, InvalidInputError, NotFoundError
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName, check_identifier
from lakemesh.policy import TagExpression, parse_tag_expression
from lakemesh.policy.tag_expressions import KEYWORDS, VALUE_PATTERN
from lakemesh.store.schema import (
    Column,
    Database,
    Domain,
    Grant,
    Guardrail,
    MaskRule,
    Table,
    TagAssignment,
    TagKey,
    TagValue,
)

MAX_NAME_LENGTH = 100
MAX_USES_IN_MESSAGE = 10


def check_tag_key(key: str) -> str:
    """A tag key: a lower-case identifier that is not a keyword of tag expressions."""
    check_identifier(key, "tag key")
    if key.upper() in KEYWORDS or len(key) > MAX_NAME_LENGTH:
        raise InvalidInputError(
            f"Invalid tag key: {key!r} (AND, OR and NOT are words of tag expressions; "
            f"at most {MAX_NAME_LENGTH} characters)",
            details={"field": "tag key", "value": key},
        )
    return key


def check_tag_value(value: str) -> str:
    """A tag value: letters, digits, ``_`` and ``-`` (``eu-west``, ``2024``)."""
    if not VALUE_PATTERN.fullmatch(value) or len(value) > MAX_NAME_LENGTH:
        raise InvalidInputError(
            f"Invalid tag value: {value!r} (use letters, digits, _ and -, not starting with -; "
            f"at most {MAX_NAME_LENGTH} characters)",
            details={"field": "tag value", "value": value},
        )
    return value


def _check_values(values: Iterable[str]) -> list[str]:
    checked: list[str] = []
    for value in values:
        if check_tag_value(value) not in checked:
            checked.append(value)
    return checked


def get_tag(session: Session, key: str) -> TagKey:
    """The tag key called ``key``.

    Raises:
        NotFoundError: ``Tag key does not exist: sensitivity``.
    """
    row = session.execute(select(TagKey).where(TagKey.key == key)).scalar()
    if row is None:
        raise NotFoundError(f"Tag key does not exist: {key}", details={"tag_key": key})
    return row


def get_tag_value(session: Session, key: str, value: str) -> TagValue:
    """The allowed value ``value`` of ``key``.

    Raises:
        NotFoundError: ``Tag value does not exist: sensitivity=secret (allowed: pii, public)``.
    """
    row = get_tag(session, key)
    for allowed in row.values:
        if allowed.value == value:
            return allowed
    raise NotFoundError(
        f"Tag value does not exist: {key}={value} (allowed: {_allowed(row)})",
        details={"tag_key": key, "tag_value": value, "allowed": _allowed(row).split(", ")},
    )


def _allowed(row: TagKey) -> str:
    return ", ".join(sorted(v.value for v in row.values))


def check_tag_expression(session: Session, text: str) -> TagExpression:
    """Parse a tag expression and check that every key and value it names exists.

    Raises:
        InvalidInputError: a parse error (with its position), or ``Tag key does not exist: x``
            or ``Tag value does not exist: k=v (allowed: ...)`` for a name the expression uses.
    """
    expression = parse_tag_expression(text)
    for key, values in sorted(expression.mentions.items()):
        for value in sorted(values):
            try:
                get_tag_value(session, key, value)
            except NotFoundError as missing:
                raise InvalidInputError(missing.message, details=missing.details) from None
    return expression


# -- uses --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TagUse:
    """One place a tag key (or value) is used: an assignment, a grant or a mask."""

    kind: str
    """``database``, ``table``, ``column``, ``grant``, ``mask`` or ``guardrail``."""
    name: str
    tag: str
    """The tag as it is used there: ``sensitivity=pii`` or the whole tag expression."""

    def __str__(self) -> str:
        return f"{self.kind} {self.name} ({self.tag})"

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "tag": self.tag}


def located_assignments(
    session: Session, level: str, *conditions: Any
) -> list[tuple[ResourceName, TagAssignment]]:
    """Assignments on ``level`` (database, table or column) meeting ``conditions``, named."""
    names: list[Any] = [Domain.name, Database.name]
    if level != "database":
        names.append(Table.name)
    if level == "column":
        names.append(Column.name)
    query = select(TagAssignment, *names)
    if level == "database":
        query = query.join(Database, TagAssignment.database_id == Database.id)
    elif level == "table":
        query = query.join(Table, TagAssignment.table_id == Table.id)
    else:
        query = query.join(Column, TagAssignment.column_id == Column.id).join(
            Table, Column.table_id == Table.id
        )
    if level != "database":
        query = query.join(Database, Table.database_id == Database.id)
    query = query.join(Domain, Database.domain_id == Domain.id).where(*conditions)
    return [(ResourceName(*row[1:]), row[0]) for row in session.execute(query)]


def tag_uses(session: Session, *, key: str, value: str | None = None) -> list[TagUse]:
    """Where ``key`` (or its ``value`` alone) is used: assignments, grants, masks, guardrails."""
    row = get_tag(session, key)
    uses: list[TagUse] = []
    for level in ("database", "table", "column"):
        conditions = [TagAssignment.key_id == row.id]
        if value is not None:
            conditions.append(TagAssignment.value.has(TagValue.value == value))
        found = located_assignments(session, level, *conditions)
        for name, assignment in sorted(found, key=lambda item: str(item[0])):
            uses.append(TagUse(level, str(name), f"{key}={assignment.value.value}"))
    grants = session.execute(
        select(Grant).where(Grant.target_kind.in_(("tag", "tag_values"))).order_by(Grant.id)
    ).scalars()
    for grant in grants:
        if not grant_mentions(grant, key, value):
            continue
        if grant.target_kind == "tag":
            uses.append(TagUse("grant", _grant_name(grant), grant.tag_expression or ""))
        else:
            shown = "|".join(grant.tag_values) if grant.tag_values is not None else "*"
            uses.append(TagUse("grant", _grant_name(grant), f"{key}={shown}"))
    for mask in session.execute(select(MaskRule).order_by(MaskRule.name)).scalars():
        if _mentions(parse_tag_expression(mask.tag_expression), key, value):
            uses.append(TagUse("mask", mask.name, mask.tag_expression))
    uses.extend(_guardrail_uses(session, key, value))
    return uses


def _guardrail_uses(session: Session, key: str, value: str | None) -> list[TagUse]:
    """Guardrails naming the key (``required-tags``) or the value (``sensitive-scope``)."""
    uses: list[TagUse] = []
    for row in session.execute(select(Guardrail).order_by(Guardrail.name)).scalars():
        required = row.config.get("keys")
        expression = row.config.get("expression")
        if isinstance(required, list) and value is None and key in required:
            uses.append(TagUse("guardrail", row.name, f"{row.kind} {', '.join(required)}"))
        elif isinstance(expression, str) and _mentions(
            parse_tag_expression(expression), key, value
        ):
            uses.append(TagUse("guardrail", row.name, f"{row.kind} {expression}"))
    return uses


def grant_mentions(grant: Grant, key: str, value: str | None = None) -> bool:
    """Whether a grant's tag expression (or its delegated tag values) names ``key`` (and
    ``value``, when given); a grant on a named resource names no tag."""
    if grant.target_kind == "tag":
        return _mentions(parse_tag_expression(grant.tag_expression or ""), key, value)
    if grant.target_kind == "tag_values":
        return grant.tag_key == key and (value is None or value in (grant.tag_values or ()))
    return False


def _mentions(expression: TagExpression, key: str, value: str | None) -> bool:
    values = expression.mentions.get(key)
    return values is not None and (value is None or value in values)


def _grant_name(grant: Grant) -> str:
    return f"#{grant.id} {', '.join(sorted(grant.permissions))} to {grant.grantee.ref}"


def _refuse_in_use(what: str, uses: Sequence[TagUse], details: dict[str, Any]) -> ConflictError:
    shown = "; ".join(str(use) for use in uses[:MAX_USES_IN_MESSAGE])
    more = len(uses) - MAX_USES_IN_MESSAGE
    if more > 0:
        shown += f"; and {more} more"
    return ConflictError(
        f"{what} is still in use: {shown}",
        details={**details, "uses": [use.to_dict() for use in uses]},
    )


# -- keys --------------------------------------------------------------------------------------


def create_tag(
    session: Session,
    *,
    actor: Actor,
    key: str,
    values: Sequence[str],
    description: str = "",
) -> TagKey:
    """Define a tag key with its allowed values (mesh admins)."""
    actor.require_mesh_admin(action=Action.TAG_CREATE, resource=f"tag:{key}")
    check_tag_key(key)
    allowed = _check_values(values)
    if not allowed:
        raise InvalidInputError(f"Tag key {key} needs at least one value", details={"key": key})
    if session.execute(select(TagKey.id).where(TagKey.key == key)).first():
        raise AlreadyExistsError(f"Tag key already exists: {key}", details={"tag_key": key})
    row = TagKey(
        key=key,
        description=description,
        created_at=clock.now(),
        values=[TagValue(value=value) for value in allowed],
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor.ref,
        action=Action.TAG_CREATE,
        resource=f"tag:{key}",
        details={"values": sorted(allowed), "description": description},
    )
    return row


def update_tag(
    session: Session,
    *,
    actor: Actor,
    key: str,
    add_values: Sequence[str] = (),
    remove_values: Sequence[str] = (),
    description: str | None = None,
) -> TagKey:
    """Add or remove allowed values, or change the description (mesh admins).

    A value still in use cannot be removed; the refusal lists its uses.
    """
    actor.require_mesh_admin(action=Action.TAG_UPDATE, resource=f"tag:{key}")
    row = get_tag(session, key)
    added, removed = _check_values(add_values), _check_values(remove_values)
    if not added and not removed and description is None:
        raise InvalidInputError(
            f"Nothing to change on tag key {key}: give values to add or remove, or a description",
            details={"tag_key": key},
        )
    both = sorted(set(added) & set(removed))
    if both:
        raise InvalidInputError(
            f"Tag value both added and removed: {key}={both[0]}", details={"values": both}
        )
    current = {v.value: v for v in row.values}
    for value in added:
        if value in current:
            raise AlreadyExistsError(
                f"Tag value already exists: {key}={value}",
                details={"tag_key": key, "tag_value": value},
            )
    for value in removed:
        get_tag_value(session, key, value)
        uses = tag_uses(session, key=key, value=value)
        if uses:
            raise _refuse_in_use(
                f"Tag value {key}={value}", uses, {"tag_key": key, "tag_value": value}
            )
    if not added and not set(current) - set(removed):
        raise InvalidInputError(
            f"Tag key {key} needs at least one value (delete the key instead)",
            details={"tag_key": key},
        )
    row.values = [v for v in row.values if v.value not in removed] + [
        TagValue(value=value) for value in added
    ]
    changes: dict[str, Any] = {"added": sorted(added), "removed": sorted(removed)}
    if description is not None:
        row.description = description
        changes["description"] = description
    session.flush()
    session.refresh(row)
    audit.record(
        session, actor=actor.ref, action=Action.TAG_UPDATE, resource=f"tag:{key}", details=changes
    )
    return row


def delete_tag(session: Session, *, actor: Actor, key: str) -> None:
    """Delete a tag key no resource, grant or mask uses (mesh admins)."""
    actor.require_mesh_admin(action=Action.TAG_DELETE, resource=f"tag:{key}")
    row = get_tag(session, key)
    uses = tag_uses(session, key=key)
    if uses:
        raise _refuse_in_use(f"Tag key {key}", uses, {"tag_key": key})
    values = [v.value for v in row.values]
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor=actor.ref,
        action=Action.TAG_DELETE,
        resource=f"tag:{key}",
        details={"values": values},
    )


def list_tags(session: Session) -> Sequence[TagKey]:
    """Every tag key: the mesh's vocabulary, readable by every principal (to write expressions)."""
    return session.execute(select(TagKey).order_by(TagKey.key)).scalars().all()
