"""The services' batched entry points (many grants, tag assignments, principals, memberships or
tables in one call): the same refusals as one by one, nothing applied when one item is refused, one
audit event per change, and a policy index that equals a fresh load afterwards (both backends:
the ``env`` fixture checks the index after each test)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from lakemesh import audit
from lakemesh.catalog import tables
from lakemesh.catalog.columns import ColumnSpec, schema_history
from lakemesh.catalog.tables import NewTable
from lakemesh.errors import (
    AccessDeniedError,
    AlreadyExistsError,
    ConflictError,
    InvalidInputError,
    LakemeshError,
    NotFoundError,
)
from lakemesh.governance import grants, tag_assignments
from lakemesh.governance.grants import GrantItem, GrantRequest
from lakemesh.governance.tag_assignments import TagAssignmentItem
from lakemesh.identity import principals
from lakemesh.identity.principals import NewPrincipal
from lakemesh.model.actions import Action
from lakemesh.model.names import ResourceName
from lakemesh.model.permissions import parse_permissions
from lakemesh.sharing import shares
from lakemesh.store.schema import (
    AuditEvent,
    Grant,
    GroupMember,
    Principal,
    Table,
    TagAssignment,
)
from tests.conftest import HubEnv
from tests.factories.governance import CUSTOMERS, Mesh, build_mesh


class RolledBack(Exception):
    """Raised to roll a transaction back."""


@pytest.fixture
def mesh(env: HubEnv, tmp_path: Path) -> Mesh:
    return build_mesh(env, tmp_path)


def _count(mesh: Mesh, entity: Any) -> int:
    with mesh.env.hub.read() as session:
        return int(session.execute(select(func.count()).select_from(entity)).scalar_one())


def _events(mesh: Mesh, after: int) -> list[AuditEvent]:
    with mesh.env.hub.read() as session:
        return list(
            session.execute(
                select(AuditEvent).where(AuditEvent.seq > after).order_by(AuditEvent.seq)
            ).scalars()
        )


def _last_seq(mesh: Mesh) -> int:
    with mesh.env.hub.read() as session:
        return int(session.execute(select(func.max(AuditEvent.seq))).scalar() or 0)


def _shared_with_marketing(mesh: Mesh) -> int:
    """Sales shares the customers table with marketing (grant option), marketing accepts."""
    request = GrantRequest(
        permissions=parse_permissions("SELECT"), on=str(CUSTOMERS), with_grant_option=True
    )
    with mesh.env.hub.transaction() as session:
        share = grants.grant(session, actor=mesh.sam, grantee="domain:marketing", request=request)
        shares.accept_share(session, actor=mesh.maria, share_id=share.id)
        return share.id


def _items() -> list[GrantItem]:
    def item(grantee: str, **target: Any) -> GrantItem:
        return GrantItem(grantee, GrantRequest(permissions=parse_permissions("SELECT"), **target))

    return [
        # To the actor itself with grant option: the grants after it may derive from it.
        item("user:maria@marketing", on=str(CUSTOMERS), with_grant_option=True),
        item("user:mia@marketing", on=str(CUSTOMERS), columns=("customer_id", "region")),
        item("group:analysts@marketing", on=str(CUSTOMERS), exclude_columns=("email",)),
        # The same target again: adds to the grant made two items before.
        item("user:mia@marketing", on=str(CUSTOMERS), columns=("region", "customer_id")),
    ]


def _shape(rows: list[Grant], share: int) -> list[tuple[int, str]]:
    """Each row as (position of the row it is, what it derives from)."""
    ids = [row.id for row in rows]
    parents = {share: "share", **{row_id: f"item {ids.index(row_id)}" for row_id in ids}}
    return [(ids.index(row.id), parents.get(row.parent_id or 0, "none")) for row in rows]


def _one_by_one(mesh: Mesh, share: int) -> list[tuple[int, str]]:
    """The grants of :func:`_items` made one by one, in a transaction rolled back."""
    shape: list[tuple[int, str]] = []
    try:
        with mesh.env.hub.transaction() as session:
            rows = [
                grants.grant(
                    session,
                    actor=mesh.maria,
                    grantee=item.grantee,
                    request=item.request,
                    derived_from=item.derived_from,
                )
                for item in _items()
            ]
            shape = _shape(rows, share)
            raise RolledBack
    except RolledBack:
        pass
    return shape


def test_grant_many_makes_what_one_by_one_makes(mesh: Mesh) -> None:
    share = _shared_with_marketing(mesh)
    one_by_one = _one_by_one(mesh, share)
    before = _last_seq(mesh)
    with mesh.env.hub.transaction() as session:
        rows = grants.grant_many(session, actor=mesh.maria, grants=_items())
        assert _shape(rows, share) == one_by_one
        ids = [row.id for row in rows]
    assert one_by_one == [(0, "share"), (1, "share"), (2, "share"), (1, "share")]
    events = _events(mesh, before)
    assert [(e.action, e.actor, e.details["grant_id"]) for e in events] == [
        ("grant.create", "user:maria@marketing", grant_id) for grant_id in ids
    ]
    with mesh.env.hub.read() as session:
        assert audit.verify(session).ok


def test_a_refused_grant_in_a_batch_applies_nothing(mesh: Mesh) -> None:
    _shared_with_marketing(mesh)
    refused = GrantItem(
        "user:mia@marketing",
        GrantRequest(permissions=parse_permissions("DELETE"), on=str(CUSTOMERS)),
    )
    # One by one, the same grant is refused with this message.
    with pytest.raises(AccessDeniedError) as alone, mesh.env.hub.transaction() as session:
        grants.grant(session, actor=mesh.maria, grantee=refused.grantee, request=refused.request)
    grants_before, seq_before = _count(mesh, Grant), _last_seq(mesh)
    with pytest.raises(AccessDeniedError) as raised, mesh.env.hub.transaction() as session:
        grants.grant_many(session, actor=mesh.maria, grants=[*_items()[:2], refused])
    assert raised.value.message == alone.value.message
    assert "may not grant DELETE on" in raised.value.message
    assert raised.value.batch_item == 2
    assert _count(mesh, Grant) == grants_before
    # Nothing of the batch is in the trail: only the denial, audited as one by one.
    assert [(e.action, e.outcome) for e in _events(mesh, seq_before)] == [
        ("grant.create", "denied")
    ]


def _sam_associates(mesh: Mesh) -> None:
    """Sam (sales admin, no mesh admin) may assign the sensitivity values."""
    request = GrantRequest(permissions=parse_permissions("ASSOCIATE"), tag_values="sensitivity")
    with mesh.env.hub.transaction() as session:
        grants.grant(session, actor=mesh.env.admin, grantee="user:sam@sales", request=request)


def test_assign_tags_many(mesh: Mesh) -> None:
    _sam_associates(mesh)
    email = f"{CUSTOMERS}.email"
    items = [
        TagAssignmentItem("sales.crm", {"sensitivity": "internal"}),
        TagAssignmentItem(str(CUSTOMERS), {"sensitivity": "public"}),
        TagAssignmentItem(email, {"sensitivity": "pii"}),
        TagAssignmentItem(email, {"sensitivity": "pii"}),  # unchanged: no event
        TagAssignmentItem(str(CUSTOMERS), {"sensitivity": "internal"}),  # replaces item 1's
    ]
    before = _last_seq(mesh)
    with mesh.env.hub.transaction() as session:
        changes = tag_assignments.assign_tags_many(session, actor=mesh.sam, assignments=items)
    assert [[c.to_dict() for c in item] for item in changes] == [
        [{"key": "sensitivity", "value": "internal", "previous": None}],
        [{"key": "sensitivity", "value": "public", "previous": None}],
        [{"key": "sensitivity", "value": "pii", "previous": None}],
        [],
        [{"key": "sensitivity", "value": "internal", "previous": "public"}],
    ]
    events = _events(mesh, before)
    assert [(e.action, e.resource) for e in events] == [
        ("tag.assign", "sales.crm"),
        ("tag.assign", str(CUSTOMERS)),
        ("tag.assign", email),
        ("tag.assign", str(CUSTOMERS)),
    ]
    with mesh.env.hub.read() as session:
        assert tag_assignments.resource_tags(session, actor=mesh.sam, resource=email).effective == {
            "sensitivity": "pii"
        }
        table = tag_assignments.resource_tags(session, actor=mesh.sam, resource=str(CUSTOMERS))
        assert table.own == {"sensitivity": "internal"}
        assert audit.verify(session).ok


@pytest.mark.parametrize(
    ("refused", "error", "message"),
    [
        (
            TagAssignmentItem("marketing.web", {"sensitivity": "pii"}),
            AccessDeniedError,
            "^user:sam@sales is not an admin of domain marketing$",
        ),
        (
            TagAssignmentItem(f"{CUSTOMERS}.nope", {"sensitivity": "pii"}),
            NotFoundError,
            f"^Column does not exist: {CUSTOMERS}.nope$",
        ),
        (
            TagAssignmentItem(str(CUSTOMERS), {"sensitivity": "secret"}),
            NotFoundError,
            r"^Tag value does not exist: sensitivity=secret \(allowed: internal, pii, public\)$",
        ),
    ],
)
def test_a_refused_tag_assignment_in_a_batch_applies_nothing(
    mesh: Mesh, refused: TagAssignmentItem, error: type[LakemeshError], message: str
) -> None:
    _sam_associates(mesh)
    with pytest.raises(error, match=message), mesh.env.hub.transaction() as session:
        tag_assignments.assign_tags(
            session, actor=mesh.sam, resource=refused.resource, tags=refused.tags
        )
    items = [TagAssignmentItem("sales.crm", {"sensitivity": "internal"}), refused]
    with pytest.raises(error, match=message) as raised, mesh.env.hub.transaction() as session:
        tag_assignments.assign_tags_many(session, actor=mesh.sam, assignments=items)
    assert raised.value.batch_item == 1
    assert _count(mesh, TagAssignment) == 0


def test_create_principals_and_add_members(mesh: Mesh) -> None:
    before = _last_seq(mesh)
    with mesh.env.hub.transaction() as session:
        rows = principals.create_principals(
            session,
            actor=mesh.maria,
            principals=[
                NewPrincipal("user:ann@marketing"),
                NewPrincipal("group:growth@marketing"),
                NewPrincipal("group:all@marketing"),
            ],
        )
        principals.add_members(
            session,
            actor=mesh.maria,
            memberships=[
                ("group:growth@marketing", "user:ann@marketing"),
                ("group:all@marketing", "group:growth@marketing"),
                ("group:all@marketing", "group:growth@marketing"),  # again: no second row
            ],
        )
    assert [row.ref for row in rows] == [
        "user:ann@marketing",
        "group:growth@marketing",
        "group:all@marketing",
    ]
    assert [(e.action, e.resource, e.details) for e in _events(mesh, before)] == [
        ("principal.create", "user:ann@marketing", {"attributes": {}}),
        ("principal.create", "group:growth@marketing", {"attributes": {}}),
        ("principal.create", "group:all@marketing", {"attributes": {}}),
        ("group.add_member", "group:growth@marketing", {"member": "user:ann@marketing"}),
        ("group.add_member", "group:all@marketing", {"member": "group:growth@marketing"}),
        ("group.add_member", "group:all@marketing", {"member": "group:growth@marketing"}),
    ]
    ann = mesh.actor("user:ann@marketing")
    assert ann.groups == {"group:growth@marketing", "group:all@marketing"}
    with mesh.env.hub.read() as session:
        assert audit.verify(session).ok


@pytest.mark.parametrize(
    ("batch", "error", "message"),
    [
        (
            [NewPrincipal("user:ann@marketing"), NewPrincipal("user:sid@sales")],
            AccessDeniedError,
            "^user:maria@marketing is not an admin of domain sales$",
        ),
        (
            [NewPrincipal("user:ann@marketing"), NewPrincipal("user:ann@marketing")],
            AlreadyExistsError,
            "^Principal already exists: user:ann@marketing$",
        ),
        (
            [NewPrincipal("user:ann@marketing"), NewPrincipal("user:mia@marketing")],
            AlreadyExistsError,
            "^Principal already exists: user:mia@marketing$",
        ),
        (
            [NewPrincipal("user:ann@marketing"), NewPrincipal("nonsense")],
            InvalidInputError,
            "^Invalid principal: 'nonsense'",
        ),
    ],
)
def test_a_refused_principal_in_a_batch_applies_nothing(
    mesh: Mesh, batch: list[NewPrincipal], error: type[LakemeshError], message: str
) -> None:
    count = _count(mesh, Principal)
    with pytest.raises(error, match=message) as raised, mesh.env.hub.transaction() as session:
        principals.create_principals(session, actor=mesh.maria, principals=batch)
    assert raised.value.batch_item == 1
    assert _count(mesh, Principal) == count


def _add_one_by_one(mesh: Mesh, memberships: list[tuple[str, str]]) -> None:
    with mesh.env.hub.transaction() as session:
        for group, member in memberships:
            principals.add_member(session, actor=mesh.maria, group=group, member=member)


def test_a_cycle_made_within_a_batch_is_refused_as_one_by_one(mesh: Mesh) -> None:
    with mesh.env.hub.transaction() as session:
        for group in ("group:a@marketing", "group:b@marketing"):
            principals.create_principal(session, actor=mesh.maria, principal=group)
    memberships = [
        ("group:a@marketing", "user:mia@marketing"),
        ("group:a@marketing", "group:b@marketing"),
        ("group:b@marketing", "group:a@marketing"),
    ]
    message = "^Adding group:a@marketing to group:b@marketing would make a cycle of groups$"
    with pytest.raises(ConflictError, match=message):
        _add_one_by_one(mesh, memberships)
    count = _count(mesh, GroupMember)
    with pytest.raises(ConflictError, match=message) as raised, mesh.env.hub.transaction() as s:
        principals.add_members(s, actor=mesh.maria, memberships=memberships)
    assert raised.value.batch_item == 2
    assert _count(mesh, GroupMember) == count


def test_record_many_chains_like_one_by_one(mesh: Mesh) -> None:
    before = _last_seq(mesh)
    entries = [
        audit.Entry(actor="user:x@sales", action=action, resource=f"r{n}", details={"n": n})
        for n, action in enumerate([Action.GRANT_CREATE, Action.TAG_ASSIGN, Action.GRANT_REVOKE])
    ]
    with mesh.env.hub.transaction() as session:
        audit.record_many(session, entries)
    events = _events(mesh, before)
    assert [(e.seq, e.resource, e.details) for e in events] == [
        (before + n + 1, f"r{n}", {"n": n}) for n in range(3)
    ]
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    with mesh.env.hub.read() as session:
        assert audit.verify(session).ok


def _new_table(tmp_path: Path, name: str, location: str | None = None) -> NewTable:
    return NewTable(
        name=ResourceName("sales", "crm", name),
        location=location or str(tmp_path / "sales" / name),
        format="parquet",
        columns=[ColumnSpec("id", "BIGINT"), ColumnSpec("note", "VARCHAR")],
    )


def test_create_tables(mesh: Mesh, tmp_path: Path) -> None:
    before = _last_seq(mesh)
    with mesh.env.hub.transaction() as session:
        rows = tables.create_tables(
            session,
            actor=mesh.sam,
            tables=[_new_table(tmp_path, "orders"), _new_table(tmp_path, "returns")],
        )
        assert [schema_history(session, row)[0]["version"] for row in rows] == [1, 1]
    assert [(e.action, e.resource, e.details["columns"]) for e in _events(mesh, before)] == [
        ("table.create", "sales.crm.orders", 2),
        ("table.create", "sales.crm.returns", 2),
    ]
    with mesh.env.hub.read() as session:
        assert audit.verify(session).ok


@pytest.mark.parametrize(
    ("second", "error", "message"),
    [
        ("orders", AlreadyExistsError, "^Table already exists: sales.crm.orders$"),
        ("customers", AlreadyExistsError, f"^Table already exists: {CUSTOMERS}$"),
        ("elsewhere", InvalidInputError, "is not inside any location registered by domain"),
    ],
)
def test_a_refused_table_in_a_batch_applies_nothing(
    mesh: Mesh, tmp_path: Path, second: str, error: type[LakemeshError], message: str
) -> None:
    location = "/nowhere/elsewhere" if second == "elsewhere" else None
    batch = [_new_table(tmp_path, "orders"), _new_table(tmp_path, second, location)]
    count = _count(mesh, Table)
    with pytest.raises(error, match=message) as raised, mesh.env.hub.transaction() as session:
        tables.create_tables(session, actor=mesh.sam, tables=batch)
    assert raised.value.batch_item == 1
    assert _count(mesh, Table) == count
