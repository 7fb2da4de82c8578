"""The grant service: grant option, derivation, cascading revoke, validation (both backends)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from lakemesh.authz import decisions
from lakemesh.errors import AccessDeniedError, InvalidInputError, NotFoundError
from lakemesh.governance import grants
from lakemesh.governance.grants import GrantRequest
from lakemesh.model.permissions import Permission, parse_permissions
from lakemesh.sharing import shares
from lakemesh.store.schema import AuditEvent, Grant
from tests.conftest import HubEnv
from tests.factories.governance import CUSTOMERS, Mesh, build_mesh


@pytest.fixture
def mesh(env: HubEnv, tmp_path: Path) -> Mesh:
    return build_mesh(env, tmp_path)


def _grant(mesh: Mesh, actor_ref: str, grantee: str, perms: str, **target: object) -> Grant:
    actor = mesh.actor(actor_ref)
    request = GrantRequest(permissions=parse_permissions(perms), **target)  # type: ignore[arg-type]
    with mesh.env.hub.transaction() as session:
        return grants.grant(session, actor=actor, grantee=grantee, request=request)


def _select_columns(mesh: Mesh, ref: str) -> tuple[bool, tuple[str, ...]]:
    actor = mesh.actor(ref)
    with mesh.env.hub.read() as session:
        decision = decisions.decide(
            session, actor=actor, permission=Permission.SELECT, resource=CUSTOMERS
        )
    return decision.allowed, decision.columns


def test_default_deny(mesh: Mesh) -> None:
    assert _select_columns(mesh, "user:mia@marketing") == (False, ())


def test_mesh_admin_grant_decides_the_next_request(mesh: Mesh) -> None:
    _grant(mesh, "user:admin@governance", "user:mia@marketing", "SELECT", on=str(CUSTOMERS))
    assert _select_columns(mesh, "user:mia@marketing") == (
        True,
        ("customer_id", "name", "email", "phone", "region"),
    )


def test_mesh_admin_holds_no_data_access_itself(mesh: Mesh) -> None:
    assert _select_columns(mesh, "user:admin@governance") == (False, ())


def test_group_grant_with_excluded_columns_reaches_members(mesh: Mesh) -> None:
    _grant(
        mesh,
        "user:admin@governance",
        "group:analysts@marketing",
        "SELECT",
        on=str(CUSTOMERS),
        exclude_columns=("email", "phone"),
    )
    assert _select_columns(mesh, "user:mia@marketing") == (
        True,
        ("customer_id", "name", "region"),
    )


def test_admin_of_another_domain_may_not_grant(mesh: Mesh) -> None:
    # A table it may not see reads as one that does not exist...
    with pytest.raises(NotFoundError, match=f"^Table does not exist: {CUSTOMERS}$"):
        _grant(mesh, "user:maria@marketing", "user:mia@marketing", "SELECT", on=str(CUSTOMERS))
    # ...and one it sees, but may not grant, is refused by name.
    _grant(mesh, "user:admin@governance", "user:maria@marketing", "DESCRIBE", on=str(CUSTOMERS))
    with pytest.raises(AccessDeniedError, match="user:maria@marketing may not grant SELECT on "):
        _grant(mesh, "user:maria@marketing", "user:mia@marketing", "SELECT", on=str(CUSTOMERS))
    with mesh.env.hub.read() as session:
        concealed, denial = session.execute(
            select(AuditEvent).where(AuditEvent.outcome == "denied").order_by(AuditEvent.seq)
        ).scalars()
    # Both are audited, the one answered as not-found too.
    assert concealed.details["answered"] == f"Table does not exist: {CUSTOMERS}"
    assert (concealed.actor, concealed.action) == ("user:maria@marketing", "grant.create")
    assert (denial.actor, denial.action) == ("user:maria@marketing", "grant.create")


def test_share_is_delegated_narrower_and_revoked_with_cascade(mesh: Mesh) -> None:
    share = _grant(
        mesh,
        "user:sam@sales",
        "domain:marketing",
        "SELECT",
        on=str(CUSTOMERS),
        with_grant_option=True,
    )
    # A share takes effect once its consumer's admins accept it.
    with mesh.env.hub.transaction() as session:
        shares.accept_share(session, actor=mesh.maria, share_id=share.id)
    delegated = _grant(
        mesh,
        "user:maria@marketing",
        "user:mia@marketing",
        "SELECT",
        on=str(CUSTOMERS),
        columns=("customer_id", "region"),
    )
    assert delegated.parent_id == share.id
    assert _select_columns(mesh, "user:mia@marketing") == (True, ("customer_id", "region"))
    # The domain's admin cannot pass on more than the domain received.
    with pytest.raises(AccessDeniedError, match="may not grant DELETE on"):
        _grant(mesh, "user:maria@marketing", "user:mia@marketing", "DELETE", on=str(CUSTOMERS))
    sam = mesh.actor("user:sam@sales")
    with mesh.env.hub.transaction() as session:
        revoked = grants.revoke_grant(session, actor=sam, grant_id=share.id)
    assert revoked == [delegated.id, share.id]
    assert _select_columns(mesh, "user:mia@marketing") == (False, ())
    with mesh.env.hub.read() as session:
        events = session.execute(
            select(AuditEvent).where(AuditEvent.action == "grant.revoke").order_by(AuditEvent.seq)
        ).scalars()
        assert [(e.details["grant_id"], e.details["cascade_from"]) for e in events] == [
            (delegated.id, share.id),
            (share.id, None),
        ]


def test_partial_revoke_keeps_the_rest(mesh: Mesh) -> None:
    row = _grant(
        mesh, "user:admin@governance", "user:mia@marketing", "SELECT,DESCRIBE", on=str(CUSTOMERS)
    )
    sam = mesh.actor("user:sam@sales")
    request = GrantRequest(permissions=frozenset({Permission.DESCRIBE}), on=str(CUSTOMERS))
    with mesh.env.hub.transaction() as session:
        grants.revoke(session, actor=sam, grantee="user:mia@marketing", request=request)
    with mesh.env.hub.read() as session:
        kept = session.get(Grant, row.id)
        assert kept is not None
        assert kept.permissions == ["SELECT"]
    assert _select_columns(mesh, "user:mia@marketing")[0]


def test_revoking_a_permission_not_held_is_refused_by_name(mesh: Mesh) -> None:
    row = _grant(mesh, "user:admin@governance", "user:mia@marketing", "SELECT", on=str(CUSTOMERS))
    sam = mesh.actor("user:sam@sales")
    request = GrantRequest(permissions=frozenset({Permission.DESCRIBE}), on=str(CUSTOMERS))
    with (
        pytest.raises(NotFoundError, match=r"holds no DESCRIBE on .*customers.*granted: SELECT"),
        mesh.env.hub.transaction() as session,
    ):
        grants.revoke(session, actor=sam, grantee="user:mia@marketing", request=request)
    with mesh.env.hub.read() as session:
        kept = session.get(Grant, row.id)
        assert kept is not None
        assert kept.permissions == ["SELECT"]
        revokes = session.execute(
            select(AuditEvent).where(AuditEvent.action == "grant.revoke")
        ).all()
        assert revokes == []


def test_granting_again_merges_permissions(mesh: Mesh) -> None:
    first = _grant(mesh, "user:admin@governance", "user:mia@marketing", "SELECT", on=str(CUSTOMERS))
    second = _grant(
        mesh, "user:admin@governance", "user:mia@marketing", "DESCRIBE", on=str(CUSTOMERS)
    )
    assert first.id == second.id
    assert sorted(second.permissions) == ["DESCRIBE", "SELECT"]


def test_tag_grant_drops_pii_columns(mesh: Mesh) -> None:
    from lakemesh.store.schema import Column, TagAssignment, TagKey, TagValue

    with mesh.env.hub.transaction() as session:
        key = session.execute(select(TagKey).where(TagKey.key == "sensitivity")).scalar_one()
        values = {v.value: v for v in session.execute(select(TagValue)).scalars()}
        table_columns = {c.name: c for c in session.execute(select(Column)).scalars()}
        from lakemesh.catalog.tables import get_table_row

        table = get_table_row(session, CUSTOMERS)
        session.add(TagAssignment(key=key, value=values["internal"], table_id=table.id))
        for column in ("email", "phone"):
            session.add(
                TagAssignment(key=key, value=values["pii"], column_id=table_columns[column].id)
            )
    _grant(
        mesh,
        "user:admin@governance",
        "group:analysts@marketing",
        "SELECT",
        on_tags="sensitivity=public|internal",
    )
    assert _select_columns(mesh, "user:mia@marketing") == (
        True,
        ("customer_id", "name", "region"),
    )


@pytest.mark.parametrize(
    ("target", "error", "message"),
    [
        (
            {"on": "sales.crm.customers", "columns": ("nope",)},
            InvalidInputError,
            "Column does not exist: sales.crm.customers.nope",
        ),
        ({"on": "sales.crm.nothing"}, NotFoundError, "Table does not exist: sales.crm.nothing"),
        (
            {"on": "sales.crm", "columns": ("a",)},
            InvalidInputError,
            "Column lists and filters apply to tables, not to database sales.crm",
        ),
        ({"on_tags": "colour=red"}, InvalidInputError, "Tag key does not exist: colour"),
        (
            {"on_tags": "sensitivity=secret"},
            InvalidInputError,
            r"Tag value does not exist: sensitivity=secret \(allowed: internal, pii, public\)",
        ),
        ({"on_tags": "sensitivity="}, InvalidInputError, "Invalid tag expression at position"),
        (
            {"on": "sales.crm.customers", "on_tags": "sensitivity=pii"},
            InvalidInputError,
            "Name exactly one target",
        ),
        (
            {"on": "sales.crm.customers", "filter": "eu_only"},
            NotFoundError,
            "Data filter does not exist: eu_only on sales.crm.customers",
        ),
        (
            {"location": "file:///nowhere"},
            InvalidInputError,
            "Permission SELECT does not apply to a location",
        ),
    ],
)
def test_bad_targets_are_refused_by_name(
    mesh: Mesh, target: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        _grant(mesh, "user:admin@governance", "user:mia@marketing", "SELECT", **target)


def test_permission_that_does_not_apply_is_named(mesh: Mesh) -> None:
    with pytest.raises(
        InvalidInputError, match="Permission DATA_LOCATION_ACCESS does not apply to table"
    ):
        _grant(
            mesh,
            "user:admin@governance",
            "user:mia@marketing",
            "DATA_LOCATION_ACCESS",
            on=str(CUSTOMERS),
        )


def test_unregistered_location_is_named(mesh: Mesh) -> None:
    with pytest.raises(NotFoundError, match="Location does not exist: file:///nowhere"):
        _grant(
            mesh,
            "user:admin@governance",
            "user:mia@marketing",
            "DATA_LOCATION_ACCESS",
            location="file:///nowhere",
        )


def test_revoking_what_was_never_granted_is_named(mesh: Mesh) -> None:
    request = GrantRequest(permissions=frozenset({Permission.SELECT}), on=str(CUSTOMERS))
    with (
        pytest.raises(
            NotFoundError, match="No grant of SELECT on sales.crm.customers to user:mia@marketing"
        ),
        mesh.env.hub.transaction() as session,
    ):
        grants.revoke(session, actor=mesh.sam, grantee="user:mia@marketing", request=request)


def test_list_grants_by_principal_and_resource(mesh: Mesh) -> None:
    _grant(mesh, "user:admin@governance", "user:mia@marketing", "SELECT", on=str(CUSTOMERS))
    _grant(mesh, "user:admin@governance", "group:analysts@marketing", "DESCRIBE", on="sales.crm")
    with mesh.env.hub.read() as session:
        by_principal = grants.list_grants(session, actor=mesh.sam, principal="user:mia@marketing")
        by_resource = grants.list_grants(session, actor=mesh.sam, resource=str(CUSTOMERS))
        described = [grants.target_text(session, row) for row in by_resource]
        mine = grants.list_grants(session, actor=mesh.actor("user:mia@marketing"))
    assert [row.grantee.ref for row in by_principal] == ["user:mia@marketing"]
    assert described == ["sales.crm.customers", "sales.crm"]
    assert {row.grantee.ref for row in mine} == {"user:mia@marketing", "group:analysts@marketing"}
