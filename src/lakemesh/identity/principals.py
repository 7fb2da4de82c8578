"""Principals (users, groups, services, domains), their attributes and group membership."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.errors import (
    AlreadyExistsError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    batch_item,
    parsing,
)
from lakemesh.identity.actors import group_closure
from lakemesh.identity.attributes import apply_attributes, attribute_keys, require_may_set
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import PrincipalName, check_identifier, parse_principal
from lakemesh.store.schema import Domain, DomainAdmin, GroupMember, Principal

ATTRIBUTE_LIMIT = 64
CHUNK = 500
"""Names per ``IN`` list when many are read at once."""


def get_domain_row(session: Session, name: str) -> Domain:
    """The domain called ``name``."""
    row = session.execute(select(Domain).where(Domain.name == name)).scalar()
    if row is None:
        raise NotFoundError(f"Domain does not exist: {name}", details={"domain": name})
    return row


def find_principal(session: Session, ref: str | PrincipalName) -> Principal | None:
    """The principal named ``ref``, or None when there is none."""
    name = parse_principal(ref) if isinstance(ref, str) else ref
    return session.execute(select(Principal).where(Principal.ref == str(name))).scalar()


def get_principal(session: Session, ref: str | PrincipalName) -> Principal:
    """The principal named ``ref`` (``user:alice@marketing``)."""
    name = parse_principal(ref) if isinstance(ref, str) else ref
    row = find_principal(session, name)
    if row is None:
        raise NotFoundError(f"Principal does not exist: {name}", details={"principal": str(name)})
    return row


def knows_of(actor: Actor, name: PrincipalName) -> bool:
    """Whether ``actor`` may learn whether ``name`` exists: mesh admins of every principal, others
    of their own domain's and the domains they administer, everyone of ``domain:X`` (domain names
    are not secret)."""
    return name.kind == "domain" or name.domain == actor.domain or actor.administers(name.domain)


def require_knows_of(
    actor: Actor, name: PrincipalName, *, action: Action, doing: str, hint: str = ""
) -> None:
    """Refuse, on its name alone, a principal ``actor`` may not know of (see :func:`knows_of`)
    that it wants to ``doing`` (``grant to {}``, ``{}`` standing for the name): whether such a
    principal exists or not, the answer is the same.

    Raises:
        AccessDeniedError: ``P may not grant to user:frank@finance: it is a principal of domain
            finance``, then ``hint``.
    """
    if not knows_of(actor, name):
        raise actor.deny(
            f"{actor.ref} may not {doing.format(name)}: it is a principal of domain "
            f"{name.domain}{hint}",
            action=action,
            resource=str(name),
        )


def known_principal(
    session: Session, *, actor: Actor, principal: str, action: Action, doing: str
) -> Principal:
    """The principal named ``principal``, after :func:`require_knows_of`.

    Raises:
        AccessDeniedError: from :func:`require_knows_of`.
        NotFoundError: ``Principal does not exist: ...`` (to those who may know).
    """
    name = parse_principal(principal)
    require_knows_of(actor, name, action=action, doing=doing)
    return get_principal(session, name)


def administered_principal(
    session: Session, *, actor: Actor, principal: str, action: Action, itself: bool = False
) -> Principal:
    """The principal named ``principal``, when ``actor`` administers its domain (or, with
    ``itself``, is that principal).

    Authority is checked on the name before the principal is looked up, so that to anyone else
    a principal that exists reads as one that does not.

    Raises:
        AccessDeniedError: ``P is not an admin of domain D``.
        NotFoundError: ``Principal does not exist: ...`` (to those who may know).
    """
    name = parse_principal(principal)
    if not (itself and str(name) == actor.ref):
        actor.require_domain_admin(name.domain, action=action, resource=str(name))
    return get_principal(session, name)


def show_principal(session: Session, *, actor: Actor, principal: str) -> Principal:
    """A principal, as its attributes and memberships may be read: by itself, its domain's admins
    and mesh admins."""
    return administered_principal(
        session, actor=actor, principal=principal, action=Action.PRINCIPAL_SHOW, itself=True
    )


def check_attributes(attributes: dict[str, str]) -> dict[str, str]:
    """Attribute names are identifiers, values strings."""
    if len(attributes) > ATTRIBUTE_LIMIT:
        raise InvalidInputError(f"Too many attributes (at most {ATTRIBUTE_LIMIT})")
    for key, value in attributes.items():
        check_identifier(key, "attribute name")
        if not isinstance(value, str):
            raise InvalidInputError(
                f"Attribute {key} must be a string, got {type(value).__name__}",
                details={"attribute": key},
            )
    return dict(attributes)


class _Principals:
    """Domains and principals by name for a service that names many at once, read in one query
    each, with the principals the caller adds; a name not read is looked up on its own."""

    def __init__(self, session: Session, names: Iterable[PrincipalName]) -> None:
        self.session = session
        listed = list(names)
        refs = sorted({str(name) for name in listed})
        self.read = set(refs)
        """The refs read up front: one of them missing from ``rows`` does not exist."""
        self.rows: dict[str, Principal] = {}
        for start in range(0, len(refs), CHUNK):
            query = select(Principal).where(Principal.ref.in_(refs[start : start + CHUNK]))
            self.rows.update((row.ref, row) for row in session.execute(query).scalars())
        domains = sorted({name.domain for name in listed})
        self.domains = {
            row.name: row
            for row in session.execute(select(Domain).where(Domain.name.in_(domains))).scalars()
        }

    def domain(self, name: str) -> Domain:
        """As :func:`get_domain_row`."""
        return self.domains.get(name) or get_domain_row(self.session, name)

    def find(self, name: PrincipalName) -> Principal | None:
        """As :func:`find_principal`."""
        ref = str(name)
        return self.rows.get(ref) if ref in self.read else find_principal(self.session, name)

    def get(self, name: PrincipalName) -> Principal:
        """As :func:`get_principal`."""
        return self.rows.get(str(name)) or get_principal(self.session, name)

    def insert(self, name: PrincipalName, attributes: dict[str, str] | None = None) -> Principal:
        """A new principal row, added to the session (not flushed), without authorization or
        audit (callers do both)."""
        domain = self.domain(name.domain)
        if self.find(name) is not None:
            raise AlreadyExistsError(
                f"Principal already exists: {name}", details={"principal": str(name)}
            )
        row = Principal(
            ref=str(name),
            kind=name.kind,
            name=name.name,
            domain_id=domain.id,
            attributes=check_attributes(attributes or {}),
            created_at=clock.now(),
        )
        self.session.add(row)
        self.rows[row.ref] = row
        return row


def insert_principal(
    session: Session, name: PrincipalName, *, attributes: dict[str, str] | None = None
) -> Principal:
    """Insert a principal row without authorization or audit (callers do both)."""
    row = _Principals(session, [name]).insert(name, attributes)
    session.flush()
    return row


@dataclass(frozen=True)
class NewPrincipal:
    """A principal to create in a batch (see :func:`create_principals`)."""

    principal: str
    attributes: dict[str, str] | None = None


def create_principal(
    session: Session, *, actor: Actor, principal: str, attributes: dict[str, str] | None = None
) -> Principal:
    """Create a user, group or service in a domain the actor administers (attribute values only
    on keys the actor may set, see :mod:`lakemesh.identity.attributes`)."""
    new = NewPrincipal(principal, attributes)
    return create_principals(session, actor=actor, principals=[new])[0]


def create_principals(
    session: Session, *, actor: Actor, principals: Sequence[NewPrincipal]
) -> list[Principal]:
    """Create ``principals`` in order, each checked exactly as :func:`create_principal` checks
    one made by hand after the ones before it, with one audit event each; the domains,
    principals and attribute keys they name are read at once and the rows written in one flush.

    Raises:
        LakemeshError: the first refusal, its ``batch_item`` the position of the refused item;
            the caller's transaction then holds part of the batch (roll it back).
    """
    known = _Principals(session, parsing(parse_principal, [new.principal for new in principals]))
    keys = attribute_keys(session, (key for new in principals for key in new.attributes or {}))
    rows: list[Principal] = []
    with session.no_autoflush:
        for position, new in enumerate(principals):
            with batch_item(position):
                name = parse_principal(new.principal)
                if name.kind == "domain":
                    raise InvalidInputError(
                        f"Domain principals are created with their domain: {name}",
                        details={"principal": str(name)},
                    )
                actor.require_domain_admin(
                    name.domain, action=Action.PRINCIPAL_CREATE, resource=str(name)
                )
                row = known.insert(name)
                if new.attributes:
                    if row.kind not in ("user", "service"):
                        raise InvalidInputError(
                            f"Only users and services carry attributes: {row.ref}"
                        )
                    apply_attributes(
                        session,
                        actor=actor,
                        principal=row,
                        set_=check_attributes(new.attributes),
                        keys=keys,
                    )
            rows.append(row)
    session.flush()
    audit.record_many(
        session,
        [
            audit.Entry(
                actor=actor.ref,
                action=Action.PRINCIPAL_CREATE,
                resource=row.ref,
                details={"attributes": row.attributes},
            )
            for row in rows
        ],
    )
    return rows


def update_attributes(
    session: Session,
    *,
    actor: Actor,
    principal: str,
    set_: dict[str, str],
    unset: Sequence[str] = (),
) -> Principal:
    """Set and remove attributes of a user or service: mesh admins and the delegates of each key
    (see :mod:`lakemesh.identity.attributes`)."""
    name = str(parse_principal(principal))
    require_may_set(session, actor=actor, principal=name, keys=[*set_, *unset])
    row = get_principal(session, name)
    if row.kind not in ("user", "service"):
        raise InvalidInputError(f"Only users and services carry attributes: {row.ref}")
    before = dict(row.attributes or {})
    apply_attributes(session, actor=actor, principal=row, set_=check_attributes(set_), unset=unset)
    audit.record(
        session,
        actor=actor.ref,
        action=Action.PRINCIPAL_UPDATE,
        resource=row.ref,
        details={
            "set": set_,
            "unset": list(unset),
            "before": {key: before[key] for key in [*set_, *unset] if key in before},
        },
    )
    return row


def delete_principal(session: Session, *, actor: Actor, principal: str) -> None:
    """Delete a user, group or service (its tokens and memberships go with it)."""
    row = administered_principal(
        session, actor=actor, principal=principal, action=Action.PRINCIPAL_DELETE
    )
    if row.kind == "domain":
        raise InvalidInputError(f"Domain principals go with their domain: {row.ref}")
    if row.id == actor.id:
        raise ConflictError(f"A principal cannot delete itself: {row.ref}")
    session.delete(row)
    audit.record(session, actor=actor.ref, action=Action.PRINCIPAL_DELETE, resource=row.ref)


def list_principals(
    session: Session, *, actor: Actor, domain: str | None = None, kind: str | None = None
) -> Sequence[Principal]:
    """Principals of one domain (or every domain the actor administers)."""
    query = select(Principal).join(Domain).order_by(Principal.ref)
    if domain is not None:
        actor.require_domain_admin(domain, action=Action.PRINCIPAL_LIST, resource=domain)
        get_domain_row(session, domain)
        query = query.where(Domain.name == domain)
    elif not actor.is_mesh_admin:
        query = query.where(Domain.name.in_(actor.admin_of or {actor.domain}))
        if not actor.admin_of:
            query = query.where(Principal.id == actor.id)
    if kind is not None:
        query = query.where(Principal.kind == kind)
    return session.execute(query).scalars().all()


def members_of(session: Session, group: Principal) -> list[str]:
    """The direct members of ``group``."""
    rows = session.execute(
        select(Principal.ref)
        .join(GroupMember, GroupMember.member_id == Principal.id)
        .where(GroupMember.group_id == group.id)
        .order_by(Principal.ref)
    ).scalars()
    return list(rows)


def add_member(session: Session, *, actor: Actor, group: str, member: str) -> None:
    """Add ``member`` (a user, service or group) to ``group``; nesting may not form a cycle."""
    add_members(session, actor=actor, memberships=[(group, member)])


def _nested_groups(session: Session) -> dict[int, set[int]]:
    """``{group id: the groups it belongs to directly}`` of every group inside another."""
    nested: dict[int, set[int]] = {}
    query = (
        select(GroupMember.member_id, GroupMember.group_id)
        .join(Principal, Principal.id == GroupMember.member_id)
        .where(Principal.kind == "group")
    )
    for member_id, group_id in session.execute(query):
        nested.setdefault(member_id, set()).add(group_id)
    return nested


def _closure(nested: dict[int, set[int]], group_id: int) -> set[int]:
    """Every group ``group_id`` belongs to, directly or through others (:func:`group_closure`
    over ``nested``)."""
    found: set[int] = set()
    frontier = {group_id}
    while frontier:
        frontier = {g for member in frontier for g in nested.get(member, ())} - found
        found |= frontier
    return found


def add_members(session: Session, *, actor: Actor, memberships: Sequence[tuple[str, str]]) -> None:
    """Add each ``(group, member)`` of ``memberships`` in order, each checked exactly as
    :func:`add_member` checks one made by hand after the ones before it, with one audit event
    each; the principals, nested groups and current members are read at once and the rows
    written in one flush.

    Raises:
        LakemeshError: the first refusal, its ``batch_item`` the position of the refused item;
            the caller's transaction then holds part of the batch (roll it back).
    """
    refs = [ref for pair in memberships for ref in pair]
    known = _Principals(session, parsing(parse_principal, refs))
    nested = _nested_groups(session)
    group_ids = sorted(row.id for row in known.rows.values() if row.kind == "group")
    members: set[tuple[int, int]] = set()
    for start in range(0, len(group_ids), CHUNK):
        query = select(GroupMember.group_id, GroupMember.member_id).where(
            GroupMember.group_id.in_(group_ids[start : start + CHUNK])
        )
        members.update((group_id, member_id) for group_id, member_id in session.execute(query))
    entries: list[audit.Entry] = []
    with session.no_autoflush:
        for position, (group, member) in enumerate(memberships):
            with batch_item(position):
                group_name, member_name = parse_principal(group), parse_principal(member)
                actor.require_domain_admin(
                    group_name.domain, action=Action.GROUP_ADD_MEMBER, resource=str(group_name)
                )
                group_row = known.get(group_name)
                if group_row.kind != "group":
                    raise InvalidInputError(
                        f"Not a group: {group_row.ref}", details={"principal": group_row.ref}
                    )
                require_knows_of(
                    actor,
                    member_name,
                    action=Action.GROUP_ADD_MEMBER,
                    doing=f"add {{}} to {group_row.ref}",
                )
                member_row = known.get(member_name)
                if member_row.kind == "domain":
                    raise InvalidInputError(f"A domain cannot join a group: {member_row.ref}")
                if member_row.id == group_row.id:
                    raise ConflictError(f"A group cannot contain itself: {group_row.ref}")
                if member_row.kind == "group" and member_row.id in _closure(nested, group_row.id):
                    raise ConflictError(
                        f"Adding {member_row.ref} to {group_row.ref} would make a cycle of groups",
                        details={"group": group_row.ref, "member": member_row.ref},
                    )
            if (group_row.id, member_row.id) not in members:
                members.add((group_row.id, member_row.id))
                session.add(GroupMember(group_id=group_row.id, member_id=member_row.id))
                if member_row.kind == "group":
                    nested.setdefault(member_row.id, set()).add(group_row.id)
            entries.append(
                audit.Entry(
                    actor=actor.ref,
                    action=Action.GROUP_ADD_MEMBER,
                    resource=group_row.ref,
                    details={"member": member_row.ref},
                )
            )
    session.flush()
    audit.record_many(session, entries)


def remove_member(session: Session, *, actor: Actor, group: str, member: str) -> None:
    """Remove ``member`` from ``group``."""
    group_row = administered_principal(
        session, actor=actor, principal=group, action=Action.GROUP_REMOVE_MEMBER
    )
    # A principal that does not exist is not a member either (the same answer).
    member_row = find_principal(session, member)
    link = None if member_row is None else session.get(GroupMember, (group_row.id, member_row.id))
    if member_row is None or link is None:
        member_name = parse_principal(member)
        raise NotFoundError(
            f"{member_name} is not a member of {group_row.ref}",
            details={"group": group_row.ref, "member": str(member_name)},
        )
    session.delete(link)
    audit.record(
        session,
        actor=actor.ref,
        action=Action.GROUP_REMOVE_MEMBER,
        resource=group_row.ref,
        details={"member": member_row.ref},
    )


@dataclass(frozen=True)
class Relations:
    """What a principal belongs to and administers, and a group's direct members."""

    admin_of: list[str]
    groups: list[str]
    """Every group it belongs to, directly or through other groups."""
    members: list[str] | None
    """A group's direct members (None for anything but a group)."""


def relations(session: Session, row: Principal) -> Relations:
    """The domains ``row`` administers, its groups and (for a group) its members."""
    admin_of = session.execute(
        select(Domain.name)
        .join(DomainAdmin, DomainAdmin.domain_id == Domain.id)
        .where(DomainAdmin.principal_id == row.id)
        .order_by(Domain.name)
    ).scalars()
    return Relations(
        admin_of=list(admin_of),
        groups=sorted(group_closure(session, row.id).values()),
        members=members_of(session, row) if row.kind == "group" else None,
    )
